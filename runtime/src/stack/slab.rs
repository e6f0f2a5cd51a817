//! Slabs: the address space goroutine stacks are carved from, and their guards.
//!
//! Owns: every slab mapping (large `MAP_NORESERVE` anonymous mappings, never
//! unmapped), the choice of guard mechanism, the memory-map budget of the
//! `mprotect` fallback, the registry of slab ranges that the overflow
//! handler reads from a signal handler, and the errors that name the limit
//! (`RLIMIT_AS`, `vm.max_map_count`) that refused a slab.
//!
//! A slab holds stacks of one size. Slot `i` of a slab is
//! `[guard page | size bytes of stack]`; the stack grows down from the slot's
//! top towards its guard. Slots are carved one at a time, in address order,
//! and each gets its guard when it is carved:
//! - `MADV_GUARD_INSTALL` (Linux ≥ 6.13) puts a guard marker in the page
//!   table without splitting the mapping: a slab stays one map entry however
//!   many stacks it holds.
//! - Elsewhere `mprotect(PROT_NONE)` on the guard page, which splits the
//!   mapping (two map entries per stack). Those are counted against a budget
//!   taken from `vm.max_map_count`; past it carving fails with an error that
//!   names the sysctl. A stack without a guard is never handed out.
//!
//! Must never: unmap a slab (the registry is append-only, so the signal
//! handler can read it without locks), allocate or lock in [`guard_size_at`]
//! (it runs in a signal handler), or hand out a slot whose guard failed.

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::loom::sync::StdMutex;

/// `madvise` advice that installs guard markers (Linux ≥ 6.13; not yet in libc).
pub(super) const MADV_GUARD_INSTALL: libc::c_int = 102;

/// Address space a slab aims for. Virtual only: `MAP_NORESERVE`, and only
/// touched pages become resident.
const SLAB_BYTES: usize = 1 << 30;

/// If the kernel refuses a slab this big (strict overcommit), halve it down
/// to this before giving up.
const MIN_SLAB_STACKS: usize = 1;

/// How many slabs the registry can hold (at 1 GiB each: 8 TiB of stacks).
const MAX_SLABS: usize = 8192;

/// Map entries kept back from the `mprotect` budget for everything else in
/// the process (heap arenas, thread stacks, libraries), as a fraction.
const MAP_RESERVE_DIVISOR: usize = 8;

/// Map entries one `mprotect` guard can cost (it splits a mapping in three).
const MAPS_PER_GUARD: isize = 2;

/// The system page size.
pub(super) fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let p = PAGE.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let p = if p > 0 { p as usize } else { 4096 };
    PAGE.store(p, Ordering::Relaxed);
    p
}

/// How guard pages are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum GuardMode {
    /// `madvise(MADV_GUARD_INSTALL)`: no extra map entries.
    Madvise,
    /// `mprotect(PROT_NONE)`: two map entries per stack, within a budget.
    Mprotect,
}

/// The guard mechanism of this kernel, detected once.
pub(super) fn guard_mode() -> GuardMode {
    static MODE: OnceLock<GuardMode> = OnceLock::new();
    *MODE.get_or_init(detect_guard_mode)
}

fn detect_guard_mode() -> GuardMode {
    let page = page_size();
    let Ok(p) = map_noreserve(2 * page) else {
        return GuardMode::Mprotect;
    };
    // SAFETY: `p` is a fresh private mapping of two pages that nothing else
    // references; installing a guard in its first page affects only it.
    let r = unsafe { libc::madvise(p as *mut libc::c_void, page, MADV_GUARD_INSTALL) };
    // SAFETY: unmapping the probe mapping we just made; no references exist.
    unsafe { libc::munmap(p as *mut libc::c_void, 2 * page) };
    if r == 0 {
        GuardMode::Madvise
    } else {
        // EINVAL on kernels before 6.13; anything else: be conservative.
        GuardMode::Mprotect
    }
}

/// Maps `len` bytes of read-write, private, anonymous, unreserved memory.
fn map_noreserve(len: usize) -> io::Result<usize> {
    // SAFETY: an anonymous mapping at an address of the kernel's choosing
    // cannot alias any existing memory.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(p as usize)
    }
}

/// The `mprotect` fallback's map-entry budget.
pub(super) struct MapBudget {
    /// Map entries still available to guards; may dip below zero briefly.
    left: AtomicIsize,
    /// `vm.max_map_count` as read at start, for the error message.
    max: usize,
    /// Guards installed so far, for the error message.
    used: AtomicUsize,
}

impl MapBudget {
    /// A budget of `left` map entries under a limit of `max`.
    pub(super) const fn new(left: isize, max: usize) -> MapBudget {
        MapBudget {
            left: AtomicIsize::new(left),
            max,
            used: AtomicUsize::new(0),
        }
    }

    /// The process's budget: what `vm.max_map_count` leaves after the
    /// mappings that exist now and a reserve for the rest of the program.
    fn from_system() -> MapBudget {
        let max = read_usize("/proc/sys/vm/max_map_count").unwrap_or(65530);
        let now = std::fs::read("/proc/self/maps")
            .map(|m| m.iter().filter(|&&b| b == b'\n').count())
            .unwrap_or(0);
        let reserve = (max / MAP_RESERVE_DIVISOR).max(256);
        let left = max.saturating_sub(now).saturating_sub(reserve);
        MapBudget::new(left as isize, max)
    }

    /// Takes the map entries for one guard, or explains why it cannot.
    pub(super) fn take(&self) -> io::Result<()> {
        // Relaxed: a plain counter; the mappings themselves are the kernel's.
        if self.left.fetch_sub(MAPS_PER_GUARD, Ordering::Relaxed) < MAPS_PER_GUARD {
            self.left.fetch_add(MAPS_PER_GUARD, Ordering::Relaxed);
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!(
                    "weft: cannot guard another goroutine stack: this kernel lacks \
                     MADV_GUARD_INSTALL (Linux 6.13+), and the mprotect guard pages used \
                     instead ({} stacks so far, two memory mappings each) have used up \
                     the budget allowed by vm.max_map_count = {}; raise it, e.g. \
                     `sudo sysctl -w vm.max_map_count=4194304` (persist it in \
                     /etc/sysctl.d/), or keep fewer goroutines alive at once",
                    self.used.load(Ordering::Relaxed),
                    self.max
                ),
            ));
        }
        self.used.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Gives back what [`take`](Self::take) took, after a failed `mprotect`.
    fn give_back(&self) {
        self.left.fetch_add(MAPS_PER_GUARD, Ordering::Relaxed);
        self.used.fetch_sub(1, Ordering::Relaxed);
    }
}

fn read_usize(path: &str) -> Option<usize> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn system_budget() -> &'static MapBudget {
    static BUDGET: OnceLock<MapBudget> = OnceLock::new();
    BUDGET.get_or_init(MapBudget::from_system)
}

/// Where new stacks of one size come from: the uncarved tail of the current
/// slab. Protected by its size class's lock.
pub(super) struct Carver {
    /// Usable bytes per stack (a multiple of the page size).
    size: usize,
    /// Guard page plus stack.
    stride: usize,
    /// Next uncarved slot, and the end of the current slab.
    next: usize,
    end: usize,
}

impl Carver {
    /// A carver for stacks of `size` usable bytes (a page multiple).
    pub(super) fn new(size: usize) -> Carver {
        debug_assert!(size.is_multiple_of(page_size()) && size > 0);
        Carver {
            size,
            stride: size + page_size(),
            next: 0,
            end: 0,
        }
    }

    /// Usable bytes per stack.
    pub(super) fn size(&self) -> usize {
        self.size
    }

    /// Whether a slot is left in the current slab: the next
    /// [`Carver::reserve`] maps nothing.
    pub(super) fn has_uncarved(&self) -> bool {
        self.next + self.stride <= self.end
    }

    /// Reserves the address of one slot (mapping a new slab when the current
    /// one is used up). The slot has no guard yet: see [`install_guard`].
    pub(super) fn reserve(&mut self) -> io::Result<usize> {
        if !self.has_uncarved() {
            let (start, len) = self.map_slab()?;
            self.next = start;
            self.end = start + len;
        }
        let slot = self.next;
        self.next += self.stride;
        Ok(slot)
    }

    fn map_slab(&self) -> io::Result<(usize, usize)> {
        let mut per_slab = (SLAB_BYTES / self.stride).max(1);
        if let Some(room) = as_room() {
            if room < self.stride {
                return Err(no_room(self.size, room));
            }
            per_slab = per_slab.min(room / self.stride);
        }
        loop {
            let len = per_slab * self.stride;
            match map_noreserve(len) {
                Ok(start) => {
                    // SAFETY: a hint on our own fresh mapping: no huge pages,
                    // so touching one stack page never makes 2 MiB resident.
                    unsafe {
                        libc::madvise(start as *mut libc::c_void, len, libc::MADV_NOHUGEPAGE)
                    };
                    if let Err(e) = register(start, len, self.stride) {
                        // SAFETY: the slab was never registered or handed out.
                        unsafe { libc::munmap(start as *mut libc::c_void, len) };
                        return Err(e);
                    }
                    // The room seen before this slab took some of it.
                    ROOM_SEEN.store(0, Ordering::Relaxed);
                    return Ok((start, len));
                }
                Err(e) if per_slab > MIN_SLAB_STACKS => {
                    // Strict overcommit or a small address-space limit: try
                    // a smaller slab.
                    let _ = e;
                    per_slab /= 2;
                }
                Err(e) => return Err(map_refused(self.size, e)),
            }
        }
    }
}

/// The part of an `RLIMIT_AS` that a new slab may take, when the limit is
/// set: the limit, less what is mapped, less [`as_reserve`] for the heap
/// and threads. Without that reserve the slabs, halved until the kernel
/// accepts them, would take every byte the limit leaves and the next
/// `malloc` would abort the process; with it, a spawn fails first, with an
/// error the spawner sees. `None`: no limit (or it cannot be read).
fn as_room() -> Option<usize> {
    let limit = as_limit()?;
    let mapped = mapped_bytes()?;
    Some(
        limit
            .saturating_sub(mapped)
            .saturating_sub(as_reserve(limit)),
    )
}

/// When [`admit_room`] last saw room under `RLIMIT_AS` for a stack
/// (`clock::nanotime() + 1`; 0: never, or a slab was mapped since).
static ROOM_SEEN: AtomicU64 = AtomicU64::new(0);

/// How long [`admit_room`] trusts room it saw before it reads
/// `/proc/self/statm` again (unless a slab was mapped meanwhile): a spawn
/// is admitted on what it could have now, not promised a stack, so a
/// stale answer only moves a refusal from the spawn to the goroutine's
/// first run.
const ROOM_FRESH_NS: u64 = 1_000_000;

/// Whether `RLIMIT_AS` (if finite) leaves room to map a stack of `size`
/// bytes now. The error names the limit, the mapped size and what is left.
pub(super) fn admit_room(size: usize) -> io::Result<()> {
    let now = crate::clock::nanotime();
    // Relaxed: a hint (see ROOM_FRESH_NS).
    let seen = ROOM_SEEN.load(Ordering::Relaxed);
    if seen != 0 && now.saturating_sub(seen - 1) < ROOM_FRESH_NS {
        return Ok(());
    }
    match as_room() {
        Some(room) if room < size + page_size() => Err(no_room(size, room)),
        _ => {
            ROOM_SEEN.store(now + 1, Ordering::Relaxed);
            Ok(())
        }
    }
}

/// Whether the soft `RLIMIT_AS` was finite when last read ([`as_limit`]:
/// when the pool is made, at every slab it maps, at every scavenge, and
/// when a spawn is refused). Read on the spawn path: without a limit, a
/// spawn checks nothing about address space.
static LIMITED: AtomicBool = AtomicBool::new(false);

/// [`LIMITED`]: whether the address space has a limit, as last seen.
#[inline]
pub(super) fn limited() -> bool {
    // Relaxed: a hint; the limit itself is the kernel's, read again
    // before any decision that maps.
    LIMITED.load(Ordering::Relaxed)
}

/// The soft `RLIMIT_AS`, if finite (and [`LIMITED`] brought up to date).
pub(super) fn as_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill.
    let r = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) };
    let limit = (r == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as usize);
    LIMITED.store(limit.is_some(), Ordering::Relaxed);
    limit
}

/// What slabs leave of an `RLIMIT_AS` of `limit` bytes to everything else:
/// an eighth, between 64 MiB and 1 GiB.
fn as_reserve(limit: usize) -> usize {
    (limit / 8).clamp(64 << 20, 1 << 30)
}

/// The process's mapped address space (`/proc/self/statm`).
fn mapped_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().next()?.parse().ok()?;
    Some(pages * page_size())
}

const MIB: usize = 1 << 20;

/// A stack refused because `RLIMIT_AS` leaves less than a stack of room.
fn no_room(size: usize, room: usize) -> io::Error {
    let limit = as_limit().unwrap_or(0);
    let mapped = mapped_bytes().unwrap_or(0);
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        format!(
            "cannot map a goroutine stack of {size} bytes: the address-space limit \
             RLIMIT_AS (ulimit -v) is {} MiB and {} MiB are mapped, of which weft leaves \
             {} MiB to the heap and threads ({} MiB to spare); raise the limit, or lower \
             WEFT_STACK_SIZE or Builder::stack_size",
            limit / MIB,
            mapped / MIB,
            as_reserve(limit) / MIB,
            room / MIB,
        ),
    )
}

/// A slab the kernel refused (`e`, usually `ENOMEM`), with the limits that
/// can cause it.
fn map_refused(size: usize, e: io::Error) -> io::Error {
    let limit = match as_limit() {
        Some(l) => format!("{} MiB", l / MIB),
        None => "unlimited".to_string(),
    };
    let sysctl = |name: &str| {
        read_usize(&format!("/proc/sys/vm/{name}")).map_or("?".to_string(), |v| v.to_string())
    };
    io::Error::new(
        e.kind(),
        format!(
            "cannot map a goroutine stack of {size} bytes: {e} (the limits that apply: \
             RLIMIT_AS (ulimit -v) = {limit}, vm.max_map_count = {}, vm.overcommit_memory = {}, \
             a memory cgroup; a smaller WEFT_STACK_SIZE or Builder::stack_size needs less)",
            sysctl("max_map_count"),
            sysctl("overcommit_memory"),
        ),
    )
}

/// Installs the guard page at the bottom of `slot` (from [`Carver::reserve`]).
///
/// # Safety
/// `slot` is the start of a page of a slab this process mapped, not yet
/// handed out: nothing holds a reference into that page.
pub(super) unsafe fn install_guard(slot: usize) -> io::Result<()> {
    // SAFETY: the caller's contract, passed on.
    unsafe { install_guard_with(slot, guard_mode(), system_budget()) }
}

/// [`install_guard`] with the mechanism and budget given (for tests).
///
/// # Safety
/// As [`install_guard`]'s: `slot` starts a page of a slab this process
/// mapped, not yet handed out.
pub(super) unsafe fn install_guard_with(
    slot: usize,
    mode: GuardMode,
    budget: &MapBudget,
) -> io::Result<()> {
    let page = page_size();
    match mode {
        GuardMode::Madvise => {
            // SAFETY: `slot` is the start of a page of a slab we mapped and
            // have not handed out: nobody holds a reference into it.
            let r = unsafe { libc::madvise(slot as *mut libc::c_void, page, MADV_GUARD_INSTALL) };
            if r != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        GuardMode::Mprotect => {
            budget.take()?;
            // SAFETY: `slot` is the start of a page of a slab we mapped and
            // have not handed out: nobody holds a reference into it, so
            // PROT_NONE cannot fault a live access.
            let r = unsafe { libc::mprotect(slot as *mut libc::c_void, page, libc::PROT_NONE) };
            if r != 0 {
                let e = io::Error::last_os_error();
                budget.give_back();
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Returns the pages of `[start, start + len)` to the OS (`MADV_DONTNEED`):
/// the next touch reads zeros. Guard markers and `PROT_NONE` guards stay.
///
/// # Safety
/// The range lies in slabs, and no stack in it is in use or referenced.
pub(super) unsafe fn release(start: usize, len: usize) {
    // SAFETY: by the caller's contract nothing in the range is live; the
    // range is inside our own mappings, so this only discards their pages.
    unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
}

/// One registered slab. Written once under `REGISTER_LOCK` before it is
/// published through `REGISTERED`.
struct SlabEntry {
    start: AtomicUsize,
    end: AtomicUsize,
    stride: AtomicUsize,
}

static SLABS: [SlabEntry; MAX_SLABS] = [const {
    SlabEntry {
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        stride: AtomicUsize::new(0),
    }
}; MAX_SLABS];

/// Entries `0..REGISTERED` of `SLABS` are complete.
static REGISTERED: AtomicUsize = AtomicUsize::new(0);
static REGISTER_LOCK: StdMutex<()> = StdMutex::new(());

fn register(start: usize, len: usize, stride: usize) -> io::Result<()> {
    let _g = REGISTER_LOCK.lock();
    let i = REGISTERED.load(Ordering::Relaxed);
    let Some(e) = SLABS.get(i) else {
        return Err(io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("weft: too many goroutine stack slabs ({MAX_SLABS})"),
        ));
    };
    e.start.store(start, Ordering::Relaxed);
    e.end.store(start + len, Ordering::Relaxed);
    e.stride.store(stride, Ordering::Relaxed);
    // Release: pairs with the Acquire load in `guard_size_at`, so a reader
    // that sees the count sees the entry's fields.
    REGISTERED.store(i + 1, Ordering::Release);
    Ok(())
}

/// If `addr` is inside the guard page of a goroutine stack, the usable size
/// of that stack. Async-signal-safe: atomic loads and arithmetic only.
pub(super) fn guard_size_at(addr: usize) -> Option<usize> {
    let page = page_size();
    // Acquire: pairs with the Release store in `register`.
    let n = REGISTERED.load(Ordering::Acquire);
    for e in &SLABS[..n.min(MAX_SLABS)] {
        let start = e.start.load(Ordering::Relaxed);
        let end = e.end.load(Ordering::Relaxed);
        if addr < start || addr >= end {
            continue;
        }
        let stride = e.stride.load(Ordering::Relaxed);
        return if (addr - start) % stride < page {
            Some(stride - page)
        } else {
            None
        };
    }
    None
}

/// Whether the page at `addr` is readable, without touching it from user
/// space (the kernel reports `EFAULT` instead of raising a signal).
#[cfg(test)]
pub(super) fn readable(addr: usize) -> bool {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid two-element array for pipe to fill.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: write only reads from `addr`, inside the kernel, which turns a
    // bad address into EFAULT.
    let r = unsafe { libc::write(fds[1], addr as *const libc::c_void, 1) };
    // SAFETY: closing the descriptors we just opened.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    r == 1
}
