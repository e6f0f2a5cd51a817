//! Port of the goroutines/channels guide's "modification" of the
//! non-blocking channel receive example (seed 000): with a buffered
//! `messages` channel and a value sent first, every select finds its case
//! ready.
//!
//! Prints:
//! ```text
//! received message one
//! sent message hi
//! received message hi
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        let (messages_tx, messages) = weft::chan::<String>(10); // change here
        let (_signals_tx, signals) = weft::chan::<bool>(0); // kept open, as in Go

        let tx = messages_tx.clone();
        weft::go!(move || {
            tx.send("one".to_string()).unwrap();
        });
        weft::time::sleep(Duration::from_secs(1)); // change here

        // case1
        weft::select! {
            recv(messages) -> msg => println!("received message {}", msg.unwrap()),
            default => println!("no message received"),
        }

        // case2
        let msg = "hi".to_string();
        weft::select! {
            send(messages_tx, msg.clone()) -> _ => println!("sent message {msg}"),
            default => println!("no message sent"),
        }

        // case3
        weft::select! {
            recv(messages) -> msg => println!("received message {}", msg.unwrap()),
            recv(signals) -> sig => println!("received signal {}", sig.unwrap()),
            default => println!("no activity"),
        }
    });
}
