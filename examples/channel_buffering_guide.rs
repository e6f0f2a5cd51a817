//! Port of the goroutines/channels guide's "example: channel buffering"
//! (seed 000): two sends into a channel buffering 2 values, no receiver.
//!
//! A third receive would block forever (the seed comments it out: in Go
//! and here it ends in the deadlock report).
//!
//! Prints:
//! ```text
//! buffered
//! channel
//! ```

fn main() {
    weft::run(|| {
        let (messages_tx, messages) = weft::chan::<String>(2);

        messages_tx.send("buffered".to_string()).unwrap();
        messages_tx.send("channel".to_string()).unwrap();

        println!("{}", messages.recv().unwrap());
        println!("{}", messages.recv().unwrap());
        // println!("{}", messages.recv().unwrap()); // error, only 2 messages in the buffer
    });
}
