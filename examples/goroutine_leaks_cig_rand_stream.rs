//! Port of *Concurrency in Go* notes, "Preventing Goroutine Leaks": a
//! goroutine blocked writing to a channel (seed 001). `newRandStream`'s
//! goroutine sends random ints forever; main takes three and returns, and
//! the goroutine is left blocked on its next send — its deferred print
//! never runs.
//!
//! Prints (the numbers vary):
//! ```text
//! 3 random ints:
//! 1:5577006791947779410
//! 2:8674665223082153551
//! 3:6129484611666145821
//! ```

use weft::Receiver;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let new_rand_stream = || -> Receiver<u64> {
            let (tx, rand_stream) = weft::chan::<u64>(0);
            weft::go!(move || {
                let _exited = common::defer(|| println!("newRandStream closure exited.")); // never runs
                loop {
                    if tx.send(common::rand_intn(i64::MAX as u64)).is_err() {
                        return; // (weft only: every receiver is gone)
                    }
                }
            });
            rand_stream
        };

        let rand_stream = new_rand_stream();
        println!("3 random ints:");
        for i in 1..=3 {
            println!("{i}:{}", rand_stream.recv().unwrap());
        }
        // In Go the channel lives on and the goroutine stays blocked on its
        // send until the program ends. In weft, dropping the last receiver
        // would fail that send and let the goroutine return (and print)
        // before the process exits: keep the receiver alive to the end.
        std::mem::forget(rand_stream);
    });
}
