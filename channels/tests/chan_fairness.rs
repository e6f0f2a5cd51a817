//! select! chooses uniformly among ready cases: chi-square goodness of fit
//! over 20,000 selects with 2, 3 and 4 always-ready cases.
//!
//! Critical values of the chi-square distribution at p = 0.001 (the test
//! fails when the statistic exceeds them, i.e. a fair select fails it once
//! in a thousand runs per check):
//! df 1: 10.828, df 2: 13.816, df 3: 16.266.

use weft_channels::{chan, select, Receiver, Sender};
use weft_runtime as weft;

const TRIALS: usize = 20_000;
const CRITICAL_P001: [f64; 4] = [0.0, 10.828, 13.816, 16.266];

fn chi_square(counts: &[usize]) -> f64 {
    let expected = TRIALS as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

fn assert_uniform(counts: &[usize]) {
    assert_eq!(counts.iter().sum::<usize>(), TRIALS);
    let x2 = chi_square(counts);
    let crit = CRITICAL_P001[counts.len() - 1];
    assert!(
        x2 < crit,
        "select is not uniform: counts {counts:?}, chi-square {x2:.2} >= {crit}"
    );
}

/// Closed channels: always ready.
fn closed() -> Receiver<u8> {
    let (tx, rx) = chan(0);
    tx.close().unwrap();
    rx
}

#[test]
fn two_ready_recv_cases() {
    let (a, b) = (closed(), closed());
    let mut counts = [0; 2];
    for _ in 0..TRIALS {
        select! {
            recv(a) -> _ => counts[0] += 1,
            recv(b) -> _ => counts[1] += 1,
        }
    }
    assert_uniform(&counts);
}

#[test]
fn three_ready_recv_cases() {
    let (a, b, c) = (closed(), closed(), closed());
    let mut counts = [0; 3];
    for _ in 0..TRIALS {
        select! {
            recv(a) -> _ => counts[0] += 1,
            recv(b) -> _ => counts[1] += 1,
            recv(c) -> _ => counts[2] += 1,
        }
    }
    assert_uniform(&counts);
}

#[test]
fn four_ready_recv_cases_in_a_goroutine() {
    let counts = weft::run(|| {
        let (a, b, c, d) = (closed(), closed(), closed(), closed());
        let mut counts = [0; 4];
        for _ in 0..TRIALS {
            select! {
                recv(a) -> _ => counts[0] += 1,
                recv(b) -> _ => counts[1] += 1,
                recv(c) -> _ => counts[2] += 1,
                recv(d) -> _ => counts[3] += 1,
            }
        }
        counts
    });
    assert_uniform(&counts);
}

/// Buffered channels kept non-empty and with room: recv and send cases mixed,
/// two of them on the same channel.
#[test]
fn four_ready_mixed_cases_with_a_duplicate_channel() {
    let (atx, arx): (Sender<u8>, Receiver<u8>) = chan(8);
    let (btx, brx): (Sender<u8>, Receiver<u8>) = chan(8);
    for _ in 0..4 {
        atx.send(0).unwrap();
        btx.send(0).unwrap();
    }
    let mut counts = [0; 4];
    for _ in 0..TRIALS {
        select! {
            recv(arx) -> _ => { counts[0] += 1; atx.send(0).unwrap(); },
            recv(arx) -> _ => { counts[1] += 1; atx.send(0).unwrap(); },
            recv(brx) -> _ => { counts[2] += 1; btx.send(0).unwrap(); },
            send(btx, 0) -> _ => { counts[3] += 1; brx.recv().unwrap(); },
        }
    }
    assert_uniform(&counts);
}

#[test]
fn ready_cases_beat_default_always() {
    let a = closed();
    for _ in 0..1000 {
        let fired = select! {
            recv(a) -> _ => true,
            default => false,
        };
        assert!(fired);
    }
}
