//! Port of *Concurrency in Go* notes, "The select Statement" first program
//! (seed 001): a select over three channels that were declared but never
//! made — nil channels, `weft::never()` and `weft::never_sender()` — so no
//! case can ever proceed. In Go, as here, main blocks forever, and since
//! nothing else runs, the runtime reports a deadlock.
//!
//! Prints nothing on stdout; ends with the deadlock report on stderr
//! (`fatal error: all goroutines are asleep - deadlock!`) and exit status
//! 2, as Go does.

fn main() {
    weft::run(|| {
        // `var c1, c2 <-chan interface{}` and `var c3 chan<- interface{}`.
        let c1 = weft::never::<()>();
        let c2 = weft::never::<()>();
        let c3 = weft::never_sender::<()>();
        // All reads and writes are considered at once; none is ready, so
        // the select blocks.
        weft::select! {
            recv(c1) -> _ => {} // do something
            recv(c2) -> _ => {} // do something
            send(c3, ()) -> _ => {} // do something
        }
    });
}
