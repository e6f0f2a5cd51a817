//! Port of Effective Go's "Incorrect Code (with Bug)" for loop-variable
//! capture (seed 003): three goroutines print `i`; before Go 1.22 they all
//! shared the loop's one `i` and could print `3 3 3`.
//!
//! Safe Rust cannot express that bug. Written as Go does, rustc rejects it:
//!
//! ```text
//! error[E0373]: closure may outlive the current function, but it borrows `i`, which is owned by the current function
//!   --> examples/loop_variable_effective_go.rs
//!    |
//!    |             weft::go!(|| {
//!    |                 println!("{i}"); // This prints the value of 'i'
//!    |                            - `i` is borrowed here
//!    |                 wg.done();
//!    |             });
//!    |             ^ may outlive borrowed value `i`
//!    |
//! help: to force the closure to take ownership of `i` (and any other referenced variables), use the `move` keyword
//! ```
//!
//! (and the same for `wg`). With `move` the program is correct — each
//! iteration's `i` is a fresh binding and each goroutine gets its own copy,
//! which is what Go's two fixes do and what Go 1.22 made the default. The
//! corrected program below is that.
//!
//! Prints `0`, `1` and `2`, in some order.

use std::sync::Arc;

use weft::sync::WaitGroup;

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());

        for i in 0..3 {
            wg.add(1);
            let wg = wg.clone();
            weft::go!(move || {
                println!("{i}"); // prints this goroutine's own `i`
                wg.done();
            });
        }

        wg.wait();
    });
}
