//! The goroutine dump (`goro::dump`, `goro::goroutines`): each waiting goroutine is listed
//! with Go's wait reason, the test's own file and line of the call that blocked, and where
//! it was created.

use std::time::Duration;

use goro::chan;
use goro::diag::{GoroutineInfo, GoroutineState, WaitReason};
use goro::sync::{Mutex, WaitGroup};

/// Waits until the goroutine named `name` waits for `reason`; returns what the dump says of
/// it.
fn wait_until_waiting(name: &str, reason: WaitReason) -> GoroutineInfo {
    for _ in 0..10_000 {
        if let Some(g) = goro::goroutines()
            .into_iter()
            .find(|g| g.name.as_deref() == Some(name))
        {
            if g.state == GoroutineState::Waiting(reason) {
                return g;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("{name} never waited for {reason:?}:\n{}", goro::dump());
}

#[test]
fn each_wait_is_named_with_its_reason_and_the_callers_line() {
    let (tx, rx) = chan::bounded::<u8>(0);
    let (stx, srx) = chan::bounded::<u8>(0);
    let lock = std::sync::Arc::new(Mutex::new(()));
    let held = lock.lock();
    let wg = WaitGroup::new();
    wg.add(1);

    let recv_line = line!() + 3;
    let receiver = goro::Builder::new()
        .name("receiver")
        .spawn(move || rx.recv())
        .unwrap();
    let send_line = line!() + 3;
    let sender = goro::Builder::new()
        .name("sender")
        .spawn(move || stx.send(1))
        .unwrap();
    let l2 = lock.clone();
    let lock_line = line!() + 3;
    let locker = goro::Builder::new()
        .name("locker")
        .spawn(move || drop(l2.lock()))
        .unwrap();
    let wg2 = wg.clone();
    let wg_line = line!() + 3;
    let wg_waiter = goro::Builder::new()
        .name("wg-waiter")
        .spawn(move || wg2.wait())
        .unwrap();
    let (never_tx, never_rx) = chan::bounded::<u8>(0);
    let select_line = line!() + 4;
    let selecter = goro::Builder::new()
        .name("selecter")
        .spawn(move || {
            goro::select! {
                recv(never_rx) -> v => v.is_ok(),
                default(Duration::from_secs(3600)) => false,
            }
        })
        .unwrap();
    let sleep_line = line!() + 3;
    let sleeper = goro::Builder::new()
        .name("sleeper")
        .spawn(|| goro::sleep(Duration::from_secs(3600)))
        .unwrap();

    let file = file!();
    for (name, reason, line) in [
        ("receiver", WaitReason::ChanReceive, recv_line),
        ("sender", WaitReason::ChanSend, send_line),
        ("locker", WaitReason::MutexLock, lock_line),
        ("wg-waiter", WaitReason::WaitGroupWait, wg_line),
        ("selecter", WaitReason::Select, select_line),
        ("sleeper", WaitReason::Sleep, sleep_line),
    ] {
        let g = wait_until_waiting(name, reason);
        let at = g
            .blocked_at
            .expect("a waiting goroutine says where it blocked");
        assert_eq!(
            (at.file(), at.line()),
            (file, line),
            "{name} blocked at {at}"
        );
        assert_eq!(
            g.created_at.file(),
            file,
            "{name} created at {}",
            g.created_at
        );
        assert_eq!(
            g.created_by, None,
            "{name} was created by the test's thread"
        );
        assert!(g.waiting_for.is_some());
    }

    let dump = goro::dump();
    for (name, reason) in [
        ("receiver", "chan receive"),
        ("sender", "chan send"),
        ("locker", "sync.Mutex.Lock"),
        ("wg-waiter", "sync.WaitGroup.Wait"),
        ("selecter", "select"),
        ("sleeper", "sleep"),
    ] {
        let head = format!("{name:?} [{reason}]:");
        assert!(dump.contains(&head), "no {head} in the dump:\n{dump}");
    }
    assert!(
        dump.contains(&format!("blocked at {file}:{recv_line}:")),
        "{dump}"
    );
    assert!(dump.contains("created by a thread at "), "{dump}");

    tx.send(9).unwrap();
    assert_eq!(receiver.join().unwrap(), Ok(9));
    assert_eq!(srx.recv(), Ok(1));
    sender.join().unwrap().unwrap();
    drop(held);
    locker.join().unwrap();
    wg.done();
    wg_waiter.join().unwrap();
    drop(never_tx);
    assert!(!selecter.join().unwrap());
    drop(sleeper);
}

#[test]
fn a_goroutine_created_by_a_goroutine_names_its_parent_and_the_caller_is_running() {
    let h = goro::go(|| {
        let me = goro::current_id().unwrap();
        let (tx, rx) = chan::bounded::<()>(0);
        let child = goro::Builder::new()
            .name("child")
            .spawn(move || rx.recv())
            .unwrap();
        let g = wait_until_waiting("child", WaitReason::ChanReceive);
        assert_eq!(g.created_by, Some(me));
        let mine = goro::goroutines()
            .into_iter()
            .find(|g| g.id == me)
            .expect("the caller is listed");
        assert_eq!(mine.state, GoroutineState::Running);
        assert!(goro::dump().contains(&format!("created by goroutine {me} at ")));
        tx.send(()).unwrap();
        child.join().unwrap().unwrap();
    });
    h.join().unwrap();
}

#[test]
fn finished_goroutines_leave_the_list() {
    let (tx, rx) = chan::bounded::<()>(0);
    let h = goro::Builder::new()
        .name("short-lived")
        .spawn(move || rx.recv())
        .unwrap();
    wait_until_waiting("short-lived", WaitReason::ChanReceive);
    tx.send(()).unwrap();
    h.join().unwrap().unwrap();
    assert!(
        !goro::goroutines()
            .iter()
            .any(|g| g.name.as_deref() == Some("short-lived")),
        "{}",
        goro::dump()
    );
}

#[test]
fn a_goroutine_on_a_reused_stack_shows_its_own_wait() {
    // Goroutines that finish one after another hand their stacks (and the registry entry
    // kept at the top of each) to the next: each must still show its own wait and place.
    for round in 0..20 {
        let (tx, rx) = chan::bounded::<()>(0);
        let m = std::sync::Arc::new(Mutex::new(()));
        let held = m.lock();
        let name = format!("round-{round}");
        let (h, line, reason) = if round % 2 == 0 {
            let m2 = m.clone();
            let line = line!() + 3;
            let h = goro::Builder::new()
                .name(name.clone())
                .spawn(move || drop(m2.lock()))
                .unwrap();
            (h, line, WaitReason::MutexLock)
        } else {
            let line = line!() + 4;
            let h = goro::Builder::new()
                .name(name.clone())
                .spawn(move || {
                    let _ = rx.recv();
                })
                .unwrap();
            (h, line, WaitReason::ChanReceive)
        };
        let g = wait_until_waiting(&name, reason);
        let at = g.blocked_at.expect("a waiting goroutine has a place");
        assert_eq!((at.file(), at.line()), (file!(), line), "{}", goro::dump());
        drop(held);
        drop(tx);
        h.join().unwrap();
    }
}
