//! Port of the Go Concurrency Guide's "Channels": writing to a nil channel
//! (seed 004) blocks forever; with nothing else running, the runtime
//! reports a deadlock. `weft::never_sender()` is Go's nil channel used for
//! sending.
//!
//! Like Go's, the program ends with the deadlock report on stderr
//! (`fatal error: all goroutines are asleep - deadlock!`, `goroutine 1
//! [chan send (nil chan)]`) and exit status 2. Nothing is printed on
//! stdout.

fn main() {
    weft::run(|| {
        let data_stream = weft::never_sender::<()>(); // `var dataStream chan interface{}`
        let _ = data_stream.send(()); // fatal error: all goroutines are asleep - deadlock!
    });
}
