//! Port of Go's `test/chan/select8.go`: `break` inside a select case leaves
//! the select (1-, 2- and 3-case selects, with and without default). Rust's
//! `select!` is an expression, not a breakable statement; Go's `break` is a
//! labelled block's `break` here, which must skip the rest of the arm.

use weft::{chan, select};

use crate::common;

#[test]
#[allow(unreachable_code)] // Go's `panic("unreachable")` after each `break`
fn select8() {
    common::run(|| {
        let (ch, ch_rx) = chan::<i32>(0);
        let tx = ch.clone();
        weft::go!(move || while tx.send(5).is_ok() {});

        select! {
            recv(ch_rx) -> v => 'case: {
                v.unwrap();
                break 'case;
                panic!("unreachable")
            }
        }

        select! {
            default => 'case: {
                break 'case;
                panic!("unreachable")
            }
        }

        select! {
            recv(ch_rx) -> v => 'case: {
                v.unwrap();
                break 'case;
                panic!("unreachable")
            },
            default => 'case: {
                break 'case;
                panic!("unreachable")
            }
        }

        select! {
            recv(ch_rx) -> v => 'case: {
                v.unwrap();
                break 'case;
                panic!("unreachable")
            },
            send(ch, 10) -> _ => panic!("unreachable"),
            default => 'case: {
                break 'case;
                panic!("unreachable")
            }
        }
    });
}
