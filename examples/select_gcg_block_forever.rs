//! Port of the Go Concurrency Guide's "block forever" (seed 004; *Concurrency
//! in Go*'s "empty select" in seed 001): `select {}` blocks forever; with
//! nothing else running, the runtime reports a deadlock.
//!
//! Like Go's, the program ends with the deadlock report on stderr
//! (`fatal error: all goroutines are asleep - deadlock!`, `goroutine 1
//! [select (no cases)]`) and exit status 2. Nothing is printed on stdout.

fn main() {
    weft::run(|| {
        weft::select! {}
    });
}
