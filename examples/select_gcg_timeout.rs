//! Port of the Go Concurrency Guide's "select": what if no channel ever
//! becomes ready (seed 004)? Reading a nil channel never is; `time.After`
//! times the select out.
//!
//! Prints (after 1 s):
//! ```text
//! Timed out.
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        let c = weft::never::<i32>(); // `var c <-chan int`
        weft::select! {
            recv(c) -> _ => {},
            recv(weft::time::after(Duration::from_secs(1))) -> _ => println!("Timed out."),
        }
    });
}
