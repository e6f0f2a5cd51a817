//! Port of *Concurrency in Go* notes, "The select Statement": what if no
//! channel ever becomes ready (seed 001)? A nil channel never does; a
//! `time.After` case times the select out.
//!
//! Prints (after 1 s):
//! ```text
//! Time out
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        let c = weft::never::<i32>(); // `var c <-chan int`
        weft::select! {
            recv(c) -> _ => {},
            recv(weft::time::after(Duration::from_secs(1))) -> _ => println!("Time out"),
        }
    });
}
