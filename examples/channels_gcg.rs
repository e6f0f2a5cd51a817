//! Port of the Go Concurrency Guide's "Channels" declaration fragments
//! (seed 004): a channel to read and send, its receive-only and send-only
//! forms, a send and a receive.
//!
//! Go's `make(<-chan interface{})` and `make(chan<- interface{})` make
//! one-directional channels nobody can use from the other side; a weft
//! channel is always made as its two halves, `Receiver` (`<-chan`) and
//! `Sender` (`chan<-`), which are the directional types; and Go's implicit
//! conversion of a bidirectional channel to either is taking one half. The
//! seed's fragments have no output; here the send runs in a goroutine and
//! main prints what it receives.
//!
//! Prints:
//! ```text
//! Hello world
//! ```

use weft::{Receiver, Sender};

fn main() {
    weft::run(|| {
        // To declare a channel to read and send.
        let stream = weft::chan::<String>(0);

        // Valid statements: each half is one direction.
        let (send_chan, receive_chan): (Sender<String>, Receiver<String>) = stream;

        // To send.
        weft::go!(move || send_chan.send("Hello world".to_string()).unwrap());

        // To receive.
        println!("{}", receive_chan.recv().unwrap());
    });
}
