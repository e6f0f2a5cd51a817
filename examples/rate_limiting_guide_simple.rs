//! Port of the goroutines/channels guide's "rate limiter" first example,
//! "simple rate limiting, `1 request/s`" (seed 000): 5 requests, each
//! waiting for a tick of a 1 s `weft::time::tick`.
//!
//! Prints `request N <time>` for N = 1..5, about a second apart (times in
//! Go's `Time.String()` layout, in UTC).

use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;

fn main() {
    common::mark_start();
    weft::run(|| {
        let (requests_tx, requests) = weft::chan::<i32>(5);
        for i in 1..=5 {
            requests_tx.send(i).unwrap();
        }
        requests_tx.close().unwrap();

        let simple_limiter = weft::time::tick(Duration::from_millis(1000));

        for req in &requests {
            simple_limiter.recv().unwrap();
            println!("request {req} {}", common::time_string(Instant::now()));
        }
    });
}
