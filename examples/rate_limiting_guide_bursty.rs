//! Port of the goroutines/channels guide's "rate limiter" second example
//! (seed 000): a limiter allowing bursts of 3 (a buffered channel of 3
//! tokens, filled up front), refilled at 1 request/s by a ticker goroutine.
//!
//! Prints `request N <time>` for N = 1..10: the first 3 at once, the last
//! 7 about a second apart (times in Go's `Time.String()` layout, in UTC).

use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;

fn main() {
    common::mark_start();
    weft::run(|| {
        let (bursty_tx, bursty_limiter) = weft::chan::<Instant>(3);

        // this is the key part, allow first 3 request to burst
        for _ in 0..3 {
            bursty_tx.send(Instant::now()).unwrap();
        }

        weft::go!(move || {
            for t in weft::time::tick(Duration::from_millis(1000)) {
                // Fails only once main has returned and dropped its
                // receiver (Go's send would block forever then).
                if bursty_tx.send(t).is_err() {
                    return;
                }
            }
        });

        let (bursty_requests_tx, bursty_requests) = weft::chan::<i32>(10);
        for i in 1..=10 {
            bursty_requests_tx.send(i).unwrap();
        }
        bursty_requests_tx.close().unwrap();

        for req in &bursty_requests {
            bursty_limiter.recv().unwrap();
            println!("request {req} {}", common::time_string(Instant::now()));
        }
    });
}
