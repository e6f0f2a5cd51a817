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
//! **Reservations.** A goroutine spawned *unbound* (it takes its stack when
//! it first runs: `sched::new_g`) holds a reservation instead: a claim on
//! one slot the default class can hand out without mapping anything — a
//! free stack of the global pool or an uncarved slot of a mapped slab. The
//! class keeps `reserved <= free + uncarved`, mapping slabs ahead of need to
//! keep it, so a spawn that cannot be backed fails *at the spawn*, where
//! the spawner hears of it, and a first run never needs new address space.
//! Reservations come to a P in batches ([`LocalStacks::take_token`]); an
//! unbound goroutine that finds a stack in its P's cache hands its
//! reservation back to that P ([`LocalStacks::put_token`]), so churn on one
//! P never touches the class. Stacks taken for any other purpose leave the
//! reserved ones alone ([`Class::spare`]).
//!
//! Must never: be called with a lock held that a goroutine could also take,
//! run on a goroutine's own stack while freeing that stack, hold the pool
//! lock across a system call other than mapping a slab (once per thousands
//! of stacks, [`slab::Carver::grow`]), or unmap memory a stack may still
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

/// How many stacks a processor keeps for reuse before spilling half to the pool.
const LOCAL_CACHE: usize = 64;

/// How many reservations a processor holds before giving half back.
const LOCAL_TOKENS: usize = 64;

/// How many reservations a processor takes from the pool at a time.
pub(crate) const TOKEN_BATCH: usize = LOCAL_TOKENS / 2;

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

// The guard is installed by `slab::install_guard` before a stack is first
// handed out (madvise marker or PROT_NONE; both survive MADV_DONTNEED).
// SAFETY: `base`/`limit` are page-aligned ends of a read-write region of at
// least 16 KiB (`round_size`) whose lowest page, inside `limit`, is that
// guard; the pool hands a slot to one coroutine at a time.
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

/// A processor's private stack cache (default-size stacks only), and the
/// reservations it holds for unbound goroutines (module comment). Its
/// methods never lock or make a system call: the P slot's spin lock is held
/// around them.
#[derive(Default)]
pub(crate) struct LocalStacks {
    free: Vec<GoStack>,
    /// Reservations of the default class held by this P, each for one
    /// future unbound spawn.
    tokens: usize,
}

impl LocalStacks {
    /// A cached stack, if any.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<GoStack> {
        self.free.pop()
    }

    /// Takes one of this P's reservations for an unbound spawn, if it has one.
    #[inline]
    pub(crate) fn take_token(&mut self) -> bool {
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    /// Takes back the reservation of an unbound goroutine that found its
    /// stack in this cache. Returns how many to [`StackPool::unreserve`]
    /// (once the P's lock is dropped) when the P holds too many.
    #[inline]
    pub(crate) fn put_token(&mut self) -> Option<usize> {
        self.tokens += 1;
        (self.tokens > LOCAL_TOKENS).then(|| {
            self.tokens -= LOCAL_TOKENS / 2;
            LOCAL_TOKENS / 2
        })
    }

    /// Adds `n` reservations taken with [`StackPool::reserve`].
    pub(crate) fn add_tokens(&mut self, n: usize) {
        self.tokens += n;
    }

    /// Empties the cache and the reservations, for
    /// [`StackPool::give_back`] and [`StackPool::unreserve`].
    pub(crate) fn take_all(&mut self) -> (Vec<GoStack>, usize) {
        (mem::take(&mut self.free), mem::take(&mut self.tokens))
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
    /// Reservations given out (module comment); never more than free plus
    /// uncarved stacks.
    reserved: usize,
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
            reserved: 0,
        }
    }

    /// Stacks this class can hand out without mapping anything, beyond
    /// those reserved.
    fn spare(&self) -> usize {
        (self.hot.len() + self.ncold + self.carver.uncarved()).saturating_sub(self.reserved)
    }

    /// Maps slabs until `n` stacks are spare.
    fn ensure_spare(&mut self, n: usize) -> io::Result<()> {
        while self.spare() < n {
            self.carver.grow()?;
        }
        Ok(())
    }

    /// One stack, or a slot to guard and make one of (outside the lock):
    /// a reserved one (`reserved`: the caller gives up a reservation for it,
    /// and no system call is needed), else a spare one, mapping a slab if
    /// none is.
    fn take_one(&mut self, reserved: bool) -> io::Result<Result<GoStack, usize>> {
        if reserved {
            debug_assert!(self.reserved > 0);
            self.reserved -= 1;
        } else {
            self.ensure_spare(1)?;
        }
        match self.pop() {
            Some(s) => Ok(Ok(s)),
            // Free stacks ran out, so uncarved slots back what is reserved:
            // no slab is mapped here.
            None => Ok(Err(self.carver.reserve()?)),
        }
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

    /// Moves up to `n` free stacks into `out`, resident ones first, leaving
    /// the reserved ones.
    fn take_into(&mut self, out: &mut Vec<GoStack>, n: usize) {
        let n = n.min(self.spare());
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

    /// The oldest resident stacks beyond `keep` (and beyond the reserved
    /// ones: while the caller releases their pages they are in neither
    /// list), to be released by the caller and filed as cold.
    fn excess(&mut self, keep: usize) -> Vec<GoStack> {
        let n = self.hot.len().saturating_sub(keep).min(self.spare());
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
}

impl StackPool {
    pub(crate) fn new(default_size: usize) -> Self {
        signal::install();
        StackPool {
            default_size,
            default: Mutex::new(Class::new(round_size(default_size))),
            others: Mutex::new(Vec::new()),
        }
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
        if let Some(local) = local {
            if let Some(s) = local.free.pop() {
                return Ok(s);
            }
            lock(&self.default).take_into(&mut local.free, LOCAL_CACHE / 2);
            if let Some(s) = local.free.pop() {
                return Ok(s);
            }
        }
        self.take_default(false, None)
    }

    /// A default-size stack for an unbound goroutine's first run, paid for
    /// by its reservation, and up to half a P cache's worth more into
    /// `batch` (unreserved ones, for the P whose cache ran dry). No slab is
    /// mapped, so only the guard (a kernel out of memory) can fail.
    pub(crate) fn alloc_reserved(&self, batch: &mut Vec<GoStack>) -> io::Result<GoStack> {
        self.take_default(true, Some(batch))
    }

    fn take_default(
        &self,
        reserved: bool,
        batch: Option<&mut Vec<GoStack>>,
    ) -> io::Result<GoStack> {
        let (one, size) = {
            let mut c = lock(&self.default);
            let one = c.take_one(reserved)?;
            if let Some(batch) = batch {
                c.take_into(batch, LOCAL_CACHE / 2);
            }
            (one, c.carver.size())
        };
        match one {
            Ok(s) => Ok(s),
            Err(slot) => {
                // A failure leaks the slot's address space only: it never
                // reaches a coroutine without its guard.
                slab::install_guard(slot)?;
                Ok(GoStack::at(slot, size))
            }
        }
    }

    /// Reserves `n` default-size stacks for unbound goroutines, mapping
    /// slabs if the free and uncarved ones do not cover them. All or none:
    /// the error names the limit that refused the address space.
    pub(crate) fn reserve(&self, n: usize) -> io::Result<()> {
        let mut c = lock(&self.default);
        c.ensure_spare(n)?;
        c.reserved += n;
        Ok(())
    }

    /// Gives back `n` reservations nobody will use.
    pub(crate) fn unreserve(&self, n: usize) {
        if n > 0 {
            let mut c = lock(&self.default);
            debug_assert!(c.reserved >= n);
            c.reserved -= n;
        }
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
        slab::install_guard(slot)?;
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
        lock(&self.default).take_into(&mut out, LOCAL_CACHE / 2);
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
        let mut class = lock(&self.default);
        class.hot.extend(stacks);
        if class.hot.len() <= HOT_HARD_MAX {
            return;
        }
        let excess = class.excess(HOT_HARD_MAX / 2);
        class.low_water = class.low_water.min(class.hot.len());
        drop(class);
        let excess = release_all(excess);
        lock(&self.default).push_cold(excess);
    }

    /// The scavenger (sysmon calls it every few milliseconds, and once
    /// more before it sleeps because the runtime went idle): returns to the
    /// OS the pages of default-size stacks that sat in the pool unused since
    /// the last call, keeping [`HOT_LOW`] resident. A stack taken since then
    /// is in demand and stays; the unused ones are the oldest (the pool hands
    /// out the newest first), so they are the ones released.
    pub(crate) fn scavenge(&self) {
        let mut class = lock(&self.default);
        let unused = class.low_water.min(class.hot.len());
        let excess = if unused > HOT_LOW && class.hot.len() > HOT_MAX {
            let n = (unused - HOT_LOW).min(class.hot.len() - HOT_LOW);
            let keep = class.hot.len() - n;
            class.excess(keep)
        } else {
            Vec::new()
        };
        class.low_water = class.hot.len();
        drop(class);
        if !excess.is_empty() {
            let excess = release_all(excess);
            lock(&self.default).push_cold(excess);
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
        let excess = lock(&self.default).excess(0);
        if !excess.is_empty() {
            let excess = release_all(excess);
            lock(&self.default).push_cold(excess);
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

    /// Reservations of the default class given out.
    #[cfg(test)]
    fn reserved(&self) -> usize {
        lock(&self.default).reserved
    }

    /// Free stacks in the global pool: (resident, released), default size.
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let c = lock(&self.default);
        (c.hot.len(), c.ncold)
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
