//! Port of the Go Concurrency Guide's "OR Channel" (seed 004): `or` combines
//! five done channels — closing after 2 h, 5 min, 1 s, 1 h and 1 min —
//! into one that closes as soon as the first does.
//!
//! Prints (the time varies a little; no newline at the end):
//! ```text
//! done after 1.001234567s
//! ```

use std::io::Write;
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

fn main() {
    weft::run(|| {
        let sig = |after: Duration| -> Receiver<()> {
            let (tx, c) = weft::chan::<()>(0);
            weft::go!(move || {
                let _close = common::defer(|| tx.close().unwrap());
                weft::time::sleep(after);
            });
            c
        };

        let start = Instant::now();
        let _ = or(vec![
            sig(Duration::from_secs(2 * 60 * 60)),
            sig(Duration::from_secs(5 * 60)),
            sig(Duration::from_secs(1)),
            sig(Duration::from_secs(60 * 60)),
            sig(Duration::from_secs(60)),
        ])
        .recv();

        print!("done after {}", common::duration_string(start.elapsed()));
        let _ = std::io::stdout().flush();
    });
}
