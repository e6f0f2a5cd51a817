//! M: the per-thread state of an OS thread that runs goroutines.
//!
//! Owns: [`MLocal`] (what only the M's own thread touches), [`MShared`]
//! (what sysmon, stats and dumps read, plus the P slot sysmon may empty),
//! the per-M counters, and the thread-local pointer to the current M.
//!
//! Counters live here, not on the P: an M is one thread, so it can bump its
//! own counters with a plain load and store, without holding its P (which
//! sysmon may take away at any moment).
//!
//! Also owns the creation of an M's OS thread ([`create_thread`]) and what
//! happens when the system refuses one (`RLIMIT_NPROC`, a pids cgroup,
//! `kernel.threads-max`, no address space for its stack): the P the new M
//! was to run goes back to the idle list, the runtime goes on with the Ms
//! it has (the goroutine in `blocking()` whose P was to move on takes it
//! back when its call returns; running Ms steal the queued work), the
//! refusal is reported once, on stderr, and sysmon tries again every
//! [`THREAD_RETRY`] while work waits ([`retry_refused`]). Go throws here
//! ("failed to create new OS thread").
//!
//! Must never: let runtime code keep a reference to the current M across a
//! stack switch — always call [`current_m`] again after a park, yield or
//! spawn; lose the P of an M whose thread was refused; panic on a failed
//! write of its report.

use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::idle::{self, MHandle, Spinning, Wake};
use super::p::bump;
use super::pcell::PCell;
use super::Runtime;
use crate::clock::nanotime;
use crate::g::GPtr;
use crate::loom::sync::StdMutex;

/// Counters of one M (written by its own thread only) or, as atomics bumped
/// with `fetch_add`, of the threads that are not Ms.
#[derive(Default)]
pub(crate) struct MCounters {
    pub spawned: AtomicU64,
    pub exited: AtomicU64,
    pub parks: AtomicU64,
    pub unparks: AtomicU64,
}

impl MCounters {
    /// Adds `other` into `self` (an exiting M folds its counters into the
    /// runtime's).
    pub fn absorb(&self, other: &MCounters) {
        for (a, b) in [
            (&self.spawned, &other.spawned),
            (&self.exited, &other.exited),
            (&self.parks, &other.parks),
            (&self.unparks, &other.unparks),
        ] {
            a.fetch_add(b.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

/// Per-M state reachable from the M's own thread.
pub(crate) struct MLocal {
    pub handle: Arc<MHandle>,
    /// The part sysmon and the dumps can see.
    pub shared: &'static MShared,
    /// Held while this M is counted in `nmspinning`.
    pub spinning: Cell<Option<Spinning>>,
    /// Whether the current goroutine is inside `blocking()`.
    pub in_blocking: Cell<bool>,
    /// Whether a goroutine is wired to this M (`lock_os_thread`).
    pub locked: Cell<Locked>,
    /// `lock_os_thread` nesting of the goroutine wired here (Go keeps it
    /// in the M too: `m.lockedExt`); 0 when none is.
    pub lock_depth: Cell<u32>,
}

/// An M's `lock_os_thread` state (Go's `m.lockedg`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    /// Runs whatever it finds.
    No,
    /// Runs only this goroutine: while it waits, the M sleeps without a P
    /// until the M that takes it from a queue hands it back with a P.
    To(GPtr),
    /// Its goroutine exited locked: the thread exits too (Go's rule: it
    /// may have been left in a state nobody else should inherit).
    Exit,
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
    /// The goroutine record this M last resumed (an address for sysmon's
    /// long-run report to look up in the registry, never dereferenced
    /// directly); meaningful while `run_seq` is odd.
    pub running: AtomicUsize,
    /// The OS thread id (for `/proc/self/task/TID`).
    pub tid: i32,
    /// The M's thread has exited (idle too long).
    pub exited: AtomicBool,
    /// Written by this M's thread only.
    pub counters: MCounters,
}

impl MShared {
    /// Marks a goroutine starting or stopping on this M (only the M writes it).
    #[inline]
    pub fn bump_run_seq(&self) {
        bump(&self.run_seq, 1);
    }

    /// Marks entry to or exit from a blocking section (`blocking()`, timer
    /// callbacks); only this M writes it. Whether sysmon sees the new value
    /// at once does not matter: the P slot's lock orders a retake against
    /// the exit.
    #[inline]
    pub fn bump_blocking_seq(&self) {
        self.blocking_seq.store(
            self.blocking_seq.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Release,
        );
    }
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

/// How long after a refused thread the next try waits (while work waits
/// for it, sysmon tries once per period: [`retry_refused`]).
pub(crate) const THREAD_RETRY: Duration = Duration::from_millis(10);

/// When a thread may be tried again (`nanotime`), or 0 while threads are
/// not being refused.
static RETRY_AT: AtomicU64 = AtomicU64::new(0);

/// A refusal has been reported, and no thread created since.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Creates the OS thread of M `id`, which runs `main` with `wake` (its P).
/// If the system refuses the thread, or refused one less than
/// [`THREAD_RETRY`] ago, the P goes back to the idle list instead and the
/// refusal is reported (once per run of refusals).
pub(crate) fn create_thread(
    rt: &Runtime,
    id: usize,
    wake: Wake,
    main: impl FnOnce(Wake) + Send + 'static,
) {
    let retry_at = RETRY_AT.load(Ordering::Relaxed);
    if retry_at != 0 && nanotime() < retry_at {
        return refused(rt, wake, None);
    }
    // The wake-up waits here, not in the thread's closure: a refused
    // spawn drops its closure, and the P in it must not be dropped with it.
    let slot = Arc::new(StdMutex::new(Some(wake)));
    let theirs = slot.clone();
    let res = std::thread::Builder::new()
        .name(format!("weft-m{id}"))
        .spawn(move || {
            let wake = theirs.lock().take();
            main(wake.unwrap_or_else(|| crate::throw("a new M found no P to run")));
        });
    match res {
        Ok(_) => {
            RETRY_AT.store(0, Ordering::Relaxed);
            if REPORTED.load(Ordering::Relaxed) && REPORTED.swap(false, Ordering::Relaxed) {
                crate::stdio::report(format_args!(
                    "weft: OS threads can be created again; new Ms start as needed\n"
                ));
            }
        }
        Err(e) => {
            let wake = slot.lock().take();
            let wake = wake.unwrap_or_else(|| crate::throw("a refused M's thread took its P"));
            refused(rt, wake, Some(e));
        }
    }
}

/// The thread of a new M was refused (`e`; `None`: not tried, within the
/// back-off): the M was never born, so it is uncounted, its spinning token
/// dropped and its P put back on the idle list, where running Ms steal its
/// queue and an M leaving `blocking()` picks it up.
fn refused(rt: &Runtime, wake: Wake, e: Option<io::Error>) {
    if e.is_some() {
        // Only a refusal starts a back-off: a call within it tried
        // nothing, and pushing the retry on would put it off for as long
        // as Ms are asked for more often than every THREAD_RETRY.
        let retry = nanotime() + THREAD_RETRY.as_nanos() as u64;
        RETRY_AT.store(retry.max(1), Ordering::Relaxed);
    }
    rt.idle.forget_m();
    if let Some(t) = wake.spinning {
        rt.idle.drop_spinning(t);
    }
    {
        let mut st = rt.idle.state();
        rt.idle.put_p(&mut st, wake.p);
    }
    if let Some(e) = e {
        if !REPORTED.swap(true, Ordering::Relaxed) {
            crate::stdio::report(format_args!("{}", refusal_message(rt, &e)));
        }
    }
}

/// The report of a refused thread: the error, the limits that can cause
/// it, and what the runtime does meanwhile.
fn refusal_message(rt: &Runtime, e: &io::Error) -> String {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill.
    let nproc = if unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut lim) } != 0 {
        "?".to_string()
    } else if lim.rlim_cur == libc::RLIM_INFINITY {
        "unlimited".to_string()
    } else {
        lim.rlim_cur.to_string()
    };
    format!(
        "weft: cannot create an OS thread for a new M ({} Ms exist): {e}; the limits that \
         apply: RLIMIT_NPROC (ulimit -u) = {nproc} threads of this user, a pids cgroup \
         (pids.max), kernel.threads-max, RLIMIT_AS (a thread's stack). Goroutines go on \
         running on the threads weft has; it tries again every {} ms while work waits \
         (reported once until a thread can be created again)\n",
        rt.idle.threads(),
        THREAD_RETRY.as_millis(),
    )
}

/// sysmon's pass while threads are being refused: once the back-off is
/// over, if work waits (in the global queue or on an idle P) and no M is
/// looking for it, starts an M for it (which tries a thread again).
/// Returns whether work waits for an M that could not be made: sysmon must
/// then not sleep for good.
pub(crate) fn retry_refused(rt: &Runtime) -> bool {
    let retry_at = RETRY_AT.load(Ordering::Relaxed);
    if retry_at == 0 {
        return false;
    }
    let waiting = !rt.global.is_empty() || rt.all_ps().any(|p| p.has_work());
    if !waiting {
        // Nothing needs a new M any more (the Ms there are ran it): the
        // next need tries a thread at once.
        RETRY_AT.store(0, Ordering::Relaxed);
        return false;
    }
    if nanotime() >= retry_at && rt.idle.spinning() == 0 {
        idle::wakep(rt);
    }
    true
}

/// Whether threads are being refused (sysmon then leaves stalled work to
/// [`retry_refused`], once per [`THREAD_RETRY`], rather than try a thread
/// for it on every pass).
pub(crate) fn refusing() -> bool {
    RETRY_AT.load(Ordering::Relaxed) != 0
}
