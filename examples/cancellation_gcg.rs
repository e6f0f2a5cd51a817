//! Port of the Go Concurrency Guide's "Cancellation" (seed 004): `doWork`'s
//! goroutine reads `strings` (here nil: nothing ever comes) until `done`
//! closes; a goroutine closes `done` after 1 s; main joins on `terminated`.
//!
//! Prints (after 1 s):
//! ```text
//! Canceling doWork goroutine...
//! doWork exited.
//! Done.
//! ```

use std::time::Duration;

use weft::Receiver;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let do_work = |done: Receiver<()>, strings: Receiver<String>| -> Receiver<()> {
            let (terminated_tx, terminated) = weft::chan::<()>(0);
            weft::go!(move || {
                let _exited = common::defer(|| println!("doWork exited."));
                let _close = common::defer(|| terminated_tx.close().unwrap());
                loop {
                    weft::select! {
                        recv(strings) -> s => {
                            // Do something interesting.
                            println!("{}", s.unwrap());
                        },
                        recv(done) -> _ => return,
                    }
                }
            });
            terminated
        };

        let (done_tx, done) = weft::chan::<()>(0);
        let terminated = do_work(done, weft::never());

        weft::go!(move || {
            // Cancel the operation after 1 second.
            weft::time::sleep(Duration::from_secs(1));
            println!("Canceling doWork goroutine...");
            done_tx.close().unwrap();
        });

        let _ = terminated.recv();
        println!("Done.");
    });
}
