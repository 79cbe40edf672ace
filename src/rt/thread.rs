//! The runtime's threads (Go's Ms), apart from its workers (Go's Ps).
//!
//! A worker is a slot of the scheduler: a local run queue, a `runnext`, a place in the idle
//! protocol. A thread runs goroutines from a worker's queues only while it holds that worker;
//! `GORO_MAXPROCS` counts workers, so it bounds the threads running goroutines from the
//! queues at once, as `GOMAXPROCS` does. A thread loses its worker when the monitor retakes it
//! (its goroutine blocked the thread or computed for long, see `rt::monitor`), or when its
//! goroutine hands it over itself (`block_in_place`, or a wait while unwinding). The worker
//! then goes to a *spare* thread, one that lost its own worker earlier and waits here, or to
//! a new thread. The thread that lost it finishes running its goroutine, then becomes a
//! spare. A spare that gets no worker for `SPARE_LINGER` exits, unless a goroutine is locked
//! to it (`lock_os_thread`).
//!
//! Each thread has an inbox of the goroutines locked to it that are runnable: a locked
//! goroutine always resumes on its own thread, with or without a worker. A thread without a
//! worker runs only its inbox, so the threads running goroutines can exceed `GORO_MAXPROCS`
//! by the locked goroutines whose threads lost their worker.
//!
//! The number of threads is capped (`GORO_MAXTHREADS`, `RuntimeBuilder::max_threads`; Go's
//! `debug.SetMaxThreads`, 10,000 by default): a program that needs more, almost always one
//! with thousands of goroutines blocked in system calls at once, ends with a message saying
//! so, as Go's does.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::Duration;

use super::goroutine::GRef;
use super::{worker, Runtime};

/// How long a spare thread waits for a worker before it exits. Long enough that a program
/// that blocks in system calls again and again reuses its threads, instead of paying a
/// thread start (about 20 µs) for every call.
pub(crate) const SPARE_LINGER: Duration = Duration::from_secs(10);

/// What other threads see of a runtime thread.
pub(crate) struct ThreadShared {
    pub(crate) id: u32,
    pub(crate) thread: Thread,
    /// Runnable goroutines locked to this thread.
    pinned: Mutex<VecDeque<GRef>>,
    /// Mirrors `!pinned.is_empty()`. SeqCst for the idle protocol (see `idle`): a worker
    /// reads it in its final look before sleeping, after the protocol's fence.
    has_pinned: AtomicBool,
    /// A worker (index and generation) given to this thread while it is a spare.
    handoff: Mutex<Option<(usize, u64)>>,
    /// The goroutines locked to this thread (`lock_os_thread`): it never exits while any is.
    /// Changed and read only by this thread (the goroutines run here); atomic to be `Sync`.
    pub(crate) locked: AtomicUsize,
}

impl ThreadShared {
    pub(crate) fn has_pinned(&self) -> bool {
        self.has_pinned.load(Ordering::SeqCst)
    }

    pub(crate) fn pop_pinned(&self) -> Option<GRef> {
        if !self.has_pinned.load(Ordering::SeqCst) {
            return None;
        }
        let mut q = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        let g = q.pop_front();
        self.has_pinned.store(!q.is_empty(), Ordering::SeqCst);
        g
    }

    pub(crate) fn push_pinned(&self, g: GRef) {
        let mut q = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        q.push_back(g);
        self.has_pinned.store(true, Ordering::SeqCst);
        drop(q);
        // The thread may be asleep, as a worker or as a spare; thread parking keeps the
        // token if it is not asleep yet.
        self.thread.unpark();
    }

    /// Takes the worker given to this thread, if any.
    pub(crate) fn take_handoff(&self) -> Option<(usize, u64)> {
        self.handoff
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// Every runtime thread, the spares among them, and the cap.
pub(crate) struct Threads {
    /// By id; `None` for a thread that exited (its id is reused).
    all: Mutex<Vec<Option<Arc<ThreadShared>>>>,
    /// Threads without a worker, waiting for one (most recent last).
    spares: Mutex<Vec<Arc<ThreadShared>>>,
    /// Workers (index and generation) that no thread holds, because starting one failed
    /// (the system refused a thread): the next thread to become a spare takes one, and the
    /// monitor tries again to start threads for them.
    orphans: Mutex<Vec<(usize, u64)>>,
    /// Threads started and not yet exited. Relaxed: a counter checked against the cap.
    count: AtomicUsize,
    max: usize,
}

impl Threads {
    pub(crate) fn new(max: usize) -> Threads {
        Threads {
            all: Mutex::new(Vec::new()),
            spares: Mutex::new(Vec::new()),
            orphans: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            max,
        }
    }

    /// Registers the calling thread; returns its shared half.
    pub(crate) fn register(&self) -> Arc<ThreadShared> {
        let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        let id = all.iter().position(Option::is_none).unwrap_or(all.len());
        let shared = Arc::new(ThreadShared {
            id: id as u32,
            thread: std::thread::current(),
            pinned: Mutex::new(VecDeque::new()),
            has_pinned: AtomicBool::new(false),
            handoff: Mutex::new(None),
            locked: AtomicUsize::new(0),
        });
        if id == all.len() {
            all.push(Some(shared.clone()));
        } else {
            all[id] = Some(shared.clone());
        }
        shared
    }

    /// The threads registered now (started, and not yet past `unregister`).
    pub(crate) fn registered(&self) -> usize {
        let all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().filter(|t| t.is_some()).count()
    }

    /// The calling thread is exiting.
    pub(crate) fn unregister(&self, id: u32) {
        let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        all[id as usize] = None;
        drop(all);
        self.count.fetch_sub(1, Ordering::Relaxed);
    }

    /// Queues `g`, locked to thread `id`, on that thread.
    pub(crate) fn push_pinned(&self, id: u32, g: GRef) {
        let all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        // A thread with a goroutine locked to it does not exit (`locked`), so the entry is
        // there.
        let t = all[id as usize]
            .clone()
            .expect("goro: a goroutine is locked to a thread that exited");
        drop(all);
        t.push_pinned(g);
    }

    /// Lists the calling thread as a spare, unless a worker waits for a thread: then returns
    /// that worker, for the caller to take.
    pub(crate) fn add_spare(&self, t: Arc<ThreadShared>) -> Option<(usize, u64)> {
        // The orphans' lock is held while listing, so that `start_worker` never leaves a
        // worker orphaned while a spare is listed.
        let mut orphans = self.orphans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = orphans.pop() {
            return Some(w);
        }
        self.spares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(t);
        drop(orphans);
        None
    }

    /// Whether some worker has no thread (see `orphans`).
    pub(crate) fn has_orphans(&self) -> bool {
        !self
            .orphans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Tries again to start a thread for each worker without one (by the monitor).
    pub(crate) fn adopt_orphans(&self, rt: &'static Runtime) {
        let orphans = std::mem::take(&mut *self.orphans.lock().unwrap_or_else(|e| e.into_inner()));
        for (index, generation) in orphans {
            self.start_worker(rt, index, generation);
        }
    }

    /// Takes the calling spare thread off the list; `false` if someone took it off to give
    /// it a worker (which is then on its way).
    pub(crate) fn remove_spare(&self, id: u32) -> bool {
        let mut spares = self.spares.lock().unwrap_or_else(|e| e.into_inner());
        match spares.iter().position(|t| t.id == id) {
            Some(i) => {
                spares.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Gives worker `index`, now of `generation`, to a spare thread or a new one. If the
    /// system refuses a new thread, the worker waits among the orphans for the next spare.
    pub(crate) fn start_worker(&self, rt: &'static Runtime, index: usize, generation: u64) {
        let spare = self.spares.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some(t) = spare {
            // The mutex hands the worker over: the spare takes it under the same lock
            // after its unpark (or before its next park).
            *t.handoff.lock().unwrap_or_else(|e| e.into_inner()) = Some((index, generation));
            t.thread.unpark();
            return;
        }
        if self.spawn(rt, Some((index, generation))).is_err() {
            let mut orphans = self.orphans.lock().unwrap_or_else(|e| e.into_inner());
            // A spare listed since we looked would wait forever beside the orphan: give
            // the worker to it instead.
            let spare = self.spares.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match spare {
                Some(t) => {
                    drop(orphans);
                    *t.handoff.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((index, generation));
                    t.thread.unpark();
                }
                None => orphans.push((index, generation)),
            }
        }
    }

    /// Starts a thread, holding worker `first` if given; ends the process if the cap is
    /// reached. Fails if the system refuses a thread.
    pub(crate) fn spawn(
        &self,
        rt: &'static Runtime,
        first: Option<(usize, u64)>,
    ) -> std::io::Result<()> {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if n > self.max {
            exhausted(self.max);
        }
        let name = match first {
            Some((index, 0)) => format!("goro-worker-{index}"),
            _ => "goro-worker".to_string(),
        };
        let started = std::thread::Builder::new()
            .name(name)
            .spawn(move || worker::run(rt, first));
        match started {
            Ok(_) => Ok(()),
            Err(e) => {
                self.count.fetch_sub(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }
}

/// The cap on threads is reached: ends the process, as Go's runtime does.
#[cold]
fn exhausted(max: usize) -> ! {
    eprintln!(
        "goro: program exceeds its limit of {max} threads (GORO_MAXTHREADS, \
         RuntimeBuilder::max_threads): every goroutine blocked in a system call holds a \
         thread"
    );
    eprintln!("fatal error: thread exhaustion");
    std::process::exit(2);
}
