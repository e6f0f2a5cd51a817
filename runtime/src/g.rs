//! G: one goroutine's identity and state.
//!
//! Owns: the goroutine record shared (by `Arc`) between the run queues, the M
//! running it and any `Unparker` that may wake it. The coroutine itself lives
//! in a [`CoroCell`](crate::coro::CoroCell) that only the M running the G may
//! touch (see `coro.rs`).
//!
//! The state words:
//! - `status`: what a dump shows — runnable, running, waiting, dead. Written by
//!   the scheduler only; read by anyone (relaxed: it is informational).
//! - `park`: the park/unpark handshake, see [`crate::park`]. `EMPTY` while the
//!   G runs or sits in a run queue; `NOTIFIED` when an unpark arrived before
//!   the G finished parking; `PARKED` when the G is off its stack and only an
//!   unpark can make it runnable.
//!
//! Must never: hold the coroutine outside `CoroCell`, or let a `G` be in two
//! run queues at once (the `park` word guarantees a parked G is readied once).

use std::fmt;
use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use crate::coro::CoroCell;

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

    fn from_u8(v: u8) -> WaitReason {
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
    /// Finished.
    Dead = 3,
}

pub(crate) const PARK_EMPTY: u8 = 0;
pub(crate) const PARK_NOTIFIED: u8 = 1;
pub(crate) const PARK_PARKED: u8 = 2;

/// A goroutine.
pub(crate) struct G {
    pub id: GoId,
    pub name: Option<Box<str>>,
    pub spawn_site: &'static Location<'static>,
    /// Requested stack size, or `None` for the runtime default.
    pub stack_size: Option<usize>,
    status: AtomicU8,
    wait_reason: AtomicU8,
    /// Nanoseconds since the runtime's epoch when the current wait began.
    wait_since: AtomicU64,
    /// The park/unpark handshake word (`PARK_*`).
    pub park: AtomicU8,
    /// The coroutine; only the M running this G touches it.
    pub coro: CoroCell,
    /// Where this G sits in the goroutine registry (`dump.rs`).
    pub reg_slot: std::sync::atomic::AtomicUsize,
    /// With `WEFT_DEBUG=traceback=1`: where the G last parked.
    pub park_trace: std::sync::Mutex<Option<String>>,
}

/// A shared reference to a goroutine.
pub(crate) type GRef = Arc<G>;

impl G {
    pub fn new(
        id: GoId,
        name: Option<Box<str>>,
        spawn_site: &'static Location<'static>,
        stack_size: Option<usize>,
        coro: CoroCell,
    ) -> G {
        G {
            id,
            name,
            spawn_site,
            stack_size,
            status: AtomicU8::new(GStatus::Runnable as u8),
            wait_reason: AtomicU8::new(WaitReason::None as u8),
            wait_since: AtomicU64::new(0),
            park: AtomicU8::new(PARK_EMPTY),
            coro,
            reg_slot: std::sync::atomic::AtomicUsize::new(usize::MAX),
            park_trace: std::sync::Mutex::new(None),
        }
    }

    pub fn status(&self) -> GStatus {
        match self.status.load(Ordering::Relaxed) {
            0 => GStatus::Runnable,
            1 => GStatus::Running,
            2 => GStatus::Waiting,
            _ => GStatus::Dead,
        }
    }

    pub fn set_status(&self, s: GStatus) {
        self.status.store(s as u8, Ordering::Relaxed);
    }

    pub fn wait_reason(&self) -> WaitReason {
        WaitReason::from_u8(self.wait_reason.load(Ordering::Relaxed))
    }

    pub fn set_wait_reason(&self, r: WaitReason) {
        self.wait_reason.store(r as u8, Ordering::Relaxed);
        if r != WaitReason::None {
            self.wait_since.store(epoch_nanos(), Ordering::Relaxed);
        }
    }

    /// When the current wait began, as nanoseconds since the runtime's epoch.
    pub fn wait_since(&self) -> u64 {
        self.wait_since.load(Ordering::Relaxed)
    }
}

/// The wait's start on sysmon's coarse clock: one load, no clock read on
/// the park path (dumps print waits in minutes, as Go does).
fn epoch_nanos() -> u64 {
    crate::sched::coarse_now()
}

/// A slot holding at most one G, which other threads may take (a P's `runnext`).
pub(crate) struct GSlot(AtomicPtr<G>);

impl GSlot {
    pub const fn new() -> GSlot {
        GSlot(AtomicPtr::new(ptr::null_mut()))
    }

    /// Puts `g` in the slot, returning what was there.
    pub fn swap(&self, g: Option<GRef>) -> Option<GRef> {
        let new = g.map_or(ptr::null_mut(), |g| Arc::into_raw(g) as *mut G);
        let old = self.0.swap(new, Ordering::AcqRel);
        if old.is_null() {
            None
        } else {
            // SAFETY: every non-null pointer in the slot came from
            // `Arc::into_raw` above, and the swap made us its only holder.
            Some(unsafe { Arc::from_raw(old) })
        }
    }

    /// Takes the G, if any.
    pub fn take(&self) -> Option<GRef> {
        if self.0.load(Ordering::Relaxed).is_null() {
            return None;
        }
        self.swap(None)
    }

    pub fn is_empty(&self) -> bool {
        self.0.load(Ordering::Acquire).is_null()
    }
}

impl Drop for GSlot {
    fn drop(&mut self) {
        drop(self.take());
    }
}
