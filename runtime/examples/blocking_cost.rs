//! Why `blocking(f)` keeps its P instead of handing it off at once
//! (runtime/src/blocking.rs): a short system call costs far less than the
//! wake-up of another OS thread that an immediate hand-off would pay.
//! `cargo run --release -p weft-runtime --example blocking_cost`
//!
//! Prints, per call: `getpid()` on its own; inside `weft::blocking` (the
//! enter/exit protocol, P kept); and a condvar round trip between two OS
//! threads, what handing a P to a sleeping M costs (an M sleeps on its
//! slot's condvar, `sched::idle`).
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use weft_runtime as weft;

const N: u32 = 200_000;
const ROUND_TRIPS: u32 = 20_000;

fn per_call(n: u32, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn getpid() -> i32 {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() }
}

/// One wake-up of a sleeping thread and its answer, as an M hand-off does.
fn condvar_round_trip() -> f64 {
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let other = pair.clone();
    let t = std::thread::spawn(move || {
        let (m, cv) = &*other;
        let mut turn = m.lock().unwrap();
        for i in 0..ROUND_TRIPS {
            while *turn != 2 * i + 1 {
                turn = cv.wait(turn).unwrap();
            }
            *turn += 1;
            cv.notify_one();
        }
    });
    let (m, cv) = &*pair;
    let start = Instant::now();
    let mut turn = m.lock().unwrap();
    for i in 0..ROUND_TRIPS {
        *turn = 2 * i + 1;
        cv.notify_one();
        while *turn != 2 * i + 2 {
            turn = cv.wait(turn).unwrap();
        }
    }
    drop(turn);
    let ns = start.elapsed().as_nanos() as f64 / ROUND_TRIPS as f64 / 2.0;
    t.join().unwrap();
    ns
}

fn main() {
    weft::run(|| {
        let plain = per_call(N, || {
            std::hint::black_box(getpid());
        });
        let wrapped = per_call(N, || {
            std::hint::black_box(weft::blocking(getpid));
        });
        println!("getpid():                       {plain:7.0} ns/call");
        println!("weft::blocking(getpid):         {wrapped:7.0} ns/call (P kept)");
    });
    let wake = condvar_round_trip();
    println!(
        "wake a sleeping thread (one way): {wake:5.0} ns (what a hand-off per call would add)"
    );
}
