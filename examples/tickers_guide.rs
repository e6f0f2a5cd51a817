//! Port of the goroutines/channels guide's "example: ticker" (seed 000):
//! Go by Example's program with a goodbye from the ticking goroutine.
//!
//! Prints (ticks shown in Go's `Time.String()` layout, in UTC):
//! ```text
//! Tick at 2024-01-09 17:33:06.1817271 +0000 UTC m=+0.514428101
//! Tick at 2024-01-09 17:33:06.6794341 +0000 UTC m=+1.012135101
//! Tick at 2024-01-09 17:33:07.1855028 +0000 UTC m=+1.518203801
//! bye bye
//! Ticker stopped
//! ```

use std::time::Duration;

use weft::time::{sleep, Ticker};

#[path = "common/mod.rs"]
mod common;

fn main() {
    common::mark_start();
    weft::run(|| {
        let ticker = Ticker::new(Duration::from_millis(500));
        let (done_tx, done) = weft::chan::<bool>(0);

        let ticks = ticker.c.clone();
        weft::go!(move || loop {
            weft::select! {
                recv(done) -> _ => {
                    println!("bye bye");
                    return;
                }
                recv(ticks) -> t => println!("Tick at {}", common::time_string(t.unwrap())),
            }
        });

        sleep(Duration::from_millis(1600));
        ticker.stop();
        done_tx.send(true).unwrap();
        sleep(Duration::from_secs(1));
        println!("Ticker stopped");
    });
}
