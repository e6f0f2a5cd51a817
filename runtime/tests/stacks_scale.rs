//! Stacks at scale: a million goroutines alive at once, at the default
//! `vm.max_map_count`. Run in release mode. One `weft::run` per test binary
//! (skynet is in `stacks_skynet.rs`): see docs/stacks.md, "Known gaps".

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use weft::park::{park, unparker, Unparker};
use weft::WaitReason;
use weft_runtime as weft;

fn statm_rss_bytes() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn map_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

#[test]
fn a_million_goroutines_park_at_once_then_all_wake_and_join() {
    // Under ASan a parked goroutine costs ~46 KB (its fake stack, shadow; 4.4 GB at 100k): 50k.
    const N: usize = if cfg!(weft_asan) { 50_000 } else { 1_000_000 };
    let max_maps = std::fs::read_to_string("/proc/sys/vm/max_map_count").unwrap();
    let rss_before = statm_rss_bytes();
    let (sum, maps, rss_parked) = weft::run(move || {
        let parked = Arc::new(AtomicUsize::new(0));
        let released = Arc::new(AtomicBool::new(false));
        let wakers: Arc<Mutex<Vec<Unparker>>> = Arc::new(Mutex::new(Vec::with_capacity(N)));
        let handles: Vec<_> = (0..N as u64)
            .map(|i| {
                let (parked, released, wakers) = (parked.clone(), released.clone(), wakers.clone());
                weft::spawn(move || {
                    wakers.lock().unwrap().push(unparker());
                    let mut first = true;
                    while !released.load(Ordering::Acquire) {
                        park(WaitReason::Park, || {
                            if std::mem::take(&mut first) {
                                // Counted once the goroutine is off its stack.
                                parked.fetch_add(1, Ordering::Release);
                            }
                        });
                    }
                    i
                })
            })
            .collect();
        while parked.load(Ordering::Acquire) < N {
            weft::yield_now();
        }
        // Every one of them is parked now, each on its own guarded stack.
        assert!(weft::num_goroutine() > N);
        let maps = map_count();
        let rss_parked = statm_rss_bytes();
        released.store(true, Ordering::Release);
        let wakers = std::mem::take(&mut *wakers.lock().unwrap());
        assert_eq!(wakers.len(), N);
        for w in wakers {
            w.unpark();
        }
        let sum: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        (sum, maps, rss_parked)
    });
    assert_eq!(sum, (N as u64) * (N as u64 - 1) / 2);
    eprintln!(
        "{N} parked: {maps} mappings (vm.max_map_count = {}), RSS {} -> {} MiB, {} bytes per goroutine",
        max_maps.trim(),
        rss_before >> 20,
        rss_parked >> 20,
        (rss_parked - rss_before) / N
    );
    assert!(maps < 65530, "{maps} mappings");
}
