//! Port of the goroutines/channels guide's WaitGroup program "use `defer`"
//! (seed 000): the worker program with `defer wg.Done()` at the top of the
//! goroutine, so the counter is decremented however the goroutine ends.
//! (`common::defer` is Go's `defer`: it runs at the end of the scope.)
//!
//! Prints what `waitgroup_guide_worker` prints.

use std::sync::Arc;
use std::time::Duration;

use weft::sync::WaitGroup;

#[path = "common/mod.rs"]
mod common;

fn worker(id: i32) {
    println!("Worker {id} starting");
    weft::time::sleep(Duration::from_secs(1));
    println!("Worker {id} done");
}

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());

        for i in 1..=5 {
            wg.add(1);

            let wg = wg.clone();
            let x = i;
            weft::go!(move || {
                let _done = common::defer(|| wg.done());
                worker(x);
            });
        }
        wg.wait();
    });
}
