//! Stack overflow detection.
//!
//! A goroutine that runs past the end of its stack touches its guard page and takes `SIGSEGV`
//! (or `SIGBUS`). The handler below runs on the worker thread's alternate signal stack, checks
//! whether the faulting address lies in the guard of the goroutine running on this thread,
//! and if so prints `goroutine N (name) has overflowed its stack` and aborts, as Rust does for
//! threads. Any other fault is handed to the handler that was installed before ours (Rust's
//! own, which reports thread stack overflows), or gets the default action.
//!
//! The handler reads only two thread-locals that have constant initialisers and no
//! destructors (plain TLS loads) and calls only async-signal-safe functions (`write`,
//! `sigaction`, `abort`).

use std::cell::Cell;
use std::sync::Once;

use super::Goroutine;

thread_local! {
    static GUARD: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    static RUNNING: Cell<*const Goroutine> = const { Cell::new(std::ptr::null()) };
}

struct OldActions {
    segv: libc::sigaction,
    bus: libc::sigaction,
}

/// Written once in `install` before the handlers are, read only by the handler.
static mut OLD: Option<OldActions> = None;
static INSTALL: Once = Once::new();

/// Records the goroutine about to run on this thread and its guard range.
#[inline(never)]
pub(crate) fn set_current(guard: (usize, usize), g: &Goroutine) {
    GUARD.with(|c| c.set(guard));
    RUNNING.with(|c| c.set(g));
}

/// Clears what `set_current` recorded.
#[inline(never)]
pub(crate) fn clear_current() {
    GUARD.with(|c| c.set((0, 0)));
    RUNNING.with(|c| c.set(std::ptr::null()));
}

/// Installs the handlers, once per process.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // SAFETY: `sigaction` with a zeroed (then filled) struct is the documented way to set
        // a handler; OLD is written before any handler that reads it is installed, and never
        // again (`Once`).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old = OldActions {
                segv: std::mem::zeroed(),
                bus: std::mem::zeroed(),
            };
            libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut old.segv);
            libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old.bus);
            *std::ptr::addr_of_mut!(OLD) = Some(old);
            libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut());
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

/// Gives the calling thread an alternate signal stack if it has none, so the handler can run
/// when the goroutine's stack is exhausted. Called by each worker thread at start.
pub(crate) fn ensure_altstack() {
    const ALT_SIZE: usize = 64 * 1024;
    // SAFETY: querying and setting the alternate stack of the calling thread; the memory is a
    // fresh mapping leaked for the life of the thread (workers never exit).
    unsafe {
        let mut old: libc::stack_t = std::mem::zeroed();
        if libc::sigaltstack(std::ptr::null(), &mut old) != 0 {
            return;
        }
        if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= libc::MINSIGSTKSZ {
            return;
        }
        let p = libc::mmap(
            std::ptr::null_mut(),
            ALT_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return;
        }
        let st = libc::stack_t {
            ss_sp: p,
            ss_flags: 0,
            ss_size: ALT_SIZE,
        };
        libc::sigaltstack(&st, std::ptr::null_mut());
    }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers of SIGSEGV/SIGBUS.
    let addr = unsafe { (*info).si_addr() } as usize;
    let (lo, hi) = GUARD.with(|c| c.get());
    if lo <= addr && addr < hi {
        let g = RUNNING.with(|c| c.get());
        // SAFETY: RUNNING is the goroutine whose stack just overflowed; its worker holds a
        // reference to it for the whole resume, which we are inside of.
        let g = unsafe { &*g };
        let mut buf = Buf::new();
        buf.push(b"\ngoroutine ");
        buf.push_u64(g.id());
        buf.push(b" (");
        buf.push(g.name().unwrap_or("<unnamed>").as_bytes());
        buf.push(b") has overflowed its stack\nfatal runtime error: stack overflow, aborting\n");
        // SAFETY: write(2) and abort(3) are async-signal-safe.
        unsafe {
            libc::write(2, buf.bytes.as_ptr().cast(), buf.len);
            libc::abort();
        }
    }
    // Not ours: hand the fault to the handler that was installed before (Rust's own reports
    // thread stack overflows). If that was the default action (or none), restore it and
    // return: the faulting instruction runs again and takes the default action.
    // SAFETY: OLD was set before this handler was installed and is never written again; a
    // previous handler is called with the signature its flags declare.
    unsafe {
        let prev = match &*std::ptr::addr_of!(OLD) {
            Some(old) if sig == libc::SIGBUS => old.bus,
            Some(old) => old.segv,
            None => std::mem::zeroed(),
        };
        let h = prev.sa_sigaction;
        if h == libc::SIG_DFL || h == libc::SIG_IGN {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(h);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(h);
            f(sig);
        }
    }
}

/// A fixed buffer for formatting in the signal handler (no allocation).
struct Buf {
    bytes: [u8; 512],
    len: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf {
            bytes: [0; 512],
            len: 0,
        }
    }

    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn push_u64(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }
}
