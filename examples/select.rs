//! Port of Go by Example "Select" (seed 002, `select.go`): wait on two
//! channels at once with `weft::select!`.
//!
//! Prints (after about 4 s in all, not 6: the sleeps run concurrently):
//! ```text
//! Received : two
//! Received : one
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        // We will select across two channels.
        let (c1_tx, c1) = weft::chan::<String>(0);
        let (c2_tx, c2) = weft::chan::<String>(0);

        // Each channel will receive a value after some amount of time.
        // The goroutines get clones of the senders and main keeps its own,
        // as Go's main keeps `c1` and `c2`: in weft, dropping a channel's
        // last Sender closes it, and a closed channel is always ready in a
        // select, so the goroutine that finishes first would otherwise
        // make the other case fire with `Err(RecvError)`.
        let tx = c1_tx.clone();
        weft::go!(move || {
            weft::time::sleep(Duration::from_secs(4));
            tx.send("one".to_string()).unwrap();
        });
        let tx = c2_tx.clone();
        weft::go!(move || {
            weft::time::sleep(Duration::from_secs(2));
            tx.send("two".to_string()).unwrap();
        });

        // Use select to await both of these values simultaneously.
        for _ in 0..2 {
            weft::select! {
                recv(c1) -> msg1 => println!("Received : {}", msg1.unwrap()),
                recv(c2) -> msg2 => println!("Received : {}", msg2.unwrap()),
            }
        }
    });
}
