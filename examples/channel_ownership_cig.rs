//! Port of *Concurrency in Go* notes, "Channels" ownership program (seed
//! 001): keep the scope of channel ownership small — `chanOwner` makes,
//! writes and closes the channel and hands out only its receiving half.
//!
//! Prints:
//! ```text
//! received : 0
//! received : 1
//! received : 2
//! received : 3
//! received : 4
//! received : 5
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
                tx.close().unwrap(); // Go's `defer close(resultStream)`
            });
            result_stream // only the receiving half leaves the owner
        };

        let result_stream = chan_owner();
        for result in &result_stream {
            println!("received : {result}");
        }

        println!("Done receiving!");
    });
}
