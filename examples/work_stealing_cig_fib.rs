//! Port of *Concurrency in Go* notes, "Stealing Tasks or Continuations?"
//! (seed 001): Fibonacci with a goroutine per call, each returning its
//! result on a channel. In Go, as in weft's default spawn policy, the
//! goroutine is the task and what follows the `go` is the continuation;
//! weft's continuation stealing runs the new goroutine at once and leaves
//! the continuation for another thread to steal (`WEFT_SPAWN=child` gives
//! Go's task-queuing behaviour).
//!
//! Prints (with no newline at the end):
//! ```text
//! fib = 3
//! ```

use std::io::Write;

use weft::Receiver;

fn fib(n: u64) -> Receiver<u64> {
    let (tx, result) = weft::chan::<u64>(0);
    weft::go!(move || {
        // task
        if n <= 2 {
            tx.send(1).unwrap();
            return;
        }
        tx.send(fib(n - 1).recv().unwrap() + fib(n - 2).recv().unwrap())
            .unwrap();
    });
    result // continuation
}

fn main() {
    weft::run(|| {
        print!("fib = {}", fib(4).recv().unwrap());
        let _ = std::io::stdout().flush();
    });
}
