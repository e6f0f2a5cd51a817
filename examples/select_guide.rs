//! Port of the goroutines/channels guide's "example: channel `select`"
//! (seed 000): as Go by Example's `select.go`, with 1 s and 2 s sleeps.
//!
//! Prints:
//! ```text
//! received one
//! received two
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        let (c1_tx, c1) = weft::chan::<String>(0);
        let (c2_tx, c2) = weft::chan::<String>(0);

        // Clones: main keeps its senders so neither channel closes when its
        // goroutine ends (see select.rs).
        let tx = c1_tx.clone();
        weft::go!(move || {
            weft::time::sleep(Duration::from_secs(1));
            tx.send("one".to_string()).unwrap();
        });
        let tx = c2_tx.clone();
        weft::go!(move || {
            // weft::time::sleep(Duration::from_secs(1));
            weft::time::sleep(Duration::from_secs(2));
            tx.send("two".to_string()).unwrap();
        });

        for _ in 0..2 {
            weft::select! {
                recv(c1) -> msg1 => println!("received {}", msg1.unwrap()),
                recv(c2) -> msg2 => println!("received {}", msg2.unwrap()),
            }
        }
    });
}
