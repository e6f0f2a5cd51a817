//! Port of *Concurrency in Go* notes, "The tee-channel" (seed 001): `tee`
//! sends each value from one channel to two, waiting until both have
//! taken it — the shadowed `out1`/`out2` are set to nil (`never_sender()`)
//! once written, so the second select can only send to the other. Fed
//! with `take(done, repeat(done, 1, 2), 4)`, using the seed's `orDone`,
//! `repeat` and `take` (defined inline, as in the seed's earlier sections).
//!
//! Prints:
//! ```text
//! out1: 1, out2:1
//! out1: 2, out2:2
//! out1: 1, out2:1
//! out1: 2, out2:2
//! ```

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
            let Ok(v) = value_stream.recv() else { return };
            weft::select! {
                recv(done) -> _ => return,
                send(tx, v) -> _ => {},
            }
        }
    });
    take_stream
}

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

fn tee<T: Clone + Send + 'static>(
    done: &Receiver<()>,
    input: Receiver<T>,
) -> (Receiver<T>, Receiver<T>) {
    let (out1_tx, out1) = weft::chan::<T>(0);
    let (out2_tx, out2) = weft::chan::<T>(0);
    let done = done.clone();
    weft::go!(move || {
        // `defer close(out1); defer close(out2)`: the senders drop at the end.
        for val in &or_done(&done, input) {
            let (mut out1, mut out2) = (out1_tx.clone(), out2_tx.clone()); // shadow the variables
            for _ in 0..2 {
                weft::select! {
                    recv(done) -> _ => {},
                    send(out1, val.clone()) -> _ => {
                        // Nil out this copy so further writes block and
                        // the other channel may continue.
                        out1 = weft::never_sender();
                    },
                    send(out2, val.clone()) -> _ => out2 = weft::never_sender(),
                }
            }
        }
    });
    (out1, out2)
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let _close = done_tx; // `defer close(done)`

        let (out1, out2) = tee(&done, take(&done, repeat(&done, vec![1, 2]), 4));

        for val1 in &out1 {
            println!("out1: {val1}, out2:{}", out2.recv().unwrap());
        }
    });
}
