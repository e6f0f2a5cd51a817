//! Port of Go's `src/runtime/chanbarrier_test.go`: TestChanSendSelectBarrier
//! and TestChanSendBarrier. Go checks that a value handed from a sending
//! goroutine (plain send, or a select's send case) to a waiting receiver
//! arrives intact while the GC runs (its write barriers); weft has no GC,
//! so the check is that every request's value arrives intact under
//! allocation churn. Go's `-short` sizes (10 x 1,000).

use std::sync::Arc;

use weft::sync::WaitGroup;
use weft::{chan, select};

use crate::common;

#[derive(Debug, PartialEq)]
struct MyError;

fn do_request(use_select: bool) -> Result<(), MyError> {
    let (ch, ch_rx) = chan::<Box<Result<(), MyError>>>(0);
    let (_done_tx, done) = chan::<()>(0);
    if use_select {
        weft::go!(move || {
            select! {
                send(ch, Box::new(Err(MyError))) -> _ => {}
                recv(done) -> _ => {}
            }
        });
    } else {
        weft::go!(move || {
            let _ = ch.send(Box::new(Err(MyError)));
        });
    }
    let r = ch_rx.recv().unwrap();
    weft::yield_now();
    *r
}

fn test_chan_send_barrier(use_select: bool) {
    common::run(move || {
        let wg = Arc::new(WaitGroup::new());
        let (outer, inner) = (10, 1000);
        for _ in 0..outer {
            wg.add(1);
            let wg = wg.clone();
            weft::go!(move || {
                let mut garbage = Vec::new();
                for _ in 0..inner {
                    assert_eq!(do_request(use_select), Err(MyError));
                    garbage = std::hint::black_box(vec![0u8; 1 << 10]);
                }
                drop(garbage);
                wg.done();
            });
        }
        wg.wait();
    });
}

#[test]
fn chan_send_select_barrier() {
    test_chan_send_barrier(true);
}

#[test]
fn chan_send_barrier() {
    test_chan_send_barrier(false);
}
