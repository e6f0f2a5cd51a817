//! Go's deadlock report for channel programs, checked in child processes
//! (as `runtime/tests/deadlock.rs` does for the runtime alone; channels live
//! in another crate, so these cases sit here, on the facade).
//!
//! Reported: a send or a receive nobody will match, a select loop whose
//! cases have all been turned off (the seed's nil-channel pattern run
//! dry), `select! {}`, and a `for v in rx` nobody closes while main waits on
//! a `WaitGroup`. Not reported: a plain thread that will send later, a
//! pending timer (`recv_timeout`, `after` in a select), a `blocking()` call
//! that will send.
//!
//! Run with no arguments: runs every case as a child and checks it.

#[path = "../runtime/tests/support/deadlock_harness.rs"]
mod harness;

use std::sync::Arc;
use std::time::Duration;

use harness::{check_not_reported, check_reported};

use weft::sync::WaitGroup;
use weft::{chan, never, select};

/// The programs, run in the child.
fn run_case(name: &str) {
    match name {
        // The seed's `message <- "message"` with nobody receiving.
        "send_no_receiver" => {
            let r = weft::run(|| {
                let (tx, _rx) = chan(0);
                tx.send(1)
            });
            println!("returned {r:?}");
        }
        // `<-message` with nobody sending (a sender alive but unused).
        "recv_no_sender" => {
            let r = weft::run(|| {
                let (_tx, rx) = chan::<i32>(0);
                rx.recv()
            });
            println!("returned {r:?}");
        }
        // A program without `weft::run`: its main thread receives from a
        // goroutine that itself waits to receive. Both are listed.
        "plain_main_recv" => {
            let (tx, rx) = chan::<i32>(0);
            let (_keep, never_sent) = chan::<i32>(0);
            weft::go!(move || {
                let v = never_sent.recv().unwrap();
                tx.send(v).unwrap();
            });
            let r = rx.recv();
            println!("returned {r:?}");
        }
        // The seed's "turn off a case in select", without its `done`
        // channel: once both producers have closed their channels both
        // cases are `never()`, and the loop parks in a select with every
        // case disabled.
        "select_all_off" => weft::run(|| {
            let (tx1, mut rx1) = chan(10);
            let (tx2, mut rx2) = chan(10);
            weft::go!(move || {
                for i in 0..10 {
                    tx1.send(i).unwrap();
                }
                tx1.close().unwrap();
            });
            weft::go!(move || {
                for i in 0..10 {
                    tx2.send(i * 10).unwrap();
                }
                tx2.close().unwrap();
            });
            let mut results = Vec::new();
            loop {
                select! {
                    recv(rx1) -> v => match v {
                        Ok(v) => results.push(v),
                        Err(_) => {
                            rx1 = never();
                            continue;
                        }
                    },
                    recv(rx2) -> v => match v {
                        Ok(v) => results.push(v),
                        Err(_) => {
                            rx2 = never();
                            continue;
                        }
                    },
                }
                println!("{} values: {results:?}", results.len());
            }
        }),
        // Go's `select {}` in main.
        "select_no_cases" => weft::run(|| -> () {
            select! {}
        }),
        // The forgotten close: a worker ranges over a channel main never
        // closes, and main waits for the worker.
        "range_not_closed" => weft::run(|| {
            let (tx, rx) = chan(0);
            let wg = Arc::new(WaitGroup::new());
            wg.add(1);
            let w = wg.clone();
            weft::go!(move || {
                let mut sum = 0;
                for v in rx {
                    sum += v;
                }
                println!("sum={sum}");
                w.done();
            });
            for i in 0..3 {
                tx.send(i).unwrap();
            }
            wg.wait();
        }),
        // Not deadlocks: the program finishes.
        // A plain thread (not parked in weft) sends later.
        "thread_sends_later" => weft::run(|| {
            let (tx, rx) = chan(0);
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                tx.send(7).unwrap();
            });
            assert_eq!(rx.recv(), Ok(7));
            t.join().unwrap();
            println!("finished");
        }),
        // A timer is pending: nobody will send, but the wait times out.
        "recv_timeout" => weft::run(|| {
            let (_tx, rx) = chan::<i32>(0);
            let r = rx.recv_timeout(Duration::from_secs(2));
            assert_eq!(r, Err(weft::RecvTimeoutError::Timeout));
            println!("finished");
        }),
        "select_after" => weft::run(|| {
            let (_tx, rx) = chan::<i32>(0);
            select! {
                recv(rx) -> v => panic!("received {v:?}"),
                recv(weft::time::after(Duration::from_millis(300))) -> _ => println!("timeout"),
            }
            println!("finished");
        }),
        // A goroutine waits on a channel while another is in `blocking()`
        // and sends when it returns.
        "blocking_then_send" => weft::run(|| {
            let (tx, rx) = chan(0);
            let waiter = weft::go!(move || rx.recv().unwrap());
            weft::go!(move || {
                weft::blocking(|| std::thread::sleep(Duration::from_millis(500)));
                tx.send(9).unwrap();
            });
            assert_eq!(waiter.join().unwrap(), 9);
            println!("finished");
        }),
        other => panic!("unknown case {other}"),
    }
}

fn main() {
    if harness::run_child(run_case) {
        return;
    }
    // `cargo test` passes harness flags; a filter argument selects nothing here.
    check_reported("send_no_receiver", &["goroutine 1 [chan send]:"]);
    check_reported("recv_no_sender", &["goroutine 1 [chan receive]:"]);
    check_reported(
        "plain_main_recv",
        &["[chan receive]:", "thread 'main' (", ") [chan receive]:"],
    );
    let o = check_reported("select_all_off", &["goroutine 1 [select]:"]);
    // Both producers' values all arrived before the loop ran dry.
    assert!(
        o.stdout.contains("20 values"),
        "select_all_off: {}",
        o.stdout
    );
    check_reported("select_no_cases", &["goroutine 1 [select (no cases)]:"]);
    check_reported(
        "range_not_closed",
        &["goroutine 1 [sync.WaitGroup.Wait]:", "[chan receive]:"],
    );
    check_not_reported("thread_sends_later");
    check_not_reported("recv_timeout");
    check_not_reported("select_after");
    check_not_reported("blocking_then_send");
}
