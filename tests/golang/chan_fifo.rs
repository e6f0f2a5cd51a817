//! Port of Go's `test/chan/fifo.go`: channels are FIFOs — a buffered one,
//! and an unbuffered one whose receivers, chained so that each starts only
//! after the previous one took its value, see the values in send order.

use weft::{chan, Receiver, Sender};

use crate::common;

const N: i32 = 10;

fn asynch_fifo() {
    let (tx, rx) = chan(N as usize);
    for i in 0..N {
        tx.send(i).unwrap();
    }
    for i in 0..N {
        assert_eq!(rx.recv().unwrap(), i, "bad receive");
    }
}

fn chain(ch: Receiver<i32>, val: i32, input: Receiver<i32>, out: Sender<i32>) {
    input.recv().unwrap();
    assert_eq!(ch.recv().unwrap(), val);
    out.send(1).unwrap();
}

/// Threads together a daisy chain to read the elements in sequence.
fn synch_fifo() {
    let (ch_tx, ch) = chan(0);
    let (start, mut input) = chan(0);
    for i in 0..N {
        let (out_tx, out) = chan(0);
        let ch = ch.clone();
        weft::go!(move || chain(ch, i, input, out_tx));
        input = out;
    }
    start.send(0).unwrap();
    for i in 0..N {
        ch_tx.send(i).unwrap();
    }
    input.recv().unwrap();
}

#[test]
fn fifo() {
    common::run(|| {
        asynch_fifo();
        synch_fifo();
    });
}
