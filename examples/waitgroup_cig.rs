//! Port of *Concurrency in Go* notes, "The sync Package: WaitGroup"
//! (seed 001): two goroutines, each counted with `wg.Add(1)` before it
//! starts (not inside it), and `wg.Wait()` for both.
//!
//! Prints (the first two lines in either order):
//! ```text
//! 1st goroutine sleeping...
//! 2nd goroutine sleeping...
//! All goroutines complete
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::sync::WaitGroup;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());

        wg.add(1); // Add outside the goroutine, not inside it
        let w = wg.clone();
        weft::go!(move || {
            let _done = common::defer(|| w.done());
            println!("1st goroutine sleeping...");
            weft::time::sleep(Duration::from_nanos(1));
        });

        wg.add(1);
        let w = wg.clone();
        weft::go!(move || {
            let _done = common::defer(|| w.done());
            println!("2nd goroutine sleeping...");
            weft::time::sleep(Duration::from_nanos(2));
        });

        wg.wait();
        println!("All goroutines complete");
    });
}
