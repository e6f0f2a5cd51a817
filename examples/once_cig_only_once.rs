//! Port of *Concurrency in Go* notes, the second "Once" program (seed
//! 001): `sync.Once` counts calls to `Do`, not distinct functions — after
//! `once.Do(increment)`, `once.Do(decrement)` does nothing.
//!
//! Prints:
//! ```text
//! count is 1
//! ```

use std::cell::Cell;

use weft::sync::Once;

fn main() {
    weft::run(|| {
        let count = Cell::new(0);
        let increment = || count.set(count.get() + 1);
        let decrement = || count.set(count.get() - 1);

        let once = Once::new();
        once.call_once(increment);
        once.call_once(decrement);
        println!("count is {}", count.get()); // 1
    });
}
