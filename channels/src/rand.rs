//! A tiny per-thread random number generator (wyrand) for `select!`'s
//! poll order (Go's `cheaprand`). Seeded from std's `RandomState`, so no
//! dependency and a different stream per thread.
//!
//! Must never: be held across a park — every call reads and writes the
//! thread-local at once, so a goroutine that moves thread just continues
//! with its new thread's stream.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_usize(&h as *const _ as usize);
    h.finish() | 1
}

/// `#[inline(never)]`: the thread-local's address is computed afresh on
/// every call, never reused from before a switch to another thread
/// (rust-lang/rust#33368; docs/soundness.md).
#[inline(never)]
fn next_u64() -> u64 {
    STATE.with(|s| {
        let x = s.get().wrapping_add(0xa076_1d64_78bd_642f);
        s.set(x);
        let t = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
        (t >> 64) as u64 ^ t as u64
    })
}

/// A uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift (the
/// bias is below 2^-32 for the small `n` a select has). Under loom always
/// 0: a model must run the same way each time loom replays a schedule.
pub(crate) fn below(n: usize) -> usize {
    if cfg!(loom) {
        return 0;
    }
    ((u128::from(next_u64()) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    #[test]
    fn below_stays_in_range_and_hits_everything() {
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let i = super::below(5);
            seen[i] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
