//! The G/M/P scheduler: global state, and the doors into it.
//!
//! Owns: the one `Runtime` (P table, global run queue, idle lists, stack
//! pool, settings), started lazily on first use; the thread-local pointer to
//! the current M; and the three ways a G enters a run queue:
//! [`start_g`] (a new goroutine, by spawn policy), [`ready`] (an unparked
//! goroutine, to the waker's `runnext` as Go does) and the M loop's own
//! requeues (`worker.rs`).
//!
//! Submodules: `p` (processors), `idle` (sleeping, waking, spinning),
//! `worker` (the M loop and work finding).
//!
//! Must never: let runtime code keep a reference to the current M across a
//! stack switch — always call [`current_m`] again after a park, yield or spawn.

pub(crate) mod idle;
pub(crate) mod p;
pub(crate) mod pcell;
pub(crate) mod sysmon;
pub(crate) mod worker;

use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crossbeam_deque::Injector;

use crate::config::{self, Settings, SpawnPolicy, MAX_PROCS};
use crate::coro::{self, CoroCell, Switch};
use crate::g::{GRef, GStatus, GoId, G};
use crate::stack::StackPool;

use self::idle::{Idle, MHandle};
use self::p::{PCounters, POwned, P};
use self::pcell::PCell;

/// The scheduler's global state.
pub(crate) struct Runtime {
    pub settings: Settings,
    /// Gs made runnable off-runtime, spilled, or from retired Ps.
    pub global: Injector<GRef>,
    /// Ps ever created (grow-only): stealing scans `0..allocated`.
    allocated: AtomicUsize,
    /// Current `maxprocs`.
    pub nprocs: AtomicUsize,
    pub idle: Idle,
    pub stacks: StackPool,
    pub next_goid: AtomicU64,
    /// Goroutines spawned from threads that hold no P.
    pub spawned_outside: AtomicU64,
    /// Goroutines that finished on an M whose P had been retaken.
    pub exited_outside: AtomicU64,
    /// Goroutines unparked by threads that hold no P.
    pub unparks_outside: AtomicU64,
    /// Every M ever started, for sysmon and the dumps.
    pub all_ms: Mutex<Vec<&'static MShared>>,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The P table: slots for every P there can ever be, filled as `maxprocs`
/// grows. Static so a P can be borrowed for `'static` before the `Runtime`
/// itself is in place.
static PS: [OnceLock<P>; MAX_PROCS] = [const { OnceLock::new() }; MAX_PROCS];

/// The runtime, started on first use. A malformed environment variable is
/// reported here, at the caller's location, with the variable's name.
#[track_caller]
pub(crate) fn runtime() -> &'static Runtime {
    if let Some(rt) = RUNTIME.get() {
        return rt;
    }
    start()
}

#[cold]
#[track_caller]
fn start() -> &'static Runtime {
    let settings = match config::settings() {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut first = false;
    let rt = RUNTIME.get_or_init(|| {
        first = true;
        Runtime::new(settings)
    });
    if first {
        crate::spawn::install_panic_hook();
        // netpoll: raise RLIMIT_NOFILE soft -> hard, as Go does at start.
        crate::netpoll::raise_fd_limit();
        sysmon::start(rt);
        crate::dump::start_schedtrace(rt);
        crate::dump::install_sigquit();
    }
    rt
}

/// Whether the runtime has started.
pub(crate) fn started() -> bool {
    RUNTIME.get().is_some()
}

impl Runtime {
    fn new(settings: Settings) -> Runtime {
        let stacks = StackPool::new(settings.stack_size);
        let mut rt = Runtime {
            global: Injector::new(),
            allocated: AtomicUsize::new(0),
            nprocs: AtomicUsize::new(settings.maxprocs),
            idle: Idle::new(Vec::new()),
            stacks,
            next_goid: AtomicU64::new(1),
            spawned_outside: AtomicU64::new(0),
            unparks_outside: AtomicU64::new(0),
            exited_outside: AtomicU64::new(0),
            all_ms: Mutex::new(Vec::new()),
            settings,
        };
        let owned: Vec<POwned> = (0..rt.settings.maxprocs)
            .rev()
            .map(|id| rt.alloc_p(id))
            .collect();
        rt.idle = Idle::new(owned);
        rt
    }

    /// Creates P number `id` (ids are dense: `id == allocated`).
    fn alloc_p(&self, id: usize) -> POwned {
        let (p, local) = POwned::new_parts(id);
        let _ = PS[id].set(p);
        self.allocated.fetch_max(id + 1, Ordering::SeqCst);
        POwned::from_parts(PS[id].get().expect("P just set"), local)
    }

    /// Every P ever created, active or retired.
    pub fn all_ps(&self) -> impl Iterator<Item = &P> {
        let n = self.allocated.load(Ordering::Acquire);
        PS[..n].iter().filter_map(|p| p.get())
    }

    pub fn p(&self, id: usize) -> Option<&P> {
        PS.get(id).and_then(|p| p.get())
    }

    pub fn maxprocs(&self) -> usize {
        self.nprocs.load(Ordering::SeqCst)
    }
}

/// Per-M state reachable from the M's own thread.
pub(crate) struct MLocal {
    pub handle: Arc<MHandle>,
    /// The part sysmon and the dumps can see.
    pub shared: &'static MShared,
    /// The goroutine running on this M.
    pub curg: RefCell<Option<GRef>>,
    /// Whether this M is counted in `nmspinning`.
    pub spinning: Cell<bool>,
    /// Whether the current goroutine is inside `blocking()`.
    pub in_blocking: Cell<bool>,
}

/// Per-M state other threads can see.
pub(crate) struct MShared {
    pub id: usize,
    /// The P this M holds, if any; sysmon may retake it.
    pub p: PCell,
    /// Bumped on entry to and exit from `blocking()`: odd while the
    /// goroutine is inside. sysmon retakes the P when it sees the same odd
    /// value on two passes (at least 20 µs apart) — no clock read per call.
    pub blocking_seq: AtomicU64,
    /// Bumped every time the M resumes a goroutine and every time one
    /// switches back: odd while a goroutine runs. sysmon notices a goroutine
    /// running too long when this stays odd and unchanged (Go's `schedtick`
    /// check) — no clock read on the switch path.
    pub run_seq: AtomicU64,
    /// The M's thread has exited (idle too long).
    pub exited: std::sync::atomic::AtomicBool,
}

static COARSE: AtomicU64 = AtomicU64::new(0);

/// [`nanotime`] as of sysmon's last pass (at most 10 ms old while anything
/// runs): for wait ages, where a clock read per park would cost too much.
pub(crate) fn coarse_now() -> u64 {
    COARSE.load(Ordering::Relaxed)
}

/// Refreshes [`coarse_now`]; sysmon calls this every pass.
pub(crate) fn tick_coarse_clock() {
    COARSE.store(nanotime(), Ordering::Relaxed);
}

impl Runtime {
    /// Goroutines inside `blocking()` right now (a scan over the Ms).
    pub fn blocking_calls(&self) -> usize {
        let ms = self.all_ms.lock().unwrap_or_else(|e| e.into_inner());
        ms.iter()
            .filter(|m| m.blocking_seq.load(Ordering::SeqCst) % 2 == 1)
            .count()
    }
}

/// Nanoseconds on the runtime's monotonic clock (for sysmon's ages).
pub(crate) fn nanotime() -> u64 {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    let e = *EPOCH.get_or_init(std::time::Instant::now);
    // +1 so that 0 can mean "not set".
    e.elapsed().as_nanos() as u64 + 1
}

thread_local! {
    static CURRENT_M: Cell<Option<&'static MLocal>> = const { Cell::new(None) };
}

/// The M this thread is, if it is one.
///
/// `#[inline(never)]` so the thread-local's address is computed afresh on
/// every call: a goroutine may resume on another thread between two calls,
/// and the compiler may otherwise reuse the first thread's address.
#[inline(never)]
pub(crate) fn current_m() -> Option<&'static MLocal> {
    CURRENT_M.with(|c| c.get())
}

pub(crate) fn set_current_m(m: &'static MLocal) {
    CURRENT_M.with(|c| c.set(Some(m)));
}

/// The goroutine running on this thread, if any. Inside `blocking()` there
/// is none: the goroutine behaves as a plain thread there (a park blocks the
/// thread, a spawn queues the child).
pub(crate) fn current_g() -> Option<GRef> {
    current_m()
        .filter(|m| !m.in_blocking.get())
        .and_then(|m| m.curg.borrow().clone())
}

/// Whether a goroutine is running on this thread (as [`current_g`], without
/// taking a reference to it).
fn on_goroutine() -> bool {
    current_m().is_some_and(|m| !m.in_blocking.get() && m.curg.borrow().is_some())
}

/// Runs `f` with the current M's P, if this thread is an M holding one.
pub(crate) fn with_p<R>(f: impl FnOnce(&mut POwned) -> R) -> Option<R> {
    let m = current_m()?;
    let mut p = m.shared.p.lock();
    p.as_mut().map(f)
}

/// Creates a goroutine that will run `body`. Does not queue it.
pub(crate) fn new_g(
    rt: &'static Runtime,
    name: Option<Box<str>>,
    site: &'static Location<'static>,
    stack_size: Option<usize>,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<GRef> {
    let size = stack_size.filter(|&s| s != rt.stacks.default_size());
    // A child that runs at once (continuation stealing inside a goroutine)
    // takes its stack now; one that will wait in a queue takes it when it
    // first runs (`bind_stack`), where the kernel lets a failed carve be
    // only an out-of-memory (guard pages by madvise: no map-count budget).
    let eager = !crate::stack::can_defer()
        || (rt.settings.spawn_policy == SpawnPolicy::ContinuationStealing && on_goroutine());
    let made = with_p(|p| {
        let stack = if eager {
            Some(rt.stacks.alloc(size, Some(&mut p.stacks))?)
        } else {
            None
        };
        PCounters::bump(&p.p.counters.spawned, 1);
        Ok::<_, std::io::Error>((stack, p.next_goid(&rt.next_goid)))
    });
    let (stack, id) = match made {
        Some(r) => r?,
        None => {
            let stack = if eager {
                Some(rt.stacks.alloc(size, None)?)
            } else {
                None
            };
            rt.spawned_outside.fetch_add(1, Ordering::Relaxed);
            (stack, rt.next_goid.fetch_add(1, Ordering::Relaxed))
        }
    };
    let coro = match stack {
        Some(stack) => CoroCell::new(stack, body),
        None => CoroCell::unbound(body),
    };
    let g = Arc::new(G::new(GoId(id), name, site, size, coro));
    crate::dump::register(&g);
    Ok(g)
}

/// Queues a new goroutine according to the spawn policy.
pub(crate) fn start_g(rt: &'static Runtime, g: GRef) {
    if let Some(parent) = current_g() {
        match rt.settings.spawn_policy {
            SpawnPolicy::ContinuationStealing => {
                // Work-first: the M queues us and runs the child now.
                coro::suspend(&parent, Switch::Spawn(g));
                return;
            }
            SpawnPolicy::ChildStealing => {
                // Without a P (retaken by sysmon), `submit` uses the global queue.
            }
        }
    }
    submit(rt, g);
}

/// Makes a parked goroutine runnable (Go's `goready`): to the current P's
/// `runnext` when called on an M with a P, else to the global queue.
pub(crate) fn ready(g: GRef) {
    let rt = runtime();
    g.set_status(GStatus::Runnable);
    submit(rt, g);
}

fn submit(rt: &'static Runtime, g: GRef) {
    let m = current_m();
    let rest = match m {
        Some(m) => match m.shared.p.lock().as_mut() {
            Some(p) => {
                p.push_runnext(g);
                None
            }
            None => Some(g),
        },
        None => Some(g),
    };
    if let Some(g) = rest {
        rt.global.push(g);
    }
    idle::wakep(rt);
}

/// Changes the number of Ps (Go's `GOMAXPROCS(n)`); returns the old number.
pub(crate) fn set_maxprocs(rt: &'static Runtime, n: usize) -> usize {
    let mut st = rt.idle.state();
    let old = rt.nprocs.load(Ordering::SeqCst);
    if n > old {
        for id in old..n {
            if let Some(i) = st.retired.iter().position(|p| p.p.id == id) {
                let p = st.retired.swap_remove(i);
                rt.idle.put_p(&mut st, p);
            } else if rt.p(id).is_none() {
                let p = rt.alloc_p(id);
                rt.idle.put_p(&mut st, p);
            }
            // Else the P is still held by an M that has not yet noticed it was
            // retired; it will see `id < nprocs` and carry on.
        }
        rt.nprocs.store(n, Ordering::SeqCst);
    } else if n < old {
        rt.nprocs.store(n, Ordering::SeqCst);
        let mut i = 0;
        while i < st.ps.len() {
            if st.ps[i].p.id >= n {
                let mut p = st.ps.swap_remove(i);
                p.drain_into(&rt.global);
                st.retired.push(p);
            } else {
                i += 1;
            }
        }
        rt.idle.npidle.store(st.ps.len(), Ordering::SeqCst);
        // Ps above `n` held by Ms retire at their M's next scheduling point.
    }
    drop(st);
    if n > old {
        for _ in old..n {
            idle::wakep(rt);
        }
    }
    old
}

/// Number of live goroutines (spawned and not finished).
pub(crate) fn num_goroutine(rt: &Runtime) -> usize {
    let mut spawned = rt.spawned_outside.load(Ordering::Relaxed);
    let mut exited = rt.exited_outside.load(Ordering::Relaxed);
    for p in rt.all_ps() {
        spawned += p.counters.spawned.load(Ordering::Relaxed);
        exited += p.counters.exited.load(Ordering::Relaxed);
    }
    spawned.saturating_sub(exited) as usize
}
