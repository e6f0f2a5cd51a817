//! Port of Effective Go's loop-variable "Method 1: Passing as an argument"
//! (seed 003): `go func(i int) {...}(i)` gives each goroutine its own `i`.
//! weft's `go!(f(args))` form evaluates the arguments now, as Go does.
//!
//! Prints `0`, `1` and `2`, in some order.

use std::sync::Arc;

use weft::sync::WaitGroup;

fn print_and_done(i: i32, wg: Arc<WaitGroup>) {
    println!("{i}");
    wg.done();
}

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());

        for i in 0..3 {
            wg.add(1);
            weft::go!(print_and_done(i, wg.clone()));
        }

        wg.wait();
    });
}
