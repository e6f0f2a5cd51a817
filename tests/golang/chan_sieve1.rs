//! Port of Go's `test/chan/sieve1.go`: the classical inefficient concurrent
//! prime sieve — a daisy chain of filter goroutines — checked against the
//! primes below 100. In Go the generator and the filters run forever; here
//! they stop once the test returns and drops the receiver (a send with no
//! `Receiver` left fails, and the chain unwinds).

use weft::{chan, Receiver, Sender};

use crate::common;

/// Sends the sequence 2, 3, 4, ... to `ch`.
fn generate(ch: Sender<i32>) {
    let mut i = 2;
    while ch.send(i).is_ok() {
        i += 1;
    }
}

/// Copies the values from `input` to `out`, removing those divisible by
/// `prime`.
fn filter(input: Receiver<i32>, out: Sender<i32>, prime: i32) {
    for i in &input {
        if i % prime != 0 && out.send(i).is_err() {
            return;
        }
    }
}

/// The prime sieve: daisy-chains filter goroutines together.
fn sieve(primes: Sender<i32>) {
    let (tx, mut ch) = chan(0);
    weft::go!(generate(tx));
    loop {
        // `ch` is different on each iteration.
        let Ok(prime) = ch.recv() else { return };
        if primes.send(prime).is_err() {
            return;
        }
        let (tx1, ch1) = chan(0);
        weft::go!(filter(ch, tx1, prime));
        ch = ch1;
    }
}

pub(crate) const PRIMES: [i32; 25] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
];

#[test]
fn sieve1() {
    common::run(|| {
        let (tx, primes) = chan(0);
        weft::go!(sieve(tx));
        for want in PRIMES {
            let x = primes.recv().unwrap();
            assert_eq!(x, want, "{x} != {want}");
        }
    });
}
