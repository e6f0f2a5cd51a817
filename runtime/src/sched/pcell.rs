//! The slot through which an M holds its P, shared with sysmon.
//!
//! Owns: `PCell`, a tiny lock around `Option<POwned>`, the asymmetric
//! memory barrier that makes the owner's side of it cheap, and that
//! barrier's fallback for a process that may not (or may no longer) call
//! `membarrier`, with its SIGURG handler. The M that owns the slot takes
//! the lock for each short use of its P (queue a G, bump a counter, look
//! for work): several times per goroutine switch. Sysmon takes it to
//! *retake* the P from an M that is stuck in `blocking()` or in a
//! goroutine that has not yielded for a long time, and hands that P to
//! another M; the `scheddetail` dump reads it. After a retake the stuck M
//! finds the slot empty and carries on without a P until it gets one back.
//!
//! The lock is biased towards its owner (Dekker's two flags, with the
//! fences made asymmetric as in folly's hazard pointers and liburcu):
//!
//! ```text
//! owner (its M, hot)                 remote (sysmon, dump: rare)
//! owner := true                      remote := true   (a CAS: remotes queue)
//! light barrier (a compiler fence)   heavy barrier (membarrier(2))
//! remote set? back off, retry        owner set? wait until it clears
//! ... critical section ...           ... critical section ...
//! owner := false (release)           remote := false (release)
//! ```
//!
//! Each side writes its flag, then reads the other's; at least one sees the
//! other's flag and yields, provided nothing reorders a side's write after
//! its read. The remote side's `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`
//! runs a full barrier on every CPU running one of our threads, which
//! orders the owner's write before its read for it: the owner pays no
//! locked instruction at all, where a CAS lock cost it two per goroutine
//! switch (ping-pong at 1P: 10% of a round trip). The owner's compiler
//! fence is what keeps its write before its read as that barrier — an
//! interrupt at one point of its execution — sees them.
//!
//! # Without membarrier: fenced slots
//!
//! A slot is *fenced* when its owner pays a real `SeqCst` fence too, as its
//! remotes do: plain Dekker, no system call. A slot is born fenced when the
//! process has no membarrier: the kernel refused the registration at
//! start, or `WEFT_DEBUG=membarrier=0` asked for this mode. A slot born
//! asymmetric turns fenced, for good, the first time one of its remotes
//! finds `membarrier` refused (by a seccomp filter the program installed
//! after start, say); from then on no remote calls it again.
//!
//! That first remote cannot just start fencing: its owner may be between
//! its flag write and its read of the remote flag with only a compiler
//! fence between them. So the remote, holding the remote flag, sets the
//! slot's `fenced` flag and then **interrupts the owner's thread**: it
//! sends it SIGURG, whose handler runs a `SeqCst` fence and answers, and
//! waits for the answer (liburcu's signal flavour does the same; Go
//! preempts with SIGURG). The owner reads `fenced` after its flag write,
//! behind the compiler fence:
//!
//! ```text
//! owner, each attempt A:  W(owner) ; compiler fence ; R(fenced) ; fence if set ; R(remote)
//! first fenced remote S:  CAS(remote) ; W(fenced) ; ask (release) ; signal ; wait for the answer (acquire)
//! handler H, on A's thread:                         sees the request (acquire) ; fence ; answer (release)
//! ```
//!
//! Why that excludes. A signal handler runs at one point of its thread's
//! own execution, and `compiler_fence` is C++'s `atomic_signal_fence`: the
//! handler sees A's flag write before A's two reads, as written. Then for
//! any lock attempt A of the owner:
//!
//! 1. *A wrote its flag before H ran.* H's fence and answer publish the
//!    write to S, and through the remote flag's release and acquire to
//!    every remote after S: each finds the flag set (and waits), or
//!    cleared by A's release (and sees A's critical section).
//! 2. *A writes its flag after H.* A's reads come after H, and H's
//!    acquire of the request synchronizes with S's release of it, made
//!    after S's writes: A reads `fenced` set and fences, so against every
//!    later remote (each fences too) it is plain Dekker; and it reads S's
//!    flag set, so it backs off until S is done.
//!
//! An attempt that read `fenced` clear read it before H, so it wrote its
//! flag before H: case 1, however long it lasts. Later remotes only fence.
//! Before the switch the argument is the same, with the kernel's barrier
//! on the owner's CPU in place of H. If the owner's thread has exited, the
//! kernel refuses the signal (ESRCH): no attempt of that thread can be in
//! flight, and the handshake ends; if the remote runs on the owner's
//! thread, its own program order is enough. Handshakes go one at a time
//! (a leaf lock), each numbered, so that an answer to an earlier one is
//! never taken for the current one; the handler then passes the signal on
//! to the disposition it replaced.
//! `runtime/tests/loom_pcell.rs` model-checks the three modes, with the
//! owner taking the "signal" at every point of its path;
//! `runtime/tests/faults_membarrier.rs` refuses membarrier with seccomp in
//! a running program.
//!
//! What the fallback costs: a fenced owner, one `SeqCst` fence per lock; a
//! remote, a fence instead of a system call; the switch, one signal per M,
//! once. That signal interrupts whatever system call the M is in (a
//! goroutine's, inside `blocking()`): the handler is installed with
//! `SA_RESTART`, so reads and writes restart, but calls a signal always
//! interrupts (`nanosleep`, `poll`, `epoll_wait`) return `EINTR` once. A
//! thread that blocks SIGURG never answers: the remote keeps asking, and
//! says so on stderr after a second.
//!
//! Must never: be held across a goroutine switch, a park, or anything that
//! can block or take another lock that may wait for this one; be taken
//! with [`SpinCell::lock`] by any thread but the one that made the slot
//! (its M: the fallback interrupts that thread); call `membarrier` after
//! it was refused once.
//!
//! The lock is [`SpinCell`], generic over what it holds, so that
//! `runtime/tests/loom.rs` and `runtime/tests/loom_pcell.rs` model-check it
//! with loom's atomics and cell. Under loom the owner's thread takes the
//! "signal" at explicit points ([`SpinCell::interruptible`]), and
//! `membarrier` is modelled as that same interruption.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use super::p::POwned;
use crate::loom::cell::{MutPtr, UnsafeCell};
use crate::loom::hint::spin_loop;
use crate::loom::sync::atomic::{fence, AtomicBool, Ordering};

/// The slot through which an M holds its P.
pub(crate) type PCell = SpinCell<Option<POwned>>;

/// A tiny lock around a `T`, biased towards one owner thread (see the
/// module comment).
pub(crate) struct SpinCell<T> {
    /// The owner is inside, or about to be.
    owner: AtomicBool,
    /// A remote is inside, or waiting for the owner to leave.
    remote: AtomicBool,
    /// The owner fences too (see "fenced slots"): set at birth, or by a
    /// remote holding the remote flag; never cleared.
    fenced: AtomicBool,
    /// The owner's thread, which the fallback interrupts.
    thread: barrier::Owner,
    value: UnsafeCell<T>,
}

// (The flags exclude each other as the module comment shows; remotes queue
// on a CAS; each side reads the other's flag with Acquire and clears its
// own with Release, which orders the critical sections.)
// SAFETY: `value` is only reached through a `SpinGuard`, at most one at a
// time (above); `T` moves between threads with the lock, hence `T: Send`.
unsafe impl<T: Send> Sync for SpinCell<T> {}

/// How a modelled slot's remote side orders the owner (loom only: a real
/// slot asks the kernel, see [`init`]).
#[cfg(loom)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Barrier {
    /// `membarrier` works: every remote interrupts the owner.
    Membarrier,
    /// `membarrier` is refused from the first call: the first remote
    /// switches the slot to fenced.
    RefusedLater,
    /// Born fenced (`WEFT_DEBUG=membarrier=0`): both sides fence.
    Fenced,
}

impl<T> SpinCell<T> {
    /// A slot owned by the calling thread: only it may [`lock`](Self::lock)
    /// it. Under loom, a fenced one (both sides fence).
    pub fn new(value: T) -> SpinCell<T> {
        #[cfg(not(loom))]
        {
            barrier::init_default();
            SpinCell::made(value, !barrier::available(), barrier::Owner::current())
        }
        #[cfg(loom)]
        SpinCell::with_barrier(value, Barrier::Fenced)
    }

    /// A modelled slot with the remote side `barrier` (loom only).
    #[cfg(loom)]
    pub fn with_barrier(value: T, barrier: Barrier) -> SpinCell<T> {
        let owner = barrier::Owner::new(barrier == Barrier::Membarrier);
        SpinCell::made(value, barrier == Barrier::Fenced, owner)
    }

    fn made(value: T, fenced: bool, thread: barrier::Owner) -> SpinCell<T> {
        SpinCell {
            owner: AtomicBool::new(false),
            remote: AtomicBool::new(false),
            fenced: AtomicBool::new(fenced),
            thread,
            value: UnsafeCell::new(value),
        }
    }

    /// Locks the slot from its owner's thread (the M whose slot it is):
    /// no locked instruction unless a remote is inside.
    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        crate::lockrank::acquire_p_slot(self); // lockrank: debug builds only
        debug_assert!(
            !self.owner.load(Ordering::Relaxed),
            "an M locked its P slot twice (or another thread used the owner's path)"
        );
        loop {
            self.interruptible();
            self.owner.store(true, Ordering::Relaxed);
            self.interruptible();
            barrier::light(&self.fenced);
            self.interruptible();
            // Acquire: pairs with a remote's release, publishing what it
            // did to the value.
            if !self.remote.load(Ordering::Acquire) {
                break;
            }
            self.owner.store(false, Ordering::Release);
            wait_while(&self.remote, || self.interruptible());
        }
        self.interruptible();
        SpinGuard {
            flag: &self.owner,
            cell: self,
            value: ManuallyDrop::new(self.value.get_mut()),
        }
    }

    /// Locks the slot from any other thread (sysmon, the `scheddetail`
    /// dump). Costs a `membarrier` system call, or a fence on a fenced
    /// slot: for rare uses only (remotes back to back would starve the
    /// owner, which retries only while no remote holds or waits).
    pub fn lock_remote(&self) -> SpinGuard<'_, T> {
        crate::lockrank::acquire_p_slot(self); // lockrank: debug builds only
        while self
            .remote
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            wait_while(&self.remote, || {});
        }
        self.heavy();
        // Acquire (in `wait_while`): pairs with the owner's release,
        // publishing its last critical section.
        wait_while(&self.owner, || {});
        SpinGuard {
            flag: &self.remote,
            cell: self,
            value: ManuallyDrop::new(self.value.get_mut()),
        }
    }

    /// The remote's half of the barrier, with the remote flag held (see
    /// the module comment).
    fn heavy(&self) {
        // Relaxed: only remotes set it after birth, each holding the
        // remote flag, whose acquire ordered us after them.
        if self.fenced.load(Ordering::Relaxed) {
            fence(Ordering::SeqCst);
            return;
        }
        if barrier::membarrier(&self.thread) {
            return;
        }
        // The switch: before the request, which `interrupt` publishes with
        // a release the handler acquires (case 2 of the module comment).
        self.fenced.store(true, Ordering::Relaxed);
        barrier::interrupt(&self.thread);
    }

    /// A point where the owner's thread may take the fallback's signal.
    /// Nothing in a real build (the kernel interrupts it anywhere); under
    /// loom, where the owner's thread takes a pending one.
    #[inline(always)]
    pub fn interruptible(&self) {
        #[cfg(loom)]
        self.thread.interruptible();
    }
}

/// Registers the process for the cheap owner side (see the module
/// comment), once, unless `membarrier` is false (`WEFT_DEBUG=membarrier=0`:
/// every slot is born fenced). The runtime calls it before it starts any
/// thread: the kernel registers a single-threaded process for free, and
/// one with more threads with an RCU grace period (about 10 ms here).
pub(crate) fn init(membarrier: bool) {
    barrier::init(membarrier);
}

/// Spins until `flag` is false (Acquire), then returns; yields the CPU
/// after a while, in case the holder was descheduled (a remote holds its
/// flag across a system call, which is where the kernel preempts).
/// `on_spin` runs on each turn (the owner's interruption points, loom).
#[inline]
fn wait_while(flag: &AtomicBool, on_spin: impl Fn()) {
    let mut spins = 0u32;
    while flag.load(Ordering::Acquire) {
        on_spin();
        spins += 1;
        if spins < 64 {
            spin_loop();
        } else {
            crate::loom::thread::yield_now();
        }
    }
}

pub(crate) struct SpinGuard<'a, T> {
    /// The flag this guard holds: the owner's or the remote's.
    flag: &'a AtomicBool,
    cell: &'a SpinCell<T>,
    /// The one access to the value while the lock is held (under loom it
    /// is tracked until dropped, which `drop` does before unlocking).
    value: ManuallyDrop<MutPtr<T>>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock: no other reference to the value
        // exists but through this guard, for no longer than it.
        MutPtr::with(&self.value, |p| unsafe { &*p })
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock: no other reference to the value
        // exists.
        unsafe { MutPtr::deref(&self.value) }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped once, here, and not used after.
        unsafe { ManuallyDrop::drop(&mut self.value) };
        self.flag.store(false, Ordering::Release);
        crate::lockrank::release_p_slot(self.cell); // lockrank: debug builds only
    }
}

/// The two halves of the asymmetric barrier and the fallback's handshake
/// (see the module comment): the kernel's in a real build.
#[cfg(not(loom))]
mod barrier {
    use std::ptr;
    use std::sync::atomic::{compiler_fence, fence, AtomicBool, AtomicU64, Ordering};
    use std::sync::{Once, OnceLock};
    use std::time::{Duration, Instant};

    use crate::loom::sync::StdMutex;

    /// `membarrier(2)` commands (linux/membarrier.h).
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    /// The signal that interrupts an owner's thread: SIGURG, as Go's
    /// preemption (ignored by default, rarely used by programs).
    const SIGNAL: libc::c_int = libc::SIGURG;

    /// The process may call `membarrier` (registered at start, and not
    /// refused since). Set by [`init`] before the first `SpinCell`;
    /// cleared, for good, by the first refusal.
    static MEMBARRIER: AtomicBool = AtomicBool::new(false);

    /// The handshake under way: its number in the high half, the thread it
    /// asks (a tid) in the low half; 0 if none. Its handler answers in
    /// [`ANSWERED`] with the value it read.
    static ASKED: AtomicU64 = AtomicU64::new(0);
    static ANSWERED: AtomicU64 = AtomicU64::new(0);
    /// One handshake at a time (a leaf lock, taken under a P slot's remote
    /// side); holds the number of the last one.
    static HANDSHAKE: StdMutex<u32> = StdMutex::new(0);

    /// SIGURG's disposition before ours, which ours passes signals on to.
    static PREV: OnceLock<libc::sigaction> = OnceLock::new();

    /// How long a handshake waits before it says so on stderr.
    const WARN_AFTER: Duration = Duration::from_secs(1);
    /// How often it signals again while it waits.
    const RESEND: Duration = Duration::from_millis(10);

    /// The owner's thread.
    pub(super) struct Owner {
        tid: libc::pid_t,
        /// Unit tests: act as if the kernel refused membarrier to this
        /// slot's remotes.
        #[cfg(test)]
        pub(super) refused: bool,
    }

    impl Owner {
        /// The calling thread.
        pub(super) fn current() -> Owner {
            Owner {
                tid: gettid(),
                #[cfg(test)]
                refused: false,
            }
        }
    }

    fn gettid() -> libc::pid_t {
        // SAFETY: gettid has no preconditions; it is async-signal-safe.
        unsafe { libc::gettid() }
    }

    /// Issues `membarrier(cmd)`; whether it succeeded.
    fn sys_membarrier(cmd: libc::c_long) -> bool {
        // SAFETY: membarrier takes no pointers; an unknown command or an
        // old kernel is an error return, not UB.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) == 0 }
    }

    static INIT: Once = Once::new();

    /// Registers the process for expedited membarriers unless told not to,
    /// once. Every `SpinCell::new` calls [`init_default`] first, so whoever
    /// can reach a cell sees [`MEMBARRIER`]'s first value (`Once` orders
    /// it before them).
    pub(super) fn init(use_it: bool) {
        INIT.call_once(|| {
            // The command itself is tried too: a filter (seccomp) may
            // allow the registration and refuse the barrier.
            let ok = use_it
                && sys_membarrier(CMD_REGISTER_PRIVATE_EXPEDITED)
                && sys_membarrier(CMD_PRIVATE_EXPEDITED);
            MEMBARRIER.store(ok, Ordering::Relaxed);
        });
    }

    /// [`init`] with membarrier allowed, for cells made before (or without)
    /// the runtime's start: unit tests.
    pub(super) fn init_default() {
        init(true);
    }

    /// Whether a new slot may start asymmetric.
    pub(super) fn available() -> bool {
        MEMBARRIER.load(Ordering::Relaxed)
    }

    /// The owner's half: orders its flag write before its read of the
    /// remote's flag — for an interrupt (the remote's barrier) by the
    /// compiler fence, for anyone by a real fence on a fenced slot.
    #[inline(always)]
    pub(super) fn light(fenced: &AtomicBool) {
        compiler_fence(Ordering::SeqCst);
        if fenced.load(Ordering::Relaxed) {
            fence(Ordering::SeqCst);
        }
    }

    /// The remote's heavy barrier on an asymmetric slot: `membarrier`.
    /// `false` if the process may not call it, or the kernel refused it
    /// now (then never again).
    pub(super) fn membarrier(owner: &Owner) -> bool {
        #[cfg(test)]
        if owner.refused {
            return false;
        }
        let _ = owner;
        if !MEMBARRIER.load(Ordering::Relaxed) {
            return false;
        }
        if sys_membarrier(CMD_PRIVATE_EXPEDITED) {
            return true;
        }
        MEMBARRIER.store(false, Ordering::Relaxed);
        false
    }

    /// Makes the owner's thread run a `SeqCst` fence at a point of its own
    /// execution after this call began, and returns after it has: signals
    /// it and waits for its handler's answer. Returns at once if the thread
    /// has exited (the kernel says ESRCH), or is the caller.
    pub(super) fn interrupt(owner: &Owner) {
        if owner.tid == gettid() {
            // Our own program order: nothing of ours is in flight.
            fence(Ordering::SeqCst);
            return;
        }
        let mut number = HANDSHAKE.lock();
        install_handler();
        *number = number.wrapping_add(1).max(1);
        let asked = (u64::from(*number) << 32) | u64::from(owner.tid as u32);
        // Release: pairs with the handler's acquire, which so runs after
        // our caller's write of `fenced` (case 2 of the module comment).
        ASKED.store(asked, Ordering::Release);
        let start = Instant::now();
        let mut warned = false;
        'ask: loop {
            // SAFETY: tgkill takes no pointers; our own pid, and a tid
            // that at worst no longer exists (ESRCH) or is another of our
            // threads (whose handler finds nothing asked of it).
            let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), owner.tid, SIGNAL) };
            if r != 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::ESRCH) {
                    break; // the owner's thread has exited
                }
                crate::throw(&format!(
                    "the P slot's barrier: membarrier was refused, and so was the signal \
                     (SIGURG) to M thread {}: {e}",
                    owner.tid
                ));
            }
            let sent = Instant::now();
            let mut spins = 0u32;
            while sent.elapsed() < RESEND {
                // Acquire: pairs with the handler's release, publishing
                // everything its thread did before the fence (case 1).
                if ANSWERED.load(Ordering::Acquire) == asked {
                    break 'ask;
                }
                spins += 1;
                if spins < 100 {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(Duration::from_micros(20));
                }
            }
            if !warned && start.elapsed() >= WARN_AFTER {
                warned = true;
                crate::stdio::report(format_args!(
                    "weft: M thread {} has not answered SIGURG for {:?} (the P slot's \
                     barrier, membarrier being refused): is SIGURG blocked on it?\n",
                    owner.tid, WARN_AFTER
                ));
            }
        }
        ASKED.store(0, Ordering::Relaxed);
    }

    /// Installs [`on_signal`] for SIGURG, once; throws if someone replaced
    /// it since (a handshake would never be answered).
    fn install_handler() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: an all-zero sigaction is a valid out-parameter and a
            // valid value to fill in; sigaction with a null new action
            // only reads; `on_signal` has the SA_SIGINFO signature and is
            // async-signal-safe.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(SIGNAL, ptr::null(), &mut old);
                // Recorded before ours goes in, so the handler finds it.
                let _ = PREV.set(old);
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_signal as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(SIGNAL, &new, ptr::null_mut());
            }
        });
        // SAFETY: an all-zero sigaction is a valid out-parameter; with a
        // null new action, sigaction only writes the current disposition
        // into `cur`.
        let cur = unsafe {
            let mut cur: libc::sigaction = std::mem::zeroed();
            libc::sigaction(SIGNAL, ptr::null(), &mut cur);
            cur
        };
        if cur.sa_sigaction != on_signal as *const () as usize {
            crate::throw(
                "the P slot's barrier: membarrier was refused, and SIGURG's handler, \
                 which replaces it, was replaced after weft installed it",
            );
        }
    }

    /// SIGURG's handler: answers the handshake asked of this thread, if
    /// any, after a `SeqCst` fence; then passes the signal on to the
    /// disposition it replaced. Async-signal-safe: atomics and gettid.
    extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // Acquire: pairs with the release in `interrupt`.
        let asked = ASKED.load(Ordering::Acquire);
        if asked != 0 && asked as u32 == gettid() as u32 {
            fence(Ordering::SeqCst);
            // Release: pairs with the acquire in `interrupt`.
            ANSWERED.store(asked, Ordering::Release);
        }
        // A kernel's SIGURG (urgent socket data) may have merged with ours.
        // SIGURG's default is to ignore it: nothing to do without a handler.
        if let Some(prev) = PREV.get() {
            // SAFETY: we are SIGURG's handler, called by the kernel with
            // these arguments; `prev` is the disposition ours replaced.
            unsafe { crate::stack::call_handler(prev, sig, info, ctx) };
        }
    }
}

/// The barrier as loom models it: no kernel, so the owner's thread takes
/// a remote's "signal" at its [`SpinCell::interruptible`] points, and
/// `membarrier` is the same interruption (a full fence on the owner's
/// thread at a point during the call is all it promises).
#[cfg(loom)]
mod barrier {
    use crate::loom::sync::atomic::{fence, AtomicBool, Ordering};

    /// The owner's thread: a request for an interruption, its answer, and
    /// whether `membarrier` works (the model's choice).
    pub(super) struct Owner {
        asked: AtomicBool,
        answered: AtomicBool,
        membarrier: bool,
    }

    impl Owner {
        pub(super) fn new(membarrier: bool) -> Owner {
            Owner {
                asked: AtomicBool::new(false),
                answered: AtomicBool::new(false),
                membarrier,
            }
        }

        /// The handler, if a request is pending: as the real one.
        pub(super) fn interruptible(&self) {
            if self.asked.load(Ordering::Acquire) {
                self.asked.store(false, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                self.answered.store(true, Ordering::Release);
            }
        }
    }

    pub(super) fn init(_: bool) {}

    /// The owner's half: no compiler fence to model (loom runs each thread
    /// in program order), and a real fence on a fenced slot.
    pub(super) fn light(fenced: &AtomicBool) {
        if fenced.load(Ordering::Relaxed) {
            fence(Ordering::SeqCst);
        }
    }

    pub(super) fn membarrier(owner: &Owner) -> bool {
        if owner.membarrier {
            interrupt(owner);
        }
        owner.membarrier
    }

    pub(super) fn interrupt(owner: &Owner) {
        owner.asked.store(true, Ordering::Release);
        while !owner.answered.load(Ordering::Acquire) {
            crate::loom::thread::yield_now();
        }
        owner.answered.store(false, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{barrier, SpinCell};
    use std::ptr;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    type Pair = SpinCell<(u64, u64, u64)>;

    /// One remote look: takes the lock from another thread and checks the
    /// owner's two halves agree (a remote that ever got in between the
    /// owner's two writes would see them differ); counts itself in `.2`.
    fn look(cell: &Pair) {
        let mut g = cell.lock_remote();
        // SAFETY: the guard gives the only access to the tuple.
        let (a, b) = unsafe { (ptr::read_volatile(&g.0), ptr::read_volatile(&g.1)) };
        assert_eq!(a, b, "the remote got in between the owner's two writes");
        g.2 += 1;
    }

    /// One owner round: the pair's halves written in two separate stores.
    fn write(cell: &Pair) {
        let mut g = cell.lock();
        let v = g.0 + 1;
        // SAFETY: the guard gives the only access to the tuple.
        unsafe {
            ptr::write_volatile(&mut g.0, v);
            std::hint::spin_loop();
            ptr::write_volatile(&mut g.1, v);
        }
    }

    /// A remote comes rarely (sysmon: at most once a pass, 20 us apart);
    /// back to back it would starve the owner, whose retry needs the
    /// remote flag down for a moment.
    fn pause() {
        for _ in 0..2_000 {
            std::hint::spin_loop();
        }
    }

    /// The owner thread and a remote thread share one cell with the real
    /// barrier (membarrier where the kernel has it).
    #[test]
    fn owner_and_remote_exclude_each_other() {
        const OWNER_ROUNDS: u64 = 20_000_000;
        let cell = Arc::new(SpinCell::new((0u64, 0u64, 0u64)));
        let done = Arc::new(AtomicBool::new(false));
        let (c, d) = (cell.clone(), done.clone());
        let remote = std::thread::spawn(move || {
            let mut looks = 0u64;
            while !d.load(Ordering::Relaxed) || looks == 0 {
                look(&c);
                looks += 1;
                pause();
            }
            looks
        });
        for _ in 0..OWNER_ROUNDS {
            write(&cell);
        }
        done.store(true, Ordering::Relaxed);
        let looks = remote.join().unwrap();
        let v = *cell.lock();
        assert_eq!((v.0, v.1, v.2), (OWNER_ROUNDS, OWNER_ROUNDS, looks));
    }

    /// The fallback's switch with real threads and the real signal: each
    /// round, a fresh asymmetric slot whose first remote finds membarrier
    /// refused, turns the slot fenced and interrupts the owner's thread —
    /// at whatever point of its lock the owner is, taking it as fast as it
    /// can. Later remotes only fence. Every look checks the halves.
    #[test]
    fn owner_and_remote_exclude_each_other_across_the_switch() {
        const ROUNDS: usize = 300;
        const LOOKS: u64 = 4;
        for _ in 0..ROUNDS {
            let mut owner = barrier::Owner::current();
            owner.refused = true;
            let cell = Arc::new(SpinCell::made((0u64, 0u64, 0u64), false, owner));
            let looks = Arc::new(AtomicU64::new(0));
            let rounds = Arc::new(AtomicU64::new(0));
            let (c, l, r) = (cell.clone(), looks.clone(), rounds.clone());
            let remote = std::thread::spawn(move || {
                // Come while the owner is busy with the lock.
                while r.load(Ordering::Relaxed) < 1_000 {
                    std::hint::spin_loop();
                }
                for _ in 0..LOOKS {
                    look(&c);
                    l.fetch_add(1, Ordering::Relaxed);
                    pause();
                }
            });
            let mut n = 0u64;
            while looks.load(Ordering::Relaxed) < LOOKS {
                write(&cell);
                n += 1;
                rounds.store(n, Ordering::Relaxed);
            }
            remote.join().unwrap();
            assert!(
                cell.fenced.load(Ordering::Relaxed),
                "the slot did not switch"
            );
            let v = *cell.lock();
            assert_eq!((v.0, v.1, v.2), (n, n, LOOKS));
        }
    }
}
