//! Port of *Concurrency in Go* notes, "The select Statement": doing
//! something when no channel is ready (seed 001) — the `default` case runs
//! at once.
//!
//! Prints (the time varies), then an empty line:
//! ```text
//! In default after 1.39µs
//!
//! ```

use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let start = Instant::now();
        let (c1, c2) = (weft::never::<i32>(), weft::never::<i32>());
        weft::select! {
            recv(c1) -> _ => {},
            recv(c2) -> _ => {},
            default => print!(
                "In default after {}\n\n",
                common::duration_string(start.elapsed())
            ),
        }
    });
}
