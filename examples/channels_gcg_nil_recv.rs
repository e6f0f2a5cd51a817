//! Port of the Go Concurrency Guide's "Channels": reading from a nil
//! channel (seed 004) blocks forever; with nothing else running, the
//! runtime reports a deadlock. `weft::never()` is Go's nil channel.
//!
//! Like Go's, the program ends with the deadlock report on stderr
//! (`fatal error: all goroutines are asleep - deadlock!`, `goroutine 1
//! [chan receive (nil chan)]`) and exit status 2. Nothing is printed on
//! stdout.

fn main() {
    weft::run(|| {
        let data_stream = weft::never::<()>(); // `var dataStream chan interface{}`
        let _ = data_stream.recv(); // fatal error: all goroutines are asleep - deadlock!
    });
}
