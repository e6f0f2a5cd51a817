//! Port of the Go Concurrency Guide's "Deadlocks": main receives from a
//! channel nobody sends on (seed 004).
//!
//! Like Go's, the program ends with the deadlock report on stderr
//! (`fatal error: all goroutines are asleep - deadlock!`, `goroutine 1
//! [chan receive]`) and exit status 2. Nothing is printed on stdout.

fn main() {
    weft::run(|| {
        let (_message_tx, message) = weft::chan::<String>(0);

        // The main goroutine tries to receive a message from the channel.
        let _ = message.recv(); // fatal error: all goroutines are asleep - deadlock!
    });
}
