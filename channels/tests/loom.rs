//! loom models of a channel's wait records (`src/waiter.rs`): the races in
//! which a blocked operation's queue entry is claimed, unlinked and left
//! behind — a deadline's timer against a peer and against `close`, a
//! select's losing case against the peers that find it in their queues.
//! Each model runs the channel's real code (with `--cfg loom` the
//! channel's lock, the wait record and thread parking are loom's) on loom
//! threads, which stand for goroutines; a thread running
//! `weft_channels::loom_api::timer_thread` stands for the runtime's timers
//! firing on another M.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release -p weft-channels --test loom
//! ```
//!
//! Two kinds of check:
//! - counts: each value is received exactly once or given back to its
//!   sender, and each operation's result agrees with its peer's;
//! - order: every touch of a queue entry by a party other than its owner
//!   happens before the owner returns (the entry's frame cell, under
//!   loom, makes any other touch a causality violation loom reports).
#![cfg(loom)]

use std::time::Duration;

use loom::thread;

use weft_channels::loom_api::{stop_timers, timer_thread};
use weft_channels::{chan, select, RecvError, RecvTimeoutError, SendError, SendTimeoutError};

/// A deadline no model reaches: only the fired timer ends a wait.
const FAR: Duration = Duration::from_secs(3600);

/// Runs `f` under loom with a preemption bound (`WEFT_LOOM_BOUND`
/// overrides it, 0 for none). `f` returns which of the `outcomes` it
/// reached; every one must be reached in some execution, so a model that
/// never gets to the race it is about fails rather than passes idly.
fn model<const K: usize>(
    bound: usize,
    outcomes: [&'static str; K],
    f: impl Fn() -> usize + Sync + Send + 'static,
) {
    let seen: std::sync::Arc<[std::sync::atomic::AtomicUsize; K]> =
        std::sync::Arc::new(std::array::from_fn(|_| Default::default()));
    let s = seen.clone();
    let mut b = loom::model::Builder::new();
    let bound = std::env::var("WEFT_LOOM_BOUND").map_or(bound, |v| v.parse().unwrap());
    b.preemption_bound = (bound > 0).then_some(bound);
    b.check(move || {
        s[f()].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    for (name, n) in outcomes.iter().zip(seen.iter()) {
        let n = n.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!("  {name}: {n} executions");
        assert!(n > 0, "no execution reached \"{name}\"");
    }
}

/// A timed receive against a sender and its timer. Either the receive
/// gets the value and the send succeeds, or the receive times out and the
/// send, released by a close, gets the value back. The timer may fire
/// before the receive is queued (nothing to do), while it waits, or after
/// it returned (the record is claimed already).
#[test]
fn timed_recv_vs_send_vs_timer() {
    model(3, ["received", "timed out"], || {
        let (tx, rx) = chan::<u32>(0);
        let tx2 = tx.clone();
        let sender = thread::spawn(move || tx2.send(7));
        let timer = thread::spawn(timer_thread);
        let got = rx.recv_timeout(FAR);
        if got.is_err() {
            tx.close().unwrap(); // release the sender, if it is blocked
        }
        let sent = sender.join().unwrap();
        stop_timers();
        timer.join().unwrap();
        match (got, sent) {
            (Ok(7), Ok(())) => 0,
            (Err(RecvTimeoutError::Timeout), Err(SendError(7))) => 1,
            (got, sent) => panic!("receive {got:?} against send {sent:?}"),
        }
    });
}

/// A timed send against `close` and its timer: the value comes back
/// exactly once, as a timeout or as closed, and the sender is woken once.
#[test]
fn timed_send_vs_close_vs_timer() {
    model(3, ["timed out", "closed"], || {
        let (tx, rx) = chan::<u32>(0);
        let closer = thread::spawn(move || {
            rx.close().unwrap();
            rx
        });
        let timer = thread::spawn(timer_thread);
        let outcome = match tx.send_timeout(5, FAR) {
            Err(SendTimeoutError::Timeout(5)) => 0,
            Err(SendTimeoutError::Closed(5)) => 1,
            other => panic!("send on a channel nobody receives from: {other:?}"),
        };
        let rx = closer.join().unwrap();
        stop_timers();
        timer.join().unwrap();
        assert_eq!(rx.recv(), Err(RecvError));
        outcome
    });
}

/// Two timed receives queued on one channel, a sender, and the timer
/// firing each deadline: the sender walks past an entry the timer claimed
/// (unlinking it, while its owner may be unlinking it too) to the next
/// live one, or finds none. The value is received once, or comes back to
/// the sender.
#[test]
fn sender_walks_past_timed_out_receivers() {
    model(
        2,
        ["first received", "second received", "both timed out"],
        || {
            let (tx, rx) = chan::<u32>(0);
            let rx2 = rx.clone();
            let other = thread::spawn(move || rx2.recv_timeout(FAR).ok());
            let tx2 = tx.clone();
            let sender = thread::spawn(move || tx2.send(9));
            let timer = thread::spawn(timer_thread);
            let mine = rx.recv_timeout(FAR).ok();
            let theirs = other.join().unwrap();
            stop_timers();
            timer.join().unwrap();
            if mine.is_none() && theirs.is_none() {
                tx.close().unwrap(); // release the sender, if it is blocked
            }
            let sent = sender.join().unwrap();
            match (mine, theirs, sent) {
                (Some(9), None, Ok(())) => 0,
                (None, Some(9), Ok(())) => 1,
                (None, None, Err(SendError(9))) => 2,
                other => panic!("one value, two receivers: {other:?}"),
            }
        },
    );
}

/// A select over two channels whose cases are claimed from both at once:
/// a send on one, a close of the other. Exactly one case wins; the losing
/// case's entry leaves its queue before the select returns (the sender
/// that finds it there sees the claim taken and moves on); the value is
/// received exactly once, by the select or by a receive after it.
#[test]
fn select_loser_vs_send_and_close() {
    model(3, ["send won", "close won"], || {
        let (atx, arx) = chan::<u32>(0);
        let (btx, brx) = chan::<u32>(0);
        let sender = thread::spawn(move || atx.send(1));
        let closer = thread::spawn(move || btx.close());
        let won = select! {
            recv(arx) -> v => Some(v.unwrap()),
            recv(brx) -> v => {
                assert_eq!(v, Err(RecvError));
                None
            }
        };
        let outcome = if won.is_some() { 0 } else { 1 };
        let got = won.or_else(|| arx.recv().ok());
        assert_eq!(got, Some(1));
        sender.join().unwrap().unwrap();
        closer.join().unwrap().unwrap();
        outcome
    });
}
