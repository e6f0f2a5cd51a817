//! Go channels for weft: [`chan`], [`Sender`], [`Receiver`] and
//! [`select!`], built on the runtime's parking primitive
//! (`weft::runtime::park`).
//!
//! ```
//! // Go by Example's fibonacci with a quit channel: a send case and a
//! // receive case in one select.
//! use weft::{chan, select};
//! let (c_tx, c_rx) = chan::<u64>(0);
//! let (quit_tx, quit_rx) = chan::<()>(0);
//! let printer = weft::go!(move || {
//!     let got: Vec<u64> = (0..10).map(|_| c_rx.recv().unwrap()).collect();
//!     quit_tx.send(()).unwrap();
//!     got
//! });
//! let (mut x, mut y) = (0, 1);
//! loop {
//!     select! {
//!         send(c_tx, x) -> _ => (x, y) = (y, x + y),
//!         recv(quit_rx) -> _ => break,
//!     }
//! }
//! assert_eq!(printer.join().unwrap(), [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
//! ```
//!
//! One difference from Go to keep in mind when porting: dropping the last
//! `Sender` closes the channel (Go channels close only by `close`), and a
//! closed channel is always ready in a `select!`. Keep a sender alive for
//! as long as receivers should wait.
//!
//! Layout: `chan` (the channel and its two halves), `waiter` (what a
//! blocked operation leaves in a queue and the claim word that decides who
//! completes it), `select` (the `select!` macro and its algorithm), `dyn_select`
//! ([`Select`]: the same algorithm over cases added at run time),
//! `time` (timer and ticker channels), `error`. How it all fits: `docs/channels.md`.
//!
//! Rules this crate keeps: a blocked operation parks its goroutine (or
//! plain thread), never its OS thread; no lock is held across a park
//! except through the park's commit closure; every park records a wait
//! reason ("chan send", "chan receive", "select", their "(nil chan)"
//! forms, "select (no cases)").

#![warn(missing_docs)]
// No printing from library code but `throw` (clippy.toml says why).
#![deny(clippy::disallowed_macros, clippy::disallowed_methods)]

mod chan;
mod dyn_select;
mod error;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
mod rand;
mod select;
pub mod time;
mod waiter;

pub use chan::{chan, never, never_sender, IntoIter, Iter, Receiver, Sender};
pub use dyn_select::{Select, SelectTimeoutError, SelectedOperation, TrySelectError};
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
#[allow(clippy::disallowed_methods)] // the crate's only write to stderr
pub(crate) fn throw(msg: &str) -> ! {
    use std::io::Write as _;
    // A failed write (EPIPE, ENOSPC) is dropped: the abort must happen.
    let _ = writeln!(std::io::stderr(), "fatal error: {msg}");
    std::process::abort()
}
