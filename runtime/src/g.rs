//! G: one goroutine's record, and the three state words on it.
//!
//! Owns: the goroutine record (`G`), the raw handle the scheduler passes
//! around (`GPtr`), the per-thread "current goroutine" pointer, and the
//! protocols of the record's state words, each a small type with named
//! transitions:
//!
//! - [`ParkWord`]: the park/unpark handshake (`EMPTY`, `NOTIFIED`,
//!   `PARKED`); see `park.rs` for the whole protocol.
//! - [`Life`]: who still needs the record — the goroutine and its M, its
//!   `JoinHandle`, public `Unparker`s — whether a joiner waits, and who
//!   owns the result. When the last of them lets go, the record is
//!   *recycled* (Go's `gFree`): the next spawn on that P reuses it, so a
//!   spawn allocates nothing in the steady state.
//! - the result slot, where a finished goroutine leaves its return value
//!   (or panic) for `join`, inline when it is small. A result nobody will
//!   take is dropped by the goroutine itself, on its own stack
//!   ([`G::end_body`]): never by an M outside any goroutine.
//!
//! Records are recycled, never shared between two live goroutines: a record
//! goes back to a free list only when `Life` says nobody refers to it any
//! more. Raw `GPtr`s in run queues and wait records do not count as
//! references: the run queues hold a goroutine that is alive by definition,
//! and a wait record (`park::Waiter`) is touched by its waker only while its
//! goroutine is still inside the wait (see `park.rs`).
//!
//! `ParkWord` and `Life` take their atomics, and the result and joiner
//! slots their cells, from `crate::loom`, so that `runtime/tests/loom.rs`
//! model-checks these very types under loom, and every access to a slot.
//!
//! Must never: let two run queues hold one G, recycle a record that a
//! `JoinHandle` or `Unparker` still names or whose M is not done with it,
//! read the result slot before `Life` says the goroutine finished, or drop
//! a result outside its goroutine.

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::mem::{self, MaybeUninit};
use std::panic::Location;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};

use crate::coro::CoroCell;
use crate::loom::cell as model_cell;
use crate::loom::sync::atomic as model;

/// A goroutine's id, unique for the life of the process (Go's `goid`).
///
/// ```
/// let h = weft::spawn(|| weft::current_id().unwrap());
/// let id = h.id();
/// assert_eq!(h.join().unwrap(), id);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GoId(pub(crate) u64);

impl GoId {
    /// The id as a number, as Go prints it.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for GoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a goroutine is parked, as Go's dumps and deadlock report print it.
///
/// ```
/// assert_eq!(weft::WaitReason::ChanReceive.to_string(), "chan receive");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum WaitReason {
    /// Not waiting.
    None = 0,
    /// `rx.recv()` on an empty channel.
    ChanReceive,
    /// `tx.send(v)` with no room and no receiver.
    ChanSend,
    /// A receive from a `never()` channel.
    ChanReceiveNilChan,
    /// A send on a `never_sender()` channel.
    ChanSendNilChan,
    /// `select!` with no ready case.
    Select,
    /// `select! {}`.
    SelectNoCases,
    /// `JoinHandle::join` on an unfinished goroutine.
    Join,
    /// `Mutex::lock`.
    SyncMutexLock,
    /// `RwLock::read`.
    SyncRWMutexRLock,
    /// `RwLock::write`.
    SyncRWMutexLock,
    /// `WaitGroup::wait`.
    SyncWaitGroupWait,
    /// `Cond::wait`.
    SyncCondWait,
    /// `Semaphore::acquire`, `Once`, and other semaphore waits.
    Semacquire,
    /// `time::sleep`.
    Sleep,
    /// Waiting for a socket to become ready.
    IoWait,
    /// A plain park with no more specific reason.
    Park,
}

impl WaitReason {
    /// Go's words for this reason.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::None => "running",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::ChanReceiveNilChan => "chan receive (nil chan)",
            WaitReason::ChanSendNilChan => "chan send (nil chan)",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::Join => "goroutine join",
            WaitReason::SyncMutexLock => "sync.Mutex.Lock",
            WaitReason::SyncRWMutexRLock => "sync.RWMutex.RLock",
            WaitReason::SyncRWMutexLock => "sync.RWMutex.Lock",
            WaitReason::SyncWaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::SyncCondWait => "sync.Cond.Wait",
            WaitReason::Semacquire => "semacquire",
            WaitReason::Sleep => "sleep",
            WaitReason::IoWait => "IO wait",
            WaitReason::Park => "park",
        }
    }

    pub(crate) fn from_u8(v: u8) -> WaitReason {
        const ALL: [WaitReason; 17] = [
            WaitReason::None,
            WaitReason::ChanReceive,
            WaitReason::ChanSend,
            WaitReason::ChanReceiveNilChan,
            WaitReason::ChanSendNilChan,
            WaitReason::Select,
            WaitReason::SelectNoCases,
            WaitReason::Join,
            WaitReason::SyncMutexLock,
            WaitReason::SyncRWMutexRLock,
            WaitReason::SyncRWMutexLock,
            WaitReason::SyncWaitGroupWait,
            WaitReason::SyncCondWait,
            WaitReason::Semacquire,
            WaitReason::Sleep,
            WaitReason::IoWait,
            WaitReason::Park,
        ];
        ALL.get(v as usize).copied().unwrap_or(WaitReason::None)
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a goroutine is doing, for dumps and stats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum GStatus {
    /// In a run queue.
    Runnable = 0,
    /// On an M.
    Running = 1,
    /// Parked; see its wait reason.
    Waiting = 2,
    /// Finished (the record sits in a free list, or is about to).
    Dead = 3,
}

/// The park/unpark handshake of one goroutine (Go's `gopark`/`goready`
/// with a token, so a wake-up that comes early is never lost).
///
/// ```text
///   EMPTY --unpark--> NOTIFIED          (the G is running or parking: keep a token)
///   EMPTY --publish_parked (M)--> PARKED (the G is off its stack, waiting)
///   PARKED --unpark--> EMPTY            (the waker must ready the G: exactly once)
///   NOTIFIED --unpark--> NOTIFIED       (written again: releases this waker's writes)
///   NOTIFIED --publish_parked (M)--> EMPTY, refused: the M resumes the G itself
/// ```
pub(crate) struct ParkWord(model::AtomicU8);

const PARK_EMPTY: u8 = 0;
const PARK_NOTIFIED: u8 = 1;
const PARK_PARKED: u8 = 2;

impl ParkWord {
    pub(crate) fn new() -> ParkWord {
        ParkWord(model::AtomicU8::new(PARK_EMPTY))
    }

    /// A waker's side. Returns `true` when the G was parked: the caller now
    /// owns it and must make it runnable (exactly one waker gets `true`).
    #[inline]
    pub fn unpark(&self) -> bool {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            // A token already there is written again (NOTIFIED -> NOTIFIED)
            // rather than left alone: the write carries this waker's release
            // to whoever consumes the token (see `publish_parked`). Without
            // it the goroutine, resumed by an earlier waker's token, may miss
            // what this waker did before waking it and park for good —
            // a lost wake-up (runtime/tests/loom.rs,
            // `park_word_token_never_loses_a_wakeup`).
            let next = match cur {
                PARK_PARKED => PARK_EMPTY,
                _ => PARK_NOTIFIED,
            };
            // AcqRel: release publishes what the waker did before waking
            // (the resumed G acquires it through the run queue, or through
            // `publish_parked`'s consuming swap); acquire pairs with the M's
            // release in `publish_parked`.
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return cur == PARK_PARKED,
                Err(now) => cur = now,
            }
        }
    }

    /// The M's side, after the G switched away and its commit closure ran.
    /// `true`: the G is parked (a later `unpark` readies it). `false`: an
    /// unpark came first and left a token; it is consumed, and the M must
    /// run the G again instead of parking it.
    #[inline]
    pub fn publish_parked(&self) -> bool {
        match self
            .0
            .compare_exchange(PARK_EMPTY, PARK_PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                // Consume the token with a read-modify-write, not a plain
                // store: it reads the last waker's NOTIFIED (acquire), so the
                // G sees what every waker did before its `unpark` returned.
                self.0.swap(PARK_EMPTY, Ordering::Acquire);
                false
            }
        }
    }

    /// A fresh goroutine on a recycled record: forget any stale token.
    fn reset(&self) {
        self.0.store(PARK_EMPTY, Ordering::Relaxed);
    }
}

/// The lifetime and join word of a record: who may still touch it, and
/// how the result goes from the goroutine to its `JoinHandle`.
///
/// Four parties touch a record, each through named transitions:
///
/// - the **goroutine**, on its own stack, as the last act of its body:
///   [`Life::publish`] hands its stored result to the handle; or, if the
///   handle is gone, the goroutine takes the result back and drops it
///   there, as goroutine code: its `Drop` may park, block or panic like
///   any other ([`G::end_body`]).
/// - its **M**, after the goroutine's last switch, once done with the
///   coroutine and the stack: [`Life::exit`]; it then wakes the joiner, if
///   one waits.
/// - the **`JoinHandle`**: [`Life::announce_joiner`] before `join` parks.
///   Once FINISHED is seen it takes the result *while it still holds the
///   record*, and lets go after ([`Life::release_handle`]). Dropped
///   unjoined, [`Life::detach`] either lets go at once (not finished: the
///   goroutine will drop its own result) or reports FINISHED, and then the
///   handle takes the result and lets go as a joiner does
///   ([`G::drop_handle`]).
/// - public **`Unparker`s**, counted: [`Life::add_ext_ref`],
///   [`Life::drop_ext_ref`]. They touch only the state words.
///
/// ```text
///   bits: FINISHED | HANDLE_GONE | JOIN_WAITING | EXITED | (Unparkers) << 4
///
///   goroutine  end of body   fetch_or +FINISHED; HANDLE_GONE was set: drop the result here
///   M          exit          fetch_or +EXITED; wake the joiner if JOIN_WAITING
///   handle     join          CAS +JOIN_WAITING, refused if FINISHED; park;
///                            then take the result; fetch_or +HANDLE_GONE
///              drop          FINISHED: take the result; fetch_or +HANDLE_GONE
///                            else CAS +HANDLE_GONE, refused if FINISHED
///   Unparker   clone / drop  fetch_add / fetch_sub one
///
///   recycled by whoever turns the word into EXITED | HANDLE_GONE with no Unparker left
/// ```
///
/// Why no party touches a recycled record (runtime/tests/loom.rs checks
/// this order in its `life_*` models):
///
/// 1. The record is recycled only once EXITED and HANDLE_GONE are set and
///    no `Unparker` is left, by the one party whose read-modify-write of
///    the word made it so. (One exception, [`Life::exit`]'s fast path: an
///    M that finds HANDLE_GONE and no `Unparker` recycles after a load,
///    because nobody else can change the word any more.)
/// 2. The goroutine touches the record only before its last switch, and
///    the M sets EXITED after it, once done with the coroutine and the
///    stack. The M touches nothing after [`Life::exit`] except the
///    joiner's slot, and that only while the joiner waits, holding the
///    handle: HANDLE_GONE is clear, so nobody recycles meanwhile.
/// 3. The handle reads the result only between seeing FINISHED (acquire)
///    and setting HANDLE_GONE (release), so never after a recycle. A
///    handle that lets go of an unfinished goroutine does it with a CAS
///    refused if FINISHED arrived meanwhile.
/// 4. The goroutine publishes with a read-modify-write that also tells it
///    whether HANDLE_GONE came first. With 3, the result is taken by
///    exactly one party: the handle (its `detach` or join saw FINISHED)
///    or the goroutine (its publish saw HANDLE_GONE) — never the M,
///    which runs no user code outside a goroutine.
/// 5. EXITED comes after FINISHED or HANDLE_GONE (by 4, one of them was
///    set when the body ended). So a `detach` that finds neither never
///    recycles, and an `exit` that finds JOIN_WAITING never does (the
///    joiner holds the handle).
pub(crate) struct Life(model::AtomicU64);

/// The body ended; unless HANDLE_GONE came first, its result waits in
/// the slot for the handle.
const FINISHED: u64 = 1;
/// The handle was joined or dropped; it never touches the record again.
const HANDLE_GONE: u64 = 2;
/// A joiner parked; its wait record is in `G::joiner`.
const JOIN_WAITING: u64 = 4;
/// The goroutine's M is done with the record and the stack.
const EXITED: u64 = 8;
/// One public `Unparker` (counted above the flags).
const EXT_REF: u64 = 16;

/// What [`Life::exit`] asks of the M.
pub(crate) struct Exit {
    /// A joiner waits: wake it (`G::wake_joiner`). The record stays alive
    /// until the wake is done (the joiner holds the handle).
    pub joiner: bool,
    pub release: Release,
}

/// What a transition of [`Life`] asks of its caller.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Release {
    /// Someone else still refers to the record.
    Keep,
    /// The caller was the last one: recycle the record.
    Recycle,
}

/// What [`Life::detach`] found.
pub(crate) enum Detach {
    /// The handle let go of an unfinished goroutine, which will drop its
    /// own result. Never the last party (rule 5 above).
    Detached,
    /// The goroutine has finished: the result is the handle's. It still
    /// holds the record: take the result, then [`Life::release_handle`].
    Finished,
}

impl Life {
    pub(crate) fn new() -> Life {
        Life(model::AtomicU64::new(0))
    }

    fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    fn release_if_done(word: u64) -> Release {
        if word & (EXITED | HANDLE_GONE) == EXITED | HANDLE_GONE && word < EXT_REF {
            Release::Recycle
        } else {
            Release::Keep
        }
    }

    /// Whether the handle is gone, for the goroutine as its body ends (a
    /// hint that spares storing a result nobody will take). Relaxed: the
    /// flag is never cleared in an incarnation, and a handle that set it
    /// before FINISHED took nothing from the record.
    #[inline]
    pub fn handle_gone(&self) -> bool {
        self.0.load(Ordering::Relaxed) & HANDLE_GONE != 0
    }

    /// The goroutine, on its own stack, its result stored: hands it to the
    /// handle. `false`: the handle is gone, nobody will take the result;
    /// the goroutine takes it back and drops it.
    #[inline]
    pub fn publish(&self) -> bool {
        // Release: the result (and all the goroutine did) is visible to the
        // handle that sees FINISHED with acquire (`detach`, `is_finished`,
        // `announce_joiner`). A handle that let go before this saw no
        // FINISHED (`detach` refuses to let go once it is set), so it
        // never takes the result: FINISHED beside HANDLE_GONE is read by
        // nobody.
        let prev = self.0.fetch_or(FINISHED, Ordering::Release);
        prev & HANDLE_GONE == 0
    }

    /// The M, after the goroutine's last switch, done with the coroutine
    /// and the stack. After this it may touch the record only to wake the
    /// joiner [`Exit`] reports, and to recycle it if told to.
    #[inline]
    pub fn exit(&self) -> Exit {
        // Acquire: pairs with the release of the handle's and the last
        // `Unparker`'s transitions, for the fast path's recycle.
        let cur = self.0.load(Ordering::Acquire);
        if cur & HANDLE_GONE != 0 && cur < EXT_REF {
            // Nobody else can change the word any more: the handle is gone,
            // and no `Unparker` exists or can be made (only the goroutine,
            // now gone, makes a first one; a clone needs one). No joiner
            // waits either: it would hold the handle.
            debug_assert_eq!(cur & JOIN_WAITING, 0, "a joiner without a handle");
            return Exit {
                joiner: false,
                release: Release::Recycle,
            };
        }
        // AcqRel: release orders the goroutine's touches and ours before
        // those of whoever recycles the record (its acquire); acquire pairs
        // with the handle's and the `Unparker`s' releases when we recycle,
        // and with the joiner's release of its wait record (`G::joiner`,
        // stored before `announce_joiner`).
        let prev = self.0.fetch_or(EXITED, Ordering::AcqRel);
        Exit {
            joiner: prev & JOIN_WAITING != 0,
            release: Self::release_if_done(prev | EXITED),
        }
    }

    /// The handle is dropped unjoined: lets go at once if the goroutine has
    /// not finished, else reports [`Detach::Finished`] and keeps holding.
    #[inline]
    pub fn detach(&self) -> Detach {
        // Acquire (here and on a refused CAS): the result is visible once
        // FINISHED is seen (pairs with `publish`).
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            if cur & FINISHED != 0 {
                return Detach::Finished;
            }
            // Release: the handle's touches of the record (this word's
            // loads, in the models a check of the record) happen before
            // whoever recycles it acquires HANDLE_GONE.
            match self.0.compare_exchange_weak(
                cur,
                cur | HANDLE_GONE,
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => return Detach::Detached,
                Err(now) => cur = now,
            }
        }
    }

    /// The handle, having taken the result of a finished goroutine (joined,
    /// or dropped after [`Detach::Finished`]), lets go.
    #[inline]
    pub fn release_handle(&self) -> Release {
        // AcqRel: release orders our take of the result before whoever
        // recycles; acquire pairs with the M's EXITED and the `Unparker`s'
        // releases when we recycle.
        let prev = self.0.fetch_or(HANDLE_GONE, Ordering::AcqRel);
        Self::release_if_done(prev | HANDLE_GONE)
    }

    /// Whether the goroutine has finished (acquire: its result is visible).
    pub fn is_finished(&self) -> bool {
        self.0.load(Ordering::Acquire) & FINISHED != 0
    }

    /// A joiner announces itself, its wait record already stored in
    /// `G::joiner`. `false`: the goroutine finished first; take the result.
    pub fn announce_joiner(&self) -> bool {
        // Acquire (the load and a refused CAS): FINISHED seen means the
        // result is visible (pairs with `publish`).
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            if cur & FINISHED != 0 {
                return false;
            }
            // Release: the wait record in `G::joiner` is visible to the M
            // that sees JOIN_WAITING (its `exit` acquires).
            match self.0.compare_exchange_weak(
                cur,
                cur | JOIN_WAITING,
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// A public `Unparker` starts naming this record. Relaxed, as an `Arc`
    /// clone: the caller already holds the record (it is the running
    /// goroutine, or clones an `Unparker`), so it cannot be recycled
    /// meanwhile.
    pub fn add_ext_ref(&self) {
        self.0.fetch_add(EXT_REF, Ordering::Relaxed);
    }

    /// A public `Unparker` stops naming this record.
    pub fn drop_ext_ref(&self) -> Release {
        // AcqRel: release orders this `Unparker`'s touches (of the park
        // word) before whoever recycles; acquire pairs with the others'
        // releases when we recycle.
        let prev = self.0.fetch_sub(EXT_REF, Ordering::AcqRel);
        Self::release_if_done(prev - EXT_REF)
    }
}

/// Bytes of a goroutine's result stored inline in its record; larger
/// results are boxed.
const RESULT_INLINE: usize = 4 * mem::size_of::<usize>();

/// Where a finished goroutine leaves its result: `R` inline when it fits
/// (`()`, numbers, small structs, a panic payload), else a `Box<R>`.
/// (The cell is loom's under `--cfg loom`: the models see every access.)
struct ResultSlot(model_cell::UnsafeCell<MaybeUninit<[usize; 4]>>);

impl ResultSlot {
    const fn fits<R>() -> bool {
        mem::size_of::<R>() <= RESULT_INLINE && mem::align_of::<R>() <= mem::align_of::<usize>()
    }

    /// # Safety
    /// The slot is empty and nobody else touches it until the caller
    /// publishes it (through [`Life::publish`]).
    unsafe fn put<R>(&self, r: R) {
        self.0.get_mut().with(|p| {
            let p = p.cast::<u8>();
            // SAFETY: exclusive access (the caller's contract); the buffer
            // is `RESULT_INLINE` bytes aligned to `usize`, and `fits` checks
            // both for the inline case; a `Box` pointer always fits.
            unsafe {
                if Self::fits::<R>() {
                    ptr::write(p.cast::<R>(), r);
                } else {
                    ptr::write(p.cast::<*mut R>(), Box::into_raw(Box::new(r)));
                }
            }
        })
    }

    /// # Safety
    /// The slot holds an `R` put by [`ResultSlot::put`], which the caller
    /// owns (after [`Life`] said so) and takes once.
    unsafe fn take<R>(&self) -> R {
        self.0.get_mut().with(|p| {
            let p = p.cast::<u8>();
            // SAFETY: the caller's contract: the slot holds the `R` that
            // `put` stored (inline if `fits::<R>()`, else a `Box<R>`
            // pointer: the same test `put` made), the caller owns it and
            // takes it this once, so the value is moved out exactly once.
            unsafe {
                if Self::fits::<R>() {
                    ptr::read(p.cast::<R>())
                } else {
                    *Box::from_raw(ptr::read(p.cast::<*mut R>()))
                }
            }
        })
    }
}

/// A goroutine record.
pub(crate) struct G {
    /// The park/unpark handshake.
    pub park: ParkWord,
    status: AtomicU8,
    wait_reason: AtomicU8,
    /// The coroutine; only the M running this G touches it.
    pub coro: CoroCell<Switch>,
    /// This incarnation's id (records are recycled; dumps read it racily).
    id: AtomicU64,
    spawn_site: AtomicPtr<Location<'static>>,
    /// Nanoseconds on the coarse clock when the current wait began.
    wait_since: AtomicU64,
    /// A name and a non-default stack size, set at allocation and never
    /// changed: records that have them are freed, not recycled. Boxed, so
    /// the common record (neither) is smaller: a million parked goroutines
    /// pay for this pointer, not for the fields.
    extra: Option<Box<Extra>>,
    pub life: Life,
    /// How to wake the joiner, valid while `Life` has `JOIN_WAITING`: its
    /// wait record and the function that wakes it (the layer above the
    /// scheduler provides both, so the record's type stays out of here).
    joiner: model_cell::UnsafeCell<Joiner>,
    result: ResultSlot,
    /// Where this G sits in the goroutine registry (`dump.rs`).
    /// (`u32`: with the three one-byte words above it fills one word; the
    /// registry never holds 4 G records.)
    pub reg_slot: AtomicU32,
    /// While locked (`lock_os_thread`): the M this goroutine is wired to (an
    /// erased `&'static sched::m::MLocal`; Go's `lockedm`). Read by any M
    /// that takes the goroutine from a run queue, which then hands it and
    /// its own P to that M. Null otherwise: one relaxed load in `execute`.
    locked_m: AtomicPtr<()>,
    /// This goroutine's `goroutine_local!` values (an erased map owned by
    /// `local.rs`), null until the first is touched. Only the goroutine
    /// itself reads or writes it; it is emptied and reset to null as the
    /// goroutine's body ends, before the record can be recycled.
    locals: UnsafeCell<*mut ()>,
}

#[cfg(test)]
#[test]
fn a_record_is_small() {
    // A million parked goroutines each pay for one: keep it small (issue 14's memory goal is 4.2 KB per parked goroutine, and the
    // stack's first page takes 4 KB of that). 184 bytes is what fits the
    // allocator's 192-byte chunk (glibc adds 8 bytes of header): the memory
    // row read 4.196 KB at both 176 and 184 bytes.
    // Under ASan or TSan the record also carries the fiber state
    // (stack/asan.rs, stack/tsan.rs).
    let n = std::mem::size_of::<G>();
    let max = if cfg!(any(weft_asan, weft_tsan)) {
        264
    } else {
        184
    };
    assert!(n <= max, "G is {n} bytes");
}

// The non-`Sync` fields, and who touches them when: `coro` (only the M
// that owns the G, coro.rs invariant 1); `joiner` (written by the one
// joiner before it releases JOIN_WAITING, read by the M after `Life::exit`
// acquired it); `result` (written by the goroutine before `Life::publish`
// releases FINISHED, then taken once: by the handle after acquiring
// FINISHED, or by the goroutine itself when `publish` refused); `locals`
// (only the goroutine itself). See `Life`'s rules 2-4.
// SAFETY: each of those has one accessor at a time, ordered as just said.
unsafe impl Sync for G {}
// SAFETY: nothing in a G is tied to the thread that made it: its
// coroutine moves between threads by design (coro.rs invariant 2), and
// every other field is plain data, atomics or the cells ordered above.
unsafe impl Send for G {}

/// The rare parts of a record (see `G::extra`).
struct Extra {
    name: Option<Box<str>>,
    stack_size: Option<usize>,
}

/// A raw handle to a goroutine record: what run queues, `runnext` and wait
/// records hold. Copying it takes no reference (see the module comment).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct GPtr(NonNull<G>);

// SAFETY: a `GPtr` is a pointer to a `G`, which is `Send` and `Sync`;
// when it may be dereferenced is the rule at `Deref` below, whichever
// thread holds it.
unsafe impl Send for GPtr {}
// SAFETY: a shared `GPtr` only gives out copies of itself: as for `Send`,
// the rule at `Deref` decides when they may be dereferenced.
unsafe impl Sync for GPtr {}

impl std::ops::Deref for GPtr {
    type Target = G;
    #[inline]
    fn deref(&self) -> &G {
        // SAFETY: a record is freed (`GPtr::free`) or reused (after
        // `sched::free_g`) only once `Life` returned `Recycle`: after its
        // M's EXITED, its handle's HANDLE_GONE and its last `Unparker`. A
        // `GPtr` is dereferenced only by one of those parties before it lets
        // go, or on its behalf: the running goroutine (`g::current`) and its
        // M (until `Life::exit`, then only to wake the joiner it reports, or
        // to recycle); a run queue or `runnext` slot (it holds a goroutine
        // that has not exited, and gives it to the M that resumes it); a
        // wait record (its waker touches the goroutine only while it is
        // inside the wait, `park.rs`); a `JoinHandle` (until HANDLE_GONE);
        // an `Unparker` (counted in `Life`); the registry (`sched/allgs.rs`,
        // which a record leaves before `GPtr::free`).
        unsafe { self.0.as_ref() }
    }
}

impl fmt::Debug for GPtr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "G({})", self.id())
    }
}

impl GPtr {
    pub fn as_ptr(self) -> *mut G {
        self.0.as_ptr()
    }

    /// Frees a record that will not be recycled (it has a name or a custom
    /// stack size, or a free list is full).
    ///
    /// # Safety
    /// Nobody refers to the record any more (`Life` returned `Recycle`) and
    /// it has left the registry.
    pub unsafe fn free(self) {
        // SAFETY: allocated by `G::alloc` with `Box::into_raw`; the contract
        // says this is the last use.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

impl G {
    /// A fresh record (not yet registered, not yet started).
    pub fn alloc(name: Option<Box<str>>, stack_size: Option<usize>) -> GPtr {
        let g = Box::new(G {
            park: ParkWord::new(),
            status: AtomicU8::new(GStatus::Dead as u8),
            wait_reason: AtomicU8::new(WaitReason::None as u8),
            coro: CoroCell::empty(),
            id: AtomicU64::new(0),
            spawn_site: AtomicPtr::new(ptr::null_mut()),
            wait_since: AtomicU64::new(0),
            extra: (name.is_some() || stack_size.is_some())
                .then(|| Box::new(Extra { name, stack_size })),
            life: Life::new(),
            joiner: model_cell::UnsafeCell::new(Joiner {
                record: ptr::null(),
                wake: no_joiner,
            }),
            result: ResultSlot(model_cell::UnsafeCell::new(MaybeUninit::uninit())),
            reg_slot: AtomicU32::new(u32::MAX),
            locked_m: AtomicPtr::new(ptr::null_mut()),
            locals: UnsafeCell::new(ptr::null_mut()),
        });
        GPtr(NonNull::from(Box::leak(g)))
    }

    /// Starts a new incarnation on this record: fresh id, spawn site and
    /// state words. The caller (the spawner) owns the record exclusively.
    pub fn begin(&self, id: GoId, site: &'static Location<'static>) {
        self.id.store(id.0, Ordering::Relaxed);
        self.spawn_site.store(
            site as *const Location<'static> as *mut _,
            Ordering::Relaxed,
        );
        self.park.reset();
        self.life.reset();
        self.wait_reason
            .store(WaitReason::None as u8, Ordering::Relaxed);
        self.status
            .store(GStatus::Runnable as u8, Ordering::Relaxed);
    }

    /// Whether this record may go back to a free list for reuse (only
    /// plain records: a name or a custom stack size stay with one
    /// goroutine).
    pub fn recyclable(&self) -> bool {
        self.extra.is_none()
    }

    pub fn id(&self) -> GoId {
        GoId(self.id.load(Ordering::Relaxed))
    }

    pub fn name(&self) -> Option<&str> {
        self.extra.as_ref()?.name.as_deref()
    }

    /// The requested stack size, or `None` for the runtime default.
    pub fn stack_size(&self) -> Option<usize> {
        self.extra.as_ref()?.stack_size
    }

    pub fn spawn_site(&self) -> Option<&'static Location<'static>> {
        let p = self.spawn_site.load(Ordering::Relaxed);
        // SAFETY: only ever set from a `&'static Location`.
        unsafe { p.as_ref() }
    }

    pub fn status(&self) -> GStatus {
        match self.status.load(Ordering::Relaxed) {
            0 => GStatus::Runnable,
            1 => GStatus::Running,
            2 => GStatus::Waiting,
            _ => GStatus::Dead,
        }
    }

    #[inline]
    pub fn set_status(&self, s: GStatus) {
        self.status.store(s as u8, Ordering::Relaxed);
    }

    pub fn wait_reason(&self) -> WaitReason {
        WaitReason::from_u8(self.wait_reason.load(Ordering::Relaxed))
    }

    #[inline]
    pub fn set_wait_reason(&self, r: WaitReason) {
        self.wait_reason.store(r as u8, Ordering::Relaxed);
        if r != WaitReason::None {
            self.wait_since
                .store(crate::clock::coarse_now(), Ordering::Relaxed);
        }
    }

    /// When the current wait began, on the coarse clock.
    pub fn wait_since(&self) -> u64 {
        self.wait_since.load(Ordering::Relaxed)
    }

    /// The M this goroutine is locked to (erased), or null: one relaxed
    /// load, the only cost of the feature on the scheduler's hot path.
    #[inline]
    pub fn locked_m(&self) -> *const () {
        self.locked_m.load(Ordering::Relaxed)
    }

    /// Wires this goroutine to an M (non-null) or unwires it (null). The
    /// goroutine itself does it while running on that M; a queue hand-over
    /// (release/acquire) publishes it to whichever M takes the G next.
    pub fn set_locked_m(&self, m: *const ()) {
        self.locked_m.store(m.cast_mut(), Ordering::Relaxed);
    }

    /// The goroutine-local map (erased; null when none was made).
    ///
    /// # Safety
    /// Called by the goroutine itself (or, as its body ends, on its stack).
    #[inline]
    pub unsafe fn locals(&self) -> *mut () {
        // SAFETY: only the goroutine touches `locals` (the caller's contract).
        unsafe { *self.locals.get() }
    }

    /// Replaces the goroutine-local map, returning the old one.
    ///
    /// # Safety
    /// As for [`G::locals`].
    pub unsafe fn set_locals(&self, map: *mut ()) -> *mut () {
        // SAFETY: only the goroutine itself touches `locals` (the caller's
        // contract), so this `&mut` is the one access.
        unsafe { std::mem::replace(&mut *self.locals.get(), map) }
    }

    /// The goroutine's last act, on its own stack: hands its result to the
    /// handle (`None`), or gives it back (`Some`) when the handle is gone
    /// — then the caller, still the goroutine, drops it.
    ///
    /// # Safety
    /// Called once per incarnation, by the goroutine itself, with the `R`
    /// its `JoinHandle` will take.
    #[inline]
    pub unsafe fn end_body<R>(&self, r: R) -> Option<R> {
        if self.life.handle_gone() {
            return Some(r);
        }
        // SAFETY: the slot is empty (one call per incarnation), and nobody
        // else touches it until `publish` sets FINISHED (`Life` rule 3).
        unsafe { self.result.put(r) };
        if self.life.publish() {
            return None;
        }
        // SAFETY: the handle went before FINISHED was set, so it never
        // takes the result (`Life` rule 3): it is still ours, an `R`.
        Some(unsafe { self.result.take() })
    }

    /// The handle is dropped unjoined (`JoinHandle::drop`): returns the
    /// result if the goroutine had finished (the caller drops it, after
    /// acting on the returned [`Release`]), and what to do with the record.
    ///
    /// # Safety
    /// Called once, by the handle's owner, with the `R` the result was
    /// stored as.
    #[inline]
    pub unsafe fn drop_handle<R>(&self) -> (Option<R>, Release) {
        match self.life.detach() {
            Detach::Detached => (None, Release::Keep),
            Detach::Finished => {
                // SAFETY: `detach` saw FINISHED (acquire: the result is
                // there, an `R` by the contract) and left HANDLE_GONE clear,
                // so the record cannot be recycled before `take_joined` lets
                // go, after the take.
                let (r, release) = unsafe { self.take_joined::<R>() };
                (Some(r), release)
            }
        }
    }

    /// The handle of a finished goroutine (joined, or dropped): takes the
    /// result, then lets go of the record.
    ///
    /// # Safety
    /// Called once, by the handle's owner, after `Life` showed FINISHED
    /// with acquire, with the `R` the result was stored as.
    pub unsafe fn take_joined<R>(&self) -> (R, Release) {
        // SAFETY: FINISHED was seen with acquire (the contract), so the
        // result is there; it is taken once (the handle is consumed), and
        // the record is held until `release_handle` below.
        let r = unsafe { self.result.take::<R>() };
        (r, self.life.release_handle())
    }

    /// What a recycle and the next spawn do to the record, for the loom
    /// models (`loom_api::Record::recycle`): a new incarnation begins, and
    /// writes its result and joiner slots.
    #[cfg(loom)]
    pub(crate) fn model_reuse(&self) {
        self.begin(GoId(2), Location::caller());
        // SAFETY: the model recycled the record: the slots are the new
        // incarnation's (loom reports an old access not ordered before).
        unsafe {
            self.result.put(0u64);
            let _ = self.result.take::<u64>();
            self.set_joiner(Joiner {
                record: ptr::null(),
                wake: no_joiner,
            });
        }
    }

    /// Whether the state words are as [`G::model_reuse`] left them.
    #[cfg(loom)]
    pub(crate) fn model_is_fresh(&self) -> bool {
        self.life.0.load(Ordering::Relaxed) == 0
    }

    /// Stores how to wake the joiner before [`Life::announce_joiner`].
    ///
    /// # Safety
    /// Only the one joiner (the `JoinHandle`'s owner) calls this, before
    /// announcing itself.
    pub unsafe fn set_joiner(&self, j: Joiner) {
        // SAFETY: only the joiner writes, and only before the release in
        // `announce_joiner`; the finisher reads after acquiring it.
        self.joiner.get_mut().with(|p| unsafe { *p = j })
    }

    /// Wakes the joiner, after [`Life::exit`] reported one.
    ///
    /// # Safety
    /// `exit` reported a joiner, and this is the only call for it.
    pub unsafe fn wake_joiner(&self) {
        // SAFETY: the joiner wrote its slot before releasing JOIN_WAITING,
        // which `Life::exit` acquired; it writes no more (it waits).
        let j = self.joiner.get_mut().with(|p| unsafe { *p });
        // SAFETY: `j.record` is the joiner's wait record, valid while it
        // waits: until this wake, its only one (`Joiner::wake`'s contract).
        unsafe { (j.wake)(j.record) }
    }
}

/// A joiner's wait record and the function that wakes it.
#[derive(Clone, Copy)]
pub(crate) struct Joiner {
    pub record: *const (),
    /// # Safety
    /// Called once, with `record`, while its owner waits.
    pub wake: unsafe fn(*const ()),
}

/// The `Joiner::wake` of a record nobody joins.
unsafe fn no_joiner(_: *const ()) {}

thread_local! {
    /// The goroutine running on this thread, if any. Cleared inside
    /// `blocking()`, where the goroutine behaves as a plain thread.
    static CURRENT: Cell<Option<GPtr>> = const { Cell::new(None) };
    /// The goroutine whose `blocking()` call this thread is running, if
    /// any: what it still is for its id, goroutine-locals and
    /// `lock_os_thread`.
    static BLOCKED: Cell<Option<GPtr>> = const { Cell::new(None) };
}

/// The goroutine running on this thread, if any: `None` inside its
/// `blocking()` calls, where it must not switch (see [`owner`]).
///
/// `#[inline(never)]`: a goroutine may resume on another thread between two
/// calls, and the compiler must not reuse the first thread's TLS address.
#[inline(never)]
pub(crate) fn current() -> Option<GPtr> {
    CURRENT.with(|c| c.get())
}

/// Sets the goroutine running on this thread (the M, around a resume).
/// Returns the previous value.
#[inline(never)]
pub(crate) fn set_current(g: Option<GPtr>) -> Option<GPtr> {
    CURRENT.with(|c| c.replace(g))
}

/// `blocking()` begins (`Some(g)`: `g` now behaves as a plain thread) or
/// ends (`None`: `g` is the current goroutine again).
#[inline(never)]
pub(crate) fn set_blocking(g: Option<GPtr>) {
    match g {
        Some(g) => {
            CURRENT.with(|c| c.set(None));
            BLOCKED.with(|c| c.set(Some(g)));
        }
        None => {
            let g = BLOCKED.with(|c| c.take());
            CURRENT.with(|c| c.set(g));
        }
    }
}

/// The goroutine this thread runs, also inside its `blocking()` calls:
/// whose id (`weft::current_id`), goroutine-locals and OS-thread lock
/// apply here. Whether code runs on a goroutine's stack, free to switch,
/// is [`current`]'s question.
#[inline(never)]
pub(crate) fn owner() -> Option<GPtr> {
    CURRENT
        .with(|c| c.get())
        .or_else(|| BLOCKED.with(|c| c.get()))
}

/// A slot holding at most one G, which other threads may take (a P's
/// `runnext`).
pub(crate) struct GSlot(AtomicPtr<G>);

impl GSlot {
    pub const fn new() -> GSlot {
        GSlot(AtomicPtr::new(ptr::null_mut()))
    }

    /// Puts `g` in the slot, returning what was there.
    #[inline]
    pub fn swap(&self, g: Option<GPtr>) -> Option<GPtr> {
        let new = g.map_or(ptr::null_mut(), GPtr::as_ptr);
        let old = self.0.swap(new, Ordering::AcqRel);
        NonNull::new(old).map(GPtr)
    }

    /// Takes the G, if any.
    #[inline]
    pub fn take(&self) -> Option<GPtr> {
        if self.0.load(Ordering::Relaxed).is_null() {
            return None;
        }
        self.swap(None)
    }

    pub fn is_empty(&self) -> bool {
        self.0.load(Ordering::Acquire).is_null()
    }
}

/// Why a goroutine gave control back to its M.
pub(crate) enum Switch {
    /// `yield_now`: requeue at the back of the local run queue.
    Yield,
    /// Park: run the commit closure, then wait for an unpark.
    Park(crate::coro::Commit),
    /// Continuation stealing: queue this goroutine, run the child now.
    Spawn(GPtr),
    /// Back from `blocking()` and no P to run on: queue this goroutine on
    /// the global queue; the M goes idle.
    Requeue,
}
