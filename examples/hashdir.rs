//! Go: the article's worker pool doing a real batch job — SHA-256 of every file under a
//! directory, as `sha256sum` prints it, on a bounded [`Pool`], with a live progress bar, a
//! summary, and a clean stop on Ctrl-C.
//!
//! ```text
//! cargo run --release --example hashdir -- <dir> [--workers N] [--print]
//! ```
//!
//! `--print` writes `<hex>  <path>` lines to stdout (in the order the files finish, so
//! `sort -k2` before comparing two runs); the progress bars and the summary go to stderr,
//! and the bars hide themselves when stderr is not a terminal. The bars' totals grow as the
//! walk finds files: with a bounded queue the walk stays only a few files ahead of the
//! workers. The exit code is 0 when every file was hashed, 1 when some failed, 130 after
//! Ctrl-C.
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
//! # Ctrl-C
//!
//! The pool is bound to a context that the Ctrl-C handler cancels. The walk stops, queued
//! files are cancelled without being opened, running ones stop at their next chunk, and the
//! summary says how many of each. A second Ctrl-C quits at once.

use std::error::Error;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use goro::context::{self, BoxError, Context};
use goro::pool::{JobError, Pool};
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// Bytes read at a time: memory per worker, and how often a running job checks for Ctrl-C.
const CHUNK: usize = 64 * 1024;

const USAGE: &str = "usage: hashdir <dir> [--workers N] [--print]";

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

/// What the walker and the jobs share: the bars and the count of bytes of hashed files.
struct Progress {
    multi: MultiProgress,
    files: ProgressBar,
    bytes: ProgressBar,
    hashed_bytes: AtomicU64,
    /// Whether stdout is a terminal, where printing must lift the bars out of the way.
    stdout_is_term: bool,
    /// Whether a typed Ctrl-C shows up as `^C` among the bars.
    echoes_ctrl_c: bool,
}

impl Progress {
    fn new() -> Progress {
        let multi = MultiProgress::new();
        let bar = |template: &str| {
            let style = ProgressStyle::with_template(template)
                .expect("a valid template")
                .progress_chars("=> ");
            multi.add(ProgressBar::new(0).with_style(style))
        };
        Progress {
            files: bar("{elapsed:>4} [{bar:40}] {human_pos}/{human_len} files"),
            bytes: bar("{binary_bytes_per_sec:>10} [{bar:40}] {binary_bytes}/{binary_total_bytes}"),
            multi,
            hashed_bytes: AtomicU64::new(0),
            stdout_is_term: io::stdout().is_terminal(),
            echoes_ctrl_c: io::stderr().is_terminal() && terminal_echoes_ctrl_c(),
        }
    }

    /// Runs `f` (which prints) with the bars lifted off the terminal.
    fn above<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
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
/// and the number of bytes read. Stops with [`Interrupted`] once `ctx` ends.
fn hash_file(path: &Path, ctx: &Context, bytes: &ProgressBar) -> Result<(String, u64), BoxError> {
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
        bytes.inc(n as u64);
        total += n as u64;
    }
    Ok((format!("{:x}", hasher.finalize()), total))
}

/// The job for one file: hash it, print its line, move the bars.
fn hash_job(
    path: PathBuf,
    ctx: Context,
    progress: Arc<Progress>,
    print: bool,
) -> Result<(), BoxError> {
    let result = hash_file(&path, &ctx, &progress.bytes);
    progress.files.inc(1);
    let (digest, size) = result?;
    progress.hashed_bytes.fetch_add(size, Ordering::Relaxed);
    if print {
        let line = format!("{digest}  {}\n", path.display());
        let write = || io::stdout().lock().write_all(line.as_bytes());
        if progress.stdout_is_term {
            progress.above(write)?;
        } else {
            write()?;
        }
    }
    Ok(())
}

/// Walks `root` depth-first and calls `file(path, size)` for each regular file, until it
/// returns `false` or `ctx` ends; `error` hears of each directory that cannot be read.
///
/// The walk keeps its own stack of directories rather than recursing: a goroutine's stack
/// is fixed, and a deep tree must not overflow it. Links to directories are not followed
/// (no cycles); a link to a file is hashed, and a broken link goes to a job that reports it,
/// as `sha256sum` does. FIFOs, sockets and devices are skipped: reading one could block a
/// worker forever.
fn walk(
    root: &Path,
    ctx: &Context,
    mut file: impl FnMut(PathBuf, u64) -> bool,
    mut error: impl FnMut(&Path, io::Error),
) {
    match fs::metadata(root) {
        Ok(m) if m.is_file() => {
            file(root.to_path_buf(), m.len());
            return;
        }
        Ok(_) => {}
        Err(e) => return error(root, e),
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
                return;
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
                    Ok(_) => continue,
                    Err(_) => 0, // broken: the job will say why
                }
            } else {
                continue;
            };
            if !file(path, size) {
                return;
            }
        }
    }
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
            eprintln!("hashdir: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let progress = Arc::new(Progress::new());

    // Ctrl-C cancels `ctx`, and with it the pool.
    let (ctx, cancel) = context::background().with_cancel();
    let _guard = cancel.clone().guard();
    let interrupted = Arc::new(AtomicBool::new(false));
    let handler = {
        let (interrupted, progress) = (interrupted.clone(), progress.clone());
        ctrlc::set_handler(move || {
            if interrupted.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
            progress.above(|| {
                if progress.echoes_ctrl_c {
                    // The bars leave the cursor past the end of their last line, so the
                    // terminal's `^C` went on a new line, and the bars were cleared one
                    // line too low: their first line is still there, just above.
                    eprint!("\x1b[1A\r\x1b[2K");
                }
                eprintln!(
                    "hashdir: interrupted, cancelling the queued files (Ctrl-C again quits at once)"
                )
            });
            cancel();
        })
    };
    if let Err(e) = handler {
        eprintln!("hashdir: cannot catch Ctrl-C: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "hashdir: hashing {} with {} worker{}",
        opts.root.display(),
        opts.workers,
        if opts.workers == 1 { "" } else { "s" }
    );

    let start = Instant::now();
    let pool = Pool::builder()
        .max_workers(opts.workers)
        .queue_capacity(4 * opts.workers)
        .context(&ctx)
        .name("hashdir")
        .build();

    // The article's errChan: one goroutine reports the failures as they come.
    let reporter = {
        let (errors, progress) = (pool.errors(), progress.clone());
        goro::go(move || {
            let mut stopped = 0u64;
            for e in &errors {
                match e {
                    JobError::Failed(e) if e.is::<Interrupted>() => stopped += 1,
                    JobError::Failed(e) => progress.above(|| eprintln!("hashdir: {e}")),
                    e @ JobError::Panicked(_) => progress.above(|| eprintln!("hashdir: {e}")),
                }
            }
            stopped
        })
    };

    let mut unreadable = 0u64;
    let job_ctx = pool.context();
    walk(
        &opts.root,
        &ctx,
        |path, size| {
            progress.files.inc_length(1);
            progress.bytes.inc_length(size);
            let (ctx, progress) = (job_ctx.clone(), progress.clone());
            // Blocks while the queue is full; refused once Ctrl-C has closed the pool.
            pool.submit(move || hash_job(path, ctx, progress, opts.print))
                .is_ok()
        },
        |path, e| {
            unreadable += 1;
            progress.above(|| eprintln!("hashdir: {}: {e}", path.display()));
        },
    );

    let report = pool.wait();
    let stopped = reporter.join().expect("the error reporter does not panic");
    progress.files.finish_and_clear();
    progress.bytes.finish_and_clear();

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
    eprintln!("files:      {files}");
    if unreadable > 0 {
        eprintln!("unreadable: {unreadable} (directories or the root)");
    }
    eprintln!("bytes:      {}", HumanBytes(bytes));
    eprintln!("elapsed:    {elapsed:.2?}");
    eprintln!(
        "throughput: {}/s, {:.0} files/s",
        HumanBytes((bytes as f64 / secs) as u64),
        report.completed as f64 / secs
    );
    if interrupted.load(Ordering::Relaxed) {
        eprintln!("interrupted: files the walk had not reached are not counted");
        ExitCode::from(130)
    } else if failed > 0 || unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

// Output of `hashdir some/dir --print` (stdout, in the order the files finish):
// 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  some/dir/hello.txt
// e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  some/dir/empty
// and on stderr, once the bars are gone:
// hashdir: hashing some/dir with 4 workers
// files:      2 hashed, 0 failed, 0 cancelled
// bytes:      6 B
// elapsed:    1.12ms
// throughput: 5.23 KiB/s, 1786 files/s
