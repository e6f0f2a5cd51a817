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
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
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

/// Whether [`measure`] is running.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// The goroutines whose allocations [`measure`] counts, by id (0: a free
/// slot): the one that called it, and each inside [`counted`].
static COUNTED: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];
/// The sums over [`LIVE`]: blocks the counted goroutines allocated, and
/// their bytes.
static ALLOCS: AtomicIsize = AtomicIsize::new(0);
static BYTES: AtomicIsize = AtomicIsize::new(0);
/// Set when [`LIVE`] had no room for a block: the sums are wrong.
static OVERFLOW: AtomicBool = AtomicBool::new(false);
static LIVE: Live = Live::new();

/// The system allocator, recording while [`measure`] runs the blocks the
/// counted goroutines allocate (one relaxed load per call otherwise).
pub struct Counting;

// SAFETY: every method forwards to `System` unchanged, which upholds the
// `GlobalAlloc` contract; the bookkeeping around it is plain atomics and
// never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && counted_here() {
            LIVE.insert(p as usize, Entry::block(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Before the block goes back: once it has, another thread may be
        // handed the same address and record it.
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.remove(ptr as usize);
        }
        // SAFETY: `ptr` came from `System` with this layout (every
        // allocation of this program goes through `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = if COUNTING.load(Ordering::Relaxed) {
            LIVE.remove(ptr as usize)
        } else {
            None
        };
        // SAFETY: as for `dealloc`; the caller's contract is passed on.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        let grown = new_size as isize - layout.size() as isize;
        match (new.is_null(), old) {
            // Refused: the old block stands.
            (true, Some(e)) => LIVE.insert(ptr as usize, e),
            (false, Some(e)) => LIVE.insert(new as usize, e.grown(grown)),
            // A block from before (or from elsewhere) that a counted
            // goroutine grew: the growth is its.
            (false, None) if counted_here() => LIVE.insert(new as usize, Entry::growth(grown)),
            _ => {}
        }
        new
    }
}

/// Whether this allocation is the code under test's: [`measure`] runs and
/// this thread runs a counted goroutine (inside `weft::blocking` too, where
/// it keeps its id). `current_id` reads a const thread-local
/// without a destructor: no allocation, no lock.
fn counted_here() -> bool {
    COUNTING.load(Ordering::Relaxed)
        && weft::current_id().is_some_and(|id| {
            COUNTED
                .iter()
                .any(|g| g.load(Ordering::Relaxed) == id.as_u64())
        })
}

/// What a recorded block adds to the sums: an allocation (or the growth of
/// a block allocated before), and its bytes.
#[derive(Clone, Copy)]
struct Entry(isize);

impl Entry {
    fn block(bytes: usize) -> Entry {
        Entry((bytes as isize) << 1 | 1)
    }

    fn growth(bytes: isize) -> Entry {
        Entry(bytes << 1)
    }

    fn grown(self, bytes: isize) -> Entry {
        Entry(self.0 + (bytes << 1))
    }

    fn allocs(self) -> isize {
        self.0 & 1
    }

    fn bytes(self) -> isize {
        self.0 >> 1
    }
}

const SLOTS: usize = 1 << 18;
/// How far from its hash a block may sit (a full neighbourhood sets
/// [`OVERFLOW`]).
const PROBES: usize = 64;
const EMPTY: usize = 0;
/// A removed entry: a later insert may take the slot, a search goes on.
const GONE: usize = 1;

/// The live recorded blocks, address to [`Entry`]: an open-addressing
/// table of atomics, so a block counts as freed whichever thread frees it
/// (a timer the code under test made may be dropped by the scheduler) and
/// the allocator never allocates or locks to keep it. Each address is
/// inserted by the thread that got it and removed by the one that frees
/// it, which the program orders after; so no two threads race on one key.
struct Live {
    addr: [AtomicUsize; SLOTS],
    entry: [AtomicIsize; SLOTS],
}

impl Live {
    const fn new() -> Live {
        Live {
            addr: [const { AtomicUsize::new(EMPTY) }; SLOTS],
            entry: [const { AtomicIsize::new(0) }; SLOTS],
        }
    }

    fn probe(addr: usize) -> impl Iterator<Item = usize> {
        let h = (addr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - SLOTS.ilog2());
        (0..PROBES).map(move |i| (h + i) % SLOTS)
    }

    fn clear(&self) {
        for a in &self.addr {
            a.store(EMPTY, Ordering::Relaxed);
        }
    }

    fn insert(&self, addr: usize, e: Entry) {
        for i in Live::probe(addr) {
            let k = self.addr[i].load(Ordering::Acquire);
            if (k == EMPTY || k == GONE)
                && self.addr[i]
                    .compare_exchange(k, addr, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                self.entry[i].store(e.0, Ordering::Release);
                ALLOCS.fetch_add(e.allocs(), Ordering::Relaxed);
                BYTES.fetch_add(e.bytes(), Ordering::Relaxed);
                return;
            }
        }
        OVERFLOW.store(true, Ordering::Relaxed);
    }

    fn remove(&self, addr: usize) -> Option<Entry> {
        for i in Live::probe(addr) {
            match self.addr[i].load(Ordering::Acquire) {
                EMPTY => return None,
                k if k == addr => {
                    let e = Entry(self.entry[i].load(Ordering::Acquire));
                    self.addr[i].store(GONE, Ordering::Release);
                    ALLOCS.fetch_sub(e.allocs(), Ordering::Relaxed);
                    BYTES.fetch_sub(e.bytes(), Ordering::Relaxed);
                    return Some(e);
                }
                _ => {}
            }
        }
        None
    }
}

/// What [`measure`] saw: blocks the counted goroutines allocated that were
/// not freed, and their bytes.
#[derive(Debug, Clone, Copy)]
pub struct InUse {
    pub allocs: isize,
    pub bytes: isize,
}

/// Runs `f` and reports what the code under test left allocated: the
/// blocks this goroutine (and each goroutine inside [`counted`]) allocated
/// while `f` ran that nobody, on any thread, freed before it returned. What
/// else runs meanwhile (sysmon returning idle stacks to the OS, the test
/// harness, another test's leftover goroutine) does not count, however the
/// load on the machine times it. Only on a goroutine, under [`run_alone`].
pub fn measure(f: impl FnOnce()) -> InUse {
    LIVE.clear();
    ALLOCS.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    OVERFLOW.store(false, Ordering::SeqCst);
    let tag = Tag::claim();
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    drop(tag);
    assert!(
        !OVERFLOW.load(Ordering::SeqCst),
        "common::measure: more live blocks than its table holds ({SLOTS})"
    );
    InUse {
        allocs: ALLOCS.load(Ordering::SeqCst),
        bytes: BYTES.load(Ordering::SeqCst),
    }
}

/// Runs `f` with this goroutine's allocations counted by the [`measure`]
/// in progress: for a goroutine that the measured code spawns.
pub fn counted<R>(f: impl FnOnce() -> R) -> R {
    let _tag = Tag::claim();
    f()
}

/// This goroutine's place in [`COUNTED`], given back on drop.
struct Tag(usize);

impl Tag {
    fn claim() -> Tag {
        let id = weft::current_id()
            .expect("common::measure counts goroutines: call it on one")
            .as_u64();
        let slot = COUNTED.iter().position(|g| {
            g.compare_exchange(0, id, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
        Tag(slot.expect("common::measure: more than 16 counted goroutines"))
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        COUNTED[self.0].store(0, Ordering::SeqCst);
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

/// The harness's own checks: what [`measure`] counts.
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    /// Another thread's allocation made inside the window and freed after
    /// it (as sysmon's stack scavenger does: it drains the pool's unused
    /// stacks into a vector, `madvise`s them and frees the vector, every
    /// 20 ms) is not the code under test's.
    #[test]
    fn measure_ignores_other_threads() {
        let grew = run_alone(|| {
            let allocated = Arc::new(Barrier::new(2));
            let free = Arc::new(Barrier::new(2));
            let stray = std::thread::spawn({
                let (allocated, free) = (allocated.clone(), free.clone());
                move || {
                    allocated.wait();
                    let v = std::hint::black_box(vec![0u8; 151_264]);
                    allocated.wait();
                    free.wait();
                    drop(v);
                }
            });
            let grew = measure(|| {
                allocated.wait();
                allocated.wait();
            });
            free.wait();
            stray.join().unwrap();
            grew
        });
        assert!(
            grew.allocs == 0 && grew.bytes == 0,
            "another thread's allocation counted: {grew:?}"
        );
    }

    /// What the measured goroutine and a counted goroutine it spawns leave
    /// allocated counts; what they allocate and another thread frees does
    /// not.
    #[test]
    fn measure_counts_the_code_under_test() {
        let grew = run_alone(|| {
            measure(|| {
                std::mem::forget(std::hint::black_box(vec![0u8; 10_000]));
                weft::go!(|| counted(|| std::mem::forget(std::hint::black_box(vec![0u8; 20_000]))))
                    .join()
                    .unwrap();
                let freed_elsewhere = std::hint::black_box(vec![0u8; 40_000]);
                std::thread::spawn(move || drop(freed_elsewhere))
                    .join()
                    .unwrap();
            })
        });
        eprintln!("{grew:?}");
        assert!(
            grew.allocs >= 2 && (30_000..40_000).contains(&grew.bytes),
            "expected the two forgotten blocks (30,000 bytes) and not the freed one: {grew:?}"
        );
    }
}
