//! User code inside a channel: a buffered value's `Drop` that panics or
//! parks when the channel drops what it holds (the last receiver going,
//! or both halves). The channel stays consistent (blocked senders get
//! their values back, later sends fail), every other value is dropped
//! exactly once, and other goroutines keep running. `close` drops
//! nothing: the buffer stays for the receivers.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use weft::{chan, RecvError, SendError, Sender};

/// Per-value drop counts.
type Drops = Arc<[AtomicUsize; 8]>;

fn drops() -> Drops {
    Arc::new(std::array::from_fn(|_| AtomicUsize::new(0)))
}

fn counts(d: &Drops) -> Vec<usize> {
    d.iter().map(|c| c.load(SeqCst)).collect()
}

/// What a value's `Drop` does besides counting.
#[derive(Clone)]
enum OnDrop {
    Nothing,
    Panic,
    /// Sends its id on this channel (parks until someone receives).
    Send(Sender<usize>),
}

struct Val {
    id: usize,
    drops: Drops,
    on_drop: OnDrop,
}

impl Val {
    fn new(id: usize, drops: &Drops, on_drop: OnDrop) -> Val {
        Val {
            id,
            drops: drops.clone(),
            on_drop,
        }
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, SeqCst);
        match &self.on_drop {
            OnDrop::Nothing => {}
            OnDrop::Panic => panic!("value {} panicked in drop", self.id),
            OnDrop::Send(tx) => tx.send(self.id).unwrap(),
        }
    }
}

/// A goroutine that keeps receiving and echoing while the test runs, to
/// show the runtime goes on; returns how many it echoed.
fn bystander(n: usize) -> (Sender<usize>, weft::JoinHandle<usize>) {
    let (tx, rx) = chan::<usize>(0);
    let h = weft::go!(move || rx.iter().take(n).count());
    (tx, h)
}

/// The last receiver goes while four values are buffered (value 1's
/// `Drop` panics) and a sender is blocked on the full buffer: the panic
/// comes out of the receiver's drop, after the channel has refused the
/// blocked send (value back) and dropped every other buffered value once.
fn last_receiver_with_a_panicking_value(in_goroutine: bool) {
    let d = drops();
    let (tx, rx) = chan::<Val>(4);
    for id in 0..4 {
        let on = if id == 1 {
            OnDrop::Panic
        } else {
            OnDrop::Nothing
        };
        tx.send(Val::new(id, &d, on)).unwrap();
    }
    let tx2 = tx.clone();
    let d2 = d.clone();
    let blocked = weft::go!(move || match tx2.send(Val::new(4, &d2, OnDrop::Nothing)) {
        Err(SendError(v)) => v.id,
        Ok(()) => panic!("nobody receives"),
    });
    let (echo, echoer) = bystander(3);
    echo.send(0).unwrap();
    let dropped = if in_goroutine {
        weft::go!(move || drop(rx))
            .join()
            .map_err(|e| e.into_panic())
    } else {
        catch_unwind(AssertUnwindSafe(move || drop(rx)))
    };
    let payload = dropped.expect_err("value 1's Drop panics out of the receiver's drop");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert_eq!(msg, "value 1 panicked in drop");
    assert_eq!(
        blocked.join().unwrap(),
        4,
        "the blocked send got its value back"
    );
    assert_eq!(counts(&d)[..5], [1, 1, 1, 1, 1]);
    // Consistent afterwards: sends fail at once with the value back.
    match tx.try_send(Val::new(5, &d, OnDrop::Nothing)) {
        Err(weft::TrySendError::Closed(v)) => assert_eq!(v.id, 5),
        other => panic!("send after the receivers went: {:?}", other.is_ok()),
    }
    drop(tx);
    assert_eq!(counts(&d)[..6], [1, 1, 1, 1, 1, 1]);
    echo.send(1).unwrap();
    echo.send(2).unwrap();
    assert_eq!(echoer.join().unwrap(), 3, "other goroutines kept running");
}

#[test]
fn panicking_drop_when_last_receiver_goes_on_a_thread() {
    last_receiver_with_a_panicking_value(false);
}

#[test]
fn panicking_drop_when_last_receiver_goes_in_a_goroutine() {
    last_receiver_with_a_panicking_value(true);
}

/// Both halves gone (the buffer goes with the channel): the panic comes
/// out of the last half's drop, every other value is dropped once.
#[test]
fn panicking_drop_when_the_channel_goes() {
    for receiver_last in [false, true] {
        let d = drops();
        let (tx, rx) = chan::<Val>(3);
        for id in 0..3 {
            let on = if id == 0 {
                OnDrop::Panic
            } else {
                OnDrop::Nothing
            };
            tx.send(Val::new(id, &d, on)).unwrap();
        }
        let (first, last): (Box<dyn Send>, Box<dyn Send>) = if receiver_last {
            (Box::new(tx), Box::new(rx))
        } else {
            (Box::new(rx), Box::new(tx))
        };
        if receiver_last {
            drop(first); // the last sender: closes, drops nothing
            assert_eq!(counts(&d)[..3], [0, 0, 0]);
        } else {
            // The last receiver with a sender alive: drops the buffer.
            let r = catch_unwind(AssertUnwindSafe(move || drop(first)));
            assert!(r.is_err());
            assert_eq!(counts(&d)[..3], [1, 1, 1]);
        }
        let r = weft::go!(move || drop(last)).join();
        assert_eq!(r.is_err(), receiver_last, "receiver_last {receiver_last}");
        assert_eq!(counts(&d)[..3], [1, 1, 1], "receiver_last {receiver_last}");
    }
}

/// `close` drops nothing: the buffered values, a panicking one among
/// them, are still received after it.
#[test]
fn close_keeps_the_buffer_for_the_receivers() {
    let d = drops();
    let (tx, rx) = chan::<Val>(2);
    tx.send(Val::new(0, &d, OnDrop::Panic)).unwrap();
    tx.send(Val::new(1, &d, OnDrop::Nothing)).unwrap();
    tx.close().unwrap();
    assert_eq!(counts(&d)[..2], [0, 0]);
    let v = rx.recv().unwrap();
    assert_eq!(v.id, 0);
    std::mem::forget(v); // its Drop would panic here: not the channel's
    assert_eq!(rx.recv().map(|v| v.id), Ok(1));
    assert_eq!(rx.recv().map(|v| v.id), Err(RecvError));
    assert_eq!(counts(&d)[..2], [0, 1]);
}

/// Three buffered values whose `Drop` parks (each sends its id on an
/// unbuffered channel) when the channel drops them: on the last
/// receiver's drop while a sender lives, or with the channel itself.
/// Each value is dropped once, and while a drop is parked the channel's
/// lock is free: the helper that unblocks the drops first uses the
/// channel (a lock held across the buffer's drop would deadlock here).
fn parking_drop(in_goroutine: bool, channel_goes: bool) {
    let d = drops();
    let (note_tx, note_rx) = chan::<usize>(0);
    let (tx, rx) = chan::<Val>(3);
    for id in 0..3 {
        tx.send(Val::new(id, &d, OnDrop::Send(note_tx.clone())))
            .unwrap();
    }
    drop(note_tx);
    let probe = (!channel_goes).then(|| tx.clone());
    let d2 = d.clone();
    let helper = weft::go!(move || {
        let mut noted = vec![note_rx.recv().unwrap()];
        // The next value's Drop is parked in its send (or about to be),
        // until we receive again.
        if let Some(tx) = probe {
            match tx.try_send(Val::new(3, &d2, OnDrop::Nothing)) {
                Err(weft::TrySendError::Closed(v)) => assert_eq!(v.id, 3),
                other => panic!("receivers are gone, yet: {:?}", other.is_ok()),
            }
            assert_eq!(tx.len(), 0);
        }
        noted.extend(note_rx.iter());
        noted
    });
    if channel_goes {
        drop(tx); // closes; the receiver's drop is then the last handle
        if in_goroutine {
            weft::go!(move || drop(rx)).join().unwrap();
        } else {
            drop(rx);
        }
    } else {
        if in_goroutine {
            weft::go!(move || drop(rx)).join().unwrap();
        } else {
            drop(rx);
        }
        drop(tx);
    }
    let mut noted = helper.join().unwrap();
    noted.sort_unstable();
    assert_eq!(noted, [0, 1, 2]);
    let want: &[usize] = if channel_goes {
        &[1, 1, 1, 0]
    } else {
        &[1, 1, 1, 1]
    };
    assert_eq!(counts(&d)[..4], *want);
}

#[test]
fn parking_drop_when_last_receiver_goes() {
    parking_drop(false, false);
    parking_drop(true, false);
}

#[test]
fn parking_drop_when_the_channel_goes() {
    parking_drop(false, true);
    parking_drop(true, true);
}
