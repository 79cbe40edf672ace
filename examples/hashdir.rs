//! Go: the article's worker pool doing a real batch job — SHA-256 of every file under a
//! directory, as `sha256sum` prints it, on a bounded [`Pool`], with a live progress display,
//! a summary, and a clean stop on Ctrl-C or on a closed stdout.
//!
//! ```text
//! cargo run --release --example hashdir -- <dir> [--workers N] [--print]
//! ```
//!
//! `--print` writes `<hex>  <path>` lines to stdout (in the order the files finish, so
//! `sort -k2` before comparing two runs), in `sha256sum`'s format, so `sha256sum -c` can
//! check them: the name is written as its raw bytes, and a name holding a backslash, a
//! newline or a carriage return is escaped as coreutils does (the line starts with `\`, and
//! those characters become `\\`, `\n` and `\r`). The progress display and the summary go to
//! stderr, and the display hides itself when stderr is not a terminal. While the walk is
//! still finding files the display is a spinner with counts (with a bounded queue the walk
//! stays only a few files ahead of the workers, so a bar's total would keep growing); once
//! the walk is over it becomes two bars with fixed totals. The exit code is 0 when every
//! file was hashed, 1 when some failed, 130 after Ctrl-C; a closed stdout kills the run by
//! `SIGPIPE` (status 141 in a shell). FIFOs, sockets and devices are skipped and counted in
//! the summary.
//!
//! # Why a pool, and not a goroutine per file
//!
//! Walking a tree is far quicker than reading it, so a goroutine per file would soon have
//! most of the tree in flight at once. Each of them holds an open file (the process runs
//! out of descriptors, `EMFILE`, after a few thousand), a stack and a read buffer (a
//! million files is gigabytes), and all of them read at the same time, which a disk serves
//! worse than a few steady streams (seeks, a saturated device queue). A pool of N workers
//! keeps N files open and N buffers alive, and its bounded queue makes the walk wait
//! whenever the workers are behind (backpressure), so memory stays flat for a tree of any
//! size. It also keeps the bookkeeping in one place: the [`Report`] counts what was hashed,
//! what failed, what was cancelled, and [`Pool::errors`] carries each failure.
//!
//! # Blocking reads
//!
//! `std::fs` calls are blocking system calls: in goro they hold their worker thread, not
//! just their goroutine (the caveat in the README). So at most `GORO_MAXPROCS` reads are in
//! flight at a time, whatever the pool's size, and a worker reading a slow file keeps other
//! goroutines off its thread. The default pool is therefore modest (twice
//! [`goro::maxprocs`]); on storage where reads wait long (a network filesystem) raise both,
//! e.g. `GORO_MAXPROCS=16 ... --workers 16`.
//!
//! # Drawing the progress
//!
//! The walker and the jobs only add to atomic counters; one drawing goroutine copies them
//! into the display ten times a second. When every job moved the bars itself, each file
//! took the display's lock (the workers queued on it) and asked for a redraw, and a tree
//! of small files took up to twice as long with the bars as without them.
//!
//! # Ctrl-C, and a closed stdout
//!
//! The pool is bound to a context that the Ctrl-C handler cancels. The walk stops, queued
//! files are cancelled without being opened, running ones stop at their next chunk, and the
//! summary says how many of each. A second Ctrl-C quits at once.
//!
//! A job whose line finds stdout closed (`hashdir --print | head`) cancels the same
//! context, so the run stops just as quickly; it then ends silently, killed by `SIGPIPE`
//! as `sha256sum` would be (see [`die_of_sigpipe`]).

use std::error::Error;
use std::fmt;
use std::fs::{self, File, FileType};
use std::io::{self, IsTerminal, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::context::{self, BoxError, CancelFn, Context};
use goro::pool::{JobError, Pool};
use goro::time;
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// Bytes read at a time: memory per worker, and how often a running job checks for Ctrl-C.
const CHUNK: usize = 64 * 1024;

/// How often the progress display is redrawn.
const DRAW_EVERY: Duration = Duration::from_millis(100);

const USAGE: &str = "usage: hashdir <dir> [--workers N] [--print]";

/// `eprintln!`, except that a closed stderr (`2>&1 | head`) loses the line instead of
/// panicking: the run goes on, and a closed stdout ends it on its own.
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}
struct Options {
    root: PathBuf,
    workers: usize,
    print: bool,
}

fn parse_args() -> Result<Options, String> {
    let workers = |n: Option<&str>| match n.map(str::parse) {
        Some(Ok(n)) if n > 0 => Ok(n),
        _ => Err(format!(
            "--workers wants a positive number, not {:?}",
            n.unwrap_or("")
        )),
    };
    let mut opts = Options {
        root: PathBuf::new(),
        workers: 2 * goro::maxprocs().max(1),
        print: false,
    };
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--print") => opts.print = true,
            Some("-h" | "--help") => return Err(String::new()),
            Some("--workers") => {
                let n = args.next();
                opts.workers = workers(n.as_ref().and_then(|n| n.to_str()))?;
            }
            Some(s) if s.starts_with("--workers=") => {
                opts.workers = workers(s.strip_prefix("--workers="))?;
            }
            Some(s) if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ if opts.root.as_os_str().is_empty() => opts.root = PathBuf::from(arg),
            _ => return Err("only one directory, please".to_string()),
        }
    }
    if opts.root.as_os_str().is_empty() {
        return Err("which directory?".to_string());
    }
    Ok(opts)
}

/// The error of a job that Ctrl-C stopped in the middle of its file: counted apart from
/// real failures.
#[derive(Debug)]
struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl Error for Interrupted {}

/// A file that could not be read, with its path (an `io::Error` does not carry one).
#[derive(Debug)]
struct FileError {
    path: PathBuf,
    source: io::Error,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl Error for FileError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// The error of a job whose line found stdout closed; it has already cancelled the run, and
/// is not reported.
#[derive(Debug)]
struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stdout is closed")
    }
}

impl Error for StdoutClosed {}

/// The counts behind the progress display, and the display itself.
///
/// The walker and the jobs only add to the counters (`Relaxed`: each is a tally read on its
/// own, and a display a tick behind is fine); the drawer ([`draw`]) is the only one that
/// moves the bars, until `main` clears them once it has stopped.
struct Progress {
    multi: MultiProgress,
    files: ProgressBar,
    bytes: ProgressBar,
    /// Files and bytes the walk has handed to the pool.
    found_files: AtomicU64,
    found_bytes: AtomicU64,
    /// Files whose job has ended (hashed or failed), and bytes read so far.
    done_files: AtomicU64,
    read_bytes: AtomicU64,
    /// Bytes of the files that were hashed through to the end, for the summary.
    hashed_bytes: AtomicU64,
    /// Set when the walk is over, so `found_*` are final.
    walk_over: AtomicBool,
    /// Whether stdout is a terminal, where printing must lift the bars out of the way.
    stdout_is_term: bool,
    /// Whether a typed Ctrl-C shows up as `^C` among the bars.
    echoes_ctrl_c: bool,
}

/// The display's lines while the walk is still finding files, then once it is over.
const WALK_STYLE: [&str; 2] = [
    "{spinner} {elapsed:>4} {human_pos} files hashed, {human_len} found so far",
    "{binary_bytes_per_sec:>10} {binary_bytes} read, {binary_total_bytes} found so far",
];
const BAR_STYLE: [&str; 2] = [
    "{elapsed:>4} [{bar:40}] {human_pos}/{human_len} files",
    "{binary_bytes_per_sec:>10} [{bar:40}] {binary_bytes}/{binary_total_bytes}",
];

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("a valid template")
        .progress_chars("=> ")
}

impl Progress {
    fn new() -> Progress {
        let multi = MultiProgress::new();
        let bar = |template| multi.add(ProgressBar::new(0).with_style(style(template)));
        Progress {
            files: bar(WALK_STYLE[0]),
            bytes: bar(WALK_STYLE[1]),
            multi,
            found_files: AtomicU64::new(0),
            found_bytes: AtomicU64::new(0),
            done_files: AtomicU64::new(0),
            read_bytes: AtomicU64::new(0),
            hashed_bytes: AtomicU64::new(0),
            walk_over: AtomicBool::new(false),
            stdout_is_term: io::stdout().is_terminal(),
            echoes_ctrl_c: io::stderr().is_terminal() && terminal_echoes_ctrl_c(),
        }
    }

    /// Runs `f` (which prints) with the bars lifted off the terminal.
    fn above<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }

    /// Copies the counters into the bars: one draw per bar.
    fn show(&self) {
        let set = |bar: &ProgressBar, len: &AtomicU64, pos: &AtomicU64| {
            let (len, pos) = (len.load(Ordering::Relaxed), pos.load(Ordering::Relaxed));
            bar.update(|s| {
                s.set_len(len);
                s.set_pos(pos);
            });
        };
        set(&self.files, &self.found_files, &self.done_files);
        set(&self.bytes, &self.found_bytes, &self.read_bytes);
    }
}

/// The drawing goroutine: redraws the display every [`DRAW_EVERY`] until `stop` ends, and
/// turns the spinner into bars once the walk is over.
fn draw(progress: &Progress, stop: &Context) {
    let tick = time::tick(DRAW_EVERY);
    let mut walking = true;
    loop {
        // Acquire: pairs with the Release store in `main` after the walk, so once it is
        // seen the `found_*` counts read by `show` are the final ones.
        if walking && progress.walk_over.load(Ordering::Acquire) {
            walking = false;
            progress.files.set_style(style(BAR_STYLE[0]));
            progress.bytes.set_style(style(BAR_STYLE[1]));
        }
        progress.show();
        goro::select! {
            recv(tick) -> _t => {},
            recv(stop.done()) -> _d => return,
        }
    }
}

/// What the walker, the jobs and the error reporter share.
struct Run {
    progress: Progress,
    print: bool,
    /// Cancels the run's context, and with it the pool (as Ctrl-C does).
    cancel: CancelFn,
    /// Set by the first job that found stdout closed.
    stdout_closed: AtomicBool,
}

impl Run {
    /// Whether the run is ending because stdout is closed; it then reports nothing more.
    /// (`Relaxed`: the reporter and the walk only use it to stay quiet, and a message that
    /// slips out just after the close is harmless; `main` reads it after `Pool::wait`.)
    fn stdout_closed(&self) -> bool {
        self.stdout_closed.load(Ordering::Relaxed)
    }
}

/// Whether the terminal on stderr echoes a typed Ctrl-C as `^C` (termios `ECHO` and
/// `ECHOCTL`, the usual setting).
fn terminal_echoes_ctrl_c() -> bool {
    // SAFETY: `termios` is a plain C struct, for which all zeroes is a valid value.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `tcgetattr` writes only into `t`, which lives across the call.
    let ok = unsafe { libc::tcgetattr(libc::STDERR_FILENO, &mut t) } == 0;
    let echo = libc::ECHO | libc::ECHOCTL;
    ok && t.c_lflag & echo == echo
}

/// Streams `path` through SHA-256, `CHUNK` bytes at a time, and returns the digest in hex
/// and the number of bytes read, adding each chunk to `read`. Stops with [`Interrupted`]
/// once `ctx` ends.
fn hash_file(path: &Path, ctx: &Context, read: &AtomicU64) -> Result<(String, u64), BoxError> {
    let at = |source| FileError {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(at)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; CHUNK];
    let mut total = 0;
    loop {
        if ctx.err().is_some() {
            return Err(Interrupted.into());
        }
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(at(e).into()),
        };
        hasher.update(&buf[..n]);
        read.fetch_add(n as u64, Ordering::Relaxed);
        total += n as u64;
    }
    Ok((format!("{:x}", hasher.finalize()), total))
}

/// The line `sha256sum` prints for `path`, byte for byte: the name's raw bytes (a name need
/// not be UTF-8), and if it holds a backslash, a newline or a carriage return, a leading `\`
/// with those written as `\\`, `\n` and `\r` (coreutils' rule, which `sha256sum -c` undoes).
fn sha256sum_line(digest: &str, path: &Path) -> Vec<u8> {
    let name = path.as_os_str().as_bytes();
    let escape = name.iter().any(|b| matches!(b, b'\\' | b'\n' | b'\r'));
    let mut line = Vec::with_capacity(digest.len() + name.len() + 4);
    if escape {
        line.push(b'\\');
    }
    line.extend_from_slice(digest.as_bytes());
    line.extend_from_slice(b"  ");
    for &b in name {
        match b {
            b'\\' if escape => line.extend_from_slice(b"\\\\"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            b => line.push(b),
        }
    }
    line.push(b'\n');
    line
}

/// The job for one file: hash it, count it, print its line.
fn hash_job(path: PathBuf, ctx: Context, run: Arc<Run>) -> Result<(), BoxError> {
    let progress = &run.progress;
    let result = hash_file(&path, &ctx, &progress.read_bytes);
    progress.done_files.fetch_add(1, Ordering::Relaxed);
    let (digest, size) = result?;
    progress.hashed_bytes.fetch_add(size, Ordering::Relaxed);
    if run.print {
        let line = sha256sum_line(&digest, &path);
        let write = || io::stdout().lock().write_all(&line);
        let written = if progress.stdout_is_term {
            progress.above(write)
        } else {
            write()
        };
        match written {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                // Nobody reads the lines any more: stop the walk and the other jobs, as
                // Ctrl-C would. `main` reads the flag after `Pool::wait`, which waits for
                // this job, so `Relaxed` is enough.
                run.stdout_closed.store(true, Ordering::Relaxed);
                (run.cancel)();
                return Err(StdoutClosed.into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The special files the walk skipped, by kind.
#[derive(Default)]
struct Skipped {
    fifos: u64,
    sockets: u64,
    devices: u64,
}

impl Skipped {
    /// Counts `kind` if it is a special file; returns whether it was one.
    fn count(&mut self, kind: &FileType) -> bool {
        let slot = if kind.is_fifo() {
            &mut self.fifos
        } else if kind.is_socket() {
            &mut self.sockets
        } else if kind.is_block_device() || kind.is_char_device() {
            &mut self.devices
        } else {
            return false;
        };
        *slot += 1;
        true
    }

    fn total(&self) -> u64 {
        self.fifos + self.sockets + self.devices
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} skipped (", self.total())?;
        let kinds = [
            (self.fifos, "FIFO"),
            (self.sockets, "socket"),
            (self.devices, "device"),
        ];
        let mut first = true;
        for (n, what) in kinds.into_iter().filter(|&(n, _)| n > 0) {
            let sep = if first { "" } else { ", " };
            first = false;
            write!(f, "{sep}{n} {what}{}", if n == 1 { "" } else { "s" })?;
        }
        f.write_str(")")
    }
}

/// Walks `root` depth-first and calls `file(path, size)` for each regular file, until it
/// returns `false` or `ctx` ends; `error` hears of each directory that cannot be read.
/// Returns the special files it skipped.
///
/// The walk keeps its own stack of directories rather than recursing: a goroutine's stack
/// is fixed, and a deep tree must not overflow it. Links to directories are not followed
/// (no cycles); a link to a file is hashed, and a broken link goes to a job that reports it,
/// as `sha256sum` does. FIFOs, sockets and devices (or links to them) are skipped and
/// counted: reading one could block a worker forever.
fn walk(
    root: &Path,
    ctx: &Context,
    mut file: impl FnMut(PathBuf, u64) -> bool,
    mut error: impl FnMut(&Path, io::Error),
) -> Skipped {
    let mut skipped = Skipped::default();
    match fs::metadata(root) {
        Ok(m) if m.is_file() => {
            file(root.to_path_buf(), m.len());
            return skipped;
        }
        Ok(m) if skipped.count(&m.file_type()) => return skipped,
        Ok(_) => {}
        Err(e) => {
            error(root, e);
            return skipped;
        }
    }
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                error(&dir, e);
                continue;
            }
        };
        for entry in entries {
            if ctx.err().is_some() {
                return skipped;
            }
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    error(&dir, e);
                    break;
                }
            };
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let size = if kind.is_dir() {
                dirs.push(path);
                continue;
            } else if kind.is_file() {
                entry.metadata().map_or(0, |m| m.len())
            } else if kind.is_symlink() {
                match fs::metadata(&path) {
                    Ok(m) if m.is_file() => m.len(),
                    Ok(m) => {
                        // A link to a directory is neither followed nor counted.
                        skipped.count(&m.file_type());
                        continue;
                    }
                    Err(_) => 0, // broken: the job will say why
                }
            } else {
                skipped.count(&kind);
                continue;
            };
            if !file(path, size) {
                return skipped;
            }
        }
    }
    skipped
}

/// Ends the process as `sha256sum` ends when its stdout is closed: killed by `SIGPIPE`,
/// without a word.
///
/// Why that and not a quiet exit 0: it is what the coreutils do under a shell's default
/// signal setting (the shell sees status 141), so `set -o pipefail` and scripts treat this
/// run exactly like `sha256sum`'s; and a status 0 would claim that every file was hashed,
/// when most were not. (Rust ignores `SIGPIPE` at start-up, which is why the write saw
/// `EPIPE` instead of the signal killing the process there and then.)
fn die_of_sigpipe() -> ! {
    // SAFETY: restoring the default disposition installs no handler, so no code of ours
    // runs in signal context; `raise` has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // Only reached if this thread blocks SIGPIPE: the shell's number for that death.
    std::process::exit(128 + libc::SIGPIPE)
}

#[goro::main]
fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            note!("hashdir: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    // Ctrl-C, or a closed stdout, cancels `ctx`, and with it the pool.
    let (ctx, cancel) = context::background().with_cancel();
    let _guard = cancel.clone().guard();
    let run = Arc::new(Run {
        progress: Progress::new(),
        print: opts.print,
        cancel: cancel.clone(),
        stdout_closed: AtomicBool::new(false),
    });
    let progress = &run.progress;
    let interrupted = Arc::new(AtomicBool::new(false));
    let handler = {
        let (interrupted, run) = (interrupted.clone(), run.clone());
        ctrlc::set_handler(move || {
            if interrupted.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
            let progress = &run.progress;
            progress.above(|| {
                if progress.echoes_ctrl_c {
                    // The bars leave the cursor past the end of their last line, so the
                    // terminal's `^C` went on a new line, and the bars were cleared one
                    // line too low: their first line is still there, just above.
                    eprint!("\x1b[1A\r\x1b[2K");
                }
                note!(
                    "hashdir: interrupted, cancelling the queued files (Ctrl-C again quits at once)"
                )
            });
            cancel();
        })
    };
    if let Err(e) = handler {
        note!("hashdir: cannot catch Ctrl-C: {e}");
        return ExitCode::FAILURE;
    }
    note!(
        "hashdir: hashing {} with {} worker{}",
        opts.root.display(),
        opts.workers,
        if opts.workers == 1 { "" } else { "s" }
    );

    // The drawer, unless the display is hidden (stderr is not a terminal).
    let (draw_ctx, stop_drawing) = context::background().with_cancel();
    let drawer = (!progress.multi.is_hidden()).then(|| {
        let run = run.clone();
        goro::go(move || draw(&run.progress, &draw_ctx))
    });

    let start = Instant::now();
    let pool = Pool::builder()
        .max_workers(opts.workers)
        .queue_capacity(4 * opts.workers)
        .context(&ctx)
        .name("hashdir")
        .build();

    // The article's errChan: one goroutine reports the failures as they come.
    let reporter = {
        let (errors, run) = (pool.errors(), run.clone());
        goro::go(move || {
            let mut stopped = 0u64;
            for e in &errors {
                match e {
                    JobError::Failed(e) if e.is::<Interrupted>() => stopped += 1,
                    JobError::Failed(e) if e.is::<StdoutClosed>() => {}
                    _ if run.stdout_closed() => {}
                    JobError::Failed(e) => run.progress.above(|| note!("hashdir: {e}")),
                    e @ JobError::Panicked(_) => run.progress.above(|| note!("hashdir: {e}")),
                }
            }
            stopped
        })
    };

    let mut unreadable = 0u64;
    let job_ctx = pool.context();
    let skipped = walk(
        &opts.root,
        &ctx,
        |path, size| {
            progress.found_files.fetch_add(1, Ordering::Relaxed);
            progress.found_bytes.fetch_add(size, Ordering::Relaxed);
            let (ctx, run) = (job_ctx.clone(), run.clone());
            // Blocks while the queue is full; refused once the run is cancelled.
            pool.submit(move || hash_job(path, ctx, run)).is_ok()
        },
        |path, e| {
            unreadable += 1;
            if !run.stdout_closed() {
                progress.above(|| note!("hashdir: {}: {e}", path.display()));
            }
        },
    );
    // Release: pairs with the Acquire load in `draw`, which then reads the final counts.
    progress.walk_over.store(true, Ordering::Release);

    let report = pool.wait();
    let stopped = reporter.join().expect("the error reporter does not panic");
    stop_drawing();
    if let Some(drawer) = drawer {
        drawer.join().expect("the drawer does not panic");
    }
    progress.files.finish_and_clear();
    progress.bytes.finish_and_clear();
    if run.stdout_closed() {
        die_of_sigpipe();
    }

    let elapsed = start.elapsed();
    let bytes = progress.hashed_bytes.load(Ordering::Relaxed);
    let failed = report.failed + report.panicked - stopped;
    // The file the walker was handing over when the pool closed was refused (`dropped`):
    // it is as cancelled as the queued ones.
    let cancelled = report.cancelled + report.dropped;
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut files = format!(
        "{} hashed, {failed} failed, {cancelled} cancelled",
        report.completed
    );
    if stopped > 0 {
        files += &format!(", {stopped} stopped mid-file");
    }
    note!("files:      {files}");
    if skipped.total() > 0 {
        note!("special:    {skipped}");
    }
    if unreadable > 0 {
        note!("unreadable: {unreadable} (directories or the root)");
    }
    note!("bytes:      {}", HumanBytes(bytes));
    note!("elapsed:    {elapsed:.2?}");
    note!(
        "throughput: {}/s, {:.0} files/s",
        HumanBytes((bytes as f64 / secs) as u64),
        report.completed as f64 / secs
    );
    if interrupted.load(Ordering::Relaxed) {
        note!("interrupted: files the walk had not reached are not counted");
        ExitCode::from(130)
    } else if failed > 0 || unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

// Output of `hashdir some/dir --print` (stdout, in the order the files finish):
// 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  some/dir/hello.txt
// \e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  some/dir/two\nlines
// and on stderr, once the display is gone (`special:` only when some were skipped):
// hashdir: hashing some/dir with 4 workers
// files:      2 hashed, 0 failed, 0 cancelled
// special:    1 skipped (1 FIFO)
// bytes:      6 B
// elapsed:    1.12ms
// throughput: 5.23 KiB/s, 1786 files/s
