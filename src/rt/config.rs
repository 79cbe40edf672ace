//! The runtime's settings, fixed when it starts: the worker count and the pooled stack size,
//! from the environment (`GORO_MAXPROCS`) or from `RuntimeBuilder`, and the checks on them.

use std::fmt;

use super::goroutine::stack::{round_to_pages, DEFAULT_STACK_SIZE, MIN_STACK_SIZE};

/// Largest accepted worker count; more is surely a typo.
pub(crate) const MAX_PROCS: usize = 4096;

/// Settings fixed when the runtime starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) maxprocs: usize,
    pub(crate) stack_size: usize,
    /// The cap on runtime threads (see `rt::thread`).
    pub(crate) max_threads: usize,
    /// Whether `SIGQUIT` dumps the goroutines and exits (`rt::sigquit`): off with
    /// `GORO_TRACEBACK=none` or `RuntimeBuilder::dump_on_sigquit(false)`.
    pub(crate) sigquit: bool,
}

/// Whether `GORO_TRACEBACK` leaves the `SIGQUIT` dump on (anything but `none`, as Go's
/// `GOTRACEBACK=none` leaves out every goroutine).
pub(crate) fn sigquit_from_env() -> bool {
    std::env::var("GORO_TRACEBACK").map_or(true, |v| v.trim() != "none")
}

/// The default cap on runtime threads (Go's default for `debug.SetMaxThreads`).
pub(crate) const DEFAULT_MAX_THREADS: usize = 10_000;

/// Where a worker count came from, for error messages that name the setting the user wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The `GORO_MAXPROCS` environment variable.
    Env,
    /// `RuntimeBuilder::maxprocs`.
    Builder,
    /// The `GORO_MAXTHREADS` environment variable.
    ThreadsEnv,
    /// `RuntimeBuilder::max_threads`.
    ThreadsBuilder,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Env => "GORO_MAXPROCS",
            Source::Builder => "maxprocs",
            Source::ThreadsEnv => "GORO_MAXTHREADS",
            Source::ThreadsBuilder => "max_threads",
        }
    }
}

/// A setting out of range; `Display` names the setting and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigError {
    /// The worker count is not a positive integer (as written).
    NotANumber(Source, String),
    /// The worker count is zero.
    ZeroProcs(Source),
    /// The worker count is above [`MAX_PROCS`].
    TooManyProcs(Source, usize),
    /// The thread cap is below the worker count (every worker needs a thread).
    TooFewThreads(Source, usize, usize),
    /// The stack size is below [`MIN_STACK_SIZE`].
    StackTooSmall(usize),
    /// The stack size cannot be rounded up to whole pages.
    StackTooLarge(usize),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NotANumber(src, v) => {
                write!(
                    f,
                    "goro: {} must be a positive integer, got {v:?}",
                    src.name()
                )
            }
            ConfigError::ZeroProcs(src) => {
                write!(f, "goro: {} must be a positive integer, got 0", src.name())
            }
            ConfigError::TooManyProcs(src, n) => write!(
                f,
                "goro: {}={n} is more than the supported maximum of {MAX_PROCS}",
                src.name()
            ),
            ConfigError::TooFewThreads(src, n, procs) => write!(
                f,
                "goro: {}={n} is below the worker count ({procs}): every worker needs a thread",
                src.name()
            ),
            ConfigError::StackTooSmall(size) => write!(
                f,
                "goro: stack size of {size} bytes is below the minimum of {MIN_STACK_SIZE} bytes"
            ),
            ConfigError::StackTooLarge(size) => {
                write!(f, "goro: stack size of {size} bytes is too large")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The configuration from the environment (`GORO_MAXPROCS`), with defaults.
    ///
    /// # Panics
    ///
    /// On a bad `GORO_MAXPROCS`, with a message naming it: the runtime starts on first use,
    /// where there is no caller to hand an error to.
    pub(crate) fn from_env() -> Config {
        Config::try_from_env().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The configuration from the environment, or what is wrong with it.
    pub(crate) fn try_from_env() -> Result<Config, ConfigError> {
        let maxprocs = match std::env::var("GORO_MAXPROCS") {
            // Set but empty counts as unset, as with most environment settings.
            Ok(v) if v.trim().is_empty() => default_maxprocs(),
            Ok(v) => parse_maxprocs(&v, Source::Env)?,
            Err(std::env::VarError::NotPresent) => default_maxprocs(),
            Err(std::env::VarError::NotUnicode(v)) => {
                return Err(ConfigError::NotANumber(
                    Source::Env,
                    v.to_string_lossy().into_owned(),
                ))
            }
        };
        let config = Config {
            maxprocs,
            stack_size: DEFAULT_STACK_SIZE,
            max_threads: max_threads_from_env()?,
            sigquit: sigquit_from_env(),
        };
        config.check_threads(Source::ThreadsEnv)?;
        Ok(config)
    }

    /// Checks the thread cap against the worker count; `src` names where the cap came from.
    pub(crate) fn check_threads(&self, src: Source) -> Result<(), ConfigError> {
        if self.max_threads < self.maxprocs {
            return Err(ConfigError::TooFewThreads(
                src,
                self.max_threads,
                self.maxprocs,
            ));
        }
        Ok(())
    }
}

/// The thread cap from `GORO_MAXTHREADS`, or the default.
pub(crate) fn max_threads_from_env() -> Result<usize, ConfigError> {
    match std::env::var("GORO_MAXTHREADS") {
        Ok(v) if v.trim().is_empty() => Ok(DEFAULT_MAX_THREADS),
        Ok(v) => parse_count(&v, Source::ThreadsEnv),
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_MAX_THREADS),
        Err(std::env::VarError::NotUnicode(v)) => Err(ConfigError::NotANumber(
            Source::ThreadsEnv,
            v.to_string_lossy().into_owned(),
        )),
    }
}

/// Parses a positive count written as text (the thread cap).
pub(crate) fn parse_count(v: &str, src: Source) -> Result<usize, ConfigError> {
    match v.trim().parse::<usize>() {
        Ok(0) => Err(ConfigError::ZeroProcs(src)),
        Ok(n) => Ok(n),
        Err(_) => Err(ConfigError::NotANumber(src, v.to_string())),
    }
}

fn default_maxprocs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Parses a worker count written as text.
pub(crate) fn parse_maxprocs(v: &str, src: Source) -> Result<usize, ConfigError> {
    match v.trim().parse::<usize>() {
        Ok(n) => check_maxprocs(n, src),
        Err(_) => Err(ConfigError::NotANumber(src, v.to_string())),
    }
}

/// Checks a worker count.
pub(crate) fn check_maxprocs(n: usize, src: Source) -> Result<usize, ConfigError> {
    match n {
        0 => Err(ConfigError::ZeroProcs(src)),
        n if n > MAX_PROCS => Err(ConfigError::TooManyProcs(src, n)),
        n => Ok(n),
    }
}

/// Checks a requested stack size, returning the usable size to map.
pub(crate) fn check_stack_size(size: usize) -> Result<usize, ConfigError> {
    if size < MIN_STACK_SIZE {
        return Err(ConfigError::StackTooSmall(size));
    }
    round_to_pages(size).ok_or(ConfigError::StackTooLarge(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_are_checked_and_name_their_source() {
        assert_eq!(parse_maxprocs(" 3 ", Source::Env), Ok(3));
        let e = parse_maxprocs("x", Source::Env).unwrap_err();
        assert_eq!(
            e.to_string(),
            "goro: GORO_MAXPROCS must be a positive integer, got \"x\""
        );
        let e = check_maxprocs(0, Source::Builder).unwrap_err();
        assert_eq!(e, ConfigError::ZeroProcs(Source::Builder));
        assert!(e.to_string().contains("maxprocs must be"), "{e}");
        let e = check_maxprocs(MAX_PROCS + 1, Source::Builder).unwrap_err();
        assert!(e.to_string().contains("supported maximum"), "{e}");
    }

    #[test]
    fn thread_caps_are_checked_and_name_their_source() {
        assert_eq!(parse_count("12", Source::ThreadsEnv), Ok(12));
        let e = parse_count("0", Source::ThreadsEnv).unwrap_err();
        assert!(e.to_string().contains("GORO_MAXTHREADS"), "{e}");
        let config = Config {
            maxprocs: 4,
            stack_size: DEFAULT_STACK_SIZE,
            max_threads: 3,
            sigquit: true,
        };
        let e = config.check_threads(Source::ThreadsBuilder).unwrap_err();
        assert_eq!(
            e.to_string(),
            "goro: max_threads=3 is below the worker count (4): every worker needs a thread"
        );
    }

    #[test]
    fn stack_sizes_are_checked() {
        assert!(matches!(
            check_stack_size(MIN_STACK_SIZE - 1),
            Err(ConfigError::StackTooSmall(_))
        ));
        assert_eq!(
            check_stack_size(usize::MAX),
            Err(ConfigError::StackTooLarge(usize::MAX))
        );
        assert!(check_stack_size(MIN_STACK_SIZE).unwrap() >= MIN_STACK_SIZE);
    }
}
