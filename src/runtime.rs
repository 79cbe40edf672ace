//! Runtime settings: the number of worker threads and the default stack size.

use std::fmt;

use crate::goroutine::stack::DEFAULT_STACK_SIZE;
use crate::rt;

/// Configures the runtime before its first use.
///
/// The runtime starts lazily on the first goroutine-related call, configured from the
/// environment (`GORO_MAXPROCS`). To choose settings in code instead, call
/// [`RuntimeBuilder::init`] before anything else touches the runtime.
///
/// ```
/// // In a program's `main`, before spawning anything:
/// match goro::RuntimeBuilder::new().maxprocs(2).init() {
///     Ok(()) => assert_eq!(goro::maxprocs(), 2),
///     Err(e) => eprintln!("{e}"), // already running (e.g. in a test binary)
/// }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a RuntimeBuilder does nothing until `init` is called"]
pub struct RuntimeBuilder {
    maxprocs: Option<usize>,
    stack_size: Option<usize>,
}

impl RuntimeBuilder {
    /// Settings from the environment and the defaults.
    pub fn new() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// Number of worker threads (Go's `GOMAXPROCS`). Overrides `GORO_MAXPROCS`.
    pub fn maxprocs(mut self, n: usize) -> RuntimeBuilder {
        self.maxprocs = Some(n);
        self
    }

    /// Usable size of the pooled goroutine stacks (default 256 KiB, minimum 16 KiB).
    pub fn stack_size(mut self, size: usize) -> RuntimeBuilder {
        self.stack_size = Some(size);
        self
    }

    /// Starts the runtime with these settings.
    ///
    /// # Errors
    ///
    /// [`InitError::AlreadyStarted`] if the runtime is already running, and
    /// [`InitError::Invalid`] for a zero or absurd worker count (given here or in
    /// `GORO_MAXPROCS`) or a bad stack size.
    pub fn init(self) -> Result<(), InitError> {
        let mut config = match self.maxprocs {
            Some(n) => rt::Config {
                maxprocs: rt::parse_maxprocs(&n.to_string())
                    .map_err(|e| InitError::Invalid(e.replace("GORO_MAXPROCS", "maxprocs")))?,
                stack_size: DEFAULT_STACK_SIZE,
            },
            None => rt::Config::try_from_env().map_err(InitError::Invalid)?,
        };
        if let Some(size) = self.stack_size {
            config.stack_size =
                rt::check_stack_size(size).map_err(|e| InitError::Invalid(e.to_string()))?;
        }
        match rt::init(config) {
            (_, true) => Ok(()),
            (_, false) => Err(InitError::AlreadyStarted),
        }
    }
}

/// Why [`RuntimeBuilder::init`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitError {
    /// The runtime was already running; settings apply only before its first use.
    AlreadyStarted,
    /// A setting is out of range; the message names it.
    Invalid(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::AlreadyStarted => {
                f.write_str("goro: the runtime is already running; configure it before first use")
            }
            InitError::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for InitError {}
