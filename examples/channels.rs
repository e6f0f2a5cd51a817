//! Port of Go by Example "Channels" (seed 002, `channels.go`): a goroutine
//! sends `"ping"` on an unbuffered channel, main receives it.
//!
//! Go prints the channel's type with `reflect.TypeOf` (`chan string`); a
//! weft channel is a pair of halves, and Rust's `type_name` names them.
//!
//! Prints:
//! ```text
//! (weft_channels::chan::Sender<alloc::string::String>, weft_channels::chan::Receiver<alloc::string::String>)
//! ping
//! ```

fn main() {
    weft::run(|| {
        // `make(chan value-type)`: channels are typed by the values they convey.
        let messages = weft::chan::<String>(0);
        println!("{}", std::any::type_name_of_val(&messages));
        let (messages_tx, messages) = messages;

        // `channel <- v`: send a value into the channel, from a new goroutine.
        weft::go!(move || messages_tx.send("ping".to_string()).unwrap());

        // `<-channel`: receive the value.
        let msg = messages.recv().unwrap();
        println!("{msg}");
    });
}
