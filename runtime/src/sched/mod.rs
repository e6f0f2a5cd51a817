//! The G/M/P scheduler: global state, and the doors into it.
//!
//! Owns: the one `Runtime` (P table, global run queue, idle lists, stack
//! pool, G-record free list, settings), started lazily on first use, and
//! the ways a G enters a run queue: [`start_g`] (a new goroutine, by spawn
//! policy), [`ready`] (an unparked goroutine, to the waker's `runnext` as
//! Go does) and the M loop's own requeues (`worker.rs`); and the ways a G
//! record is born and recycled ([`new_g`], [`free_g`]).
//!
//! Submodules: `p` (processors), `m` (threads), `idle` (sleeping, waking,
//! spinning), `worker` (the M loop and work finding), `sysmon`, `allgs`
//! (the registry of G records), `pcell` (the slot an M holds its P in),
//! `locked` (goroutines wired to one M: `lock_os_thread`).
//!
//! Must never: let runtime code keep a reference to the current M across a
//! stack switch — always call [`current_m`] again after a park, yield or
//! spawn; hold a P slot's spin lock across anything that can block or
//! take another lock (stack carving, the registry, the global free list).

pub(crate) mod allgs;
pub(crate) mod idle;
pub(crate) mod locked;
mod longrun;
pub(crate) mod m;
pub(crate) mod p;
pub(crate) mod pcell;
pub(crate) mod sysmon;
pub(crate) mod worker;

use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use crossbeam_deque::Injector;

use crate::config::{self, DebugSettings, Settings, SpawnPolicy, MAX_PROCS};
use crate::g::{self, GPtr, GStatus, GoId, Switch, G};
use crate::loom::sync::StdMutex;
use crate::stack::{GoStack, StackPool};

use self::idle::Idle;
pub(crate) use self::m::{current_m, MCounters, MShared};
use self::p::{bump, POwned, GFREE_LOCAL, P};

/// The scheduler's global state.
pub(crate) struct Runtime {
    pub settings: Settings,
    /// Gs made runnable off-runtime, spilled, or from retired Ps.
    pub global: Injector<GPtr>,
    /// Ps ever created (grow-only): stealing scans `0..allocated`.
    allocated: AtomicUsize,
    /// Current `maxprocs`.
    pub nprocs: AtomicUsize,
    pub idle: Idle,
    pub stacks: StackPool,
    pub next_goid: AtomicU64,
    /// Counts of threads that are not Ms, and of Ms that have exited.
    pub outside: MCounters,
    /// Every M alive, for sysmon, stats and the dumps.
    pub all_ms: StdMutex<Vec<&'static MShared>>,
    /// Recycled G records beyond what the Ps keep.
    gfree: StdMutex<Vec<GPtr>>,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The P table: slots for every P there can ever be, filled as `maxprocs`
/// grows. Static so a P can be borrowed for `'static` before the `Runtime`
/// itself is in place.
static PS: [OnceLock<P>; MAX_PROCS] = [const { OnceLock::new() }; MAX_PROCS];

/// Threads the runtime runs besides its Ms (sysmon, SIGQUIT reader,
/// schedtrace printer), counted by [`spawn_aux`]; the deadlock detector
/// needs them to account for every thread of the process.
pub(crate) static AUX_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Starts one of the runtime's helper threads, counted in [`AUX_THREADS`]
/// *before* it exists. (Each used to count itself in when it first ran: on
/// a loaded machine the deadlock check could see the thread in /proc but
/// not in the count, until sysmon had given up and slept for good; a
/// deadlocked program then hung instead of reporting, 8 runs in 26,460.)
pub(crate) fn spawn_aux(
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    AUX_THREADS.fetch_add(1, Ordering::SeqCst);
    let res = std::thread::Builder::new().name(name.into()).spawn(f);
    if res.is_err() {
        AUX_THREADS.fetch_sub(1, Ordering::SeqCst);
    }
    res
}

/// Recycled G records kept in the global free list at most; more are freed.
const GFREE_GLOBAL: usize = 4096;

/// The runtime, started on first use. A malformed environment variable is
/// reported here, at the caller's location, with the variable's name.
#[track_caller]
#[inline]
pub(crate) fn runtime() -> &'static Runtime {
    if let Some(rt) = RUNTIME.get() {
        return rt;
    }
    start()
}

/// Starts the runtime, once. If the system refuses the sysmon thread,
/// nothing has started: the caller panics with the error (at its own
/// location, like a malformed environment variable), and the next use of
/// the runtime tries again.
#[cold]
#[track_caller]
fn start() -> &'static Runtime {
    static STARTING: StdMutex<()> = StdMutex::new(());
    let settings = match config::settings() {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    // Before any thread of ours exists (see `pcell::init`).
    pcell::init(settings.debug.membarrier);
    let starting = STARTING.lock();
    if let Some(rt) = RUNTIME.get() {
        return rt;
    }
    // The one thread the runtime cannot run without, first; it waits for
    // the runtime below.
    if let Err(e) = sysmon::spawn() {
        drop(starting);
        panic!("weft: cannot start the runtime: {e}");
    }
    let rt = RUNTIME.get_or_init(|| Runtime::new(settings));
    config::mark_started();
    crate::trace::boot(rt.settings.trace.as_deref()); // trace: WEFT_TRACE starts here
    let _ = crate::stack::DESCRIBE.set(|f| {
        if let Some(g) = g::current() {
            f(g.id().as_u64(), g.name());
        }
    });
    // netpoll: raise RLIMIT_NOFILE soft -> hard, as Go does at start.
    crate::netpoll::raise_fd_limit();
    sysmon::start(rt);
    rt
}

/// Whether the runtime has started.
pub(crate) fn started() -> bool {
    RUNTIME.get().is_some()
}

/// The debug settings (`WEFT_DEBUG`), defaults if the runtime has not started.
pub(crate) fn debug() -> &'static DebugSettings {
    static DEFAULT: DebugSettings = DebugSettings::DEFAULT;
    RUNTIME.get().map_or(&DEFAULT, |rt| &rt.settings.debug)
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
            outside: MCounters::default(),
            all_ms: StdMutex::new(Vec::new()),
            gfree: StdMutex::new(Vec::new()),
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
    pub fn all_ps(&self) -> impl Iterator<Item = &'static P> {
        let n = self.allocated.load(Ordering::Acquire);
        PS[..n].iter().filter_map(|p| p.get())
    }

    pub fn p(&self, id: usize) -> Option<&'static P> {
        PS.get(id).and_then(|p| p.get())
    }

    pub fn maxprocs(&self) -> usize {
        self.nprocs.load(Ordering::SeqCst)
    }

    /// Goroutines inside `blocking()` right now (a scan over the Ms).
    pub fn blocking_calls(&self) -> usize {
        let ms = self.all_ms.lock();
        ms.iter()
            .filter(|m| m.blocking_seq.load(Ordering::SeqCst) % 2 == 1)
            .count()
    }

    /// Whether some M is running goroutine code (with or without a P: sysmon
    /// retakes the P of one that runs long), not counting goroutines inside
    /// `blocking()` ([`Runtime::blocking_calls`]).
    pub fn goroutine_running(&self) -> bool {
        let ms = self.all_ms.lock();
        ms.iter().any(|m| {
            m.run_seq.load(Ordering::SeqCst) % 2 == 1
                && m.blocking_seq.load(Ordering::SeqCst) % 2 == 0
        })
    }

    /// Sums a counter over the Ms alive and everyone else.
    pub fn count(&self, pick: impl Fn(&MCounters) -> &AtomicU64) -> u64 {
        let ms = self.all_ms.lock();
        ms.iter()
            .map(|m| pick(&m.counters).load(Ordering::Relaxed))
            .sum::<u64>()
            + pick(&self.outside).load(Ordering::Relaxed)
    }
}

/// Bumps a counter of the current M, or the runtime's shared one when this
/// thread is not an M.
#[inline]
fn count(pick: impl Fn(&MCounters) -> &AtomicU64) {
    match current_m() {
        Some(m) => bump(pick(&m.shared.counters), 1),
        None => {
            if let Some(rt) = RUNTIME.get() {
                pick(&rt.outside).fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Whether a lock waiter may spin a little before parking (Go's
/// `sync_runtime_canSpin`): while another P is running (it may be the
/// holder) and our own P has nothing else queued. A plain thread may always
/// spin (it costs nobody a P); an M outside a P may not.
pub(crate) fn can_spin() -> bool {
    let Some(m) = current_m() else { return true };
    let queue_empty = match m.shared.p.lock().as_ref() {
        Some(p) => p.is_idle(),
        None => return false,
    };
    let rt = runtime();
    let idle = rt.idle.idle_ps() + rt.idle.spinning();
    queue_empty && rt.maxprocs() > idle + 1
}

/// The number of the P this thread runs on, if it is an M holding one.
pub(crate) fn current_p_id() -> Option<usize> {
    let m = current_m()?;
    let id = m.shared.p.lock().as_ref().map(|p| p.p.id);
    id
}

/// Counts an unpark of a goroutine.
#[inline]
pub(crate) fn count_unpark() {
    count(|c| &c.unparks);
}

/// Whether this thread is an M.
pub(crate) fn on_m() -> bool {
    current_m().is_some()
}

/// Whether this thread is an M running scheduler code outside any
/// goroutine (a park there would be a runtime bug).
pub(crate) fn on_m_outside_goroutine() -> bool {
    current_m().is_some_and(|m| !m.in_blocking.get())
}

/// A plain thread is about to sleep in `park`: perhaps it was the last
/// thing that could run, so let sysmon look.
pub(crate) fn on_thread_parked() {
    if let Some(rt) = RUNTIME.get() {
        sysmon::wake(rt);
    }
}

/// What a spawn does when no stack can be had for its goroutine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoStack {
    /// The spawn fails with the error (`Builder::spawn`; `spawn` and `go!`
    /// panic with it).
    Fail,
    /// The goroutine is queued without a stack all the same: if it still
    /// finds none when it first runs, it finishes as if it had panicked
    /// (`worker::refuse_start`). For a spawn made on a caller's behalf with
    /// nobody to fail to (`spawn_at`: `time::after_func`,
    /// `context::after_func`, whose callers are long gone or a cancel that
    /// must finish its walk).
    Defer,
}

/// A goroutine record and its stack for a new goroutine, from this P's
/// caches when it has them. Runs `body` there once the goroutine is queued
/// with [`start_g`]. A refused spawn has changed nothing: the record it
/// took goes back.
pub(crate) fn new_g(
    rt: &'static Runtime,
    name: Option<Box<str>>,
    site: &'static Location<'static>,
    stack_size: Option<usize>,
    no_stack: NoStack,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<GPtr> {
    let size = stack_size.filter(|&s| s != rt.stacks.default_size());
    let plain = name.is_none() && size.is_none();
    // A child that runs at once (continuation stealing inside a goroutine)
    // takes its stack now; one that will wait in a queue takes it when it
    // first runs (`worker::bind_stack`), so that a queued goroutine costs
    // no address space. Deferred only for the default size (the one
    // `admit_unbound` knows, and the one P caches hold), and only where a
    // carve cannot fail later for a reason of its own (guard pages by
    // madvise: no map-count budget).
    let eager = size.is_some()
        || !crate::stack::can_defer()
        || (rt.settings.spawn_policy == SpawnPolicy::ContinuationStealing
            && g::current().is_some());
    // Under a finite RLIMIT_AS an unbound spawn is admitted if a stack
    // could be had now; without one, nothing is asked.
    let admit = !eager && rt.stacks.limited();

    // The fast path, under this P's slot lock: pops from its caches only.
    let mut rec: Option<GPtr> = None;
    let mut stack: Option<GoStack> = None;
    let mut cached = false;
    let mut id = None;
    if let Some(m) = current_m() {
        if let Some(p) = m.shared.p.lock().as_mut() {
            if plain {
                rec = p.gfree.pop();
            }
            if eager {
                if size.is_none() {
                    stack = p.stacks.pop();
                }
            } else if admit {
                cached = p.stacks.has_free();
            }
            id = Some(p.next_goid(&rt.next_goid));
        }
    }
    // The slow paths, with no spin lock held.
    if eager {
        if stack.is_none() {
            match alloc_stack_or_reclaim(rt, size) {
                Ok(s) => stack = Some(s),
                Err(e) => no_stack_for(rec, e, no_stack)?,
            }
        }
    } else if admit && !cached {
        if let Err(e) = admit_unbound(rt) {
            no_stack_for(rec, e, no_stack)?;
        }
    }
    let id = id.unwrap_or_else(|| rt.next_goid.fetch_add(1, Ordering::Relaxed));
    let g = match rec.or_else(|| plain.then(|| pop_global_gfree(rt)).flatten()) {
        Some(g) => g,
        None => {
            let g = G::alloc(name, size);
            allgs::register(g);
            g
        }
    };
    count(|c| &c.spawned);
    g.begin(GoId(id), site);
    // SAFETY: we own `g` exclusively (fresh or from a free list, not queued
    // anywhere), its cell is empty, and records never move.
    unsafe {
        match stack {
            Some(stack) => g.coro.start(stack, body),
            None => g.coro.start_unbound(body),
        }
    }
    Ok(g)
}

/// A spawn found no stack (`e`): with [`NoStack::Fail`] it fails, giving
/// back the record it took from a free list; with [`NoStack::Defer`] it
/// goes on without one.
#[cold]
fn no_stack_for(rec: Option<GPtr>, e: std::io::Error, no_stack: NoStack) -> std::io::Result<()> {
    match no_stack {
        NoStack::Defer => Ok(()),
        NoStack::Fail => {
            if let Some(g) = rec {
                // SAFETY: `g` came from a free list: dead, referred to by
                // nobody, and not handed out (this spawn failed first).
                unsafe { free_g(g) };
            }
            Err(e)
        }
    }
}

/// A stack of `size` bytes (`None`: the default), refilling this P's cache
/// from the global pool on the way. Never holds the P slot's lock while
/// the pool may carve (a system call).
pub(crate) fn alloc_stack(rt: &Runtime, size: Option<usize>) -> std::io::Result<GoStack> {
    if size.is_some() {
        return rt.stacks.alloc(size, None);
    }
    let mut batch = rt.stacks.take_batch();
    let stack = match batch.pop() {
        Some(s) => s,
        None => rt.stacks.alloc(None, None)?,
    };
    refill_cache(rt, batch);
    Ok(stack)
}

/// [`alloc_stack`]; if the pool cannot map one, once more after every P's
/// cached stacks went back to the pool ([`reclaim_stacks`]). A refusal of
/// a default-size stack repeats at once while nothing could have changed
/// it ([`Refusal`]); other sizes are asked of the pool every time.
pub(crate) fn alloc_stack_or_reclaim(
    rt: &Runtime,
    size: Option<usize>,
) -> std::io::Result<GoStack> {
    if size.is_none() {
        if let Some(e) = refused_lately(rt) {
            return Err(e);
        }
    }
    alloc_stack(rt, size).or_else(|e| alloc_after_reclaim(rt, size, e))
}

#[cold]
fn alloc_after_reclaim(
    rt: &Runtime,
    size: Option<usize>,
    e: std::io::Error,
) -> std::io::Result<GoStack> {
    if size.is_some() {
        return Err(e); // other sizes are not cached per P
    }
    let exits = stacks_freed(rt);
    reclaim_stacks(rt);
    alloc_stack(rt, None).map_err(|e| remember_refusal(exits, e))
}

/// Under a finite RLIMIT_AS, whether an unbound spawn whose P has no
/// cached stack could have a stack now: if the pool has a spare one, or the
/// limit leaves room to map one (`StackPool::admit`), or a P's cache holds
/// one ([`reclaim_stacks`]). Nothing is taken or mapped: the
/// goroutine takes its stack when it first runs.
fn admit_unbound(rt: &Runtime) -> std::io::Result<()> {
    if rt.stacks.has_spare() {
        return Ok(());
    }
    if let Some(e) = refused_lately(rt) {
        return Err(e);
    }
    let exits = stacks_freed(rt);
    rt.stacks
        .admit()
        .or_else(|_| {
            reclaim_stacks(rt);
            rt.stacks.admit()
        })
        .map_err(|e| remember_refusal(exits, e))
}

/// The last time no default-size stack could be had anywhere (every P's
/// cache reclaimed, no slab mappable): the spawns and first runs that
/// follow fail at once with its error, without reclaiming or mapping
/// again, for as long as it stands: [`REFUSAL_FRESH_NS`] at most, and only while no goroutine has
/// finished (which frees a stack) and the address-space limit is what it
/// was (a program may raise it with `setrlimit` at any time).
struct Refusal {
    at: u64,
    /// Goroutines finished before the attempt that failed.
    exits: u64,
    limit: Option<usize>,
    kind: std::io::ErrorKind,
    msg: String,
}

/// How long a [`Refusal`] stands at most: the heap may shrink, and its
/// address space go to stacks, without any goroutine finishing.
const REFUSAL_FRESH_NS: u64 = 10_000_000;

static REFUSAL: StdMutex<Option<Refusal>> = StdMutex::new(None);

/// Whether [`REFUSAL`] holds one (read without its lock on the paths that
/// look for a stack).
static REFUSED: AtomicBool = AtomicBool::new(false);

/// The error of a [`Refusal`] that still stands.
#[inline]
fn refused_lately(rt: &Runtime) -> Option<std::io::Error> {
    // Relaxed: a hint; the record itself is read under its lock.
    if !REFUSED.load(Ordering::Relaxed) {
        return None;
    }
    refusal_standing(rt)
}

#[cold]
fn refusal_standing(rt: &Runtime) -> Option<std::io::Error> {
    let mut r = REFUSAL.lock();
    let standing = r.as_ref().is_some_and(|r| {
        crate::clock::nanotime().saturating_sub(r.at) < REFUSAL_FRESH_NS
            && stacks_freed(rt) == r.exits
            && crate::stack::as_limit() == r.limit
    });
    if !standing {
        *r = None;
        REFUSED.store(false, Ordering::Relaxed);
        return None;
    }
    r.as_ref()
        .map(|r| std::io::Error::new(r.kind, r.msg.clone()))
}

/// Goroutines that never started because no stack could be had
/// (`worker::refuse_start`): counted as finished, they freed no stack.
pub(crate) static REFUSED_STARTS: AtomicU64 = AtomicU64::new(0);

/// How many goroutines have finished and freed their stack: what a
/// [`Refusal`] watches. A refused start is counted in [`REFUSED_STARTS`]
/// before it is counted as finished, and read after, so this does not
/// count it (a miscount only makes a refusal stand one attempt more or
/// less).
fn stacks_freed(rt: &Runtime) -> u64 {
    let exited = rt.count(|c| &c.exited);
    exited.saturating_sub(REFUSED_STARTS.load(Ordering::Relaxed))
}

/// Records `e` as a [`Refusal`] (the attempt began after `exits`
/// goroutines had finished) and returns it.
#[cold]
fn remember_refusal(exits: u64, e: std::io::Error) -> std::io::Error {
    *REFUSAL.lock() = Some(Refusal {
        at: crate::clock::nanotime(),
        exits,
        limit: crate::stack::as_limit(),
        kind: e.kind(),
        msg: e.to_string(),
    });
    REFUSED.store(true, Ordering::Relaxed);
    e
}

/// Moves every P's cached stacks back to the pool: a stack is about to be
/// refused for lack of address space, and free ones may sit in other Ps'
/// caches (a goroutine's stack goes to the cache of the P it finished on).
/// Rare, and slow: it takes each M's P slot from outside, and waits (a
/// little) for a P in flight between two Ms, handed to one that has not
/// woken yet, to land where it can be seen.
#[cold]
fn reclaim_stacks(rt: &Runtime) {
    let mut stacks = Vec::new();
    let mut seen = [false; MAX_PROCS];
    let mut take = |p: &mut POwned, seen: &mut [bool; MAX_PROCS]| {
        stacks.extend(p.stacks.take_all());
        seen[p.p.id] = true;
    };
    let me = current_m().map(|m| m.shared);
    for _ in 0..RECLAIM_ROUNDS {
        let ms: Vec<&'static MShared> = rt.all_ms.lock().clone();
        for m in ms {
            let mut slot = match me {
                Some(me) if std::ptr::eq(me, m) => m.p.lock(),
                _ => m.p.lock_remote(),
            };
            if let Some(p) = slot.as_mut() {
                take(p, &mut seen);
            }
        }
        rt.idle.state().each_p(|p| take(p, &mut seen));
        if rt.all_ps().all(|p| seen[p.id]) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
    rt.stacks.give_back(stacks);
}

/// How many times [`reclaim_stacks`] looks for a P it has not seen (at
/// most about 100 ms in all).
const RECLAIM_ROUNDS: usize = 1000;

/// Puts a batch of free stacks in this P's cache (or back in the pool).
fn refill_cache(rt: &Runtime, batch: Vec<GoStack>) {
    if batch.is_empty() {
        return;
    }
    let mut rest = Some(batch);
    if let Some(m) = current_m() {
        if let Some(p) = m.shared.p.lock().as_mut() {
            p.stacks.extend(rest.take().unwrap_or_default());
        }
    }
    if let Some(rest) = rest {
        rt.stacks.give_back(rest);
    }
}

thread_local! {
    /// The message of a goroutine that could not start
    /// (`worker::refuse_start`), for its body to panic with
    /// ([`take_start_refusal`]): the body runs on the M's own stack, right
    /// after this is set on the same thread.
    static START_REFUSAL: std::cell::Cell<Option<String>> = const { std::cell::Cell::new(None) };
}

/// Sets the message of the goroutine this M is refusing.
pub(crate) fn set_start_refusal(msg: String) {
    START_REFUSAL.with(|r| r.set(Some(msg)));
}

/// The message of the goroutine this M is refusing (its body asks, on the
/// M's own stack).
pub(crate) fn take_start_refusal() -> Option<String> {
    START_REFUSAL.with(|r| r.take())
}

fn pop_global_gfree(rt: &Runtime) -> Option<GPtr> {
    let mut gfree = rt.gfree.lock();
    let g = gfree.pop()?;
    // Take a batch for this P while we are here.
    if let Some(m) = current_m() {
        let n = gfree.len().min(GFREE_LOCAL / 2);
        let at = gfree.len() - n;
        let batch: Vec<GPtr> = gfree.drain(at..).collect();
        drop(gfree);
        let mut rest = Some(batch);
        if let Some(p) = m.shared.p.lock().as_mut() {
            p.gfree.extend(rest.take().unwrap_or_default());
        }
        if let Some(rest) = rest {
            rt.gfree.lock().extend(rest);
        }
    }
    Some(g)
}

/// A record nobody refers to any more: back to this P's free list (Go's
/// `gfput`), or the global one, or freed when it cannot be recycled or the
/// free lists are full.
///
/// # Safety
/// Nobody refers to `g`: `Life` returned `Release::Recycle` for it, or it
/// came from a free list and was never handed out.
pub(crate) unsafe fn free_g(g: GPtr) {
    debug_assert_eq!(g.status(), GStatus::Dead);
    if !g.recyclable() {
        allgs::unregister(g);
        // SAFETY: `Life` said nobody refers to it, and it left the registry.
        unsafe { g.free() };
        return;
    }
    let mut spill = None;
    if let Some(m) = current_m() {
        if let Some(p) = m.shared.p.lock().as_mut() {
            p.gfree.push(g);
            if p.gfree.len() <= GFREE_LOCAL {
                return;
            }
            spill = Some(p.gfree.split_off(GFREE_LOCAL / 2));
        }
    }
    let spill = spill.unwrap_or_else(|| vec![g]);
    let rt = runtime();
    let mut gfree = rt.gfree.lock();
    let room = GFREE_GLOBAL.saturating_sub(gfree.len());
    let mut spill = spill.into_iter();
    gfree.extend(spill.by_ref().take(room));
    drop(gfree);
    for g in spill {
        allgs::unregister(g);
        // SAFETY: `g` came to `free_g` because `Life` said nobody refers to
        // it (its M, handle and last `Unparker` are gone), no free list took
        // it, and `allgs::unregister` just removed it from the registry, the
        // last place that could reach it.
        unsafe { g.free() };
    }
}

/// Queues a new goroutine according to the spawn policy.
pub(crate) fn start_g(rt: &'static Runtime, child: GPtr) {
    if let Some(parent) = g::current() {
        // Not for a parent locked to its M (its continuation must not be
        // stolen by another M) or one a panic unwinds through (it must not
        // switch: `park::park`).
        if rt.settings.spawn_policy == SpawnPolicy::ContinuationStealing
            && parent.locked_m().is_null()
            && !std::thread::panicking()
        {
            // Work-first: the M queues the parent and runs the child now.
            // SAFETY: `parent` is the goroutine running on this stack.
            unsafe { parent.coro.suspend(Switch::Spawn(child)) };
            return;
        }
    }
    // Child stealing (Go's order), or a spawn from outside any goroutine.
    let _ = submit(rt, child);
    idle::wakep(rt);
}

/// Makes a parked goroutine runnable (Go's `goready`): to the current P's
/// `runnext` when called on an M with a P, else to the global queue.
/// Returns whether the caller should [`kick`] an idle P once it is done.
///
/// Not for a goroutine alone in `runnext`: the M that readied it usually
/// parks a moment later and runs it next (a channel hand-off), and waking
/// another M for it — Go's rule — costs a wake-up and a cache line bounced
/// between two cores on every hop of a ping-pong (measured: ping-pong at
/// 2P 800–930 ns per round trip with Go's rule, 340–470 without; Go 750).
/// If the M goes on running instead, sysmon sees the work sit there and
/// wakes an idle P for it (`sysmon::watch_ps`). Work that lands in the
/// global queue, or displaces another goroutine into the stealable queue,
/// wakes an idle P at once.
#[inline]
pub(crate) fn ready(g: GPtr) -> bool {
    g.set_status(GStatus::Runnable);
    crate::trace::go_unpark(g); // trace: an unpark arrow
    submit(runtime(), g)
}

/// Puts `g` in this P's `runnext` or the global queue. `true` if that made
/// work other Ms should look at (the global queue, or a displaced G).
#[inline]
fn submit(rt: &'static Runtime, g: GPtr) -> bool {
    if let Some(m) = current_m() {
        if let Some(p) = m.shared.p.lock().as_mut() {
            // It runs next here, usually right after the caller parks: have
            // its stack on the way (not for the global queue, where a batch
            // of goroutines readied by the netpoller may wait a long time).
            g.coro.prefetch_stack();
            return p.push_runnext(g);
        }
    }
    rt.global.push(g);
    true
}

/// Makes sure some M looks at newly queued work (Go's `wakep`).
#[inline]
pub(crate) fn kick() {
    idle::wakep(runtime());
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
        rt.idle.retire_above(&mut st, n, &rt.global);
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
    // Exits are read first: a goroutine counted as exited was counted as
    // spawned before, so the difference never goes negative on a race.
    let exited = rt.count(|c| &c.exited);
    let spawned = rt.count(|c| &c.spawned);
    spawned.saturating_sub(exited) as usize
}
