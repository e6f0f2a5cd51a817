//! Port of *Concurrency in Go* notes, "Heartbeats" (seed 001): `doWork`
//! sends a heartbeat every pulse interval (dropped when nobody listens)
//! and a result every two intervals; main prints both, and would give up
//! if neither came within the timeout. `done` closes after a while
//! (`time.AfterFunc`), `doWork` returns and closes its channels, and main
//! returns.
//!
//! The seed's timeout is 2 s (pulses every 1 s, results every 2 s) and
//! `done` closes after 10 s; here 200 ms, 100 ms, 200 ms and 1 s.
//!
//! Prints `pulse` and `results S` lines (S: the wall clock's second when
//! the result was made), about two pulses per result:
//! ```text
//! pulse
//! pulse
//! results 52
//! pulse
//! pulse
//! results 52
//! ...
//! ```

use std::time::{Duration, Instant};

use weft::time::{after, after_func, tick};
use weft::Receiver;

#[path = "common/mod.rs"]
mod common;

fn do_work(done: Receiver<()>, pulse_interval: Duration) -> (Receiver<()>, Receiver<Instant>) {
    let (heartbeat_tx, heartbeat) = weft::chan::<()>(0);
    let (results_tx, results) = weft::chan::<Instant>(0);
    weft::go!(move || {
        // `defer close(heartbeat); defer close(results)`: the senders drop
        // when this goroutine returns.
        let pulse = tick(pulse_interval);
        let work_gen = tick(2 * pulse_interval); // another ticker: work coming in

        let send_pulse = || {
            weft::select! {
                send(heartbeat_tx, ()) -> _ => {},
                default => {}, // no one may be listening to our heartbeat
            }
        };
        let send_result = |r: Instant| loop {
            weft::select! {
                recv(done) -> _ => return,
                recv(pulse) -> _ => send_pulse(),
                send(results_tx, r) -> _ => return,
            }
        };

        loop {
            weft::select! {
                recv(done) -> _ => return,
                recv(pulse) -> _ => send_pulse(),
                recv(work_gen) -> r => send_result(r.unwrap()),
            }
        }
    });
    (heartbeat, results)
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let _halt = after_func(Duration::from_secs(1), move || {
            let _ = done_tx.close();
        });

        const TIMEOUT: Duration = Duration::from_millis(200);
        let (heartbeat, results) = do_work(done, TIMEOUT / 2);
        loop {
            weft::select! {
                recv(heartbeat) -> ok => {
                    if ok.is_err() {
                        return;
                    }
                    println!("pulse");
                },
                recv(results) -> r => {
                    let Ok(r) = r else { return };
                    println!("results {}", common::wall_second(r));
                },
                recv(after(TIMEOUT)) -> _ => return,
            }
        }
    });
}
