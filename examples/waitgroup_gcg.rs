//! Port of the Go Concurrency Guide's "WaitGroup" (seed 004): one goroutine
//! per salutation, each passed its own copy as an argument, and a
//! `WaitGroup` to wait for all of them.
//!
//! Prints, in some order:
//! ```text
//! hello
//! greetings
//! good day
//! ```

use std::sync::Arc;

use weft::sync::WaitGroup;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());
        for salutation in ["hello", "greetings", "good day"] {
            wg.add(1);
            let wg = wg.clone();
            weft::go!(move || {
                let _done = common::defer(|| wg.done());
                println!("{salutation}");
            });
        }
        wg.wait();
    });
}
