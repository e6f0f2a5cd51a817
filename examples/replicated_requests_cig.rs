//! Port of *Concurrency in Go* notes, "Replicated Request" (seed 001): the
//! same request goes to ten handlers with random loads of 1–5 s; main takes
//! the first answer, closes `done` to cancel the rest, and waits for them.
//! Each handler reports how long it would have taken.
//!
//! Prints ten `N took D` lines (each handler once; the first to answer
//! took about its load, the others show their full simulated load), then
//! the first handler's id:
//! ```text
//! 8 took 1.000123456s
//! 2 took 4s
//! 7 took 3s
//! ...
//! Received an answer from #8
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::sync::WaitGroup;
use weft::time::after;
use weft::{Receiver, Sender};

#[path = "common/mod.rs"]
mod common;

fn do_work(done: Receiver<()>, id: i32, wg: Arc<WaitGroup>, result: Sender<i32>) {
    let started = Instant::now();
    let _done = common::defer(|| wg.done());

    // Simulate random load.
    let simulate_load_time = Duration::from_secs(1 + common::rand_intn(5));
    weft::select! {
        recv(done) -> _ => {},
        recv(after(simulate_load_time)) -> _ => {},
    }
    weft::select! {
        recv(done) -> _ => {},
        send(result, id) -> _ => {},
    }

    let mut took = started.elapsed();
    if took < simulate_load_time {
        took = simulate_load_time;
    }
    println!("{id} took {}", common::duration_string(took));
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let (result_tx, result) = weft::chan::<i32>(0);
        let wg = Arc::new(WaitGroup::new());
        wg.add(10);

        for i in 0..10 {
            // Start 10 handlers to handle our request.
            weft::go!(do_work(done.clone(), i, wg.clone(), result_tx.clone()));
        }
        let first_returned = result.recv().unwrap(); // the first answer from the group
        done_tx.close().unwrap(); // cancel all the remaining handlers
        wg.wait();
        println!("Received an answer from #{first_returned}");
    });
}
