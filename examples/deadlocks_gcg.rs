//! Port of the Go Concurrency Guide's "Deadlocks" first program (seed 004):
//! two goroutines each lock one value, sleep, and then lock the other —
//! in opposite orders, so each waits for the mutex the other holds while
//! main waits on the `WaitGroup`.
//!
//! Like Go's, the program ends (after the 2 s sleep) with the runtime's
//! deadlock report on stderr (`fatal error: all goroutines are asleep -
//! deadlock!`, each goroutine with its wait reason: `sync.Mutex.Lock`,
//! `sync.WaitGroup.Wait`) and exit status 2. Nothing is printed on stdout.

use std::sync::Arc;
use std::time::Duration;

use weft::sync::{Mutex, WaitGroup};

#[path = "common/mod.rs"]
mod common;

/// `struct { mu sync.Mutex; value int }`: the mutex holds the value.
type Value = Arc<Mutex<i32>>;

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());
        let print_sum = {
            let wg = wg.clone();
            move |v1: Value, v2: Value| {
                let _done = common::defer(|| wg.done());
                let v1 = v1.lock();

                // deadlock
                weft::time::sleep(Duration::from_secs(2));
                let v2 = v2.lock();

                println!("sum={}", *v1 + *v2);
            }
        };

        let (a, b): (Value, Value) = Default::default();
        wg.add(2);
        let (f, a1, b1) = (print_sum.clone(), a.clone(), b.clone());
        weft::go!(move || f(a1, b1));
        weft::go!(move || print_sum(b, a));

        wg.wait();
    });
}
