//! Channel figures: unbuffered ping-pong round trip between two goroutines
//! at maxprocs 1 and 2, and buffered (cap 128) one-producer-one-consumer
//! throughput. Medians of 5 runs.
//!
//! ```text
//! cargo run --release -p weft-channels --example chan_bench
//! ```

use std::time::Instant;

use weft_channels::chan;
use weft_runtime as weft;

fn ping_pong(rounds: u64) -> f64 {
    weft::run(move || {
        let (ping_tx, ping_rx) = chan::<u64>(0);
        let (pong_tx, pong_rx) = chan::<u64>(0);
        let h = weft::spawn(move || {
            for v in &ping_rx {
                pong_tx.send(v).unwrap();
            }
        });
        let start = Instant::now();
        for i in 0..rounds {
            ping_tx.send(i).unwrap();
            pong_rx.recv().unwrap();
        }
        let ns = start.elapsed().as_nanos() as f64 / rounds as f64;
        drop(ping_tx);
        h.join().unwrap();
        ns
    })
}

fn buffered(n: u64, cap: usize) -> f64 {
    weft::run(move || {
        let (tx, rx) = chan::<u64>(cap);
        let start = Instant::now();
        let h = weft::spawn(move || {
            for i in 0..n {
                tx.send(i).unwrap();
            }
        });
        let mut sum = 0u64;
        for v in &rx {
            sum = sum.wrapping_add(v);
        }
        h.join().unwrap();
        assert_eq!(sum, n * (n - 1) / 2);
        start.elapsed().as_nanos() as f64 / n as f64
    })
}

fn median(mut f: impl FnMut() -> f64) -> f64 {
    let mut v: Vec<f64> = (0..5).map(|_| f()).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[2]
}

fn main() {
    let initial = weft::maxprocs();
    for procs in [1, 2] {
        weft::set_maxprocs(procs);
        ping_pong(10_000); // warm up
        let rt = median(|| ping_pong(200_000));
        println!("unbuffered ping-pong, maxprocs {procs}: {rt:.0} ns per round trip");
        let bt = median(|| buffered(2_000_000, 128));
        println!(
            "buffered cap 128, 1 producer 1 consumer, maxprocs {procs}: {bt:.1} ns per message"
        );
    }
    weft::set_maxprocs(initial);
}
