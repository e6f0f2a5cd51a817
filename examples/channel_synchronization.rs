//! Port of Go by Example "Channel Synchronization" (seed 002,
//! `channel-synchronization.go`): the main goroutine waits for a worker
//! goroutine by receiving from a `done` channel.
//!
//! Prints: `Working... Done`

use std::io::Write;
use std::time::Duration;

use weft::Sender;

// This is the function we will run in a goroutine. The `done` channel is
// used to notify another goroutine that this one's work is done.
fn worker(done: Sender<bool>) {
    print!("Working... ");
    let _ = std::io::stdout().flush(); // Go's stdout is unbuffered
    weft::time::sleep(Duration::from_secs(1));
    println!("Done");

    // Send a value to notify that we are done.
    done.send(true).unwrap();
}

fn main() {
    weft::run(|| {
        // Start a worker goroutine, giving it the channel to notify on.
        let (done_tx, done) = weft::chan::<bool>(1);
        weft::go!(worker(done_tx));

        // Block until we receive a notification from the worker.
        done.recv().unwrap();
    });
}
