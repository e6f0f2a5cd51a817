//! Port of Go by Example "Goroutines" (seed 002, `goroutines.go`): a
//! function called directly, then as a goroutine (`go f(s)` is
//! `weft::go!(f(s))`), and an anonymous function as a goroutine.
//!
//! Prints (the goroutines' lines and main's `Sleep` line interleave as the
//! scheduler runs them, as in Go):
//! ```text
//! Direct : 0
//! Direct : 1
//! Direct : 2
//! Direct : 3
//! Goroutine : 0
//! Goroutine : 1
//! Goroutine : 2
//! Goroutine : 3
//! Going
//! Sleep with Duration : 1s
//! Done
//! ```

use std::time::Duration;

#[path = "common/mod.rs"]
mod common;

fn f(from: &str) {
    for i in 0..4 {
        println!("{from} : {i}");
    }
}

fn main() {
    weft::run(|| {
        // Run "synchronously".
        f("Direct");

        // `go f(s)`: this goroutine runs concurrently with the calling one.
        weft::go!(f("Goroutine"));

        // A goroutine for an anonymous function call.
        let message = "Going";
        weft::go!(move || println!("{message}"));

        // Pause for at least the duration.
        let duration = Duration::from_secs(1);
        println!(
            "Sleep with Duration : {}",
            common::duration_string(duration)
        );
        weft::time::sleep(duration);
        println!("Done");
    });
}
