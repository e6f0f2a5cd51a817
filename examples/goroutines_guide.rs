//! Port of the goroutines/channels guide's "example: simple goroutines"
//! (seed 000): `f` called directly, then as a goroutine, and an anonymous
//! function as a goroutine; main sleeps 1 s and ends the program, which
//! stops the `f("goroutine")` goroutine in the middle of its loop.
//!
//! Prints (`going` and `goroutine : 0` in either order; `goroutine : 1`
//! is printed 1 s after `goroutine : 0`, racing main's `done`):
//! ```text
//! direct : 0
//! direct : 1
//! direct : 2
//! going
//! goroutine : 0
//! goroutine : 1
//! done
//! ```

use std::time::Duration;

fn f(from: &str) {
    for i in 0..3 {
        println!("{from} : {i}");
        weft::time::sleep(Duration::from_secs(1));
    }
}

fn main() {
    weft::run(|| {
        f("direct");

        weft::go!(f("goroutine"));

        let msg = "going";
        weft::go!(move || println!("{msg}"));

        weft::time::sleep(Duration::from_secs(1));
        println!("done");
    });
}
