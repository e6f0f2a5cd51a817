//! Port of the goroutines/channels guide's second "timeout by
//! `time.After()`" program (seed 000): five `doWork` goroutines each start
//! a task sleeping a random 0–9 s and give it 3 s; main collects what the
//! tasks sent after 11 s.
//!
//! Prints, in some order, `goroutineN to sleep Ds` for each N, then
//! `goroutineN, done` for the tasks under 3 s and `goroutineN, timeout` for
//! the others, and last every delay, tab-separated.

use std::io::Write;
use std::time::Duration;

use weft::time::{after, sleep};
use weft::Sender;

#[path = "common/mod.rs"]
mod common;

fn do_work(x: i32, ch: Sender<u64>) {
    let (done_tx, done) = weft::chan::<()>(0);
    weft::go!(move || {
        let delay = common::rand_intn(10);
        println!("goroutine{x} to sleep {delay}s");
        sleep(Duration::from_secs(delay));
        ch.send(delay).unwrap();
        done_tx.close().unwrap();
    });

    weft::select! {
        recv(done) -> _ => println!("goroutine{x}, done"),
        recv(after(Duration::from_secs(3))) -> _ => println!("goroutine{x}, timeout"),
    }
}

fn main() {
    weft::run(|| {
        let (ch_tx, ch) = weft::chan::<u64>(5);
        for i in 0..5 {
            weft::go!(do_work(i, ch_tx.clone()));
        }

        sleep(Duration::from_secs(11));
        ch_tx.close().unwrap();
        for v in &ch {
            print!("{v}\t");
        }
        let _ = std::io::stdout().flush();
    });
}
