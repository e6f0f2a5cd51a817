//! Port of the Go Concurrency Guide's "select" blocking example (seed
//! 004): a select with one case blocks until a goroutine closes the
//! channel.
//!
//! The seed closes it after 5 s; here 1 s.
//!
//! Prints (the time varies a little):
//! ```text
//! Blocking on read...
//! Unblocked 1.000123456s later.
//! ```

use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let start = Instant::now();
        let (c_tx, c) = weft::chan::<()>(0);
        weft::go!(move || {
            weft::time::sleep(Duration::from_secs(1));
            c_tx.close().unwrap();
        });

        println!("Blocking on read...");
        weft::select! {
            recv(c) -> _ => println!(
                "Unblocked {} later.",
                common::duration_string(start.elapsed())
            ),
        }
    });
}
