//! Timer figures: sleep(1 ms) overshoot, and 1M concurrent timers.
//! `cargo run --release -p weft-runtime --example timer_cost`
//! (Go's counterpart, side by side: `sched-bench/micro.sh timers`; Go's
//! `AfterFunc` also spawns a goroutine per firing, weft's raw timer does not.)
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime::park::{park, unparker};
use weft_runtime::{self as weft, time, timer, WaitReason};

fn main() {
    weft::run(|| {
        let mut over: Vec<f64> = (0..300)
            .map(|_| {
                let t = Instant::now();
                time::sleep(Duration::from_millis(1));
                (t.elapsed().as_secs_f64() - 0.001) * 1e6
            })
            .collect();
        over.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "sleep(1ms) overshoot: median {:.0} us, p99 {:.0} us",
            over[over.len() / 2],
            over[over.len() * 99 / 100]
        );
        for round in 0..3 {
            const N: usize = 1_000_000;
            let left = Arc::new(AtomicUsize::new(N));
            let me = unparker();
            let t = Instant::now();
            let base = Instant::now();
            for i in 0..N {
                let (left, me) = (left.clone(), me.clone());
                let d = Duration::from_micros((i % 1000) as u64 * 10);
                timer::add(base + d, move || {
                    if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                        me.unpark();
                    }
                });
            }
            while left.load(Ordering::Acquire) != 0 {
                park(WaitReason::Sleep, || {});
            }
            let ns = t.elapsed().as_nanos() as f64 / N as f64;
            println!("round {round}: 1M timers (0-10 ms) create+fire {ns:.0} ns/timer");
        }
    });
}
