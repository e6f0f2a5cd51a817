//! Port of the Go Concurrency Guide's "Or done channel" (seed 004): the
//! verbose loop that reads a channel while watching `done`, and the same
//! wrapped in `orDone` so a plain range loop does it. The seed shows the
//! two fragments; here each reads a channel of three values, closed by
//! its writer.
//!
//! Prints:
//! ```text
//! loop: 1
//! loop: 2
//! loop: 3
//! orDone: 1
//! orDone: 2
//! orDone: 3
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

/// A channel carrying 1, 2, 3, closed by its writer.
fn my_chan() -> Receiver<i32> {
    let (tx, rx) = weft::chan::<i32>(0);
    weft::go!(move || {
        for i in 1..=3 {
            tx.send(i).unwrap();
        }
        tx.close().unwrap();
    });
    rx
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let _close = done_tx; // `defer close(done)`

        let c = my_chan();
        'outer: loop {
            weft::select! {
                recv(done) -> _ => break 'outer,
                recv(c) -> maybe_val => {
                    let Ok(val) = maybe_val else {
                        break 'outer; // or maybe return
                    };
                    // Do something with val.
                    println!("loop: {val}");
                },
            }
        }

        for val in &or_done(&done, my_chan()) {
            // Do something with val.
            println!("orDone: {val}");
        }
    });
}
