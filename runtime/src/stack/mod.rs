//! Goroutine stacks: allocation, pooling, trimming, size policy and overflow
//! reports. `docs/stacks.md` has the whole design and the numbers.
//!
//! Owns: every stack a goroutine runs on, and the SIGSEGV/SIGBUS handler
//! that turns a touch of a stack's guard page into a clear report.
//!
//! - [`slab`]: stacks are carved from large `MAP_NORESERVE` slabs, one size
//!   per slab, each with a guard page (`MADV_GUARD_INSTALL`, or `mprotect`
//!   within a `vm.max_map_count` budget). Slabs are never unmapped.
//! - This file: the pool. A spawn takes a stack from its P's cache
//!   ([`LocalStacks`]), else a batch from the global pool, else carves a new
//!   one; a finished goroutine's stack goes back to the cache of the P it
//!   finished on, and half a full cache spills to the global pool. So the
//!   steady state makes no system call at all. The global pool keeps up to
//!   [`HOT_MAX`] stacks resident per size; past that it returns the pages of
//!   the oldest to the OS (`MADV_DONTNEED`), so RSS falls after a burst.
//!   [`StackPool::trim`] returns all of the global pool's pages (for an idle
//!   scheduler).
//! - [`signal`]: the overflow report, on an alternate signal stack.
//! - [`asan`]: what AddressSanitizer is told at each stack switch (only
//!   with `--cfg weft_asan`).
//! - [`tsan`]: what ThreadSanitizer is told at each stack switch (only
//!   with `--cfg weft_tsan`).
//!
//! Every stack has a guard page below it (corosensei's `Stack` contract): an
//! unguarded stack is never handed out; past the map budget a spawn fails
//! with an `io::Error` that names `vm.max_map_count`, and a slab the kernel
//! refuses (`RLIMIT_AS`, strict overcommit) with one that names the limit.
//!
//! **Address space.** A goroutine spawned *unbound* (it takes its stack
//! when it first runs: `sched::new_g`) costs no address space while it
//! waits. Under a finite `RLIMIT_AS` its spawn asks [`StackPool::admit`]
//! whether a stack could be had now — a spare one in the pool, or room
//! under the limit to map one — and fails if not; nothing is taken or
//! mapped for it. Without a limit nothing is asked. One that finds no
//! stack when it first runs (another consumer took the room meanwhile)
//! never starts: the scheduler finishes it as if it had panicked
//! (`sched::worker`, `refuse_start`).
//!
//! Must never: be called with a lock held that a goroutine could also take,
//! run on a goroutine's own stack while freeing that stack, hold the pool
//! lock across a system call other than mapping a slab (once per thousands
//! of stacks, [`slab::Carver::reserve`]), or unmap memory a stack may still
//! live in.

pub(crate) mod asan;
mod signal;
mod slab;
pub(crate) mod tsan;

use crate::config::MIN_STACK_SIZE;
#[cfg(test)]
use crate::config::{check_stack_size as check_size, DEFAULT_STACK_SIZE, MAX_STACK_SIZE};

use std::io;
use std::mem;
use std::num::NonZeroUsize;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::lockrank::{rank, MutexGuard}; // lockrank: ranked std locks

/// The pool's locks (one at a time: never nested).
type Mutex<T> = crate::lockrank::Mutex<T, { rank::STACK_POOL }>;

use corosensei::stack::{Stack, StackPointer};

pub(crate) use signal::{on_thread_start, DESCRIBE};
// For `sched::pcell`'s SIGURG handler (not modelled under loom).
#[cfg(not(loom))]
pub(crate) use signal::call_handler;

/// Whether a goroutine's stack may be taken when it first runs rather than
/// when it is spawned: only where carving cannot fail for a reason the
/// spawner should hear about (the mprotect fallback's map-count budget is
/// reported as a spawn error, so it allocates at spawn).
pub(crate) fn can_defer() -> bool {
    slab::guard_mode() == slab::GuardMode::Madvise
}

/// The soft `RLIMIT_AS`, if finite (a system call: for refusals, not for
/// the spawn path, which asks [`StackPool::limited`]).
pub(crate) fn as_limit() -> Option<usize> {
    slab::as_limit()
}

/// How many stacks a processor keeps for reuse before spilling half to the pool.
const LOCAL_CACHE: usize = 64;

/// Resident stacks the global pool keeps per size before it returns the
/// pages of the oldest to the OS. At one or two touched pages a stack, a few
/// MiB: enough that churn around the steady state never faults pages in.
/// Non-default sizes trim at once past it; the default size is trimmed by
/// [`StackPool::scavenge`] (below).
const HOT_MAX: usize = 1024;

/// What the pool trims down to once it passes [`HOT_MAX`] (hysteresis, so a
/// trim releases a large batch in few `madvise` calls).
const HOT_LOW: usize = HOT_MAX / 2;

/// Resident default-size stacks past which a spill trims at once, without
/// waiting for the scavenger: a bound on what a burst leaves resident
/// (64 Ki stacks, 256 MiB at one touched page each... usually far less).
const HOT_HARD_MAX: usize = 64 * 1024;

/// Cold runs below this many are never compacted.
const COMPACT_MIN: usize = 1024;

/// `bytes` rounded up to whole pages: the usable size of its stacks.
fn round_size(bytes: usize) -> usize {
    let page = slab::page_size();
    bytes.max(MIN_STACK_SIZE).div_ceil(page) * page
}

/// A goroutine stack: one slot of a slab, `[guard page | usable bytes]`.
///
/// Holds no ownership beyond the addresses: the slab owns the memory, the
/// pool owns free slots. Dropping one (a goroutine leaked while parked
/// forever, or never started) leaks the slot's address space, never memory
/// another stack uses.
#[derive(Debug)]
pub(crate) struct GoStack {
    /// Lowest address: the guard page starts here.
    limit: NonZeroUsize,
    /// Highest address (exclusive): the stack grows down from here.
    base: NonZeroUsize,
}

impl GoStack {
    /// The stack in slot `slot` of a slab of `size`-byte stacks.
    fn at(slot: usize, size: usize) -> GoStack {
        let base = slot + slab::page_size() + size;
        GoStack {
            limit: NonZeroUsize::new(slot).expect("slab at address 0"),
            base: NonZeroUsize::new(base).expect("slab wraps the address space"),
        }
    }

    /// Usable bytes (guard page excluded).
    pub(crate) fn size(&self) -> usize {
        self.base.get() - self.limit.get() - slab::page_size()
    }
}

// SAFETY: `base`/`limit` are page-aligned ends of a read-write region of at
// least 16 KiB (`round_size`) whose lowest page, inside `limit`, is a guard
// page that `slab::install_guard` installs before the stack is first handed
// out (a madvise marker or PROT_NONE; both survive MADV_DONTNEED); the pool
// hands a slot to one coroutine at a time.
unsafe impl Stack for GoStack {
    #[inline]
    fn base(&self) -> StackPointer {
        self.base
    }

    #[inline]
    fn limit(&self) -> StackPointer {
        self.limit
    }
}

/// A processor's private stack cache (default-size stacks only). Its
/// methods never lock or make a system call: the P slot's spin lock is held
/// around them.
#[derive(Default)]
pub(crate) struct LocalStacks {
    free: Vec<GoStack>,
}

impl LocalStacks {
    /// A cached stack, if any.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<GoStack> {
        self.free.pop()
    }

    /// Whether a stack is cached.
    #[inline]
    pub(crate) fn has_free(&self) -> bool {
        !self.free.is_empty()
    }

    /// Empties the cache, for [`StackPool::give_back`].
    pub(crate) fn take_all(&mut self) -> Vec<GoStack> {
        mem::take(&mut self.free)
    }

    /// Caches a finished goroutine's stack. Returns half the cache when it
    /// is over its size, for the caller to [`StackPool::give_back`] once it
    /// has dropped the P's lock.
    #[inline]
    pub(crate) fn push(&mut self, s: GoStack) -> Option<Vec<GoStack>> {
        self.free.push(s);
        (self.free.len() > LOCAL_CACHE).then(|| self.free.split_off(LOCAL_CACHE / 2))
    }

    /// Adds a batch taken with [`StackPool::take_batch`].
    pub(crate) fn extend(&mut self, batch: Vec<GoStack>) {
        self.free.extend(batch);
    }
}

/// Free stacks and the carver of one stack size.
struct Class {
    carver: slab::Carver,
    /// Free stacks whose pages may be resident, oldest first.
    hot: Vec<GoStack>,
    /// Free stacks whose pages were returned to the OS, as runs of adjacent
    /// slots `(lowest slot's address, count)`: a burst's stacks were carved
    /// side by side, so a million of them take a few runs, not 16 MB.
    cold: Vec<(usize, usize)>,
    /// Stacks in `cold`.
    ncold: usize,
    /// `cold.len()` at which runs are next sorted and merged.
    compact_at: usize,
    /// The fewest stacks `hot` held since the last [`StackPool::scavenge`]:
    /// the oldest that many sat unused the whole time.
    low_water: usize,
}

impl Class {
    fn new(size: usize) -> Class {
        Class {
            carver: slab::Carver::new(size),
            hot: Vec::new(),
            cold: Vec::new(),
            ncold: 0,
            compact_at: COMPACT_MIN,
            low_water: 0,
        }
    }

    /// Whether this class can hand out a stack without mapping anything.
    fn has_spare(&self) -> bool {
        !self.hot.is_empty() || self.ncold > 0 || self.carver.has_uncarved()
    }

    fn stride(&self) -> usize {
        self.carver.size() + slab::page_size()
    }

    fn pop(&mut self) -> Option<GoStack> {
        let s = self.hot.pop();
        self.low_water = self.low_water.min(self.hot.len());
        s.or_else(|| self.pop_cold())
    }

    fn pop_cold(&mut self) -> Option<GoStack> {
        let stride = self.stride();
        let run = self.cold.last_mut()?;
        run.1 -= 1;
        let slot = run.0 + run.1 * stride;
        if run.1 == 0 {
            self.cold.pop();
            if self.cold.capacity() > 64 && self.cold.len() < self.cold.capacity() / 4 {
                self.cold.shrink_to(self.cold.len() * 2);
            }
        }
        self.ncold -= 1;
        Some(GoStack::at(slot, self.carver.size()))
    }

    /// Adds released stacks, sorted by address, to `cold`.
    fn push_cold(&mut self, sorted: Vec<GoStack>) {
        let stride = self.stride();
        self.ncold += sorted.len();
        for s in sorted {
            let slot = s.limit.get();
            match self.cold.last_mut() {
                Some(run) if run.0 + run.1 * stride == slot => run.1 += 1,
                _ => self.cold.push((slot, 1)),
            }
        }
        if self.cold.len() >= self.compact_at {
            self.compact_cold();
        }
    }

    /// Sorts the cold runs and merges neighbours. Amortised: the next
    /// compaction waits until the list has doubled.
    fn compact_cold(&mut self) {
        let stride = self.stride();
        self.cold.sort_unstable_by_key(|r| r.0);
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.cold.len());
        for &(start, n) in &self.cold {
            match merged.last_mut() {
                Some(run) if run.0 + run.1 * stride == start => run.1 += n,
                _ => merged.push((start, n)),
            }
        }
        merged.shrink_to_fit();
        self.cold = merged;
        self.compact_at = (self.cold.len() * 2).max(COMPACT_MIN);
    }

    /// Moves up to `n` free stacks into `out`, resident ones first.
    fn take_into(&mut self, out: &mut Vec<GoStack>, n: usize) {
        let from_hot = n.min(self.hot.len());
        out.extend(self.hot.drain(self.hot.len() - from_hot..));
        self.low_water = self.low_water.min(self.hot.len());
        for _ in from_hot..n {
            match self.pop_cold() {
                Some(s) => out.push(s),
                None => break,
            }
        }
    }

    /// The oldest resident stacks beyond `keep`, to be released by the
    /// caller and filed as cold.
    fn excess(&mut self, keep: usize) -> Vec<GoStack> {
        if self.hot.len() <= keep {
            return Vec::new();
        }
        let n = self.hot.len() - keep;
        self.hot.drain(..n).collect()
    }
}

/// Stacks shared by all processors.
pub(crate) struct StackPool {
    /// The configured default size, as given.
    default_size: usize,
    /// Default-size stacks (`round_size(default_size)` usable bytes).
    default: Mutex<Class>,
    /// Other sizes, from `Builder::stack_size`; few, searched linearly.
    others: Mutex<Vec<Class>>,
    /// Whether the default class has a spare stack ([`Class::has_spare`]),
    /// as of the last time its lock was released ([`DefaultGuard`]): what
    /// [`StackPool::admit`] reads without the lock.
    spare: AtomicBool,
}

impl StackPool {
    pub(crate) fn new(default_size: usize) -> Self {
        signal::install();
        // The address-space limit, read once here (`limited`); again at
        // every slab mapped and at every refused spawn.
        let _ = slab::as_limit();
        StackPool {
            default_size,
            default: Mutex::new(Class::new(round_size(default_size))),
            others: Mutex::new(Vec::new()),
            spare: AtomicBool::new(false),
        }
    }

    /// The default class, locked.
    fn default_class(&self) -> DefaultGuard<'_> {
        DefaultGuard {
            class: lock(&self.default),
            spare: &self.spare,
        }
    }

    /// Whether the soft `RLIMIT_AS` was finite when last read (when this
    /// pool was made, at every slab mapped, at every scavenge, at every
    /// refused spawn): only then does an unbound spawn ask
    /// [`StackPool::admit`].
    #[inline]
    pub(crate) fn limited(&self) -> bool {
        slab::limited()
    }

    /// Whether the pool had a spare default-size stack when its lock was
    /// last released (a hint, read without the lock).
    #[inline]
    pub(crate) fn has_spare(&self) -> bool {
        // Relaxed: a hint (see `admit`).
        self.spare.load(Ordering::Relaxed)
    }

    /// Under a finite `RLIMIT_AS`, whether a default-size stack could be had
    /// now: the pool has a spare one, or the limit leaves room to map one.
    /// Takes and maps nothing (an unbound goroutine takes its stack when it
    /// first runs); stacks in P caches are the caller's to look at. The
    /// error names the limit, the mapped size and what is left.
    pub(crate) fn admit(&self) -> io::Result<()> {
        // Relaxed: hints (module comment); a wrong one moves a refusal
        // between the spawn and the first run, nothing more.
        if self.spare.load(Ordering::Relaxed) {
            return Ok(());
        }
        slab::admit_room(round_size(self.default_size))
    }

    pub(crate) fn default_size(&self) -> usize {
        self.default_size
    }

    fn is_default(&self, rounded: usize) -> bool {
        rounded == round_size(self.default_size)
    }

    /// A stack of `size` bytes (the default when `None`).
    pub(crate) fn alloc(
        &self,
        size: Option<usize>,
        local: Option<&mut LocalStacks>,
    ) -> io::Result<GoStack> {
        let size = round_size(size.unwrap_or(self.default_size));
        if !self.is_default(size) {
            return self.alloc_other(size);
        }
        match local {
            Some(local) => {
                if let Some(s) = local.free.pop() {
                    return Ok(s);
                }
                self.default_class()
                    .take_into(&mut local.free, LOCAL_CACHE / 2);
                if let Some(s) = local.free.pop() {
                    return Ok(s);
                }
            }
            None => {
                if let Some(s) = self.default_class().pop() {
                    return Ok(s);
                }
            }
        }
        self.carve()
    }

    /// Carves a new default-size stack: the slot under the lock (mapping a
    /// slab when the current one is used up), the guard outside it.
    fn carve(&self) -> io::Result<GoStack> {
        let (slot, size) = {
            let mut c = self.default_class();
            (c.carver.reserve()?, c.carver.size())
        };
        // A failure leaks the slot's address space only: it never reaches a
        // coroutine without its guard.
        // SAFETY: `slot` was just carved from our slab and is not handed
        // out until this returns.
        unsafe { slab::install_guard(slot)? };
        Ok(GoStack::at(slot, size))
    }

    fn alloc_other(&self, size: usize) -> io::Result<GoStack> {
        let mut others = lock(&self.others);
        let class = match others.iter().position(|c| c.carver.size() == size) {
            Some(i) => &mut others[i],
            None => {
                others.push(Class::new(size));
                others.last_mut().expect("just pushed")
            }
        };
        if let Some(s) = class.pop() {
            return Ok(s);
        }
        // Rare (non-default sizes); the guard's system call under this lock
        // only delays other non-default spawns.
        let slot = class.carver.reserve()?;
        drop(others);
        // SAFETY: `slot` was just carved from our slab and is not handed
        // out until this returns.
        unsafe { slab::install_guard(slot)? };
        Ok(GoStack::at(slot, size))
    }

    /// Returns a stack for reuse. `size` is what the goroutine asked for
    /// (the stack knows its own size; this is only checked).
    pub(crate) fn free(&self, stack: GoStack, size: usize, local: Option<&mut LocalStacks>) {
        debug_assert_eq!(stack.size(), round_size(size));
        let size = stack.size();
        if !self.is_default(size) {
            let mut others = lock(&self.others);
            let Some(class) = others.iter_mut().find(|c| c.carver.size() == size) else {
                return; // not ours: leak the address space, never reuse it
            };
            class.hot.push(stack);
            let excess = class.excess(HOT_MAX);
            drop(others);
            if !excess.is_empty() {
                let excess = release_all(excess);
                self.others_push_cold(size, excess);
            }
            return;
        }
        match local {
            Some(local) => {
                local.free.push(stack);
                if local.free.len() > LOCAL_CACHE {
                    let spill = local.free.split_off(LOCAL_CACHE / 2);
                    self.spill(spill);
                }
            }
            None => self.spill(vec![stack]),
        }
    }

    /// Up to half a P cache's worth of default-size stacks from the global
    /// pool (none carved), for a P whose cache ran dry.
    pub(crate) fn take_batch(&self) -> Vec<GoStack> {
        let mut out = Vec::with_capacity(LOCAL_CACHE / 2);
        self.default_class().take_into(&mut out, LOCAL_CACHE / 2);
        out
    }

    /// Returns default-size stacks to the global pool (a P cache's spill).
    pub(crate) fn give_back(&self, stacks: Vec<GoStack>) {
        self.spill(stacks);
    }

    /// Puts stacks into the global default-size pool. Trimming is the
    /// scavenger's job (a spill that trimmed at once made a burst of
    /// goroutine churn — a timer storm — `madvise` away pages the next
    /// spawns faulted back in); only past [`HOT_HARD_MAX`] does it trim here.
    fn spill(&self, stacks: Vec<GoStack>) {
        let mut class = self.default_class();
        class.hot.extend(stacks);
        if class.hot.len() <= HOT_HARD_MAX {
            return;
        }
        let excess = class.excess(HOT_HARD_MAX / 2);
        class.low_water = class.low_water.min(class.hot.len());
        drop(class);
        let excess = release_all(excess);
        self.default_class().push_cold(excess);
    }

    /// The scavenger (sysmon calls it every few milliseconds, and once
    /// more before it sleeps because the runtime went idle): returns to the
    /// OS the pages of default-size stacks that sat in the pool unused since
    /// the last call, keeping [`HOT_LOW`] resident. A stack taken since then
    /// is in demand and stays; the unused ones are the oldest (the pool hands
    /// out the newest first), so they are the ones released.
    ///
    /// It also reads `RLIMIT_AS` again ([`StackPool::limited`]): a limit a
    /// program sets with `setrlimit` after start-up is seen by the spawns
    /// within a scavenger period.
    pub(crate) fn scavenge(&self) {
        let _ = slab::as_limit();
        let mut class = self.default_class();
        let unused = class.low_water.min(class.hot.len());
        let excess = if unused > HOT_LOW && class.hot.len() > HOT_MAX {
            let n = (unused - HOT_LOW).min(class.hot.len() - HOT_LOW);
            class.hot.drain(..n).collect()
        } else {
            Vec::new()
        };
        class.low_water = class.hot.len();
        drop(class);
        if !excess.is_empty() {
            let excess = release_all(excess);
            self.default_class().push_cold(excess);
        }
    }

    fn others_push_cold(&self, size: usize, stacks: Vec<GoStack>) {
        let mut others = lock(&self.others);
        if let Some(c) = others.iter_mut().find(|c| c.carver.size() == size) {
            c.push_cold(stacks);
        }
    }

    /// Returns the pages of every stack in the global pool to the OS. For a
    /// scheduler with nothing to run; stacks in P caches are left alone.
    #[allow(dead_code)] // the scheduler's idle path may call it; see docs/stacks.md
    pub(crate) fn trim(&self) {
        let excess = self.default_class().excess(0);
        if !excess.is_empty() {
            let excess = release_all(excess);
            self.default_class().push_cold(excess);
        }
        let mut others = lock(&self.others);
        let batches: Vec<(usize, Vec<GoStack>)> = others
            .iter_mut()
            .map(|c| (c.carver.size(), c.excess(0)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        drop(others);
        for (size, v) in batches {
            let v = release_all(v);
            self.others_push_cold(size, v);
        }
    }

    /// Free stacks in the global pool: (resident, released), default size.
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let c = self.default_class();
        (c.hot.len(), c.ncold)
    }
}

/// The default class, locked. Releasing it publishes whether the class has
/// a spare stack ([`StackPool::admit`] reads that without the lock).
struct DefaultGuard<'a> {
    class: MutexGuard<'a, Class>,
    spare: &'a AtomicBool,
}

impl Deref for DefaultGuard<'_> {
    type Target = Class;
    fn deref(&self) -> &Class {
        &self.class
    }
}

impl DerefMut for DefaultGuard<'_> {
    fn deref_mut(&mut self) -> &mut Class {
        &mut self.class
    }
}

impl Drop for DefaultGuard<'_> {
    fn drop(&mut self) {
        // Relaxed: a hint, written under the class lock (this runs before
        // the guard's field unlocks it).
        self.spare.store(self.class.has_spare(), Ordering::Relaxed);
    }
}

/// Returns the pages of `stacks` to the OS, one `madvise` per run of
/// adjacent slots (guards survive `MADV_DONTNEED`), and hands them back
/// sorted by address.
fn release_all(mut stacks: Vec<GoStack>) -> Vec<GoStack> {
    stacks.sort_unstable_by_key(|s| s.limit.get());
    let page = slab::page_size();
    let mut i = 0;
    while i < stacks.len() {
        let start = stacks[i].limit.get() + page;
        let mut end = stacks[i].base.get();
        let mut j = i + 1;
        while j < stacks.len() && stacks[j].limit.get() == end {
            end = stacks[j].base.get();
            j += 1;
        }
        // SAFETY: these stacks are free (they came out of the pool, which
        // owns them), so no coroutine runs on them; adjacent slots are in
        // one slab, and the guard pages in between survive MADV_DONTNEED.
        unsafe { slab::release(start, end - start) };
        i = j;
    }
    stacks
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock()
}

#[cfg(test)]
mod tests;
