//! Figures for `weft::sync` (release build):
//!
//! ```text
//! cargo run --release -p weft-runtime --example sync_bench
//! WEFT_MAXPROCS=1 cargo run --release -p weft-runtime --example sync_bench
//! ```
//!
//! - uncontended `Mutex` lock/unlock, per pair;
//! - contended `Mutex`: 8 goroutines each incrementing a shared counter,
//!   per lock/unlock;
//! - `WaitGroup` fan-out/join of 10k goroutines, per round;
//! - for comparison, `std::sync::Mutex` uncontended.
//!
//! Medians of 5 runs; the machine is shared, so read ratios, not absolutes.
//! Go beside it, in one run: `sched-bench/micro.sh sync`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime as weft;
use weft_runtime::sync::{Mutex, WaitGroup};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn per(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n as f64
}

fn main() {
    println!("maxprocs = {}", weft::maxprocs());

    const UNCONTENDED: u64 = 10_000_000;
    let t = median(
        (0..5)
            .map(|_| {
                weft::run(|| {
                    let m = Mutex::new(0u64);
                    let start = Instant::now();
                    for _ in 0..UNCONTENDED {
                        *std::hint::black_box(&m).lock() += 1;
                    }
                    let e = start.elapsed();
                    assert_eq!(m.into_inner(), UNCONTENDED);
                    e
                })
            })
            .collect(),
    );
    println!(
        "weft Mutex uncontended lock+unlock:          {:8.1} ns",
        per(t, UNCONTENDED)
    );

    let t = median(
        (0..5)
            .map(|_| {
                let m = std::sync::Mutex::new(0u64);
                let start = Instant::now();
                for _ in 0..UNCONTENDED {
                    *std::hint::black_box(&m).lock().unwrap() += 1;
                }
                start.elapsed()
            })
            .collect(),
    );
    println!(
        "std Mutex uncontended lock+unlock:           {:8.1} ns",
        per(t, UNCONTENDED)
    );

    const GOROUTINES: u64 = 8;
    const EACH: u64 = 250_000;
    let t = median(
        (0..5)
            .map(|_| {
                weft::run(|| {
                    let m = Arc::new(Mutex::new(0u64));
                    let start = Instant::now();
                    let hs: Vec<_> = (0..GOROUTINES)
                        .map(|_| {
                            let m = m.clone();
                            weft::spawn(move || {
                                for _ in 0..EACH {
                                    *m.lock() += 1;
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.join().unwrap();
                    }
                    let e = start.elapsed();
                    assert_eq!(*m.lock(), GOROUTINES * EACH);
                    e
                })
            })
            .collect(),
    );
    println!(
        "weft Mutex contended, 8 goroutines:          {:8.1} ns per lock+unlock ({:.1} ms total)",
        per(t, GOROUTINES * EACH),
        t.as_secs_f64() * 1e3
    );

    const FAN: u64 = 10_000;
    let t = median(
        (0..5)
            .map(|_| {
                weft::run(|| {
                    let wg = Arc::new(WaitGroup::new());
                    let start = Instant::now();
                    wg.add(FAN as usize);
                    for _ in 0..FAN {
                        let wg = wg.clone();
                        weft::spawn(move || wg.done());
                    }
                    wg.wait();
                    start.elapsed()
                })
            })
            .collect(),
    );
    println!(
        "WaitGroup fan-out/join of 10k goroutines:    {:8.2} ms ({:.0} ns per goroutine)",
        t.as_secs_f64() * 1e3,
        per(t, FAN)
    );
}
