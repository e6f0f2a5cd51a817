//! Port of the Go Concurrency Guide's "Channels": closing a nil channel
//! (seed 004) — in Go a panic, `panic: close of nil channel`, exit status 2.
//!
//! weft's `close` returns `Err` where Go panics (closing a nil channel,
//! `weft::never_sender()`, or closing twice); this program's point is
//! the panic, so it panics with Go's message, and the runtime is set up to
//! end the process on a goroutine's panic as Go does (exit status 2, the
//! panicking goroutine reported on stderr). Nothing is printed on stdout.

#[path = "common/mod.rs"]
mod common;

fn main() {
    common::panics_exit_like_go();
    weft::run(|| {
        let data_stream = weft::never_sender::<()>(); // `var dataStream chan interface{}`
        if data_stream.close().is_err() {
            panic!("close of nil channel");
        }
    });
}
