//! Port of Go by Example "Tickers" (seed 002, `tickers.go`): a
//! `weft::time::Ticker` sends every 500 ms until it is stopped.
//!
//! Prints three ticks then `Ticker stopped`. Go prints each tick's
//! `time.Time`; `Tick at :` here shows the tick's wall-clock time (in UTC)
//! and monotonic reading in Go's `Time.String()` layout:
//! ```text
//! Tick at : 2019-10-23 05:05:26.605803 +0000 UTC m=+0.504344617
//! Tick at : 2019-10-23 05:05:27.106393 +0000 UTC m=+1.004949855
//! Tick at : 2019-10-23 05:05:27.60466 +0000 UTC m=+1.503231861
//! Ticker stopped
//! ```

use std::time::Duration;

use weft::time::{sleep, Ticker};

#[path = "common/mod.rs"]
mod common;

fn main() {
    common::mark_start();
    weft::run(|| {
        // A Ticker sends on its channel `c` repeatedly: here every 500 ms.
        let ticker = Ticker::new(Duration::from_millis(500));
        let (done_tx, done) = weft::chan::<bool>(0);

        let ticks = ticker.c.clone();
        weft::go!(move || loop {
            weft::select! {
                recv(done) -> _ => return,
                recv(ticks) -> t => println!("Tick at : {}", common::time_string(t.unwrap())),
            }
        });

        // A ticker can be stopped like a timer: once stopped, its channel
        // receives no more values.
        sleep(Duration::from_millis(1600));

        ticker.stop();
        done_tx.send(true).unwrap();
        println!("Ticker stopped");

        sleep(Duration::from_millis(2000));
    });
}
