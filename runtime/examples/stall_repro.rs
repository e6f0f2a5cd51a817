//! The maxprocs-1 stall of issue 15: 100 goroutines in `blocking(sleep 100 ms)` beside one
//! sleeping 5 ms twenty times; each run should take ~110 ms. `cargo run --release -p
//! weft-runtime --example stall_repro -- RUNS` (NOTICK=1 drops the ticker).
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
fn main() {
    let runs: usize = std::env::args().nth(1).map_or(20, |s| s.parse().unwrap());
    let ticker_on = std::env::var("NOTICK").is_err();
    for r in 0..runs {
        let t = Instant::now();
        let (took, ms, starts) = weft::run(move || {
            let t0 = Instant::now();
            let starts = Arc::new(Mutex::new(Vec::new()));
            let hs: Vec<_> = (0..100)
                .map(|_| {
                    let s = starts.clone();
                    weft::spawn(move || {
                        s.lock().unwrap().push(t0.elapsed().as_micros() as u64);
                        weft::blocking(|| std::thread::sleep(Duration::from_millis(100)))
                    })
                })
                .collect();
            let ticker = weft::spawn(move || {
                if ticker_on {
                    for _ in 0..20 {
                        weft::time::sleep(Duration::from_millis(5));
                    }
                }
            });
            for h in hs {
                h.join().unwrap();
            }
            ticker.join().unwrap();
            let st = starts.lock().unwrap().clone();
            (t0.elapsed(), weft::stats().threads, st)
        });
        let mut s = starts.clone();
        s.sort();
        let gaps: Vec<u64> = s.windows(2).map(|w| (w[1] - w[0]) / 100).collect();
        println!(
            "run {r}: {:?} threads {ms} total {:?} max start {} gaps(100us) {:?}",
            took,
            t.elapsed(),
            s[99] / 1000,
            gaps
        );
    }
}
