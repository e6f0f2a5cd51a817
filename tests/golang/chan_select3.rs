//! Port of Go's `test/chan/select3.go`: the semantics of select (and plain
//! channel operations) for the basic empty/non-empty, nil and closed cases —
//! which block always and which never.
//!
//! Mapping: Go's nil channel is `weft::never()` / `never_sender()`. Where Go
//! *panics* (a send on a closed channel), weft returns `Err` with the value
//! (API.md), so `test_panic(ALWAYS, ..)` becomes "always fails". "Blocks" is
//! judged as in Go: `f` has not finished when a timer fires (Go: 100 ms;
//! here 50 ms where `f` must block, and 10 s where it must not, so that a
//! loaded machine starting `f` late is no failure). The goroutines of
//! blocking cases stay parked forever, as in Go.

use weft::{chan, never, never_sender, select};

use crate::common::{self, ms};

const ALWAYS: &str = "function did not";
const NEVER: &str = "function did";

/// Runs `f` and checks that it always/never blocks.
fn test_block(signal: &'static str, f: impl FnOnce() + Send + 'static) {
    let (c_tx, c) = chan::<&str>(0);
    let tx = c_tx.clone();
    weft::go!(move || {
        f();
        let _ = tx.send(NEVER); // f didn't block
    });
    // Where `f` must not block, its goroutine gets seconds to finish (a
    // liveness bound): a loaded machine may start it late.
    let wait = if signal == NEVER { ms(10_000) } else { ms(50) };
    weft::go!(move || {
        weft::time::sleep(wait);
        let _ = c_tx.send(ALWAYS); // f blocked always
    });
    assert_eq!(c.recv().unwrap(), signal, "{signal} block");
}

fn unreachable() -> ! {
    panic!("control flow shouldn't reach here")
}

#[test]
fn select3() {
    common::run(|| {
        const ASYNC: usize = 1; // asynchronous channels
        let (closed_tx, closedch) = chan::<i32>(0);
        closed_tx.close().unwrap();

        // sending/receiving from a nil channel blocks
        test_block(ALWAYS, || {
            let _ = never_sender::<i32>().send(7);
        });
        test_block(ALWAYS, || {
            let _ = never::<i32>().recv();
        });

        // sending/receiving from a nil channel inside a select is never selected
        let nil_tx = never_sender::<i32>();
        select! {
            send(nil_tx, 7) -> _ => unreachable(),
            default => {}
        }
        let nilch = never::<i32>();
        select! {
            recv(nilch) -> _ => unreachable(),
            default => {}
        }

        // sending to an async channel with free buffer space never blocks
        test_block(NEVER, || {
            let (ch, _rx) = chan(ASYNC);
            ch.send(7).unwrap();
        });

        // receiving from a closed channel never blocks
        let c = closedch.clone();
        test_block(NEVER, move || {
            for _ in 0..10 {
                // Go: `<-closedch` is 0, and `x, ok := <-closedch` is (0, false).
                assert!(c.recv().is_err(), "expected closed");
            }
        });

        // sending to a closed channel fails (Go: panics), handing the value back
        assert_eq!(closed_tx.send(7).unwrap_err().0, 7);

        // receiving from a non-ready channel always blocks
        test_block(ALWAYS, || {
            let (_ch, rx) = chan::<i32>(0);
            let _ = rx.recv();
        });

        // empty selects always block
        test_block(ALWAYS, || select! {});

        // selects with only nil channels always block
        test_block(ALWAYS, || {
            let nilch = never::<i32>();
            select! {
                recv(nilch) -> _ => unreachable(),
            }
        });
        test_block(ALWAYS, || {
            let nilch = never_sender::<i32>();
            select! {
                send(nilch, 7) -> _ => unreachable(),
            }
        });
        test_block(ALWAYS, || {
            let (nil_rx, nil_tx) = (never::<i32>(), never_sender::<i32>());
            select! {
                recv(nil_rx) -> _ => unreachable(),
                send(nil_tx, 7) -> _ => unreachable(),
            }
        });

        // selects with non-ready non-nil channels always block
        test_block(ALWAYS, || {
            let (_ch, rx) = chan::<i32>(0);
            select! {
                recv(rx) -> _ => unreachable(),
            }
        });

        // selects with default cases don't block
        test_block(NEVER, || select! { default => {} });
        test_block(NEVER, || {
            let nilch = never::<i32>();
            select! {
                recv(nilch) -> _ => unreachable(),
                default => {}
            }
        });
        test_block(NEVER, || {
            let nilch = never_sender::<i32>();
            select! {
                send(nilch, 7) -> _ => unreachable(),
                default => {}
            }
        });

        // selects with ready channels don't block
        test_block(NEVER, || {
            let (ch, _rx) = chan::<i32>(ASYNC);
            select! {
                send(ch, 7) -> r => r.unwrap(),
                default => unreachable(),
            }
        });
        test_block(NEVER, || {
            let (ch, rx) = chan::<i32>(ASYNC);
            ch.send(7).unwrap();
            select! {
                recv(rx) -> r => { r.unwrap(); }
                default => unreachable(),
            }
        });

        // selects with closed channels behave like ordinary operations
        let c = closedch.clone();
        test_block(NEVER, move || {
            select! {
                recv(c) -> _ => {}
            }
        });
        let c = closedch.clone();
        test_block(NEVER, move || {
            select! {
                recv(c) -> x => { let _ = x; }
            }
        });
        let c = closedch.clone();
        test_block(NEVER, move || {
            select! {
                recv(c) -> x => assert!(x.is_err(), "ok must be false"),
            }
        });
        // Go: a select send on a closed channel panics; here it fails.
        select! {
            send(closed_tx, 7) -> r => assert_eq!(r.unwrap_err().0, 7),
        }

        // select should not get confused if it sees itself
        test_block(ALWAYS, || {
            let (c, rx) = chan::<i32>(0);
            select! {
                send(c, 1) -> _ => {}
                recv(rx) -> _ => {}
            }
        });
    });
}
