//! Port of the goroutines/channels guide's first "timeout by
//! `time.After()`" program (seed 000): a task that closes a `done` channel,
//! raced against a 3 s `after`.
//!
//! Prints: `task done` (change the task's 2 s sleep to more than 3 s to
//! see `timeout after 3s`).

use std::time::Duration;

use weft::time::{after, sleep};

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);

        weft::go!(move || {
            sleep(Duration::from_secs(2)); // change here to test different conditions
            done_tx.close().unwrap();
        });

        weft::select! {
            recv(done) -> _ => println!("task done"),
            recv(after(Duration::from_secs(3))) -> _ => println!("timeout after 3s"),
        }
    });
}
