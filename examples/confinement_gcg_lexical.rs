//! Port of the Go Concurrency Guide's "Confinement", lexical (seed 004):
//! the channel's write side exists only inside `chanOwner`; `consumer`
//! gets only the receiving half.
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
            let (tx, results) = weft::chan::<i32>(5);
            weft::go!(move || {
                for i in 0..=5 {
                    tx.send(i).unwrap();
                }
                tx.close().unwrap(); // `defer close(results)`
            });
            results
        };

        let consumer = |results: Receiver<i32>| {
            for result in &results {
                println!("Received: {result}");
            }
            println!("Done receiving!");
        };

        let results = chan_owner();
        consumer(results);
    });
}
