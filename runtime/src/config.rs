//! Runtime configuration: the [`Config`] builder, the spawn policy, and the
//! environment variables read once when the runtime starts.
//!
//! Owns: parsing and validating every knob. Explicit `Config` settings win over
//! the environment; the environment wins over the defaults. A malformed value is
//! a [`ConfigError`] naming the variable and what was expected — never a silent
//! default, never a panic inside the scheduler.
//!
//! Must never: touch the scheduler. It only produces a [`Settings`] value that
//! `sched` consumes at start.

use crate::loom::sync::StdMutex;
use std::fmt;
use std::path::{Path, PathBuf};

/// Upper bound on [`Config::maxprocs`] and [`crate::set_maxprocs`]
/// (Go's `_MaxGomaxprocs`).
pub const MAX_PROCS: usize = 1024;

/// Where a goroutine spawned from inside another goroutine runs first.
///
/// ```
/// use weft::SpawnPolicy;
/// assert_eq!("child".parse::<SpawnPolicy>(), Ok(SpawnPolicy::ChildStealing));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SpawnPolicy {
    /// Work-first (Cilk): the parent's continuation is queued where thieves
    /// can take it and the child runs at once on the spawning processor.
    #[default]
    ContinuationStealing,
    /// Go's behaviour: the child goes to the processor's `runnext` slot and
    /// the parent keeps running.
    ChildStealing,
}

impl std::str::FromStr for SpawnPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "continuation" => Ok(SpawnPolicy::ContinuationStealing),
            "child" => Ok(SpawnPolicy::ChildStealing),
            _ => Err("expected `continuation` or `child`".into()),
        }
    }
}

impl fmt::Display for SpawnPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpawnPolicy::ContinuationStealing => "continuation",
            SpawnPolicy::ChildStealing => "child",
        })
    }
}

/// What went wrong when configuring the runtime.
///
/// ```
/// let mut c = weft::Config::new();
/// let err = c.maxprocs(0).validate().unwrap_err();
/// assert!(err.to_string().contains("maxprocs"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// An environment variable held a value that cannot be used.
    Env {
        /// The variable's name, e.g. `WEFT_MAXPROCS`.
        var: &'static str,
        /// The value found.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// A setting given through [`Config`] is out of range.
    Invalid {
        /// The setting, e.g. `maxprocs`.
        setting: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// [`Config::install`] was called after the runtime had started.
    AlreadyStarted,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Env {
                var,
                value,
                expected,
            } => write!(f, "weft: environment variable {var}={value:?} is invalid: {expected}"),
            ConfigError::Invalid { setting, reason } => {
                write!(f, "weft: invalid {setting}: {reason}")
            }
            ConfigError::AlreadyStarted => write!(
                f,
                "weft: Config::install called after the runtime started; install it before the first go!/spawn/run"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The `WEFT_DEBUG` settings (the runtime's `GODEBUG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugSettings {
    /// `schedtrace=MS`: print a `SCHED` line every MS milliseconds (0 = off).
    pub schedtrace_ms: u64,
    /// `scheddetail=1`: add per-P, per-M and per-G lines to each trace.
    pub scheddetail: bool,
    /// `traceback=1`: capture a backtrace where each goroutine parks.
    pub traceback: bool,
    /// `longrun=MS`: report a goroutine that holds its OS thread this long
    /// without a scheduling point (0 = off; default [`DEFAULT_LONGRUN_MS`]).
    pub longrun_ms: u64,
    /// `membarrier=0`: never call `membarrier(2)`; every M's P slot pays a
    /// fence on its owner's side instead (the fallback a process gets when
    /// the kernel or a seccomp filter refuses the call; docs/watching.md).
    pub membarrier: bool,
}

/// The default `WEFT_DEBUG=longrun` threshold, in milliseconds.
///
/// Five times Go's preemption slice (10 ms, after which sysmon already
/// moves the goroutines queued behind a runner to another thread): a
/// goroutine that has not reached a scheduling point in 50 ms is almost
/// always blocking its thread by mistake (a `std::thread::sleep`, a std
/// lock, blocking I/O outside `weft::blocking`) or computing in a loop
/// that should `yield_now`, and 50 ms is long enough that a loaded machine
/// descheduling a runnable thread for a few time slices rarely trips it.
/// It is reported once per stretch, so a legitimate long computation costs
/// one line; `longrun=0` silences it.
pub const DEFAULT_LONGRUN_MS: u64 = 50;

impl DebugSettings {
    /// What `WEFT_DEBUG` unset means: everything off but the long-run
    /// report at [`DEFAULT_LONGRUN_MS`].
    pub const DEFAULT: DebugSettings = DebugSettings {
        schedtrace_ms: 0,
        scheddetail: false,
        traceback: false,
        longrun_ms: DEFAULT_LONGRUN_MS,
        membarrier: true,
    };
}

impl Default for DebugSettings {
    fn default() -> Self {
        DebugSettings::DEFAULT
    }
}

/// Runtime configuration, installed before first use.
///
/// Anything left unset comes from the environment (`WEFT_MAXPROCS`, else
/// `GOMAXPROCS`, else the CPU count; `WEFT_STACK_SIZE`; `WEFT_SPAWN`;
/// `WEFT_DEBUG`; `WEFT_TRACE`), then from the defaults.
///
/// ```
/// // In a fresh process, before any goroutine exists:
/// let mut config = weft::Config::new();
/// config.maxprocs(2).spawn_policy(weft::SpawnPolicy::ChildStealing);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Config {
    maxprocs: Option<usize>,
    stack_size: Option<usize>,
    spawn_policy: Option<SpawnPolicy>,
    panic_abort: Option<bool>,
    deadlock_detection: Option<bool>,
}

/// Fully resolved settings the scheduler starts with.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub maxprocs: usize,
    pub stack_size: usize,
    pub spawn_policy: SpawnPolicy,
    pub panic_abort: bool,
    pub deadlock_detection: bool,
    pub debug: DebugSettings,
    /// `WEFT_TRACE=PATH`: record an execution trace from the start, written
    /// when the first `run` returns (`crate::trace`).
    pub trace: Option<PathBuf>,
}

static INSTALLED: StdMutex<Option<Config>> = StdMutex::new(None);

/// Set once the runtime has read its settings: later installs are refused.
static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The runtime has started with the settings it read (called once, by the
/// scheduler's start).
pub(crate) fn mark_started() {
    STARTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

impl Config {
    /// An empty configuration: everything from the environment or defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of processors (Go's `GOMAXPROCS`), 1 to [`MAX_PROCS`].
    pub fn maxprocs(&mut self, n: usize) -> &mut Self {
        self.maxprocs = Some(n);
        self
    }

    /// Default goroutine stack size in bytes (virtual; only touched pages are resident).
    pub fn stack_size(&mut self, bytes: usize) -> &mut Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Where a goroutine spawned inside another goroutine runs first.
    pub fn spawn_policy(&mut self, policy: SpawnPolicy) -> &mut Self {
        self.spawn_policy = Some(policy);
        self
    }

    /// `true`: a panicking goroutine ends the process with exit status 2, as in
    /// Go. `false` (default): the panic is reported and handed to `join`, as
    /// `std::thread` does.
    pub fn panic_abort(&mut self, abort: bool) -> &mut Self {
        self.panic_abort = Some(abort);
        self
    }

    /// Whether the runtime reports "all goroutines are asleep" (default on).
    pub fn deadlock_detection(&mut self, on: bool) -> &mut Self {
        self.deadlock_detection = Some(on);
        self
    }

    /// Checks the explicit settings without installing them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(n) = self.maxprocs {
            check_maxprocs("maxprocs", n).map_err(|reason| ConfigError::Invalid {
                setting: "maxprocs",
                reason,
            })?;
        }
        if let Some(s) = self.stack_size {
            check_stack_size(s).map_err(|reason| ConfigError::Invalid {
                setting: "stack_size",
                reason,
            })?;
        }
        Ok(())
    }

    /// Installs this configuration for the runtime, which must not have started.
    ///
    /// Also validates the environment now, so a malformed variable is reported
    /// here rather than at the first spawn.
    pub fn install(&self) -> Result<(), ConfigError> {
        self.validate()?;
        resolve(self)?;
        let mut slot = INSTALLED.lock();
        if STARTED.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ConfigError::AlreadyStarted);
        }
        *slot = Some(self.clone());
        Ok(())
    }
}

/// Default goroutine stack size: virtual memory, only touched pages are resident.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack a goroutine may ask for.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// The largest stack a goroutine may ask for.
pub const MAX_STACK_SIZE: usize = 1 << 30;

/// Checks a requested stack size, naming the problem when it is unusable.
pub(crate) fn check_stack_size(bytes: usize) -> Result<(), String> {
    if bytes < MIN_STACK_SIZE {
        Err(format!(
            "{bytes} bytes is below the minimum stack size of {MIN_STACK_SIZE} bytes"
        ))
    } else if bytes > MAX_STACK_SIZE {
        Err(format!(
            "{bytes} bytes is above the maximum stack size of {MAX_STACK_SIZE} bytes"
        ))
    } else {
        Ok(())
    }
}

fn check_maxprocs(_what: &str, n: usize) -> Result<(), String> {
    if n == 0 {
        Err("must be at least 1".into())
    } else if n > MAX_PROCS {
        Err(format!("{n} is more than the maximum of {MAX_PROCS}"))
    } else {
        Ok(())
    }
}

/// The settings the runtime starts with: the installed `Config` over the
/// environment over the defaults.
pub(crate) fn settings() -> Result<Settings, ConfigError> {
    let installed = INSTALLED.lock().clone().unwrap_or_default();
    resolve(&installed)
}

fn env(var: &'static str) -> Option<String> {
    std::env::var(var).ok()
}

fn resolve(c: &Config) -> Result<Settings, ConfigError> {
    let maxprocs = match c.maxprocs {
        Some(n) => n,
        None => match parse_env_maxprocs("WEFT_MAXPROCS")? {
            Some(n) => n,
            None => parse_env_maxprocs("GOMAXPROCS")?.unwrap_or_else(num_cpus::get),
        },
    }
    .clamp(1, MAX_PROCS);
    let stack_size = match c.stack_size {
        Some(s) => s,
        None => match env("WEFT_STACK_SIZE") {
            Some(v) => parse_size(&v)
                .and_then(|s| check_stack_size(s).map(|_| s))
                .map_err(|expected| ConfigError::Env {
                    var: "WEFT_STACK_SIZE",
                    value: v,
                    expected,
                })?,
            None => DEFAULT_STACK_SIZE,
        },
    };
    let spawn_policy = match c.spawn_policy {
        Some(p) => p,
        None => match env("WEFT_SPAWN") {
            Some(v) => v.parse().map_err(|expected| ConfigError::Env {
                var: "WEFT_SPAWN",
                value: v,
                expected,
            })?,
            None => SpawnPolicy::default(),
        },
    };
    let debug = match env("WEFT_DEBUG") {
        Some(v) => parse_debug(&v).map_err(|expected| ConfigError::Env {
            var: "WEFT_DEBUG",
            value: v,
            expected,
        })?,
        None => DebugSettings::default(),
    };
    let trace = match env("WEFT_TRACE") {
        Some(v) => {
            let path = PathBuf::from(&v);
            check_trace_path(&path).map_err(|expected| ConfigError::Env {
                var: "WEFT_TRACE",
                value: v,
                expected,
            })?;
            Some(path)
        }
        None => None,
    };
    Ok(Settings {
        maxprocs,
        stack_size,
        spawn_policy,
        panic_abort: c.panic_abort.unwrap_or(false),
        deadlock_detection: c.deadlock_detection.unwrap_or(true),
        debug,
        trace,
    })
}

/// What an execution trace is written as, chosen by its path's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TraceFormat {
    /// `.json`: Chrome/Perfetto trace-event JSON.
    Json,
    /// `.html`/`.htm`: a self-contained timeline page.
    Html,
    /// `.svg`: a static picture of the whole timeline.
    Svg,
}

/// Checks a trace path (`WEFT_TRACE`, `weft::trace::start`): a known
/// extension, in a directory that exists, not a directory itself.
pub(crate) fn check_trace_path(path: &Path) -> Result<TraceFormat, String> {
    let shown = || format!("{:?}", path.display().to_string());
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("json") => TraceFormat::Json,
        Some("html" | "htm") => TraceFormat::Html,
        Some("svg") => TraceFormat::Svg,
        _ => {
            return Err(format!(
                "expected a file path ending in .json (Chrome/Perfetto trace events), .html (a timeline page) or .svg (a picture), found {}",
                shown()
            ))
        }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "the directory {:?} of the trace file does not exist",
            dir.display().to_string()
        ));
    }
    if path.is_dir() {
        return Err(format!("{} is a directory, not a file", shown()));
    }
    Ok(format)
}

fn parse_env_maxprocs(var: &'static str) -> Result<Option<usize>, ConfigError> {
    let Some(v) = env(var) else { return Ok(None) };
    let err = |expected: String| ConfigError::Env {
        var,
        value: v.clone(),
        expected,
    };
    let n: usize = v.trim().parse().map_err(|_| {
        err(format!(
            "expected a whole number of processors from 1 to {MAX_PROCS}"
        ))
    })?;
    check_maxprocs(var, n).map_err(err)?;
    Ok(Some(n))
}

/// Parses a byte size: a plain number, or one with a `k`/`K`/`KiB`, `m`/`M`/`MiB` suffix.
pub(crate) fn parse_size(v: &str) -> Result<usize, String> {
    let s = v.trim();
    let expected =
        || "expected a size in bytes, such as 262144, 256K or 1M (K = KiB, M = MiB)".to_string();
    let (digits, mult) = match s.find(|c: char| !c.is_ascii_digit()) {
        None => (s, 1usize),
        Some(i) => {
            let mult = match &s[i..] {
                "k" | "K" | "KB" | "KiB" | "kb" => 1 << 10,
                "m" | "M" | "MB" | "MiB" | "mb" => 1 << 20,
                _ => return Err(expected()),
            };
            (&s[..i], mult)
        }
    };
    let n: usize = digits.parse().map_err(|_| expected())?;
    n.checked_mul(mult).ok_or_else(expected)
}

/// The largest `longrun` threshold accepted: a day.
const MAX_LONGRUN_MS: u64 = 24 * 3600 * 1000;

fn parse_debug(v: &str) -> Result<DebugSettings, String> {
    let mut d = DebugSettings::default();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, val) = item
            .split_once('=')
            .ok_or_else(|| format!("`{item}` is not of the form key=value"))?;
        let num = || {
            val.parse::<u64>()
                .map_err(|_| format!("`{key}` needs a whole number, found `{val}`"))
        };
        match key {
            "schedtrace" => d.schedtrace_ms = num()?,
            "scheddetail" => d.scheddetail = num()? != 0,
            "traceback" => d.traceback = num()? != 0,
            "membarrier" => {
                d.membarrier = match val {
                    "0" => false,
                    "1" => true,
                    _ => return Err(format!("`membarrier` is 0 or 1, found `{val}`")),
                }
            }
            "longrun" => {
                d.longrun_ms = num()?;
                if d.longrun_ms > MAX_LONGRUN_MS {
                    return Err(format!(
                        "`longrun` is in milliseconds, at most {MAX_LONGRUN_MS} (a day); found `{val}` (0 turns it off)"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "unknown key `{key}` (known: schedtrace=MS, scheddetail=0|1, traceback=0|1, longrun=MS, membarrier=0|1)"
                ))
            }
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("256K"), Ok(256 << 10));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn debug_parses_and_rejects() {
        let d = parse_debug("schedtrace=1000,scheddetail=1").unwrap();
        assert_eq!(d.schedtrace_ms, 1000);
        assert!(d.scheddetail);
        assert!(parse_debug("schedtrace=soon")
            .unwrap_err()
            .contains("schedtrace"));
        assert!(parse_debug("bogus=1").unwrap_err().contains("unknown key"));
        assert!(parse_debug("schedtrace").is_err());
    }

    #[test]
    fn longrun_parses_defaults_and_rejects() {
        assert_eq!(parse_debug("").unwrap().longrun_ms, DEFAULT_LONGRUN_MS);
        assert_eq!(DebugSettings::default().longrun_ms, DEFAULT_LONGRUN_MS);
        assert_eq!(parse_debug("longrun=0").unwrap().longrun_ms, 0);
        assert_eq!(parse_debug("longrun=200").unwrap().longrun_ms, 200);
        let e = parse_debug("longrun=fast").unwrap_err();
        assert!(e.contains("longrun") && e.contains("fast"), "{e}");
        assert!(parse_debug("longrun=-5").unwrap_err().contains("longrun"));
        assert!(parse_debug("longrun=99999999999")
            .unwrap_err()
            .contains("a day"));
        assert!(parse_debug("longrun").unwrap_err().contains("key=value"));
    }

    #[test]
    fn membarrier_parses_and_rejects() {
        assert!(DebugSettings::default().membarrier);
        assert!(!parse_debug("membarrier=0").unwrap().membarrier);
        assert!(parse_debug("membarrier=1").unwrap().membarrier);
        let e = parse_debug("membarrier=off").unwrap_err();
        assert!(
            e.contains("`membarrier` is 0 or 1") && e.contains("off"),
            "{e}"
        );
        assert!(parse_debug("nomembarrier")
            .unwrap_err()
            .contains("key=value"));
        assert!(parse_debug("nomembarrier=1")
            .unwrap_err()
            .contains("membarrier=0|1"));
    }

    #[test]
    fn trace_paths_checked() {
        assert_eq!(check_trace_path(Path::new("t.json")), Ok(TraceFormat::Json));
        assert_eq!(check_trace_path(Path::new("t.HTML")), Ok(TraceFormat::Html));
        assert_eq!(check_trace_path(Path::new("t.svg")), Ok(TraceFormat::Svg));
        assert!(check_trace_path(Path::new("1"))
            .unwrap_err()
            .contains(".json"));
        assert!(check_trace_path(Path::new("")).is_err());
        assert!(check_trace_path(Path::new("/no/such/dir/t.json"))
            .unwrap_err()
            .contains("does not exist"));
    }

    #[test]
    fn policy_parses() {
        assert_eq!(
            "continuation".parse::<SpawnPolicy>(),
            Ok(SpawnPolicy::ContinuationStealing)
        );
        assert!("sideways".parse::<SpawnPolicy>().is_err());
    }

    #[test]
    fn explicit_settings_validated() {
        assert!(Config::new().maxprocs(MAX_PROCS + 1).validate().is_err());
        assert!(Config::new().stack_size(10).validate().is_err());
        assert!(Config::new().maxprocs(3).validate().is_ok());
    }
}
