//! Go channels for weft: [`chan`], [`Sender`], [`Receiver`] and
//! [`select!`], built on the runtime's parking primitive
//! (`weft_runtime::park`).
//!
//! ```
//! use weft_channels::{chan, select};
//! let (tx, rx) = chan::<u32>(0);
//! let (done_tx, done_rx) = chan::<()>(0);
//! weft_runtime::go!(move || {
//!     for i in 0..3 { tx.send(i).unwrap(); }
//!     done_tx.close().unwrap();
//! });
//! let mut sum = 0;
//! loop {
//!     select! {
//!         recv(rx) -> v => sum += v.unwrap(),
//!         recv(done_rx) -> _ => break,
//!     }
//! }
//! assert_eq!(sum, 3);
//! ```
//!
//! Layout: `chan` (the channel and its two halves), `waiter` (what a
//! blocked operation leaves in a queue and the claim word that decides who
//! completes it), `select` (the `select!` macro and its algorithm),
//! `time` (timer and ticker channels), `error`. How it all fits: `docs/channels.md`.
//!
//! Rules this crate keeps: a blocked operation parks its goroutine (or
//! plain thread), never its OS thread; no lock is held across a park
//! except through the park's commit closure; every park records a wait
//! reason ("chan send", "chan receive", "select", their "(nil chan)"
//! forms, "select (no cases)").

#![warn(missing_docs)]

mod chan;
mod error;
mod rand;
mod select;
pub mod time;
mod waiter;

pub use chan::{chan, never, never_sender, IntoIter, Iter, Receiver, Sender};
pub use error::{
    CloseError, RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError,
    TrySendError,
};

/// What `select!` expands to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::select::{
        no_case_fired, select_no_cases, select_run, AsReceiver, AsSender, Case, RecvCase,
        SelectWaiter, SendCase,
    };
}

/// A broken internal invariant (Go's `throw`): print and abort, never
/// unwind through the scheduler.
#[cold]
pub(crate) fn throw(msg: &str) -> ! {
    eprintln!("fatal error: {msg}");
    std::process::abort()
}
