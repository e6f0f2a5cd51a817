//! select! chooses uniformly among ready cases: chi-square goodness of fit
//! over 20,000 selects with 2, 3 and 4 always-ready cases.
//! (The check and its critical values: `support/mod.rs`.)

use weft_channels::{chan, select, Receiver, Sender};
use weft_runtime as weft;

mod support;
use support::closed;

const TRIALS: usize = 20_000;

fn assert_uniform(counts: &[usize]) {
    support::assert_uniform("select", counts, TRIALS);
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
