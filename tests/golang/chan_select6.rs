//! Port of Go's `test/chan/select6.go` (Go issue 2075): a select must not
//! corrupt the queues of the cases that lose. c1 has two waiters, the
//! second being a select that wins on c2; later waiters on c1 must still
//! be woken.

use weft::{chan, select};

use crate::common;

#[test]
fn select6() {
    common::run(|| {
        let (c1_tx, c1) = chan::<bool>(0);
        let (c2_tx, c2) = chan::<bool>(0);
        let (c3_tx, c3) = chan::<bool>(0);
        let r = c1.clone();
        weft::go!(move || {
            r.recv().unwrap();
        });
        let r = c1.clone();
        weft::go!(move || {
            select! {
                recv(r) -> _ => panic!("dummy"),
                recv(c2) -> v => {
                    v.unwrap();
                    c3_tx.send(true).unwrap();
                }
            }
            r.recv().unwrap();
        });
        weft::go!(move || c2_tx.send(true).unwrap());
        c3.recv().unwrap();
        c1_tx.send(true).unwrap();
        c1_tx.send(true).unwrap();
    });
}
