//! Port of Go's `test/chan/doubleselect.go`: two cases of one select must
//! never both run. A sender offers each counter value on four channels in
//! one select; four muxes forward onto one channel; the receiver checks
//! that no value arrives twice (and, here, that every value arrives).
//!
//! Go sets GOMAXPROCS(2) for the test; here the matrix's maxprocs is kept.

use std::collections::HashSet;

use weft::{chan, select, Receiver, Sender};

use crate::common;

const ITERATIONS: i32 = 100_000;

fn sender(n: i32, c1: Sender<i32>, c2: Sender<i32>, c3: Sender<i32>, c4: Sender<i32>) {
    for i in 0..n {
        select! {
            send(c1, i) -> r => r.unwrap(),
            send(c2, i) -> r => r.unwrap(),
            send(c3, i) -> r => r.unwrap(),
            send(c4, i) -> r => r.unwrap(),
        }
    }
    // Go's deferred closes.
    for c in [c4, c3, c2, c1] {
        c.close().unwrap();
    }
}

fn mux(out: Sender<i32>, input: Receiver<i32>, done: Sender<bool>) {
    for v in &input {
        out.send(v).unwrap();
    }
    done.send(true).unwrap();
}

fn recver(input: Receiver<i32>) -> usize {
    let mut seen = HashSet::new();
    for v in &input {
        assert!(seen.insert(v), "got duplicate value: {v}");
    }
    seen.len()
}

#[test]
fn doubleselect() {
    let got = common::run(|| {
        let (c1, r1) = chan(0);
        let (c2, r2) = chan(0);
        let (c3, r3) = chan(0);
        let (c4, r4) = chan(0);
        let (done, done_rx) = chan(0);
        let (cmux, cmux_rx) = chan(0);
        weft::go!(move || sender(ITERATIONS, c1, c2, c3, c4));
        for r in [r1, r2, r3, r4] {
            let (out, done) = (cmux.clone(), done.clone());
            weft::go!(move || mux(out, r, done));
        }
        weft::go!(move || {
            for _ in 0..4 {
                done_rx.recv().unwrap();
            }
            cmux.close().unwrap();
        });
        recver(cmux_rx)
    });
    assert_eq!(got, ITERATIONS as usize, "values were lost");
}
