//! Port of *Concurrency in Go* notes, "The select Statement": a for-select
//! loop that works until it is signalled to stop (seed 001) — each pass
//! checks `done` without blocking (`default`), then works for a while.
//!
//! The seed works 1 s a cycle and is stopped after 5 s; here 100 ms and
//! 500 ms (the same five cycles; the check at the fifth-cycle boundary
//! races the close, in Go too).
//!
//! Prints:
//! ```text
//! Achieved 5 cycles of work before signalled to stop.
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        weft::go!(move || {
            weft::time::sleep(Duration::from_millis(500));
            done_tx.close().unwrap();
        });

        let mut work_counter = 0;
        'outer: loop {
            weft::select! {
                recv(done) -> _ => break 'outer,
                default => {},
            }

            // Simulate work.
            work_counter += 1;
            weft::time::sleep(Duration::from_millis(100));
        }
        println!("Achieved {work_counter} cycles of work before signalled to stop.");
    });
}
