//! Port of Go's `test/chan/select7.go`: select when discarding a value —
//! every pairing of three ways to receive (plain, one-case select, two-case
//! select) with three ways to send.

use weft::{chan, select, Receiver};

use crate::common;

fn recv1(c: Receiver<i32>) {
    c.recv().unwrap();
}

fn recv2(c: Receiver<i32>) {
    select! {
        recv(c) -> v => { v.unwrap(); }
    }
}

fn recv3(c: Receiver<i32>) {
    let (_c2_tx, c2) = chan::<i32>(0);
    select! {
        recv(c) -> v => { v.unwrap(); }
        recv(c2) -> _ => panic!("c2 is never ready"),
    }
}

fn send1(recv: fn(Receiver<i32>)) {
    let (c, rx) = chan(0);
    weft::go!(recv(rx));
    weft::yield_now();
    c.send(1).unwrap();
}

fn send2(recv: fn(Receiver<i32>)) {
    let (c, rx) = chan(0);
    weft::go!(recv(rx));
    weft::yield_now();
    select! {
        send(c, 1) -> r => r.unwrap(),
    }
}

fn send3(recv: fn(Receiver<i32>)) {
    let (c, rx) = chan(0);
    weft::go!(recv(rx));
    weft::yield_now();
    let (c2, _c2_rx) = chan(0);
    select! {
        send(c, 1) -> r => r.unwrap(),
        send(c2, 1) -> _ => panic!("c2 has no receiver"),
    }
}

#[test]
fn select7() {
    common::run(|| {
        for recv in [recv1 as fn(Receiver<i32>), recv2, recv3] {
            send1(recv);
            send2(recv);
            send3(recv);
        }
    });
}
