//! Port of *Concurrency in Go* notes, "The for-select Loop" (seed 001):
//! the seed's two fragments in one program — sending iteration variables
//! out on a channel while watching `done`, and looping until stopped,
//! checking `done` without blocking before each piece of
//! non-preemptable work.
//!
//! Prints (the number of work passes varies):
//! ```text
//! a
//! b
//! c
//! worked 1234 times before done
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);

        // Sending iteration variables out on a channel.
        let (string_tx, string_stream) = weft::chan::<String>(0);
        let d = done.clone();
        weft::go!(move || {
            for s in ["a", "b", "c"] {
                weft::select! {
                    recv(d) -> _ => return,
                    send(string_tx, s.to_string()) -> _ => {},
                }
            }
        });
        for s in &string_stream {
            println!("{s}");
        }

        // Looping infinitely, waiting to be stopped.
        let worker = weft::go!(move || {
            let mut passes = 0u64;
            loop {
                weft::select! {
                    recv(done) -> _ => return passes,
                    default => {},
                }
                // Do non-preemptable work.
                passes += 1;
                weft::yield_now();
            }
        });
        weft::time::sleep(Duration::from_millis(50));
        done_tx.close().unwrap();
        println!("worked {} times before done", worker.join().unwrap());
    });
}
