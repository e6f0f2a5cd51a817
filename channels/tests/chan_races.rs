//! The races a channel's wait records go through, counted: a timer and a
//! peer both trying to claim one blocked operation, a select's cases
//! claimed from several channels at once, a close claiming everyone. Every
//! value sent successfully is received exactly once; every value refused
//! comes back to its sender.
//!
//! CI runs this file under `WEFT_SPAWN=continuation|child` ×
//! `WEFT_MAXPROCS=1|2` (see `test.sh`). `WEFT_STRESS_CYCLES` scales it.

use std::collections::HashSet;
use std::time::Duration;

use weft::{chan, select, RecvTimeoutError, SendTimeoutError};

fn cycles(default: u64) -> u64 {
    std::env::var("WEFT_STRESS_CYCLES")
        .ok()
        .map(|v: String| v.parse::<u64>().unwrap() / 50)
        .unwrap_or(default)
}

#[test]
fn timeouts_racing_peers_lose_and_duplicate_nothing() {
    let n = cycles(200_000);
    let (sent, received, refused) = weft::run(move || {
        let (tx, rx) = chan::<u64>(0);
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let tx = tx.clone();
                weft::go!(move || {
                    let (mut ok, mut back) = (Vec::new(), 0u64);
                    for i in 0..n / 4 {
                        let v = p << 40 | i;
                        // Timeouts short enough to race the receivers'.
                        match tx.send_timeout(v, Duration::from_micros(i % 7)) {
                            Ok(()) => ok.push(v),
                            Err(SendTimeoutError::Timeout(w)) => {
                                assert_eq!(w, v, "a refused send came back changed");
                                back += 1;
                            }
                            Err(SendTimeoutError::Closed(_)) => unreachable!("never closed"),
                        }
                    }
                    (ok, back)
                })
            })
            .collect();
        drop(tx);
        let consumers: Vec<_> = (0..3u64)
            .map(|c| {
                let rx = rx.clone();
                weft::go!(move || {
                    let mut got = Vec::new();
                    let mut k = c;
                    loop {
                        k += 1;
                        match rx.recv_timeout(Duration::from_micros(k % 5)) {
                            Ok(v) => got.push(v),
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Closed) => return got,
                        }
                    }
                })
            })
            .collect();
        drop(rx);
        let mut sent = Vec::new();
        let mut refused = 0;
        for h in producers {
            let (ok, back) = h.join().unwrap();
            sent.extend(ok);
            refused += back;
        }
        let mut received = Vec::new();
        for h in consumers {
            received.extend(h.join().unwrap());
        }
        (sent, received, refused)
    });
    assert_eq!(sent.len() as u64 + refused, n / 4 * 4);
    let unique: HashSet<u64> = received.iter().copied().collect();
    assert_eq!(unique.len(), received.len(), "a value was received twice");
    let sent: HashSet<u64> = sent.into_iter().collect();
    assert_eq!(unique, sent, "sent and received differ");
}

#[test]
fn selects_claimed_from_many_channels_take_each_value_once() {
    let n = cycles(400_000);
    let (total, count) = weft::run(move || {
        let chans: Vec<_> = (0..4).map(|_| chan::<u64>(0)).collect();
        let (done_tx, done_rx) = chan::<()>(0);
        // Two selecting consumers compete for four producers' values; each
        // also has a send case on a channel nobody reads, which must never
        // fire, and a case on the done channel.
        let (dead_tx, _dead_rx) = chan::<u64>(0);
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let rxs: Vec<_> = chans.iter().map(|(_, rx)| rx.clone()).collect();
                let (done_rx, dead_tx) = (done_rx.clone(), dead_tx.clone());
                weft::go!(move || {
                    let (mut sum, mut count) = (0u64, 0u64);
                    loop {
                        select! {
                            recv(rxs[0]) -> v => { sum += v.unwrap(); count += 1; }
                            recv(rxs[1]) -> v => { sum += v.unwrap(); count += 1; }
                            recv(rxs[2]) -> v => { sum += v.unwrap(); count += 1; }
                            recv(rxs[3]) -> v => { sum += v.unwrap(); count += 1; }
                            send(dead_tx, 0) -> _ => panic!("a send case nobody reads fired"),
                            recv(done_rx) -> _ => return (sum, count),
                        }
                    }
                })
            })
            .collect();
        let producers: Vec<_> = chans
            .iter()
            .enumerate()
            .map(|(p, (tx, _))| {
                let tx = tx.clone();
                weft::go!(move || {
                    for i in 0..n / 4 {
                        tx.send((p as u64) * (n / 4) + i).unwrap();
                    }
                })
            })
            .collect();
        for h in producers {
            h.join().unwrap();
        }
        done_tx.close().unwrap();
        let mut total = (0, 0);
        for h in consumers {
            let (s, c) = h.join().unwrap();
            total.0 += s;
            total.1 += c;
        }
        total
    });
    let m = n / 4 * 4;
    assert_eq!(count, m, "values lost or taken twice");
    assert_eq!(total, m * (m - 1) / 2);
}

#[test]
fn close_wakes_every_blocked_operation_exactly_once() {
    let rounds = cycles(20_000) / 10;
    weft::run(move || {
        for _ in 0..rounds {
            let (tx, rx) = chan::<u64>(0);
            let (tx2, rx2) = chan::<u64>(0);
            // Each blocked operation reports (sends completed, receives
            // completed); whatever paired before the close must balance,
            // and everyone else must have been woken by it.
            let blocked: Vec<_> = (0..6u64)
                .map(|k| {
                    let (tx, rx, tx2, rx2) = (tx.clone(), rx.clone(), tx2.clone(), rx2.clone());
                    weft::go!(move || match k % 3 {
                        0 => (0, u64::from(rx.recv().is_ok())),
                        1 => match tx.send(k) {
                            Err(e) => {
                                assert_eq!(e.0, k, "a refused value came back changed");
                                (0, 0)
                            }
                            Ok(()) => (1, 0),
                        },
                        _ => {
                            select! {
                                recv(rx) -> v => (0, u64::from(v.is_ok())),
                                recv(rx2) -> v => (0, u64::from(v.is_ok())),
                                send(tx2, k) -> r => (u64::from(r.is_ok()), 0),
                            }
                        }
                    })
                })
                .collect();
            weft::yield_now();
            tx.close().unwrap();
            tx2.close().unwrap();
            let (sends, recvs) = blocked
                .into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            assert_eq!(sends, recvs, "a value was lost or received twice");
        }
    });
}
