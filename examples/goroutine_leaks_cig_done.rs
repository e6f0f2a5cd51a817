//! Port of *Concurrency in Go* notes, "Preventing Goroutine Leaks" with a
//! done channel (seed 001): the parent passes `done` to the child and
//! closes it to cancel the child, then joins on `terminated`.
//!
//! (The seed's code misplaces main's lines inside `doWork`; this is the
//! program it means, the same as the Go Concurrency Guide's
//! "Cancellation".)
//!
//! Prints (after 1 s):
//! ```text
//! canceling doWork goroutine...
//! doWork exited
//! Done
//! ```

use std::time::Duration;

use weft::Receiver;

#[path = "common/mod.rs"]
mod common;

fn do_work(done: Receiver<()>, strings: Receiver<String>) -> Receiver<()> {
    let (terminated_tx, terminated) = weft::chan::<()>(0);
    weft::go!(move || {
        let _exited = common::defer(|| println!("doWork exited"));
        let _close = common::defer(|| terminated_tx.close().unwrap());
        loop {
            weft::select! {
                recv(strings) -> s => {
                    // Do something.
                    println!("{}", s.unwrap());
                },
                recv(done) -> _ => return,
            }
        }
    });
    terminated
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let terminated = do_work(done, weft::never());

        weft::go!(move || {
            // Cancel the operation after 1 second.
            weft::time::sleep(Duration::from_secs(1));
            println!("canceling doWork goroutine...");
            done_tx.close().unwrap();
        });

        let _ = terminated.recv(); // join the goroutine
        println!("Done");
    });
}
