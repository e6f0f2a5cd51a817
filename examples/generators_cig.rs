//! Port of *Concurrency in Go* notes, "Some Handy Generators" (seed 001):
//! `repeat` sends its values over and over until `done` closes; `take`
//! passes on the first `num` values of a stream. Ten 1s from an endless
//! stream of 1s.
//!
//! Prints (each value followed by a space, and no newline at the end):
//! ```text
//! 1 1 1 1 1 1 1 1 1 1
//! ```

use std::io::Write;

use weft::Receiver;

fn repeat<T: Clone + Send + 'static>(done: &Receiver<()>, values: Vec<T>) -> Receiver<T> {
    let (tx, value_stream) = weft::chan::<T>(0);
    let done = done.clone();
    weft::go!(move || loop {
        for v in &values {
            weft::select! {
                recv(done) -> _ => return,
                send(tx, v.clone()) -> _ => {},
            }
        }
    });
    value_stream
}

fn take<T: Send + 'static>(
    done: &Receiver<()>,
    value_stream: Receiver<T>,
    num: usize,
) -> Receiver<T> {
    let (tx, take_stream) = weft::chan::<T>(0);
    let done = done.clone();
    weft::go!(move || {
        for _ in 0..num {
            // `takeStream <- <-valueStream`: the receive happens first.
            let Ok(v) = value_stream.recv() else { return };
            weft::select! {
                recv(done) -> _ => return,
                send(tx, v) -> _ => {},
            }
        }
    });
    take_stream
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let _close = done_tx; // `defer close(done)`

        for num in &take(&done, repeat(&done, vec![1]), 10) {
            print!("{num} ");
        }
        let _ = std::io::stdout().flush();
    });
}
