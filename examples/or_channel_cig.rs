//! Port of *Concurrency in Go* notes, "The or-channel pattern" (seed 001):
//! `or` combines done channels into one that closes when any of them
//! closes, recursively, one goroutine per three channels; it is tried on
//! three channels that close after 2 h, 5 min and 1 s.
//!
//! (The seed's `main` only defines `or`; its `test` function is the
//! program, run here as main.)
//!
//! Prints (the time varies a little):
//! ```text
//! done after 1.001234567s
//! ```

use std::time::{Duration, Instant};

use weft::Receiver;

#[path = "common/mod.rs"]
mod common;

fn or(channels: Vec<Receiver<()>>) -> Receiver<()> {
    match channels.len() {
        0 => return weft::never(),
        1 => return channels.into_iter().next().unwrap(),
        _ => {}
    }

    let (or_done_tx, or_done) = weft::chan::<()>(0);
    let me = or_done.clone();
    weft::go!(move || {
        let _close = common::defer(|| or_done_tx.close().unwrap());
        if channels.len() == 2 {
            weft::select! {
                recv(channels[0]) -> _ => {},
                recv(channels[1]) -> _ => {},
            }
        } else {
            let mut rest = channels[3..].to_vec();
            rest.push(me);
            weft::select! {
                recv(channels[0]) -> _ => {},
                recv(channels[1]) -> _ => {},
                recv(channels[2]) -> _ => {},
                recv(or(rest)) -> _ => {},
            }
        }
    });
    or_done
}

fn sig(after: Duration) -> Receiver<()> {
    let (tx, c) = weft::chan::<()>(0);
    weft::go!(move || {
        let _close = common::defer(|| tx.close().unwrap());
        weft::time::sleep(after);
    });
    c
}

fn main() {
    weft::run(|| {
        let start = Instant::now();
        let _ = or(vec![
            sig(Duration::from_secs(2 * 60 * 60)),
            sig(Duration::from_secs(5 * 60)),
            sig(Duration::from_secs(1)),
        ])
        .recv();
        println!("done after {}", common::duration_string(start.elapsed()));
    });
}
