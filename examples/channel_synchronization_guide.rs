//! Port of the goroutines/channels guide's "example: channel
//! synchronization" (seed 000): as Go by Example's program, with messages
//! around the wait.
//!
//! Prints:
//! ```text
//! waiting for flag
//! working...
//! work done
//! ending for flag
//! ```

use std::time::Duration;

use weft::Sender;

fn worker(done: Sender<bool>) {
    println!("working...");
    weft::time::sleep(Duration::from_secs(1));
    println!("work done");

    done.send(true).unwrap();
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<bool>(1);
        weft::go!(worker(done_tx));

        println!("waiting for flag");
        done.recv().unwrap(); // waiting for flag
        println!("ending for flag");
    });
}
