//! Port of Go's `test/chan/select4.go`: the left-hand side of a receive
//! case (`case *f() = <-c1:`) is evaluated only if that case is chosen —
//! here, the arm's body runs only for the chosen case.

use weft::{chan, select};

use crate::common;

fn f() -> &'static mut i32 {
    panic!("BUG: called f");
}

#[test]
fn select4() {
    common::run(|| {
        let mut x = 0;
        let (c_tx, c) = chan(1);
        let (_c1_tx, c1) = chan::<i32>(0);
        c_tx.send(42).unwrap();
        select! {
            recv(c1) -> v => *f() = v.unwrap(),
            recv(c) -> v => {
                x = v.unwrap();
                assert_eq!(x, 42, "BUG: {x}");
            }
        }
        assert_eq!(x, 42);
    });
}
