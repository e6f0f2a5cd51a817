//! The per-descriptor poll state (Go's `pollDesc`): readiness and waiters
//! for each direction of one registered socket.
//!
//! Owns: every [`PollDesc`] ever made. They are carved in chunks, never
//! freed, and recycled through a free list with a generation number, so a
//! token that epoll reports for a socket closed meanwhile always points to
//! live memory and is recognised as stale (Go's `fdseq`).
//!
//! Each direction (read, write) is a small state machine behind its own
//! lock, which is held only for a few instructions, never across a park:
//!
//! ```text
//!            event, nobody waiting               op got EAGAIN, ready set
//!   IDLE  ---------------------------> READY ---------------------------> IDLE (retry op)
//!    |  op got EAGAIN, not ready: queue a waiter, park (IO wait)
//!    v
//!   WAITING --- event: dequeue every waiter, wake each (WOKEN) -----------> IDLE (each retries)
//!           --- deadline timer: dequeue that waiter, wake it (TIMED_OUT) -> IDLE (error)
//! ```
//!
//! An event that finds waiters wakes them and leaves no READY mark: they
//! retry their operation anyway. Edge-triggered epoll reports a new edge
//! for every arrival, so a waiter that queues itself after its `EAGAIN` and
//! before the next edge is always woken by that edge, and an edge that
//! comes before it queues itself leaves READY, which it sees under the same
//! lock: no wake-up is lost. A spurious wake-up (a stale event of a
//! recycled descriptor, a deadline timer racing an event) only makes a
//! goroutine retry its operation and wait again.
//!
//! Waiters are `waitq` nodes on the waiting goroutine's stack (no
//! allocation per wait); their protocol makes dequeue-then-wake safe.
//!
//! Must never: hold a direction lock while waking or parking, or free a
//! `PollDesc`'s memory.

use crate::loom::sync::{StdMutex, StdMutexGuard};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Instant;

use crate::waitq::{Waiter, WaiterPtr, WOKEN};
use crate::{timer, WaitReason};

/// The wake state a deadline timer leaves (beside waitq's `WOKEN`).
const TIMED_OUT: u8 = 3;

/// Which way an operation goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Read = 0,
    Write = 1,
}

/// A wait ended at its deadline.
#[derive(Debug)]
pub(crate) struct Expired;

#[derive(Default)]
struct DirState {
    /// An edge came while nobody waited.
    ready: bool,
    /// Goroutines parked until the next edge.
    waiters: Vec<WaiterPtr>,
}

/// One registered descriptor's readiness, per direction.
pub(crate) struct PollDesc {
    /// Bumped when the descriptor is released; part of the epoll token.
    gen: AtomicU16,
    dirs: [StdMutex<DirState>; 2],
}

/// The token's low bits are the `PollDesc`'s address (user-space addresses
/// fit in 48 bits), the high 16 its generation. Token 0 is the eventfd.
const ADDR_BITS: u32 = 48;
const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;

/// Descriptors are carved this many at a time.
const CHUNK: usize = 64;

static FREE: StdMutex<Vec<&'static PollDesc>> = StdMutex::new(Vec::new());

fn lock<T>(m: &StdMutex<T>) -> StdMutexGuard<'_, T> {
    m.lock()
}

impl PollDesc {
    fn new() -> PollDesc {
        PollDesc {
            gen: AtomicU16::new(0),
            dirs: [StdMutex::default(), StdMutex::default()],
        }
    }

    /// A descriptor for a newly registered socket.
    pub fn alloc() -> &'static PollDesc {
        let mut free = lock(&FREE);
        if let Some(d) = free.pop() {
            return d;
        }
        let chunk: &'static [PollDesc] =
            Box::leak((0..CHUNK).map(|_| PollDesc::new()).collect::<Box<[_]>>());
        if chunk.as_ptr() as u64 & !ADDR_MASK != 0 {
            crate::throw("netpoll: a pollDesc address does not fit in 48 bits");
        }
        free.extend(chunk[1..].iter().rev());
        &chunk[0]
    }

    /// Gives the descriptor back for reuse (its socket is closed). Stale
    /// events for it are recognised by the generation from now on.
    pub fn release(&'static self) {
        self.gen.fetch_add(1, Ordering::AcqRel);
        let mut woken = Vec::new();
        for d in &self.dirs {
            let mut st = lock(d);
            st.ready = false;
            // Nobody can wait on a socket being closed (it is closed when its
            // last handle goes); wake any all the same rather than strand it.
            woken.append(&mut st.waiters);
        }
        // SAFETY: every pointer in `woken` was taken out of its queue just
        // above, under that queue's lock, and is in no other list.
        unsafe { wake_all(&mut woken, WOKEN) };
        lock(&FREE).push(self);
    }

    /// The epoll token for this descriptor's current generation.
    pub fn token(&'static self) -> u64 {
        let gen = self.gen.load(Ordering::Acquire) as u64;
        (self as *const PollDesc as u64) | (gen << ADDR_BITS)
    }

    /// The descriptor a token names, if it is still the same generation.
    pub fn from_token(token: u64) -> Option<&'static PollDesc> {
        let addr = token & ADDR_MASK;
        if addr == 0 {
            return None;
        }
        // SAFETY: every non-zero token was made by `token()` from a
        // `&'static PollDesc`, and no PollDesc is ever freed (module doc),
        // so the address is a live, immutable-address PollDesc.
        let d: &'static PollDesc = unsafe { &*(addr as *const PollDesc) };
        (d.gen.load(Ordering::Acquire) as u64 == token >> ADDR_BITS).then_some(d)
    }

    /// An edge for `mode`: wakes its waiters into `out`, or marks it ready.
    pub fn ready(&self, mode: Mode, out: &mut Vec<WaiterPtr>) {
        let mut st = lock(&self.dirs[mode as usize]);
        if st.waiters.is_empty() {
            st.ready = true;
        } else {
            out.append(&mut st.waiters);
        }
    }

    /// Parks the current goroutine until the next edge for `mode` (or until
    /// `deadline`). Returns at once if an edge came since the caller's last
    /// `EAGAIN`. `Ok`: retry the operation. Must be called on a goroutine.
    pub fn wait(&'static self, mode: Mode, deadline: Option<Instant>) -> Result<(), Expired> {
        let dir = &self.dirs[mode as usize];
        let mut st = lock(dir);
        if st.ready {
            st.ready = false;
            return Ok(());
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Expired);
        }
        let w = Waiter::new(0);
        st.waiters.push(w.ptr());
        drop(st);
        if super::WAITERS.fetch_add(1, Ordering::SeqCst) == 0 {
            super::first_waiter();
        }
        let timer = deadline.map(|d| {
            let p = w.ptr();
            timer::add(d, move || self.expire(mode, p))
        });
        let how = w.wait(WaitReason::IoWait, || {});
        super::WAITERS.fetch_sub(1, Ordering::SeqCst);
        if let Some(t) = timer {
            timer::cancel(&t);
        }
        // A TIMED_OUT can be stale: the timer of this goroutine's previous
        // wait may have found this wait's node at the same stack address.
        // Only a deadline that has really passed ends the wait.
        if how == TIMED_OUT && deadline.is_some_and(|d| Instant::now() >= d) {
            Err(Expired)
        } else {
            Ok(())
        }
    }

    /// The deadline timer of waiter `p`: wakes it with `TIMED_OUT` if it is
    /// still queued (else an edge woke it first).
    fn expire(&self, mode: Mode, p: WaiterPtr) {
        let mut st = lock(&self.dirs[mode as usize]);
        let Some(i) = st.waiters.iter().position(|&q| q == p) else {
            return;
        };
        st.waiters.swap_remove(i);
        drop(st);
        // SAFETY: `p` was removed from its queue just above, under the
        // queue's lock; an edge that took it first would have left it out
        // of the queue, and we would have returned.
        unsafe { wake_all(&mut vec![p], TIMED_OUT) };
    }
}

/// Wakes every waiter in `ws` (dequeued by the caller) with `how`.
///
/// # Safety
/// Each pointer in `ws` was removed from its direction's queue under that
/// queue's lock by the caller, and appears in no other list given to a
/// wake: this call holds its only claim.
pub(crate) unsafe fn wake_all(ws: &mut Vec<WaiterPtr>, how: u8) {
    for p in ws.drain(..) {
        // SAFETY: the caller removed each pointer from its direction's queue
        // under that queue's lock, exactly once (our contract), so we hold
        // its only claim; its waiter is still in `Waiter::wait`, which it
        // leaves only after this wake stores `DONE`.
        unsafe { p.wake(how) };
    }
}
