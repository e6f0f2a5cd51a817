//! Port of Go by Example "Non-Blocking Channel Operations" (seed 002,
//! `non-blocking-channel-operations.go`; seed 000's "example: non-blocking
//! channel receive" is the same program with other labels): `select!` with
//! a `default` case.
//!
//! Prints:
//! ```text
//! no message received
//! no message sent
//! no activity
//! ```

fn main() {
    weft::run(|| {
        let (messages_tx, messages) = weft::chan::<String>(0);
        // The sender is kept (never used) so that `signals` stays open, as
        // Go's channel does: dropping the last Sender would close it, and a
        // closed channel is always ready to receive.
        let (_signals_tx, signals) = weft::chan::<bool>(0);

        // A non-blocking receive: if a value is available on `messages`,
        // select takes that case; if not, it takes `default` at once.
        weft::select! {
            recv(messages) -> message => println!("received message : {}", message.unwrap()),
            default => println!("no message received"),
        }

        // A non-blocking send works similarly: `message` cannot be sent,
        // the channel has no buffer and there is no receiver, so `default`.
        let message = "hi".to_string();
        weft::select! {
            send(messages_tx, message.clone()) -> _ => println!("sent message : {message}"),
            default => println!("no message sent"),
        }

        // A multi-way non-blocking select.
        weft::select! {
            recv(messages) -> message => println!("received message : {}", message.unwrap()),
            recv(signals) -> signal => println!("received signal : {}", signal.unwrap()),
            default => println!("no activity"),
        }
    });
}
