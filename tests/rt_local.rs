//! Goroutine-local storage (`goroutine_local!`) and `lock_os_thread`.
//!
//! Go has neither goroutine-local storage nor thread identity visible to goroutines; goro
//! has both because goroutines move between worker threads.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

mod support;

/// The calling thread's id, read afresh on every call (never from an address computed
/// before a park, which may have happened on another thread).
#[inline(never)]
fn thread_id() -> ThreadId {
    std::thread::current().id()
}

/// Parks the goroutine: a yield on even steps, a 1 ms sleep on odd ones.
fn park_step(i: usize) {
    if i % 2 == 0 {
        goro::yield_now();
    } else {
        goro::sleep(Duration::from_millis(1));
    }
}

goro::goroutine_local! {
    static SLOT: Cell<u64> = Cell::new(7);
    /// A second key, to check keys are independent.
    pub(crate) static NAMES: RefCell<Vec<String>> = RefCell::new(Vec::new());
}

#[test]
fn each_goroutine_sees_its_own_value() {
    let handles: Vec<_> = (0..1000u64)
        .map(|i| {
            goro::go(move || {
                assert_eq!(SLOT.with(Cell::get), 7, "not the initial value");
                SLOT.with(|s| s.set(i));
                goro::yield_now();
                SLOT.with(Cell::get)
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), i as u64);
    }
}

#[test]
fn values_survive_yield_and_sleep() {
    let moved = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..64u64)
        .map(|g| {
            let moved = moved.clone();
            goro::go(move || {
                SLOT.with(|s| s.set(g * 1000));
                let mut last = thread_id();
                for i in 0..50 {
                    park_step(i);
                    let now = thread_id();
                    if now != last {
                        moved.fetch_add(1, Ordering::Relaxed);
                        last = now;
                    }
                    assert_eq!(SLOT.with(Cell::get), g * 1000 + i as u64);
                    SLOT.with(|s| s.set(s.get() + 1));
                    NAMES.with(|n| n.borrow_mut().push(format!("{g}-{i}")));
                }
                NAMES.with(|n| {
                    let n = n.borrow();
                    assert_eq!(n.len(), 50);
                    assert!(n.iter().all(|s| s.starts_with(&format!("{g}-"))));
                });
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // How often goroutines changed threads is up to the scheduler; it is not asserted.
    let _ = moved.load(Ordering::Relaxed);
}

#[test]
fn two_keys_are_independent() {
    goro::go(|| {
        SLOT.with(|s| s.set(99));
        NAMES.with(|n| n.borrow_mut().push("x".into()));
        assert_eq!(SLOT.with(Cell::get), 99);
        assert_eq!(NAMES.with(|n| n.borrow().clone()), vec!["x".to_string()]);
        SLOT.with(|s| s.set(100));
        assert_eq!(NAMES.with(|n| n.borrow().len()), 1);
        goro::sleep(Duration::from_millis(1));
        assert_eq!(SLOT.with(Cell::get), 100);
    })
    .join()
    .unwrap();
    // A new goroutine starts from the initialisers again.
    let fresh = goro::go(|| (SLOT.with(Cell::get), NAMES.with(|n| n.borrow().len())))
        .join()
        .unwrap();
    assert_eq!(fresh, (7, 0));
}

static DROPS: AtomicUsize = AtomicUsize::new(0);
static INITS: AtomicUsize = AtomicUsize::new(0);

struct Counted(u64);

impl Counted {
    fn new() -> Counted {
        INITS.fetch_add(1, Ordering::SeqCst);
        Counted(0)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

goro::goroutine_local! {
    static COUNTED: RefCell<Counted> = RefCell::new(Counted::new());
}

/// Serialises the tests that read `DROPS`/`INITS`.
static COUNTED_LOCK: Mutex<()> = Mutex::new(());

#[test]
fn value_is_dropped_when_its_goroutine_finishes() {
    let _quiet = support::expect_panics();
    let _serial = COUNTED_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let drops0 = DROPS.load(Ordering::SeqCst);
    let inits0 = INITS.load(Ordering::SeqCst);
    for i in 0..100u64 {
        let h = goro::go(move || {
            COUNTED.with(|c| c.borrow_mut().0 = i);
            goro::yield_now();
            COUNTED.with(|c| c.borrow().0)
        });
        assert_eq!(h.join().unwrap(), i);
        // Dropped before join returned.
        assert_eq!(DROPS.load(Ordering::SeqCst), drops0 + i as usize + 1);
    }
    assert_eq!(INITS.load(Ordering::SeqCst), inits0 + 100);

    // Also when the goroutine panics.
    let h = goro::go(|| {
        COUNTED.with(|c| c.borrow_mut().0 = 1);
        panic!("dropping on panic");
    });
    assert!(h.join().is_err());
    assert_eq!(DROPS.load(Ordering::SeqCst), drops0 + 101);

    // A goroutine that never touches the key creates no value.
    goro::go(goro::yield_now).join().unwrap();
    assert_eq!(INITS.load(Ordering::SeqCst), inits0 + 101);
    assert_eq!(DROPS.load(Ordering::SeqCst), drops0 + 101);
}

#[test]
fn on_a_plain_thread_it_is_a_thread_local() {
    let _serial = COUNTED_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    assert!(!goro::in_goroutine());
    let drops0 = DROPS.load(Ordering::SeqCst);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                assert_eq!(SLOT.with(Cell::get), 7);
                SLOT.with(|s| s.set(t));
                COUNTED.with(|c| c.borrow_mut().0 = t);
                std::thread::sleep(Duration::from_millis(5));
                // A goroutine spawned from this thread has its own value.
                assert_eq!(goro::go(|| SLOT.with(Cell::get)).join().unwrap(), 7);
                (SLOT.with(Cell::get), COUNTED.with(|c| c.borrow().0))
            })
        })
        .collect();
    for (t, th) in threads.into_iter().enumerate() {
        assert_eq!(th.join().unwrap(), (t as u64, t as u64));
    }
    // Each thread's value was dropped when the thread exited.
    assert_eq!(DROPS.load(Ordering::SeqCst), drops0 + 4);
    // The test thread keeps its own value across calls.
    SLOT.with(|s| s.set(1234));
    assert_eq!(SLOT.with(Cell::get), 1234);
}

goro::goroutine_local! {
    static BASE: Cell<u32> = Cell::new(40);
    static DERIVED: u32 = BASE.with(Cell::get) + 2;
}

#[test]
fn an_initialiser_may_use_another_key() {
    let v = goro::go(|| {
        BASE.with(|b| b.set(100));
        DERIVED.with(|d| *d)
    })
    .join()
    .unwrap();
    assert_eq!(v, 102);
    assert_eq!(goro::go(|| DERIVED.with(|d| *d)).join().unwrap(), 42);
}

static LATE_ACCESS_FAILED: AtomicBool = AtomicBool::new(false);
static LATE_ACCESS_RAN: AtomicBool = AtomicBool::new(false);

struct LooksAtOthers;

impl Drop for LooksAtOthers {
    fn drop(&mut self) {
        let r = SLOT.try_with(Cell::get);
        LATE_ACCESS_RAN.store(true, Ordering::SeqCst);
        if let Err(e) = r {
            assert!(!e.to_string().is_empty());
            LATE_ACCESS_FAILED.store(true, Ordering::SeqCst);
        }
    }
}

goro::goroutine_local! {
    static LOOKER: LooksAtOthers = LooksAtOthers;
}

#[test]
fn destructors_cannot_reach_the_destroyed_storage() {
    goro::go(|| {
        SLOT.with(|s| s.set(1));
        LOOKER.with(|_| ());
        assert_eq!(SLOT.try_with(Cell::get), Ok(1));
    })
    .join()
    .unwrap();
    assert!(LATE_ACCESS_RAN.load(Ordering::SeqCst));
    assert!(
        LATE_ACCESS_FAILED.load(Ordering::SeqCst),
        "a goroutine-local destructor reached another value after destruction began"
    );
}

#[test]
fn lock_os_thread_keeps_the_goroutine_on_its_thread() {
    let stop = Arc::new(AtomicBool::new(false));
    // Busy goroutines keep every worker occupied and move around.
    let busy: Vec<_> = (0..16)
        .map(|_| {
            let stop = stop.clone();
            goro::go(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n = n.wrapping_add(std::hint::black_box(n) | 1);
                    if n % 64 == 0 {
                        goro::sleep(Duration::from_micros(100));
                    } else {
                        goro::yield_now();
                    }
                }
                n
            })
        })
        .collect();
    let locked: Vec<_> = (0..8)
        .map(|g| {
            goro::go(move || {
                goro::lock_os_thread();
                let home = thread_id();
                for i in 0..100 {
                    park_step(i + g);
                    assert_eq!(thread_id(), home, "a locked goroutine changed threads");
                }
                goro::unlock_os_thread();
                home
            })
        })
        .collect();
    let homes: Vec<ThreadId> = locked.into_iter().map(|h| h.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    for b in busy {
        b.join().unwrap();
    }
    // They were locked to worker threads, not to this one.
    // (How many distinct threads they were locked to is not bounded by the worker count:
    // a worker retaken by the monitor moves to another thread, see `rt::monitor`.)
    assert!(homes.iter().all(|&h| h != thread_id()));
}

#[test]
fn lock_os_thread_nests() {
    let v = goro::go(|| {
        goro::lock_os_thread();
        goro::lock_os_thread();
        let home = thread_id();
        goro::unlock_os_thread();
        // Still locked once.
        for i in 0..40 {
            park_step(i);
            assert_eq!(thread_id(), home, "unlocked after one of two unlocks");
        }
        goro::unlock_os_thread();
        // Free to move; it just keeps working.
        let mut sum = 0;
        for i in 0..40 {
            park_step(i);
            sum += i;
        }
        // Extra unlocks do nothing.
        goro::unlock_os_thread();
        goro::unlock_os_thread();
        goro::lock_os_thread();
        let home = thread_id();
        for i in 0..20 {
            park_step(i);
            assert_eq!(thread_id(), home);
        }
        goro::unlock_os_thread();
        sum
    })
    .join()
    .unwrap();
    assert_eq!(v, 780);
}

#[test]
fn lock_os_thread_keeps_thread_locals_valid() {
    thread_local! {
        static TL: Cell<usize> = const { Cell::new(0) };
    }
    #[inline(never)]
    fn tl_addr() -> usize {
        TL.with(|t| t as *const Cell<usize> as usize)
    }
    let handles: Vec<_> = (0..8)
        .map(|_| {
            goro::go(|| {
                goro::lock_os_thread();
                let addr = tl_addr();
                for i in 0..50 {
                    park_step(i);
                    assert_eq!(tl_addr(), addr);
                }
                goro::unlock_os_thread();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn lock_os_thread_on_a_plain_thread_does_nothing() {
    goro::lock_os_thread();
    goro::lock_os_thread();
    goro::unlock_os_thread();
    goro::unlock_os_thread();
    goro::unlock_os_thread();
    // Goroutines spawned afterwards are unaffected.
    assert_eq!(goro::go(|| 1).join().unwrap(), 1);
}

#[test]
fn goroutine_finishing_while_locked() {
    // A goroutine may end without unlocking; its worker goes on running others.
    let handles: Vec<_> = (0..100)
        .map(|i| {
            goro::go(move || {
                goro::lock_os_thread();
                goro::sleep(Duration::from_millis(1));
                i
            })
        })
        .collect();
    let sum: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, 4950);
    let sum: usize = (0..1000)
        .map(|i| goro::go(move || i))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum();
    assert_eq!(sum, 499_500);
}

static PARKING_DROPS: AtomicUsize = AtomicUsize::new(0);

struct ParksWhenDropped;

impl Drop for ParksWhenDropped {
    fn drop(&mut self) {
        goro::sleep(Duration::from_millis(1));
        let v = goro::go(|| 1).join().unwrap();
        goro::yield_now();
        PARKING_DROPS.fetch_add(v, Ordering::SeqCst);
    }
}

goro::goroutine_local! {
    static PARKS: ParksWhenDropped = ParksWhenDropped;
}

#[test]
fn a_destructor_may_park() {
    let handles: Vec<_> = (0..100).map(|_| goro::go(|| PARKS.with(|_| ()))).collect();
    for h in handles {
        h.join().unwrap();
    }
    // Every destructor ran to the end before its goroutine's join returned.
    assert_eq!(PARKING_DROPS.load(Ordering::SeqCst), 100);
}

/// The reproducer of the thread-local hazard (ARCHITECTURE.md, "Decision record"): a loop that
/// writes a `thread_local!`, parks, and reads it lets the compiler compute the variable's
/// address once, before the loop. A goroutine that resumed on another thread would then read
/// the previous thread's variable. A goroutine locked to its thread never does: the inlined
/// read always agrees with a fresh one.
#[test]
fn lock_os_thread_keeps_hoisted_thread_local_addresses_valid() {
    thread_local! {
        static TL: Cell<u64> = const { Cell::new(0) };
    }
    #[inline(never)]
    fn store(c: &Cell<u64>, v: u64) {
        c.set(std::hint::black_box(v));
    }
    #[inline(never)]
    fn load(c: &Cell<u64>) -> u64 {
        std::hint::black_box(c.get())
    }
    #[inline(never)]
    fn fresh() -> u64 {
        TL.with(|c| c.get())
    }
    let stale = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..32u64)
        .map(|i| {
            let stale = stale.clone();
            goro::go(move || {
                goro::lock_os_thread();
                for k in 0..500u64 {
                    let mine = i << 32 | k;
                    TL.with(|c| store(c, mine));
                    goro::yield_now();
                    let seen = TL.with(load);
                    // Other goroutines on the thread may have written since (`seen` need not
                    // be `mine`), but the variable read must be this thread's.
                    if seen != fresh() {
                        stale.fetch_add(1, Ordering::Relaxed);
                    }
                }
                goro::unlock_os_thread();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(stale.load(Ordering::Relaxed), 0);
}
