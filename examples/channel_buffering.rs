//! Port of Go by Example "Channel Buffering" (seed 002,
//! `channel-buffering.go`): a channel buffering up to 2 values accepts two
//! sends with no receiver ready.
//!
//! Go prints the channel's type with `reflect.TypeOf` (`chan string`);
//! here Rust's `type_name` names the two halves.
//!
//! Prints:
//! ```text
//! (weft_channels::chan::Sender<alloc::string::String>, weft_channels::chan::Receiver<alloc::string::String>)
//! buffered
//! channel
//! ```

fn main() {
    weft::run(|| {
        // A channel of strings buffering up to 2 values.
        let messages = weft::chan::<String>(2);
        println!("{}", std::any::type_name_of_val(&messages));
        let (messages_tx, messages) = messages;

        // Buffered: these sends need no concurrent receive.
        messages_tx.send("buffered".to_string()).unwrap();
        messages_tx.send("channel".to_string()).unwrap();

        // Later, receive the two values as usual.
        println!("{}", messages.recv().unwrap());
        println!("{}", messages.recv().unwrap());
    });
}
