//! What the ports share: running a Go test body as the main goroutine, Go's
//! `defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))`, an allocation counter
//! standing in for `runtime.ReadMemStats`, and a child-process runner.
//!
//! Owns: the gate that keeps a test which changes process-wide state
//! (maxprocs, allocation counts, the pending-timer count, a timing ratio)
//! from running beside the others. Every port goes through [`run`] or
//! [`run_alone`], so the gate sees every test.
//!
//! Must never: hold the gate inside a goroutine across a park (it is taken
//! on the test's own thread, around `weft::run`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Once, RwLock};
use std::time::Duration;

static GATE: RwLock<()> = RwLock::new(());

/// Configures the runtime for this binary as Go's tests run: a goroutine
/// that panics ends the process (exit status 2, with the panic and the
/// goroutine's spawn site), so a failed check in a goroutine can neither
/// pass unnoticed nor leave the test waiting forever. Every test calls it
/// first (through [`run`] and [`run_alone`]), before the runtime starts.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        weft::Config::new()
            .panic_abort(true)
            .install()
            .expect("tests/golang: every test must call common::init before using weft");
        // Start the runtime (it installs its panic hook), then put a hook
        // in front that writes a goroutine's panic straight to stderr: the
        // process exits right after, and the runtime's `eprintln!` may be
        // sitting in the test harness's capture buffer of whichever test
        // thread ran the goroutine.
        weft::run(|| ());
        let runtime_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if weft::current_id().is_some() && !EXPECTED.get() {
                let id = weft::current_id().unwrap();
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| info.payload().downcast_ref::<String>().map(|s| s.as_str()))
                    .unwrap_or("Box<dyn Any>");
                let loc = info.location().map(|l| l.to_string()).unwrap_or_default();
                let _ = writeln!(io::stderr(), "goroutine {id} panicked at {loc}:\n{msg}");
            }
            runtime_hook(info);
        }));
    });
}

thread_local! {
    /// Set while [`catch_panic`] runs: the panic is the test's point.
    static EXPECTED: Cell<bool> = const { Cell::new(false) };
}

/// Go's `defer func() { recover() }()`: runs `f`, returning its panic
/// message if it panics. `f` must not park (the flag that keeps the hook
/// quiet is the thread's).
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    EXPECTED.set(true);
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    EXPECTED.set(false);
    r.map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

/// `weft::run`, with a panic of the main goroutine handed back to the test
/// thread (so the test fails as any Rust test does, and the binary goes on).
fn run_main<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    init();
    match weft::run(move || panic::catch_unwind(AssertUnwindSafe(f))) {
        Ok(v) => v,
        Err(p) => panic::resume_unwind(p),
    }
}

/// Runs a Go test body as the main goroutine (`weft::run`), beside the
/// other tests of this binary.
pub fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let _shared = GATE.read().unwrap_or_else(|e| e.into_inner());
    run_main(f)
}

/// Runs a Go test body as the main goroutine with no other test running:
/// for tests that set maxprocs, count allocations or pending timers, or
/// measure a ratio of CPU time.
pub fn run_alone<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let _alone = GATE.write().unwrap_or_else(|e| e.into_inner());
    run_main(f)
}

/// Go's `defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))`: sets maxprocs
/// now and restores the previous value when dropped. Only under
/// [`run_alone`].
#[must_use = "maxprocs is restored when this is dropped"]
pub struct MaxProcs(usize);

impl MaxProcs {
    pub fn set(n: usize) -> MaxProcs {
        MaxProcs(weft::set_maxprocs(n))
    }
}

impl Drop for MaxProcs {
    fn drop(&mut self) {
        weft::set_maxprocs(self.0);
    }
}

/// Allocations and bytes allocated minus freed while [`measure`] runs.
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicIsize = AtomicIsize::new(0);
static BYTES: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting while [`measure`] runs (one relaxed load
/// per call otherwise).
pub struct Counting;

// SAFETY: every method forwards to `System` unchanged, which upholds the
// `GlobalAlloc` contract; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-1, -(layout.size() as isize));
        // SAFETY: `ptr` came from `System` with this layout (every
        // allocation of this program goes through `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(0, new_size as isize - layout.size() as isize);
        // SAFETY: as for `dealloc`; the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count(allocs: isize, bytes: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCS.fetch_add(allocs, Ordering::Relaxed);
        BYTES.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// What [`measure`] saw: allocations not freed, bytes not freed.
#[derive(Debug, Clone, Copy)]
pub struct InUse {
    pub allocs: isize,
    pub bytes: isize,
}

/// Runs `f` and reports the allocations it (and everything running
/// meanwhile) left live. Only under [`run_alone`].
pub fn measure(f: impl FnOnce()) -> InUse {
    ALLOCS.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    InUse {
        allocs: ALLOCS.load(Ordering::SeqCst),
        bytes: BYTES.load(Ordering::SeqCst),
    }
}

/// The environment variable that tells a re-run of this binary which child
/// case to act out.
pub const CHILD: &str = "WEFT_GOLANG_CHILD";

/// Whether this process is the child running `case`.
pub fn is_child(case: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|c| c == case)
}

/// Re-runs this test binary on the single test `test` (its full path) as
/// child `case`, with `env` added; returns its output.
pub fn child(test: &str, case: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, case);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Microseconds.
pub fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

/// Go's `doWork`/`fakeSyscall` spin: busy for `d` without a scheduling
/// point.
pub fn spin(d: Duration) {
    let t = std::time::Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}
