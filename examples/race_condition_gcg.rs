//! Port of the Go Concurrency Guide's "Race Condition and Data Race"
//! (seed 004): a goroutine increments `data` while main reads it — a data
//! race.
//!
//! Safe Rust does not compile a data race. Written as Go does, rustc says:
//!
//! ```text
//! error[E0373]: closure may outlive the current function, but it borrows `data`, which is owned by the current function
//!   --> examples/race_condition_gcg.rs
//!    |
//!    |         weft::go!(|| {
//!    |             data += 1;
//!    |             ---- `data` is borrowed here
//!    |         });
//!    |         ^ may outlive borrowed value `data`
//!    |
//! error[E0503]: cannot use `data` because it was mutably borrowed
//! error[E0502]: cannot borrow `data` as immutable because it is also borrowed as mutable
//! ```
//!
//! The corrected program shares `data` through an atomic. What remains is
//! the guide's race *condition*: whether main reads before or after the
//! increment, and whether it prints 0 or 1, is up to the scheduler.
//!
//! Prints (with no newline at the end) one of, or nothing:
//! ```text
//! the value is 0
//! the value is 1
//! ```

use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

fn main() {
    weft::run(|| {
        let data = Arc::new(AtomicI32::new(0));
        let d = data.clone();
        weft::go!(move || {
            d.fetch_add(1, Ordering::SeqCst);
        });

        if data.load(Ordering::SeqCst) == 0 {
            print!("the value is {}", data.load(Ordering::SeqCst));
            let _ = std::io::stdout().flush();
        }
    });
}
