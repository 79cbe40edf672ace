//! Panics in goroutines: `JoinError`, reports on stderr, `run`, stack overflow.
//!
//! Go crashes the process on any unrecovered goroutine panic; goro hands the panic to the
//! joiner (as `std::thread` does) and reports it on stderr.

use std::panic;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::ThreadId;
use std::time::Duration;

use goro::sync::WaitGroup;

mod support;

use support::{child, payload_str};

#[test]
fn join_returns_a_str_panic() {
    let _quiet = support::expect_panics();
    let h = goro::go(|| -> u32 { panic!("static boom") });
    let id = h.id();
    let e = h.join().unwrap_err();
    assert_eq!(e.id(), id);
    assert_eq!(e.panic_message(), Some("static boom"));
    let shown = e.to_string();
    assert!(shown.contains(&format!("goroutine {id}")), "{shown}");
    assert!(shown.contains("static boom"), "{shown}");
    let dbg = format!("{e:?}");
    assert!(dbg.contains("static boom"), "{dbg}");
    let payload = e.into_panic();
    assert_eq!(
        *payload.downcast_ref::<&'static str>().unwrap(),
        "static boom"
    );
}

#[test]
fn join_returns_a_string_panic() {
    let _quiet = support::expect_panics();
    let n = 17;
    let h = goro::go(move || panic!("formatted boom {n}"));
    let e = h.join().unwrap_err();
    assert_eq!(e.panic_message(), Some("formatted boom 17"));
    let payload = e.into_panic();
    assert_eq!(
        payload.downcast_ref::<String>().unwrap(),
        "formatted boom 17"
    );
}

#[test]
fn join_returns_any_panic_payload() {
    let _quiet = support::expect_panics();
    let h = goro::go(|| panic::panic_any(42i32));
    let id = h.id();
    let e = h.join().unwrap_err();
    assert_eq!(e.panic_message(), None);
    assert!(e.to_string().contains(&format!("goroutine {id}")));
    assert_eq!(*e.into_panic().downcast::<i32>().unwrap(), 42);
}

#[test]
fn join_error_names_the_goroutine() {
    let _quiet = support::expect_panics();
    let h = goro::Builder::new()
        .name("parser")
        .spawn(|| panic!("bad input"))
        .unwrap();
    let id = h.id();
    let e = h.join().unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains(&format!("goroutine {id}")), "{shown}");
    assert!(shown.contains("parser"), "{shown}");
    assert!(shown.contains("bad input"), "{shown}");
    assert!(format!("{e:?}").contains("parser"));
    // JoinError is an Error.
    let boxed: Box<dyn std::error::Error + Send> = Box::new(e);
    assert!(boxed.to_string().contains("bad input"));
}

#[test]
fn runtime_keeps_working_after_panics() {
    let _quiet = support::expect_panics();
    let healthy = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..2000)
        .map(|i| {
            let healthy = healthy.clone();
            goro::go(move || {
                goro::yield_now();
                if i % 2 == 0 {
                    panic!("panic {i}");
                }
                healthy.fetch_add(1, Ordering::Relaxed);
                i
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        match h.join() {
            Ok(v) => {
                assert_eq!(i % 2, 1);
                assert_eq!(v, i);
            }
            Err(e) => {
                assert_eq!(i % 2, 0);
                assert_eq!(e.panic_message(), Some(format!("panic {i}").as_str()));
            }
        }
    }
    assert_eq!(healthy.load(Ordering::Relaxed), 1000);
    let sum: usize = (0..1000)
        .map(|i| goro::go(move || i))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum();
    assert_eq!(sum, 499_500);
}

#[test]
fn panic_propagates_through_nested_joins() {
    let _quiet = support::expect_panics();
    let e = goro::go(|| {
        let inner = goro::go(|| panic!("deep failure"));
        match inner.join() {
            Ok(()) => unreachable!(),
            Err(e) => panic::resume_unwind(e.into_panic()),
        }
    })
    .join()
    .unwrap_err();
    assert_eq!(e.panic_message(), Some("deep failure"));
}

#[test]
fn run_resumes_the_panic_on_the_caller() {
    let _quiet = support::expect_panics();
    let r = panic::catch_unwind(|| goro::run(|| panic!("main goroutine failed")));
    let payload = r.unwrap_err();
    assert_eq!(payload_str(&*payload), Some("main goroutine failed"));

    let r = panic::catch_unwind(|| {
        goro::run(|| {
            let code = 3;
            panic!("exit code {code}")
        })
    });
    assert_eq!(
        r.unwrap_err().downcast_ref::<String>().map(String::as_str),
        Some("exit code 3")
    );

    // From a goroutine, a nested run resumes the panic in the calling goroutine.
    let v = goro::run(|| {
        let r = panic::catch_unwind(|| goro::run(|| panic!("nested run failed")));
        payload_str(&*r.unwrap_err()).map(str::to_owned)
    });
    assert_eq!(v.as_deref(), Some("nested run failed"));
    // And the runtime still works.
    assert_eq!(goro::run(|| 5), 5);
}

/// Parks in its destructor: on a sleep, then on a join.
struct ParkingDrop(Arc<AtomicUsize>);

impl Drop for ParkingDrop {
    fn drop(&mut self) {
        goro::sleep(Duration::from_millis(2));
        let v = goro::go(|| 40).join().unwrap();
        goro::yield_now();
        self.0.fetch_add(v + 2, Ordering::SeqCst);
    }
}

#[test]
fn goroutine_may_park_while_unwinding() {
    let _quiet = support::expect_panics();
    let dropped = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..200)
        .map(|i| {
            let d = dropped.clone();
            goro::go(move || {
                let _guard = ParkingDrop(d);
                goro::yield_now();
                if i % 3 != 0 {
                    panic!("unwinding {i}");
                }
                i
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        match h.join() {
            Ok(v) => assert_eq!(v, i),
            Err(e) => {
                assert_ne!(i % 3, 0);
                assert_eq!(e.panic_message(), Some(format!("unwinding {i}").as_str()));
            }
        }
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 200 * 42);
}

#[test]
fn unjoined_panic_is_reported_on_stderr() {
    const TEST: &str = "unjoined_panic_is_reported_on_stderr";
    if child::is_child(TEST) {
        struct Done(WaitGroup);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.done();
            }
        }
        let finished = WaitGroup::new();
        finished.add(1);
        let done = Done(finished.clone());
        let h = goro::Builder::new()
            .name("doomed-worker")
            .spawn(move || {
                let _done = done;
                goro::sleep(Duration::from_millis(5));
                panic!("unjoined failure 12345");
            })
            .unwrap();
        println!("CHILD-GOROUTINE-ID={}", h.id());
        drop(h);
        finished.wait();
        // The process and the runtime go on.
        assert_eq!(goro::go(|| 1).join().unwrap(), 1);
        return;
    }
    let o = child::run_ok(TEST, &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let id: String = stdout
        .split("CHILD-GOROUTINE-ID=")
        .nth(1)
        .expect("the child printed the goroutine id")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!id.is_empty(), "{stdout}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(&format!("goroutine {id}")), "{stderr}");
    assert!(stderr.contains("doomed-worker"), "{stderr}");
    assert!(stderr.contains("unjoined failure 12345"), "{stderr}");
}

/// Recurses without end, 1 KiB per frame.
#[inline(never)]
fn recurse_forever(n: u64) -> u64 {
    let mut frame = [0u8; 1024];
    frame[(n % 1024) as usize] = n as u8;
    let frame = std::hint::black_box(&mut frame);
    if std::hint::black_box(n) == u64::MAX {
        return 0;
    }
    recurse_forever(n + 1) + frame[(n % 1024) as usize] as u64
}

#[cfg(unix)]
fn assert_aborted_with(o: &std::process::Output, needles: &[&str]) {
    use std::os::unix::process::ExitStatusExt;
    const SIGABRT: i32 = 6;
    assert_eq!(
        o.status.signal(),
        Some(SIGABRT),
        "expected an abort:\n{}",
        child::describe(o)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}:\n{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn stack_overflow_in_a_goroutine_aborts_naming_it() {
    const TEST: &str = "stack_overflow_in_a_goroutine_aborts_naming_it";
    if child::is_child(TEST) {
        let h = goro::Builder::new()
            .name("runaway-recursion")
            .spawn(|| recurse_forever(0))
            .unwrap();
        let _ = h.join();
        unreachable!("the process should have aborted");
    }
    let o = child::run(TEST, &[]);
    assert_aborted_with(
        &o,
        &[
            "goroutine ",
            "runaway-recursion",
            "has overflowed its stack",
        ],
    );
}

#[cfg(unix)]
#[test]
fn stack_overflow_on_a_big_stack_aborts_naming_it() {
    const TEST: &str = "stack_overflow_on_a_big_stack_aborts_naming_it";
    if child::is_child(TEST) {
        // Other goroutines run meanwhile; the overflow still takes the whole process down.
        let busy: Vec<_> = (0..8)
            .map(|_| {
                goro::go(|| loop {
                    goro::sleep(Duration::from_millis(1));
                })
            })
            .collect();
        let h = goro::Builder::new()
            .name("big-stack-runaway")
            .stack_size(4 << 20)
            .spawn(|| recurse_forever(0))
            .unwrap();
        let _ = h.join();
        drop(busy);
        unreachable!("the process should have aborted");
    }
    let o = child::run(TEST, &[]);
    assert_aborted_with(
        &o,
        &[
            "goroutine ",
            "big-stack-runaway",
            "has overflowed its stack",
        ],
    );
}

#[cfg(unix)]
#[test]
fn stack_overflow_on_a_plain_thread_is_still_reported() {
    const TEST: &str = "stack_overflow_on_a_plain_thread_is_still_reported";
    if child::is_child(TEST) {
        // The runtime's fault handler is installed; a thread's overflow still gets Rust's
        // report.
        assert_eq!(goro::go(|| 1).join().unwrap(), 1);
        let t = std::thread::Builder::new()
            .name("plain-runaway".into())
            .stack_size(256 << 10)
            .spawn(|| recurse_forever(0))
            .unwrap();
        let _ = t.join();
        unreachable!("the process should have aborted");
    }
    let o = child::run(TEST, &[]);
    assert_aborted_with(&o, &["plain-runaway", "has overflowed its stack"]);
}

/// Signals `arrived`, then parks on `gate`, from its destructor.
struct ParkOnDrop {
    arrived: WaitGroup,
    gate: WaitGroup,
}

impl Drop for ParkOnDrop {
    fn drop(&mut self) {
        self.arrived.done();
        self.gate.wait();
    }
}

#[test]
fn unwinding_goroutine_parked_does_not_leak_its_panic_state() {
    const TEST: &str = "unwinding_goroutine_parked_does_not_leak_its_panic_state";
    if child::is_child(TEST) {
        // One worker: while goroutine A is parked in a destructor during its unwinding,
        // goroutine B runs on the same thread. B is not panicking, and must not be told it
        // is (std::thread::panicking decides e.g. whether a MutexGuard poisons its Mutex).
        let arrived = WaitGroup::new();
        arrived.add(1);
        let gate = WaitGroup::new();
        gate.add(1);
        let guard = ParkOnDrop {
            arrived: arrived.clone(),
            gate: gate.clone(),
        };
        let a = goro::go(move || {
            let _guard = guard;
            panic!("A unwinds");
        });
        arrived.wait();
        let b = goro::go(std::thread::panicking).join().unwrap();
        gate.done();
        assert!(a.join().is_err());
        assert!(
            !goro::go(std::thread::panicking).join().unwrap(),
            "still panicking after A finished"
        );
        assert!(
            !b,
            "goroutine B saw std::thread::panicking() == true while another goroutine was \
             parked mid-unwind on its thread"
        );
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "1")]);
}

/// The calling thread's id, read afresh on every call.
#[inline(never)]
fn thread_id() -> ThreadId {
    std::thread::current().id()
}

/// Yields from its destructor, while its worker is kept busy in a blocking call, so that the
/// unwinding goroutine is likely to be taken by another worker; records whether it moved.
struct YieldOnDrop(Arc<AtomicBool>);

impl Drop for YieldOnDrop {
    fn drop(&mut self) {
        let start = thread_id();
        for _ in 0..20 {
            drop(goro::go(|| std::thread::sleep(Duration::from_millis(20))));
            goro::yield_now();
            if thread_id() != start {
                self.0.store(true, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Blocks in its destructor until told to go on: keeps a plain thread mid-panic.
struct BlockOnDrop {
    started: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
}

impl Drop for BlockOnDrop {
    fn drop(&mut self) {
        self.started.send(()).unwrap();
        let _ = self.release.recv();
    }
}

#[test]
fn yielding_while_unwinding_keeps_the_panic_state_straight() {
    const TEST: &str = "yielding_while_unwinding_keeps_the_panic_state_straight";
    if child::is_child(TEST) {
        // A goroutine yields from a destructor while it unwinds. Whatever thread it finishes
        // on, std's per-thread panic counts must stay balanced: afterwards, while some plain
        // thread is panicking (so std looks at the per-thread counts), goroutines that are not
        // panicking must see std::thread::panicking() == false.
        let moved = Arc::new(AtomicBool::new(false));
        let m = moved.clone();
        let h = goro::go(move || {
            let _guard = YieldOnDrop(m);
            panic!("unwinding with yields");
        });
        assert!(h.join().is_err());

        let (started, started_rx) = mpsc::channel();
        let (release_tx, release) = mpsc::channel();
        let t = std::thread::spawn(move || {
            let _block = BlockOnDrop { started, release };
            panic!("a plain thread unwinds");
        });
        started_rx.recv().unwrap();
        let wrong: usize = (0..200)
            .map(|_| {
                goro::go(|| {
                    goro::yield_now();
                    usize::from(std::thread::panicking())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        release_tx.send(()).unwrap();
        assert!(t.join().is_err());
        assert_eq!(
            wrong,
            0,
            "{wrong} of 200 goroutines saw std::thread::panicking() == true (the unwinding \
             goroutine {} to another thread while unwinding)",
            if moved.load(Ordering::SeqCst) {
                "moved"
            } else {
                "did not move"
            }
        );
        return;
    }
    child::run_ok(TEST, &[("GORO_MAXPROCS", "2")]);
}

/// A result whose destructor panics, left unjoined: the worker that drops it survives.
#[test]
fn a_panicking_drop_of_an_unjoined_result_does_not_kill_a_worker() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb");
        }
    }
    let (tx, rx) = goro::chan::bounded::<()>(0);
    for _ in 0..2 * goro::maxprocs() {
        let rx = rx.clone();
        // The handle is dropped before the goroutine returns (it waits for the close
        // below), so its worker drops the result.
        drop(goro::go(move || {
            let _ = rx.recv();
            Bomb
        }));
    }
    tx.close();
    std::thread::sleep(std::time::Duration::from_millis(50));
    // Every worker still runs goroutines.
    let handles: Vec<_> = (0..100).map(|i| goro::go(move || i)).collect();
    let sum: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, 4950);
}
