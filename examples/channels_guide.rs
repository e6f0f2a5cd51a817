//! Port of the goroutines/channels guide's "example: simple channel"
//! (seed 000): main waits on an unbuffered channel for a goroutine that
//! sends after 3 s.
//!
//! Prints:
//! ```text
//! ---
//! in goroutine func
//! xxx ping
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        let (messages_tx, messages) = weft::chan::<String>(0);

        weft::go!(move || {
            weft::time::sleep(Duration::from_secs(3));
            println!("in goroutine func");
            messages_tx.send("ping".to_string()).unwrap();
        });

        println!("---");
        let msg = messages.recv().unwrap();
        println!("xxx {msg}");
    });
}
