//! Port of the goroutines/channels guide's first "Buffered and Unbuffered
//! Channels" program (seed 000): a producer fills a channel of capacity 2
//! faster than a slow consumer drains it, so it runs ahead by two values
//! and then waits for room.
//!
//! The seed's consumer takes 1 s per value and main waits 6 s; here 200 ms
//! and 2 s (the consumer is done after 1 s).
//!
//! Prints, the producer's and the consumer's lines interleaved (each in
//! its own order; `Produced: N` comes at most 3 values ahead of
//! `Consumed`):
//! ```text
//! Producing: 1
//! Produced: 1
//! Producing: 2
//! Produced: 2
//! Producing: 3
//! Consuming: 1
//! ...
//! Consumed: 5
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        // A buffered channel with a capacity of 2.
        let (tx, channel) = weft::chan::<i32>(2);

        // Producer goroutine.
        weft::go!(move || {
            for i in 1..=5 {
                println!("Producing: {i}");
                tx.send(i).unwrap(); // does not block for the first 2 values
                println!("Produced: {i}");
            }
            tx.close().unwrap(); // close the channel when done producing
        });

        // Consumer goroutine.
        weft::go!(move || {
            for num in &channel {
                println!("Consuming: {num}");
                weft::time::sleep(Duration::from_millis(200)); // time-consuming task
                println!("Consumed: {num}");
            }
        });

        // Keep the program from exiting.
        weft::time::sleep(Duration::from_secs(2));
    });
}
