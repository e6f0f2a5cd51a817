//! Port of Go's `test/chan/sendstmt.go`: parsing cases around send as a
//! statement — a select send case whose channel is itself received from a
//! channel (`case <-cc <- 2:`), and `c <- false || true` meaning
//! `c <- (false || true)`.

use weft::{chan, select, Sender};

use crate::common;

fn chanchan() {
    let (cc, cc_rx) = chan::<Sender<i32>>(1);
    let (c, c_rx) = chan::<i32>(1);
    cc.send(c).unwrap();
    select! {
        send(cc_rx.recv().unwrap(), 2) -> r => r.unwrap(),
        default => panic!("nonblock"),
    }
    assert_eq!(c_rx.recv().unwrap(), 2, "bad receive");
}

fn sendprec() {
    let (c, c_rx) = chan::<bool>(1);
    #[allow(clippy::nonminimal_bool)] // the expression under test
    c.send(false || true).unwrap();
    assert!(c_rx.recv().unwrap(), "sent false");
}

#[test]
fn sendstmt() {
    common::run(|| {
        chanchan();
        sendprec();
    });
}
