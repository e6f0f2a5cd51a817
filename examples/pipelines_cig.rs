//! Port of *Concurrency in Go* notes, "Best practice for constructing
//! Pipelines" (seed 001): `generator`, `multiply` and `add` stages, each a
//! goroutine between two channels that stops when `done` closes;
//! `multiply(add(multiply(generator(1, 2, 3, 4), 2), 1), 2)`.
//!
//! Prints:
//! ```text
//! 6
//! 10
//! 14
//! 18
//! ```

use weft::Receiver;

fn generator(done: &Receiver<()>, integers: Vec<i32>) -> Receiver<i32> {
    let (tx, int_stream) = weft::chan::<i32>(0);
    let done = done.clone();
    weft::go!(move || {
        for i in integers {
            weft::select! {
                recv(done) -> _ => return,
                send(tx, i) -> _ => {},
            }
        }
    }); // `defer close(intStream)`: dropping the goroutine's sender closes it
    int_stream
}

fn multiply(done: &Receiver<()>, int_stream: Receiver<i32>, multiplier: i32) -> Receiver<i32> {
    let (tx, multiplied_stream) = weft::chan::<i32>(0);
    let done = done.clone();
    weft::go!(move || {
        for i in &int_stream {
            weft::select! {
                recv(done) -> _ => return,
                send(tx, i * multiplier) -> _ => {},
            }
        }
    });
    multiplied_stream
}

fn add(done: &Receiver<()>, int_stream: Receiver<i32>, additive: i32) -> Receiver<i32> {
    let (tx, added_stream) = weft::chan::<i32>(0);
    let done = done.clone();
    weft::go!(move || {
        for i in &int_stream {
            weft::select! {
                recv(done) -> _ => return,
                send(tx, i + additive) -> _ => {},
            }
        }
    });
    added_stream
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let _close = done_tx; // `defer close(done)`: dropped when main returns

        let int_stream = generator(&done, vec![1, 2, 3, 4]);
        let pipeline = multiply(&done, add(&done, multiply(&done, int_stream, 2), 1), 2);
        for v in &pipeline {
            println!("{v}");
        }
    });
}
