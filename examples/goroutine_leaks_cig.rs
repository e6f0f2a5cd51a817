//! Port of *Concurrency in Go* notes, "Preventing Goroutine Leaks" first
//! program (seed 001): `doWork(nil)` — the goroutine ranges over a nil
//! channel (`weft::never()`), which never yields a string nor closes, so
//! it stays blocked for the life of the process (weft, like Go, does not
//! collect it; it is abandoned when main returns).
//!
//! Prints:
//! ```text
//! Done.
//! ```

use weft::Receiver;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let do_work = |strings: Receiver<String>| -> Receiver<()> {
            let (completed_tx, completed) = weft::chan::<()>(0);
            weft::go!(move || {
                let _exited = common::defer(|| println!("doWork exited."));
                let _close = common::defer(|| completed_tx.close().unwrap());
                for s in &strings {
                    // Do something interesting.
                    println!("{s}");
                }
            });
            completed
        };
        // Pass nil: nothing is ever written to `strings`, and the goroutine
        // stays blocked for the lifetime of the process.
        do_work(weft::never());
        // Perhaps more work is done here.
        println!("Done.");
    });
}
