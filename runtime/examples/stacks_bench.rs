//! Measures goroutine stacks at scale: resident bytes per parked goroutine,
//! and spawn-to-completion time per goroutine with a warm stack pool.
//!
//! ```text
//! cargo run --release -p weft-runtime --example stacks_bench [N]   # N defaults to 1,000,000
//! ```

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use weft::park::{park, unparker, Unparker};
use weft::WaitReason;
use weft_runtime as weft;

fn rss_bytes() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Parks `n` goroutines at once; returns RSS while parked.
fn parked_rss(n: usize) -> usize {
    let parked = Arc::new(AtomicUsize::new(0));
    let released = Arc::new(AtomicBool::new(false));
    let wakers: Arc<Mutex<Vec<Unparker>>> = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (parked, released, wakers) = (parked.clone(), released.clone(), wakers.clone());
            weft::spawn(move || {
                wakers.lock().unwrap().push(unparker());
                let mut first = true;
                while !released.load(Ordering::Acquire) {
                    park(WaitReason::Park, || {
                        if std::mem::take(&mut first) {
                            parked.fetch_add(1, Ordering::Release);
                        }
                    });
                }
            })
        })
        .collect();
    while parked.load(Ordering::Acquire) < n {
        weft::yield_now();
    }
    let rss = rss_bytes();
    released.store(true, Ordering::Release);
    for w in std::mem::take(&mut *wakers.lock().unwrap()) {
        w.unpark();
    }
    for h in handles {
        h.join().unwrap();
    }
    rss
}

/// Spawns `n` goroutines, then joins them all; returns ns per goroutine.
fn spawn_all_then_join(n: usize) -> f64 {
    let t = Instant::now();
    let hs: Vec<_> = (0..n as u64).map(|i| weft::spawn(move || i)).collect();
    let sum: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
    t.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N: a number of goroutines"))
        .unwrap_or(1_000_000);
    // One `run` for everything (see docs/stacks.md, "Known gaps").
    weft::run(move || {
        let base = rss_bytes();
        let parked = parked_rss(n);
        println!(
            "{n} parked goroutines: {} bytes per parked goroutine (RSS {} -> {} MiB)",
            (parked - base) / n,
            base >> 20,
            parked >> 20
        );
        spawn_all_then_join(n); // warm the pool and the allocator
        let runs: Vec<f64> = (0..3).map(|_| spawn_all_then_join(n)).collect();
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "spawn to completion, warm pool, {n} spawned then joined: {:.0} ns per goroutine \
             (median of {runs:.0?})",
            sorted[1]
        );
        println!(
            "maxprocs {}, RSS at exit {} MiB",
            weft::maxprocs(),
            rss_bytes() >> 20
        );
    });
}
