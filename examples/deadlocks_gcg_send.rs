//! Port of the Go Concurrency Guide's "Deadlocks": main sends on an
//! unbuffered channel nobody receives from (seed 004).
//!
//! Like Go's, the program ends with the deadlock report on stderr
//! (`fatal error: all goroutines are asleep - deadlock!`, `goroutine 1
//! [chan send]`) and exit status 2. Nothing is printed on stdout.

fn main() {
    weft::run(|| {
        let (message_tx, _message) = weft::chan::<String>(0);

        // The main goroutine tries to send a message on the channel.
        message_tx.send("message".to_string()).unwrap(); // fatal error: all goroutines are asleep - deadlock!
    });
}
