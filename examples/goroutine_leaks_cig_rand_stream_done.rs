//! Port of *Concurrency in Go* notes, "Preventing Goroutine Leaks": the
//! random stream with a done channel (seed 001). The goroutine selects
//! between its send and `done`; main closes `done` after three ints, and
//! the goroutine returns, running its deferred print.
//!
//! (The seed calls `newRandStream()` without `done`, which does not
//! compile in Go; this is the program it means. Main then waits 100 ms
//! so the goroutine's exit is seen before the program ends.)
//!
//! Prints (the numbers vary):
//! ```text
//! 3 random ints:
//! 1:5577006791947779410
//! 2:8674665223082153551
//! 3:6129484611666145821
//! newRandStream closure exited.
//! ```

use std::time::Duration;

use weft::Receiver;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let new_rand_stream = |done: Receiver<()>| -> Receiver<u64> {
            let (tx, rand_stream) = weft::chan::<u64>(0);
            weft::go!(move || {
                let _exited = common::defer(|| println!("newRandStream closure exited."));
                loop {
                    weft::select! {
                        send(tx, common::rand_intn(i64::MAX as u64)) -> _ => {},
                        recv(done) -> _ => return,
                    }
                }
            });
            rand_stream
        };

        let (done_tx, done) = weft::chan::<()>(0);
        let rand_stream = new_rand_stream(done);
        println!("3 random ints:");
        for i in 1..=3 {
            println!("{i}:{}", rand_stream.recv().unwrap());
        }
        done_tx.close().unwrap();
        // Simulate ongoing work.
        weft::time::sleep(Duration::from_millis(100));
    });
}
