//! Port of *Concurrency in Go* notes, "Channels" (seed 001): a channel's
//! two directions, and reading with `val, ok := <-stream`.
//!
//! Go converts a bidirectional channel to a receive-only (`<-chan`) or
//! send-only (`chan<-`) one implicitly; a weft channel is made as its two
//! halves, a `Receiver` and a `Sender`, which are those two types. `ok` is
//! whether `recv` returned `Ok`: a value sent, not the end of a closed
//! channel. The seed's lines are fragments; here a goroutine sends one
//! string and closes the channel.
//!
//! Prints:
//! ```text
//! (true): Hello channels!
//! (false):
//! ```

use weft::{Receiver, Sender};

fn main() {
    weft::run(|| {
        let data_stream = weft::chan::<String>(0);
        // Valid statements: each half is one direction of the channel.
        let (send_chan, receive_chan): (Sender<String>, Receiver<String>) = data_stream;

        weft::go!(move || {
            send_chan.send("Hello channels!".to_string()).unwrap();
            send_chan.close().unwrap();
        });

        // `ok` says whether there is still a value (a closed channel gives
        // Go's zero value, here `Err`).
        for _ in 0..2 {
            let (salutation, ok) = match receive_chan.recv() {
                Ok(s) => (s, true),
                Err(_) => (String::new(), false),
            };
            println!("({ok}): {salutation}");
        }
    });
}
