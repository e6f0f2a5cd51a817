//! The registry of goroutine records (Go's `allgs`): what dumps and the
//! deadlock report walk.
//!
//! Owns: the list of every G record that exists — live goroutines and
//! recycled records waiting in free lists alike. A record is registered
//! when it is *allocated* and unregistered when it is *freed*, not at every
//! spawn and exit: recycling a record (the common case) touches no lock
//! here. 64 shards, each a small slab behind a mutex.
//!
//! Must never: be locked on the spawn fast path, or hand out a record that
//! has been freed (readers hold a shard lock while they look).

use std::sync::atomic::Ordering;
use std::sync::OnceLock;

use crate::lockrank::{rank, Mutex, MutexGuard}; // lockrank: ranked std locks

use crate::g::GPtr;

const SHARDS: usize = 64;

#[derive(Default)]
struct Shard {
    slots: Vec<Option<GPtr>>,
    free: Vec<usize>,
}

type ShardLock = Mutex<Shard, { rank::REGISTRY }>;

fn registry() -> &'static [ShardLock; SHARDS] {
    static R: OnceLock<[ShardLock; SHARDS]> = OnceLock::new();
    R.get_or_init(|| std::array::from_fn(|_| Mutex::new(Shard::default())))
}

fn shard_of(g: GPtr) -> &'static ShardLock {
    &registry()[(g.as_ptr() as usize / 64) % SHARDS]
}

fn lock(m: &ShardLock) -> MutexGuard<'_, Shard> {
    m.lock()
}

/// Records a newly allocated goroutine record.
pub(crate) fn register(g: GPtr) {
    let mut sh = lock(shard_of(g));
    let i = match sh.free.pop() {
        Some(i) => {
            sh.slots[i] = Some(g);
            i
        }
        None => {
            sh.slots.push(Some(g));
            sh.slots.len() - 1
        }
    };
    let i = u32::try_from(i).unwrap_or_else(|_| crate::throw("goroutine registry shard overflow"));
    g.reg_slot.store(i, Ordering::Relaxed);
}

/// Forgets a record about to be freed.
pub(crate) fn unregister(g: GPtr) {
    let i = g.reg_slot.load(Ordering::Relaxed) as usize;
    let mut sh = lock(shard_of(g));
    if let Some(slot) = sh.slots.get_mut(i) {
        if *slot == Some(g) {
            *slot = None;
            sh.free.push(i);
        }
    }
}

/// Calls `f` on the record at `addr` if it is one (still registered),
/// with its shard locked so it cannot be freed meanwhile. For looking up a
/// record known only by an address that may be stale (sysmon's view of
/// what an M runs).
pub(crate) fn with_addr<R>(addr: usize, f: impl FnOnce(GPtr) -> R) -> Option<R> {
    let sh = lock(&registry()[(addr / 64) % SHARDS]);
    let g = sh
        .slots
        .iter()
        .flatten()
        .find(|g| g.as_ptr() as usize == addr)
        .copied()?;
    Some(f(g))
}

/// Calls `f` on every record, a shard at a time, with that shard locked
/// (so no record is freed while `f` looks at it). `f` must not spawn,
/// free a record, or block.
pub(crate) fn for_each(mut f: impl FnMut(GPtr)) {
    for sh in registry() {
        let sh = lock(sh);
        for g in sh.slots.iter().flatten() {
            f(*g);
        }
    }
}
