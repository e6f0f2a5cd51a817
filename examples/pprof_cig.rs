//! Port of *Concurrency in Go* notes, "pprof" (seed 001): a goroutine logs
//! how many goroutines exist, once per tick, while main creates goroutines
//! that block forever on a nil channel. Go reads the count from the
//! `goroutine` profile (`pprof.Lookup("goroutine").Count()`); weft's is
//! `weft::num_goroutine()` (Go's `runtime.NumGoroutine()`).
//!
//! The seed logs every 1 s and starts a goroutine every 500 ms (5 s); here
//! every 200 ms and 100 ms (1 s). Ten goroutines never exit; main returns
//! after the last one, ending the program.
//!
//! Prints four or five lines, the count growing (main, the logger and the
//! blocked goroutines so far):
//! ```text
//! 10:21:30 goroutine count:4
//! 10:21:30 goroutine count:6
//! 10:21:31 goroutine count:8
//! 10:21:31 goroutine count:10
//! 10:21:31 goroutine count:12
//! ```

use std::time::Duration;

use weft::time::tick;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        // Every tick, log how many goroutines are currently running.
        weft::go!(move || {
            for _ in tick(Duration::from_millis(200)) {
                common::log_time(&format!("goroutine count:{}", weft::num_goroutine()));
            }
        });

        // Create some goroutines which will never exit.
        for _ in 0..10 {
            let block_forever = weft::never::<()>();
            weft::go!(move || {
                let _ = block_forever.recv();
            });
            weft::time::sleep(Duration::from_millis(100));
        }
    });
}
