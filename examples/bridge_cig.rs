//! Port of *Concurrency in Go* notes, "The bridge-channel" (seed 001):
//! `bridge` flattens a channel of channels into one channel of values,
//! reading each inner channel to its end through `orDone` (defined inline,
//! as in the seed's earlier section). `genVals` sends ten channels holding
//! one value each. Called with a nil `done` (`weft::never()`), as the seed
//! does: it never closes, and the stream ends when `chanStream` does.
//!
//! Prints (each value followed by a space, and no newline at the end):
//! ```text
//! 0 1 2 3 4 5 6 7 8 9
//! ```

use std::io::Write;

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

fn bridge<T: Send + 'static>(
    done: &Receiver<()>,
    chan_stream: Receiver<Receiver<T>>,
) -> Receiver<T> {
    let (tx, val_stream) = weft::chan::<T>(0);
    let done = done.clone();
    weft::go!(move || loop {
        // The channel whose values the bridge passes on next.
        let stream;
        weft::select! {
            recv(chan_stream) -> maybe_stream => match maybe_stream {
                Ok(s) => stream = s,
                Err(_) => return,
            },
            recv(done) -> _ => return,
        }
        for val in &or_done(&done, stream) {
            weft::select! {
                send(tx, val) -> _ => {},
                recv(done) -> _ => {},
            }
        }
    });
    val_stream
}

fn gen_vals() -> Receiver<Receiver<i32>> {
    let (tx, chan_stream) = weft::chan::<Receiver<i32>>(0);
    weft::go!(move || {
        for i in 0..10 {
            let (stream_tx, stream) = weft::chan::<i32>(1);
            stream_tx.send(i).unwrap();
            stream_tx.close().unwrap();
            tx.send(stream).unwrap();
        }
    });
    chan_stream
}

fn main() {
    weft::run(|| {
        for v in &bridge(&weft::never(), gen_vals()) {
            print!("{v} "); // 0 1 2 3 4 5 6 7 8 9
        }
        let _ = std::io::stdout().flush();
    });
}
