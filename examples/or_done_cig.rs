//! Port of *Concurrency in Go* notes, "The or-done-channel" (seed 001):
//! `orDone` wraps reading from a channel that may never close in a select
//! on `done`, so a plain `for val in orDone(done, myChan)` loop stops when
//! either closes. The seed shows the function and the loop; here `myChan`
//! carries 0..=4 and is closed by its writer.
//!
//! Prints:
//! ```text
//! 0
//! 1
//! 2
//! 3
//! 4
//! ```

use weft::Receiver;

fn or_done<T: Send + 'static>(done: &Receiver<()>, c: Receiver<T>) -> Receiver<T> {
    let (tx, val_stream) = weft::chan::<T>(0);
    let done = done.clone();
    weft::go!(move || loop {
        weft::select! {
            recv(done) -> _ => return,
            recv(c) -> v => {
                let Ok(v) = v else { return };
                weft::select! {
                    send(tx, v) -> _ => {},
                    recv(done) -> _ => {},
                }
            },
        }
    });
    val_stream
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let _close = done_tx; // `defer close(done)`

        let (my_tx, my_chan) = weft::chan::<i32>(0);
        weft::go!(move || {
            for i in 0..5 {
                my_tx.send(i).unwrap();
            }
            my_tx.close().unwrap();
        });

        for val in &or_done(&done, my_chan) {
            // Do something with val.
            println!("{val}");
        }
    });
}
