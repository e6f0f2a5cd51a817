//! Port of *Concurrency in Go* notes, "Anatomy of a Goroutine Error" /
//! "Race Detection" (seed 001): a goroutine increments `data` while main
//! reads it — a data race that `go run -race` reports.
//!
//! Safe Rust does not compile a data race. Written as Go does, rustc says:
//!
//! ```text
//! error[E0373]: closure may outlive the current function, but it borrows `data`, which is owned by the current function
//!   --> examples/race_detection_cig.rs
//!    |
//!    |         weft::go!(|| {
//!    |             data += 1;
//!    |             ---- `data` is borrowed here
//!    |         });
//!    |         ^ may outlive borrowed value `data`
//!    |
//! error[E0503]: cannot use `data` because it was mutably borrowed
//!    |         if data == 0 {
//!    |            ^^^^ use of borrowed `data`
//! error[E0502]: cannot borrow `data` as immutable because it is also borrowed as mutable
//!    |             println!("value is {data}");
//!    |                                 ^^^^ immutable borrow occurs here
//! ```
//!
//! (With `move` it compiles, but the goroutine increments its own copy of
//! the integer and main always sees 0.) The corrected program below
//! synchronizes the access with a mutex. It is still a race *condition*
//! — whether main reads before or after the increment is up to the
//! scheduler, as in Go — but no longer a data race.
//!
//! Prints, or prints nothing (when the goroutine ran first):
//! ```text
//! value is 0
//! ```

use std::sync::Arc;

use weft::sync::Mutex;

fn main() {
    weft::run(|| {
        let data = Arc::new(Mutex::new(0));
        let d = data.clone();
        weft::go!(move || {
            *d.lock() += 1;
        });
        let data = data.lock();
        if *data == 0 {
            println!("value is {data}");
        }
    });
}
