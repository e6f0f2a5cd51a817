//! Port of Go by Example "Timeouts" (seed 002, `timeouts.go`): bound a
//! wait with `select!` on a result channel and `weft::time::after`.
//!
//! Prints:
//! ```text
//! timeout c1 after 1s
//! result from c2
//! ```

use std::time::Duration;

use weft::time::{after, sleep};

fn main() {
    weft::run(|| {
        // The channel is buffered, so the send in the goroutine does not
        // block even if nobody ever receives it (no goroutine leak).
        let (c1_tx, c1) = weft::chan::<String>(1);
        weft::go!(move || {
            sleep(Duration::from_secs(2));
            // `let _`: were `c1` already dropped, weft fails the send (Go's
            // would go into the buffer); either way nobody reads it.
            let _ = c1_tx.send("result from c1".to_string());
        });

        // select proceeds with the first receive that is ready: the timeout
        // case if the operation takes more than the allowed 1 s.
        weft::select! {
            recv(c1) -> response => println!("{}", response.unwrap()),
            recv(after(Duration::from_secs(1))) -> _ => println!("timeout c1 after 1s"),
        }

        // With a longer timeout of 3 s, the receive from c2 succeeds.
        let (c2_tx, c2) = weft::chan::<String>(1);
        weft::go!(move || {
            sleep(Duration::from_secs(2));
            c2_tx.send("result from c2".to_string()).unwrap();
        });

        weft::select! {
            recv(c2) -> response => println!("{}", response.unwrap()),
            recv(after(Duration::from_secs(3))) -> _ => println!("timeout c2 after 3s"),
        }
    });
}
