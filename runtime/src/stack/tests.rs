//! Unit tests for the stack pool, slabs and guards.

use super::slab::{self, GuardMode, MapBudget};
use super::*;

fn page() -> usize {
    slab::page_size()
}

#[test]
fn sizes_round_to_pages_and_respect_the_minimum() {
    assert_eq!(round_size(1), MIN_STACK_SIZE);
    assert_eq!(round_size(MIN_STACK_SIZE + 1), MIN_STACK_SIZE + page());
    assert!(check_size(MIN_STACK_SIZE - 1).is_err());
    assert!(check_size(MAX_STACK_SIZE + 1).is_err());
    assert!(check_size(DEFAULT_STACK_SIZE).is_ok());
}

#[test]
fn this_kernel_has_guard_markers() {
    // The machine this is developed on runs 6.18; elsewhere the fallback is
    // exercised by `mprotect_budget_runs_out_with_a_clear_error`.
    if std::env::var_os("WEFT_EXPECT_MPROTECT_GUARDS").is_none() {
        assert_eq!(slab::guard_mode(), GuardMode::Madvise);
    }
}

#[test]
fn every_stack_has_a_guard_below_it() {
    let pool = StackPool::new(64 * 1024);
    let mut local = LocalStacks::default();
    let stacks: Vec<GoStack> = (0..10)
        .map(|_| pool.alloc(None, Some(&mut local)).unwrap())
        .collect();
    for s in &stacks {
        assert_eq!(s.size(), 64 * 1024);
        assert_eq!(s.base.get() % 16, 0);
        assert!(!slab::readable(s.limit.get()), "guard page is readable");
        assert!(slab::readable(s.limit.get() + page()));
        assert!(slab::readable(s.base.get() - 1));
        assert_eq!(slab::guard_size_at(s.limit.get()), Some(64 * 1024));
        assert_eq!(
            slab::guard_size_at(s.limit.get() + page() - 1),
            Some(64 * 1024)
        );
        assert_eq!(slab::guard_size_at(s.limit.get() + page()), None);
    }
    for s in stacks {
        pool.free(s, 64 * 1024, Some(&mut local));
    }
}

#[test]
fn guards_survive_trimming_and_memory_is_zeroed() {
    let pool = StackPool::new(32 * 1024);
    let stacks: Vec<GoStack> = (0..HOT_MAX + 10)
        .map(|_| pool.alloc(None, None).unwrap())
        .collect();
    for s in &stacks {
        // SAFETY: the stack is ours, not running anything; writing its top byte.
        unsafe { *((s.base.get() - 1) as *mut u8) = 0xAA };
    }
    let addrs: Vec<(usize, usize)> = stacks
        .iter()
        .map(|s| (s.limit.get(), s.base.get()))
        .collect();
    for s in stacks {
        pool.free(s, 32 * 1024, None);
    }
    // A spill keeps everything resident; the scavenger releases what sat
    // unused for a whole period (the first call opens the period).
    assert_eq!(pool.counts(), (HOT_MAX + 10, 0), "a spill trimmed");
    pool.scavenge();
    assert_eq!(
        pool.counts(),
        (HOT_MAX + 10, 0),
        "scavenged without a period"
    );
    pool.scavenge();
    assert_eq!(pool.counts(), (HOT_LOW, HOT_MAX + 10 - HOT_LOW));
    pool.trim();
    assert_eq!(pool.counts(), (0, HOT_MAX + 10));
    for (limit, base) in addrs {
        assert!(!slab::readable(limit), "guard lost by MADV_DONTNEED");
        // SAFETY: the slot is free in the pool and mapped read-write.
        let top = unsafe { *((base - 1) as *const u8) };
        assert_eq!(top, 0, "page not released");
    }
}

#[test]
fn pooled_stacks_are_reused_without_new_slots() {
    let pool = StackPool::new(48 * 1024);
    let mut local = LocalStacks::default();
    let a = pool.alloc(None, Some(&mut local)).unwrap();
    let addr = a.limit.get();
    pool.free(a, 48 * 1024, Some(&mut local));
    let b = pool.alloc(None, Some(&mut local)).unwrap();
    assert_eq!(b.limit.get(), addr);
    pool.free(b, 48 * 1024, None);
}

#[test]
fn other_sizes_are_pooled_by_size() {
    let pool = StackPool::new(DEFAULT_STACK_SIZE);
    let a = pool.alloc(Some(40 * 1024), None).unwrap();
    let b = pool.alloc(Some(80 * 1024), None).unwrap();
    assert_eq!(a.size(), 40 * 1024);
    assert_eq!(b.size(), 80 * 1024);
    let (la, lb) = (a.limit.get(), b.limit.get());
    pool.free(a, 40 * 1024, None);
    pool.free(b, 80 * 1024, None);
    assert_eq!(pool.alloc(Some(80 * 1024), None).unwrap().limit.get(), lb);
    assert_eq!(pool.alloc(Some(40 * 1024), None).unwrap().limit.get(), la);
}

#[test]
fn many_stacks_share_few_mappings() {
    let maps = || {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .count()
    };
    let pool = StackPool::new(20 * 1024);
    let before = maps();
    let stacks: Vec<GoStack> = (0..20_000)
        .map(|_| pool.alloc(None, None).unwrap())
        .collect();
    let after = maps();
    if slab::guard_mode() == GuardMode::Madvise {
        // Other tests map concurrently; 20k split mappings would be 40k.
        assert!(after < before + 1000, "{before} -> {after} mappings");
    }
    for s in stacks {
        pool.free(s, 20 * 1024, None);
    }
}

#[test]
fn mprotect_budget_runs_out_with_a_clear_error() {
    let mut carver = slab::Carver::new(16 * 1024);
    let budget = MapBudget::new(6, 1000);
    let mut guarded = Vec::new();
    for _ in 0..3 {
        let slot = carver.reserve().unwrap();
        // SAFETY: a fresh slot of this test's own carver, never handed out.
        unsafe { slab::install_guard_with(slot, GuardMode::Mprotect, &budget) }.unwrap();
        guarded.push(slot);
    }
    let slot = carver.reserve().unwrap();
    // SAFETY: a fresh slot of this test's own carver, never handed out.
    let err = unsafe { slab::install_guard_with(slot, GuardMode::Mprotect, &budget) }.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("vm.max_map_count = 1000"), "{msg}");
    assert!(msg.contains("sysctl -w vm.max_map_count="), "{msg}");
    assert!(slab::readable(slot), "the refused slot must not be touched");
    for s in guarded {
        assert!(!slab::readable(s));
        assert!(slab::readable(s + page()));
    }
}

#[test]
fn a_refused_slab_names_the_limits() {
    // Larger than the address space: the kernel refuses even one stack.
    let size = 1 << 47;
    let err = slab::Carver::new(size).reserve().unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.kind(), std::io::ErrorKind::OutOfMemory, "{msg}");
    assert!(
        msg.starts_with(&format!("cannot map a goroutine stack of {size} bytes: ")),
        "{msg}"
    );
    for limit in ["RLIMIT_AS", "vm.max_map_count", "vm.overcommit_memory"] {
        assert!(msg.contains(limit), "{msg}");
    }
}

#[test]
fn cold_stacks_are_kept_as_merged_runs() {
    let pool = StackPool::new(16 * 1024);
    let n = 3 * HOT_MAX + COMPACT_MIN;
    let mut stacks: Vec<GoStack> = (0..n).map(|_| pool.alloc(None, None).unwrap()).collect();
    // Free in a scrambled order, as goroutines of a burst finish.
    let len = stacks.len();
    for i in 0..len {
        stacks.swap(i, (i * 7919) % len);
    }
    for s in stacks {
        pool.free(s, 16 * 1024, None);
    }
    pool.trim();
    {
        let mut c = lock(&pool.default);
        c.compact_cold();
        assert_eq!(c.ncold, n);
        assert!(c.cold.len() <= 4, "{} runs", c.cold.len());
    }
    let again: Vec<GoStack> = (0..n).map(|_| pool.alloc(None, None).unwrap()).collect();
    let mut addrs: Vec<usize> = again.iter().map(|s| s.limit.get()).collect();
    addrs.sort_unstable();
    addrs.dedup();
    assert_eq!(addrs.len(), n, "a stack was handed out twice");
    assert_eq!(pool.counts(), (0, 0));
}

#[test]
fn the_scavenger_keeps_stacks_in_demand() {
    let pool = StackPool::new(16 * 1024);
    let n = 2 * HOT_MAX;
    let stacks: Vec<GoStack> = (0..n).map(|_| pool.alloc(None, None).unwrap()).collect();
    for s in stacks {
        pool.free(s, 16 * 1024, None);
    }
    pool.scavenge();
    // Churn during the period: HOT_MAX taken and given back.
    let taken: Vec<GoStack> = (0..HOT_MAX)
        .map(|_| pool.alloc(None, None).unwrap())
        .collect();
    for s in taken {
        pool.free(s, 16 * 1024, None);
    }
    pool.scavenge();
    // Only the stacks nobody touched (n - HOT_MAX of them) beyond the
    // reserve went back.
    assert_eq!(pool.counts(), (n - (HOT_MAX - HOT_LOW), HOT_MAX - HOT_LOW));
}
