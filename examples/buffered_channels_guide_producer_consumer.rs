//! Port of the goroutines/channels guide's second "Buffered and Unbuffered
//! Channels" program (seed 000): `producer` and `consumer` functions over
//! one channel of capacity 2. Nobody closes it: the consumer would wait
//! for a sixth value forever, and main's sleep ends the program.
//!
//! The seed's consumer takes 1 s per value and main waits 10 s; here
//! 200 ms and 1.5 s. Main keeps both halves of the channel, as Go's `main`
//! holds the channel, so it stays open after the producer returns.
//!
//! Prints `Producing: N` / `Produced: N` for N = 0..4 and `Consumed: N`
//! for N = 0..4, interleaved, each in order.

use std::time::Duration;

use weft::{Receiver, Sender};

fn main() {
    weft::run(|| {
        // A buffered channel with a capacity of 2.
        let (data_tx, data_rx) = weft::chan::<i32>(2);

        weft::go!(producer(data_tx.clone()));
        weft::go!(consumer(data_rx.clone()));

        // Keep the program from exiting.
        weft::time::sleep(Duration::from_millis(1500));
    });
}

/// Sends data to the channel.
fn producer(ch: Sender<i32>) {
    for i in 0..5 {
        println!("Producing: {i}");
        ch.send(i).unwrap(); // does not block for the first 2 values
        println!("Produced: {i}");
    }
}

/// Receives data from the channel.
fn consumer(ch: Receiver<i32>) {
    loop {
        // (weft only: once main has returned, its dropped sender closes the
        // channel while the process exits; stop then.)
        let Ok(data) = ch.recv() else { return };
        println!("Consumed: {data}");
        weft::time::sleep(Duration::from_millis(200)); // time-consuming task
    }
}
