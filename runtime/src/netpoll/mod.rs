//! The netpoller: one epoll instance that parks goroutines on sockets and
//! readies them when the kernel says a socket is ready (Go's `netpoll`).
//!
//! Owns: the epoll descriptor (every socket of `weft::net` registered once,
//! edge-triggered, for both directions), the eventfd that breaks a blocked
//! `epoll_wait`, the count of goroutines parked in IO wait, and who polls:
//!
//! - **a running M out of local work** polls without blocking before it
//!   tries to steal (`sched::worker::find_runnable` calls [`poll_ready`]),
//!   unless an M is blocked in `epoll_wait` (it gets the events);
//!   the goroutines it readies go to its own P's run queue;
//! - **the sleeping M that holds the timer role**, while a P is idle,
//!   blocks in `epoll_wait` instead of on its condvar, with the earliest
//!   timer deadline as the timeout ([`sleep`], called from
//!   `sched::idle::sleep`). Handing that M a P or an earlier timer writes
//!   the eventfd ([`wake_m`]); the goroutines it readies go to the global
//!   queue and `wakep` finds them an M (often this very one: it is on the
//!   idle list);
//! - **sysmon** polls when nobody has for 10 ms ([`sysmon_poll`]).
//!
//! The per-descriptor state machine is in `desc.rs`; the system calls in
//! `sys.rs`; `docs/netpoller.md` has the whole picture.
//!
//! Must never: block an M that holds a P, hold a lock while waking
//! goroutines, or drain the eventfd from a non-blocking poll (the wake-up
//! is meant for the blocked poller; epoll reports it level-triggered so
//! that a non-blocking poll cannot steal it).

mod desc;
mod sys;

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use crate::loom::sync::StdMutex;

pub(crate) use desc::{Mode, PollDesc};
pub(crate) use sys::poll_fd;

use desc::wake_all;
use sys::{Epoll, Event, EventFd, BATCH};

use crate::waitq::WOKEN;

struct Poller {
    epoll: Epoll,
    wake: EventFd,
}

static POLLER: OnceLock<Poller> = OnceLock::new();

/// Goroutines parked in IO wait (Go's `netpollWaiters`). Non-zero keeps the
/// deadlock detector quiet and makes running Ms poll.
pub(crate) static WAITERS: AtomicUsize = AtomicUsize::new(0);

/// The id of the M blocked in `epoll_wait` (or about to be), or 0 (M ids
/// start at 1). At most one M blocks there at a time, so that the eventfd
/// wake-up always reaches the M it is meant for.
static BLOCKED_M: AtomicUsize = AtomicUsize::new(0);

/// A timer-role M found `BLOCKED_M` taken (its previous holder, which lost
/// the role, is on its way out) and sleeps on its condvar: the leaving
/// poller must wake the role holder to take over.
static POLL_WANTED: AtomicBool = AtomicBool::new(false);

/// A wake-up is written to the eventfd and not yet consumed (Go's
/// `netpollWakeSig`): further wake-ups need not write again.
static WAKE_SIG: AtomicBool = AtomicBool::new(false);

/// `sched::coarse_now()` at the last poll, for sysmon.
static LAST_POLL: AtomicU64 = AtomicU64::new(0);

/// sysmon polls when nobody has for this long (Go: 10 ms).
const SYSMON_POLL_AFTER: Duration = Duration::from_millis(10);

/// What an event means for each direction. An error or hang-up wakes both,
/// so a goroutine parked on a reset or closed socket sees the error or EOF.
const READ_BITS: u32 = (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
const WRITE_BITS: u32 = (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32;

/// Raises the open-file soft limit to the hard limit, once (at runtime
/// start, and before the first socket of a program without goroutines).
pub(crate) fn raise_fd_limit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(sys::raise_nofile_limit);
}

/// Whether the netpoller exists (some socket was ever registered).
pub(crate) fn inited() -> bool {
    POLLER.get().is_some()
}

fn poller() -> io::Result<&'static Poller> {
    if let Some(p) = POLLER.get() {
        return Ok(p);
    }
    static INIT: StdMutex<()> = StdMutex::new(());
    let _g = INIT.lock();
    if let Some(p) = POLLER.get() {
        return Ok(p);
    }
    raise_fd_limit();
    // On failure nothing is kept (the descriptors made close again), and
    // the next socket tries again.
    let epoll = Epoll::new().map_err(|e| not_created("epoll_create1", e))?;
    let wake = EventFd::new().map_err(|e| not_created("eventfd", e))?;
    // Level-triggered: a non-blocking poll sees it and leaves it for the
    // blocked poller, which drains it.
    epoll
        .add(wake.raw(), libc::EPOLLIN as u32, 0)
        .map_err(|e| not_created("epoll_ctl", e))?;
    let p = POLLER.get_or_init(|| Poller { epoll, wake });
    if crate::sched::started() {
        // The timer-role M may sleep on its condvar: have it move to epoll.
        crate::sched::idle::timers_changed(crate::sched::runtime());
    }
    Ok(p)
}

/// The netpoller could not be made (`call` failed with `e`): the error the
/// first socket returns, with its kind, saying what failed and, for a
/// descriptor limit, which limit.
fn not_created(call: &str, e: io::Error) -> io::Error {
    let limit = match e.raw_os_error() {
        Some(libc::EMFILE) => format!(" (RLIMIT_NOFILE, ulimit -n: {})", sys::nofile_limit()),
        Some(libc::ENFILE) => " (the system-wide fs.file-max)".to_string(),
        _ => String::new(),
    };
    io::Error::new(
        e.kind(),
        format!("cannot create the netpoller: {call}: {e}{limit}"),
    )
}

/// Registers `fd` (non-blocking) for both directions, edge-triggered.
pub(crate) fn register(fd: RawFd) -> io::Result<&'static PollDesc> {
    let p = poller()?;
    let d = PollDesc::alloc();
    let bits = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET;
    if let Err(e) = p.epoll.add(fd, bits as u32, d.token()) {
        d.release();
        return Err(e);
    }
    Ok(d)
}

/// Unregisters `fd` before it is closed and recycles its descriptor.
pub(crate) fn deregister(fd: RawFd, d: &'static PollDesc) {
    if let Some(p) = POLLER.get() {
        let _ = p.epoll.delete(fd);
    }
    d.release();
}

/// Goroutines parked in IO wait now.
pub(crate) fn waiters() -> usize {
    WAITERS.load(Ordering::SeqCst)
}

/// Hands the events to their descriptors and wakes the goroutines parked on
/// them. With `blocking`, also consumes the eventfd. Returns how many woke.
fn dispatch(p: &Poller, events: &[Event], blocking: bool) -> usize {
    LAST_POLL.store(crate::clock::coarse_now(), Ordering::Relaxed);
    let mut woken = Vec::new();
    for ev in events {
        if ev.token == 0 {
            if blocking {
                p.wake.drain();
                // Before the caller re-checks why it might have been woken:
                // a waker that comes after that re-check writes again.
                WAKE_SIG.store(false, Ordering::SeqCst);
            }
            continue;
        }
        let Some(d) = PollDesc::from_token(ev.token) else {
            continue; // a socket closed (and its descriptor recycled) meanwhile
        };
        if ev.bits & READ_BITS != 0 {
            d.ready(Mode::Read, &mut woken);
        }
        if ev.bits & WRITE_BITS != 0 {
            d.ready(Mode::Write, &mut woken);
        }
    }
    let n = woken.len();
    // SAFETY: every pointer in `woken` was moved out of its queue by
    // `PollDesc::ready`, under that queue's lock, and is in no other list.
    unsafe { wake_all(&mut woken, WOKEN) };
    n
}

fn poll_now(p: &Poller) -> usize {
    let mut evs = [Event { token: 0, bits: 0 }; BATCH];
    let n = p.epoll.wait(&mut evs, Some(Duration::ZERO));
    dispatch(p, &evs[..n], false)
}

/// Polls without blocking, for an M holding a P that ran out of local work;
/// what it readies goes to that P. `true` if a goroutine was readied.
///
/// Skipped while an M is blocked in `epoll_wait` (Go's `lastpoll != 0`
/// test): that M returns with the same events, in one batch. Polling
/// beside it took events one or two at a time: on the 1,000-connection
/// echo, 84k `epoll_pwait2` calls and 17k futex calls against 16k and 6k
/// with the rule (Go: 13k and 4k), and round trips rose 10-15%.
pub(crate) fn poll_ready() -> bool {
    if WAITERS.load(Ordering::Relaxed) == 0 || BLOCKED_M.load(Ordering::Relaxed) != 0 {
        return false;
    }
    match POLLER.get() {
        Some(p) => poll_now(p) > 0,
        None => false,
    }
}

/// sysmon's poll: when goroutines wait for I/O, no M is blocked in
/// `epoll_wait` and nobody has polled for 10 ms. `true` if it readied any.
pub(crate) fn sysmon_poll() -> bool {
    if WAITERS.load(Ordering::Relaxed) == 0 || BLOCKED_M.load(Ordering::SeqCst) != 0 {
        return false;
    }
    let Some(p) = POLLER.get() else { return false };
    let since = crate::clock::coarse_now().saturating_sub(LAST_POLL.load(Ordering::Relaxed));
    if since < SYSMON_POLL_AFTER.as_nanos() as u64 {
        return false;
    }
    poll_now(p) > 0
}

/// Whether timer-role M `m` may block in `epoll_wait` ([`sleep`]): the
/// netpoller exists and no other M is blocked there. If one is, it has
/// lost the role and is leaving; it wakes the role holder when it has
/// left, so `m` sleeps on its condvar until then.
///
/// No lost hand-over: we store `POLL_WANTED` then try `BLOCKED_M` again;
/// the leaver clears `BLOCKED_M` then reads `POLL_WANTED` (all `SeqCst`), so
/// either our retry succeeds or the leaver sees the flag.
pub(crate) fn claim_poll(m: usize) -> bool {
    if !inited() {
        return false;
    }
    let claim = || {
        BLOCKED_M
            .compare_exchange(0, m, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    };
    if claim() {
        return true;
    }
    POLL_WANTED.store(true, Ordering::SeqCst);
    claim()
}

/// The timer-role M's sleep (Go's `netpoll(delay)`): blocks in `epoll_wait`
/// until an event, the eventfd ([`wake_m`]) or `deadline`, then readies
/// what became ready. `slot` is the M's hand-off slot, locked: it is
/// released while blocked and locked again before returning, with `true`
/// when `deadline` has passed.
///
/// The caller has claimed the poll ([`claim_poll`]).
///
/// No lost wake-up: `BLOCKED_M` is published before `slot` is unlocked, and
/// a waker changes the slot (or the deadline) before reading `BLOCKED_M`
/// under or after the same lock; either the waker sees us blocked and
/// writes the eventfd, or we see its change when the caller re-checks.
pub(crate) fn sleep<'a, T, const RANK: u8>(
    m: usize,
    slot: crate::lockrank::MutexGuard<'a, T>,
    lock: &'a crate::lockrank::Mutex<T, RANK>,
    deadline: Option<Instant>,
) -> (crate::lockrank::MutexGuard<'a, T>, bool) {
    let Some(p) = POLLER.get() else {
        crate::throw("netpoll::sleep before the netpoller exists");
    };
    debug_assert_eq!(BLOCKED_M.load(Ordering::SeqCst), m);
    drop(slot);
    let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    let mut evs = [Event { token: 0, bits: 0 }; BATCH];
    let n = p.epoll.wait(&mut evs, timeout);
    // Before readying anyone: a wakep that hands us a P need not write the
    // eventfd.
    BLOCKED_M.store(0, Ordering::SeqCst);
    dispatch(p, &evs[..n], true);
    if POLL_WANTED.swap(false, Ordering::SeqCst) {
        // The role moved to an M that found us still blocked: wake it.
        crate::sched::idle::timers_changed(crate::sched::runtime());
    }
    let slot = lock.lock();
    let due = deadline.is_some_and(|d| Instant::now() >= d);
    (slot, due)
}

/// Whether M `m` is blocked in `epoll_wait` (or about to be).
pub(crate) fn polling(m: usize) -> bool {
    BLOCKED_M.load(Ordering::SeqCst) == m
}

/// The first goroutine to wait for I/O (the count went 0 → 1): if a P is
/// idle and no M is blocked in `epoll_wait`, the timer-role holder sleeps on
/// its condvar (it left the netpoller while every P was busy, or nothing
/// waited for I/O): have it look again, so readiness is seen at once rather
/// than at sysmon's next poll.
fn first_waiter() {
    let rt = crate::sched::runtime();
    if BLOCKED_M.load(Ordering::SeqCst) == 0 && rt.idle.idle_ps() > 0 {
        crate::sched::idle::timers_changed(rt);
    }
}

/// Breaks M `m` out of `epoll_wait` if it is blocked there (Go's
/// `netpollBreak`). Called after handing it a P or changing its deadline.
pub(crate) fn wake_m(m: usize) {
    if BLOCKED_M.load(Ordering::SeqCst) != m || WAKE_SIG.swap(true, Ordering::SeqCst) {
        return;
    }
    if let Some(p) = POLLER.get() {
        p.wake.signal();
    }
}
