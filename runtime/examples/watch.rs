//! Watching the scheduler: run with
//! `WEFT_DEBUG=schedtrace=200 cargo run --release -p weft-runtime --example watch`
//! It keeps both Ps busy for a while, then prints a goroutine dump.

use std::time::Duration;

use weft_runtime::park::park;
use weft_runtime::{self as weft, WaitReason};

fn main() {
    weft::run(|| {
        // Some goroutines that will wait forever, for the dump.
        for i in 0..2 {
            weft::Builder::new()
                .name(format!("waiter-{i}"))
                .spawn(|| loop {
                    park(WaitReason::ChanReceive, || {})
                })
                .unwrap();
        }
        let sleeper = weft::Builder::new()
            .name("sleeper")
            .spawn(|| weft::time::sleep(Duration::from_secs(5)))
            .unwrap();
        // Busy work: many short goroutines, for 600 ms.
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(600) {
            let hs: Vec<_> = (0..1000u64)
                .map(|i| weft::spawn(move || (0..100).fold(i, |a, b| a ^ (a << 1) ^ b)))
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        }
        print!("{}", weft::dump_goroutines());
        drop(sleeper);
    });
}
