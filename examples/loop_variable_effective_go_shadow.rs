//! Port of Effective Go's loop-variable "Method 2: Shadowing the loop
//! variable" (seed 003): `i := i` makes a new variable per iteration that
//! the goroutine captures. (Rust's `for` already binds a fresh `i` per
//! iteration; the line is kept as the seed has it.)
//!
//! Prints `0`, `1` and `2`, in some order.

use std::sync::Arc;

use weft::sync::WaitGroup;

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());

        for i in 0..3 {
            #[allow(clippy::redundant_locals)] // kept as the seed writes it
            let i = i; // shadow the loop variable
            wg.add(1);
            let wg = wg.clone();
            weft::go!(move || {
                println!("{i}");
                wg.done();
            });
        }

        wg.wait();
    });
}
