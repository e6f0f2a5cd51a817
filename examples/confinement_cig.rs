//! Port of *Concurrency in Go* notes, "4. Concurrency Patterns in Go:
//! Confinement" (seed 001): lexical confinement — the write side of the
//! channel lives only inside `chanOwner`; the consumer gets the receiving
//! half and can only read.
//!
//! Prints:
//! ```text
//! Received : 0
//! Received : 1
//! Received : 2
//! Received : 3
//! Received : 4
//! Received : 5
//! Done receiving!
//! ```

use weft::Receiver;

fn main() {
    weft::run(|| {
        // Confines the write side of this channel to this function.
        let chan_owner = || -> Receiver<i32> {
            let (tx, results) = weft::chan::<i32>(5);
            weft::go!(move || {
                for i in 0..=5 {
                    tx.send(i).unwrap();
                }
                tx.close().unwrap();
            });
            results
        };

        let consumer = |results: Receiver<i32>| {
            for result in &results {
                println!("Received : {result}");
            }
            println!("Done receiving!");
        };

        let results = chan_owner();
        consumer(results);
    });
}
