//! Port of *Concurrency in Go* notes, "Healing Unhealthy Goroutines" (seed
//! 001): a steward starts a ward goroutine and restarts it whenever no
//! heartbeat arrives within the timeout, relaying its own heartbeat
//! meanwhile. The ward's `done` is `or(wardDone, done)` — the seed's
//! or-channel, defined inline.
//!
//! The seed defines only `newSteward`; here main gives it a ward that
//! never sends a heartbeat (so it is restarted every time), halts
//! everything with `done` after a while, and logs as the seed does
//! (`log` with the time of day, on stdout). The timeout is 400 ms and the
//! halt comes after 1 s.
//!
//! Prints (the times vary):
//! ```text
//! 10:21:30 ward: Hello, I'm irresponsible!
//! 10:21:30 steward: ward unhealthy: restarting
//! 10:21:30 ward: I am halting.
//! 10:21:30 ward: Hello, I'm irresponsible!
//! 10:21:31 steward: ward unhealthy: restarting
//! 10:21:31 ward: I am halting.
//! 10:21:31 ward: Hello, I'm irresponsible!
//! 10:21:31 main: halting steward and ward.
//! 10:21:31 ward: I am halting.
//! 10:21:31 Done
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::time::{after, after_func, tick};
use weft::{Receiver, Sender};

#[path = "common/mod.rs"]
mod common;

type StartGoroutineFn = Arc<dyn Fn(Receiver<()>, Duration) -> Receiver<()> + Send + Sync>;

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

fn new_steward(timeout: Duration, start_goroutine: StartGoroutineFn) -> StartGoroutineFn {
    Arc::new(move |done: Receiver<()>, pulse_interval: Duration| {
        let (heartbeat_tx, heartbeat) = weft::chan::<()>(0);
        let start_goroutine = start_goroutine.clone();
        weft::go!(move || {
            // `defer close(heartbeat)`: the sender drops on return.
            let mut ward_done: Sender<()>;
            let mut ward_heartbeat: Receiver<()>;
            let start_ward = || {
                let (tx, rx) = weft::chan::<()>(0);
                let hb = start_goroutine(or(vec![rx, done.clone()]), timeout / 2);
                (tx, hb)
            };
            (ward_done, ward_heartbeat) = start_ward();
            let pulse = tick(pulse_interval);

            'monitor_loop: loop {
                let timeout_signal = after(timeout);
                loop {
                    weft::select! {
                        recv(pulse) -> _ => {
                            weft::select! {
                                send(heartbeat_tx, ()) -> _ => {},
                                default => {},
                            }
                        },
                        recv(ward_heartbeat) -> _ => continue 'monitor_loop,
                        recv(timeout_signal) -> _ => {
                            common::log_time("steward: ward unhealthy: restarting");
                            ward_done.close().unwrap();
                            (ward_done, ward_heartbeat) = start_ward();
                            continue 'monitor_loop;
                        },
                        recv(done) -> _ => return,
                    }
                }
            }
        });
        heartbeat
    })
}

fn main() {
    weft::run(|| {
        // A ward that never sends a heartbeat: it only waits to be stopped.
        let do_work: StartGoroutineFn = Arc::new(|done: Receiver<()>, _: Duration| {
            common::log_time("ward: Hello, I'm irresponsible!");
            weft::go!(move || {
                let _ = done.recv();
                common::log_time("ward: I am halting.");
            });
            weft::never() // a nil heartbeat channel
        });
        let do_work_with_steward = new_steward(Duration::from_millis(400), do_work);

        let (done_tx, done) = weft::chan::<()>(0);
        let _halt = after_func(Duration::from_millis(1000), move || {
            common::log_time("main: halting steward and ward.");
            let _ = done_tx.close();
        });

        for _ in &do_work_with_steward(done, Duration::from_millis(400)) {}
        common::log_time("Done");
    });
}
