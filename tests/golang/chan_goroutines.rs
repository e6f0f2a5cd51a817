//! Port of Go's `test/chan/goroutines.go`: make a lot of goroutines (10,000),
//! threaded together by unbuffered channels, and tear them down cleanly.

use weft::{chan, Receiver, Sender};

use crate::common;

fn f(left: Sender<i32>, right: Receiver<i32>) {
    left.send(right.recv().unwrap()).unwrap();
}

#[test]
fn goroutines() {
    let n = 10_000;
    let v = common::run(move || {
        let (mut left, leftmost) = chan(0);
        for _ in 0..n {
            let (right, right_rx) = chan(0);
            weft::go!(f(left, right_rx));
            left = right;
        }
        // `left` is now the rightmost channel.
        weft::go!(move || left.send(1).unwrap());
        leftmost.recv().unwrap()
    });
    assert_eq!(v, 1);
}
