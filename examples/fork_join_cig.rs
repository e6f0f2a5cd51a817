//! Port of *Concurrency in Go* notes, "3 Go's Concurrency Building Blocks"
//! (seed 001): the fork-join model — `go sayHello()` forks, `wg.Wait()` is
//! the join point, where main waits for the child to finish.
//!
//! Prints:
//! ```text
//! hello
//! ```

use std::sync::Arc;

use weft::sync::WaitGroup;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());

        let say_hello = {
            let wg = wg.clone();
            move || {
                let _done = common::defer(|| wg.done());
                println!("hello");
            }
        };
        wg.add(1);
        weft::go!(say_hello);
        wg.wait(); // this is the join point: wait for the child to finish
    });
}
