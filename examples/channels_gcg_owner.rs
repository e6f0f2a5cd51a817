//! Port of the Go Concurrency Guide's "Channels" owner program (seed 004):
//! the owner makes the channel, writes to it, closes it, and exposes only
//! the receiving half; the consumer only ranges over it.
//!
//! Prints:
//! ```text
//! Received: 0
//! Received: 1
//! Received: 2
//! Received: 3
//! Received: 4
//! Received: 5
//! Done receiving!
//! ```

use weft::Receiver;

fn main() {
    weft::run(|| {
        let chan_owner = || -> Receiver<i32> {
            let (tx, result_stream) = weft::chan::<i32>(5);
            weft::go!(move || {
                for i in 0..=5 {
                    tx.send(i).unwrap();
                }
                tx.close().unwrap(); // `defer close(resultStream)`
            });
            result_stream
        };

        let result_stream = chan_owner();
        for result in &result_stream {
            println!("Received: {result}");
        }

        println!("Done receiving!");
    });
}
