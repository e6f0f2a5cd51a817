//! Port of the Go Concurrency Guide's "Channels": ranging over a channel
//! (seed 004) — the loop ends when the writer closes the channel.
//!
//! Prints (each value followed by a space, and no newline at the end):
//! ```text
//! 1 2 3 4 5
//! ```

use std::io::Write;

fn main() {
    weft::run(|| {
        let (tx, int_stream) = weft::chan::<i32>(0);
        weft::go!(move || {
            for i in 1..=5 {
                tx.send(i).unwrap();
            }
            tx.close().unwrap(); // `defer close(intStream)`
        });

        for integer in &int_stream {
            print!("{integer} ");
        }
        let _ = std::io::stdout().flush();
    });
}
