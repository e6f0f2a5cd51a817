//! Channels driven by plain OS threads only: the part of weft that Miri can
//! run (no goroutine, so no stack switch, no epoll, no membarrier; a plain
//! thread parks on std's park). `scripts/miri.sh` runs this file under
//! Stacked Borrows and Tree Borrows with several seeds; `cargo test` runs
//! it as an ordinary test file too.
//!
//! What Miri checks here that no other test does: the aliasing rules
//! across a park. A blocked operation leaves pointers to its stack frame
//! (its queue entry, its value slot) in the channel while it sleeps, and
//! the party that completes it makes its own `&mut` to the channel state
//! and writes the slot; no reference of the sleeper's may cover either.
//!
//! Every test counts what it moves: each value sent is received exactly
//! once or given back, and each value is dropped exactly once.
//!
//! Timeouts with a real deadline need the runtime's timers, which start
//! the scheduler (Miri cannot run it): only the already-passed deadline is
//! here; `chan_races.rs` and `channels/tests/loom.rs` cover the race of a
//! timer against a peer.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use weft::{
    chan, select, RecvError, RecvTimeoutError, Select, SendError, SendTimeoutError, TryRecvError,
};

/// Messages per test: Miri runs a few thousand times slower.
const N: usize = if cfg!(miri) { 6 } else { 2_000 };

/// A value that counts its drops in a shared counter.
struct Counted(usize, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, SeqCst);
    }
}

/// `n` values sent from one thread, received on another: every one
/// arrives, in order.
fn ping(cap: usize, n: usize) {
    let (tx, rx) = chan::<usize>(cap);
    let t = thread::spawn(move || {
        for i in 0..n {
            tx.send(i).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(rx.recv(), Ok(i));
    }
    t.join().unwrap();
    assert_eq!(rx.recv(), Err(RecvError), "the last sender's drop closes");
}

#[test]
fn unbuffered_send_recv_between_threads() {
    ping(0, N);
}

#[test]
fn buffered_send_recv_between_threads() {
    ping(1, N);
    ping(3, N);
}

/// Two senders and two receivers on one unbuffered channel: both queues
/// hold several blocked threads at once.
#[test]
fn many_senders_many_receivers_count_every_value() {
    let (tx, rx) = chan::<usize>(0);
    let senders: Vec<_> = (0..2)
        .map(|s| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..N {
                    tx.send(s * N + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.iter().collect::<Vec<_>>())
        })
        .collect();
    drop(rx);
    for s in senders {
        s.join().unwrap();
    }
    let mut got: Vec<usize> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..2 * N).collect::<Vec<_>>());
}

/// `close` wakes a blocked receiver (with `Err`) and a blocked sender
/// (with its value back).
#[test]
fn close_wakes_blocked_receiver_and_sender() {
    let (tx, rx) = chan::<u32>(0);
    let rx2 = rx.clone();
    let r = thread::spawn(move || rx2.recv());
    let closer = tx.clone();
    let c = thread::spawn(move || closer.close());
    assert_eq!(r.join().unwrap(), Err(RecvError));
    assert_eq!(c.join().unwrap(), Ok(()));

    let (tx, rx) = chan::<u32>(0);
    let s = thread::spawn(move || tx.send(7));
    let c = thread::spawn(move || rx.close());
    assert_eq!(s.join().unwrap(), Err(SendError(7)));
    assert_eq!(c.join().unwrap(), Ok(()));
}

/// The last receiver's drop wakes a blocked sender with its value back;
/// the last sender's drop wakes a blocked receiver with `Err`.
#[test]
fn last_half_drops_wake_the_other_side() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = chan::<Counted>(0);
    let d = dropped.clone();
    let s = thread::spawn(move || match tx.send(Counted(1, d)) {
        Err(SendError(v)) => v.0,
        Ok(()) => unreachable!("no receiver ever takes it"),
    });
    let r = thread::spawn(move || drop(rx));
    r.join().unwrap();
    assert_eq!(s.join().unwrap(), 1);
    assert_eq!(dropped.load(SeqCst), 1);

    let (tx, rx) = chan::<u32>(1);
    let r = thread::spawn(move || rx.recv());
    let s = thread::spawn(move || drop(tx));
    s.join().unwrap();
    assert_eq!(r.join().unwrap(), Err(RecvError));
}

/// Buffered values are dropped exactly once whichever half goes last, and
/// a sender blocked on the full buffer gets its value back when the last
/// receiver goes (on another thread, while it is parked or before).
#[test]
fn buffered_values_dropped_once_when_last_half_goes() {
    // The receiver goes first, a sender blocked on the full buffer.
    let dropped = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = chan::<Counted>(2);
    for i in 0..2 {
        tx.send(Counted(i, dropped.clone())).unwrap();
    }
    let tx2 = tx.clone();
    let d = dropped.clone();
    let blocked = thread::spawn(move || match tx2.send(Counted(2, d)) {
        Err(SendError(v)) => v.0,
        Ok(()) => unreachable!("the receiver never receives"),
    });
    thread::spawn(move || drop(rx)).join().unwrap();
    assert_eq!(blocked.join().unwrap(), 2);
    assert_eq!(dropped.load(SeqCst), 3, "two buffered values, one refused");
    assert!(tx.send(Counted(3, dropped.clone())).is_err());
    drop(tx);
    assert_eq!(dropped.load(SeqCst), 4);

    // The sender goes first: the buffer stays for the receiver.
    let dropped = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = chan::<Counted>(2);
    for i in 0..2 {
        tx.send(Counted(i, dropped.clone())).unwrap();
    }
    thread::spawn(move || drop(tx)).join().unwrap();
    assert_eq!(dropped.load(SeqCst), 0);
    assert_eq!(rx.recv().map(|v| v.0), Ok(0));
    assert_eq!(dropped.load(SeqCst), 1);
    drop(rx); // the second value goes with the channel
    assert_eq!(dropped.load(SeqCst), 2);

    // Both halves go on two threads at once.
    let dropped = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = chan::<Counted>(2);
    for i in 0..2 {
        tx.send(Counted(i, dropped.clone())).unwrap();
    }
    let a = thread::spawn(move || drop(tx));
    let b = thread::spawn(move || drop(rx));
    a.join().unwrap();
    b.join().unwrap();
    assert_eq!(dropped.load(SeqCst), 2);
}

/// A receive whose deadline has already passed returns at once, without
/// a timer (a timer would start the scheduler).
#[test]
fn passed_deadline_times_out_without_a_timer() {
    let (tx, rx) = chan::<u8>(0);
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(
        tx.send_timeout(3, Duration::ZERO),
        Err(SendTimeoutError::Timeout(3))
    );
}

/// `select!` over two channels, fed by two threads: every value arrives
/// once; the losing case's entry leaves its queue each time.
#[test]
fn select_between_threads() {
    let (atx, arx) = chan::<usize>(0);
    let (btx, brx) = chan::<usize>(0);
    let a = thread::spawn(move || (0..N).for_each(|i| atx.send(i).unwrap()));
    let b = thread::spawn(move || (0..N).for_each(|i| btx.send(N + i).unwrap()));
    let (mut got, mut open) = (Vec::new(), 2);
    let (mut arx, mut brx) = (Some(arx), Some(brx));
    while open > 0 {
        let off = weft::never::<usize>();
        select! {
            recv(arx.as_ref().unwrap_or(&off)) -> v => match v {
                Ok(v) => got.push(v),
                Err(_) => { arx = None; open -= 1; }
            },
            recv(brx.as_ref().unwrap_or(&off)) -> v => match v {
                Ok(v) => got.push(v),
                Err(_) => { brx = None; open -= 1; }
            },
        }
    }
    a.join().unwrap();
    b.join().unwrap();
    got.sort_unstable();
    assert_eq!(got, (0..2 * N).collect::<Vec<_>>());
}

/// A select with a send case and a receive case, both blocked, against a
/// thread that receives then sends: each round completes exactly one case.
#[test]
fn select_send_and_recv_cases_blocked() {
    let (vtx, vrx) = chan::<usize>(0);
    let (qtx, qrx) = chan::<()>(0);
    let t = thread::spawn(move || {
        let got: Vec<usize> = (0..N).map(|_| vrx.recv().unwrap()).collect();
        qtx.send(()).unwrap();
        got
    });
    let mut sent = 0;
    loop {
        select! {
            send(vtx, sent) -> r => { r.unwrap(); sent += 1; }
            recv(qrx) -> q => { q.unwrap(); break; }
        }
    }
    assert_eq!(sent, N);
    assert_eq!(t.join().unwrap(), (0..N).collect::<Vec<_>>());
}

/// A select parked on several channels is woken by a close of one of them.
#[test]
fn select_woken_by_close() {
    let (_atx, arx) = chan::<u8>(0);
    let (btx, brx) = chan::<u8>(0);
    let c = thread::spawn(move || btx.close().unwrap());
    let woke_by = select! {
        recv(arx) -> _ => "a",
        recv(brx) -> v => { assert_eq!(v, Err(RecvError)); "b" }
    };
    c.join().unwrap();
    assert_eq!(woke_by, "b");
}

/// A select whose unchosen send case's value is dropped exactly once, and
/// whose chosen one is delivered.
#[test]
fn select_drops_the_unchosen_value_once() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (atx, arx) = chan::<Counted>(0);
    let (btx, _brx) = chan::<Counted>(0);
    let r = thread::spawn(move || arx.recv().unwrap().0);
    select! {
        send(atx, Counted(1, dropped.clone())) -> r => r.map_err(|_| ()).unwrap(),
        send(btx, Counted(2, dropped.clone())) -> _ => unreachable!("nobody receives on b"),
    }
    assert_eq!(r.join().unwrap(), 1);
    assert_eq!(dropped.load(SeqCst), 2);
}

/// The dynamic select (`Select`), over a receive and a send case, against
/// two threads.
#[test]
fn dyn_select_between_threads() {
    let (atx, arx) = chan::<usize>(0);
    let (btx, brx) = chan::<usize>(0);
    let a = thread::spawn(move || (0..N).for_each(|i| atx.send(i).unwrap()));
    let b = thread::spawn(move || (0..N).map(|_| brx.recv().unwrap()).sum::<usize>());
    let (mut received, mut next) = (0, 0);
    {
        let mut sel = Select::new();
        let r = sel.recv(&arx);
        let s = sel.send_with(&btx, || 1);
        while received < N || next < N {
            let op = sel.select();
            match op.index() {
                i if i == r => {
                    assert_eq!(op.recv(&arx), Ok(received));
                    received += 1;
                }
                i if i == s => {
                    op.send(&btx).unwrap();
                    next += 1;
                    if next == N {
                        sel.remove(s);
                    }
                }
                _ => unreachable!(),
            }
            if received == N {
                break;
            }
        }
    }
    while next < N {
        btx.send(1).unwrap();
        next += 1;
    }
    a.join().unwrap();
    assert_eq!(b.join().unwrap(), N);
    assert_eq!(arx.try_recv(), Err(TryRecvError::Closed));
}

/// Two cases of one `select!` on the same channel: adjacent entries of
/// one wait record in one queue, with another thread's blocked receive
/// beside them, so unlinking the loser writes a neighbour's links. Every
/// value arrives once.
#[test]
fn select_two_cases_same_channel_with_neighbour() {
    let (tx, rx) = chan::<usize>(0);
    let rx2 = rx.clone();
    let other = thread::spawn(move || {
        let mut got = Vec::new();
        while let Ok(v) = rx2.recv() {
            got.push(v);
        }
        got
    });
    let (dtx, drx) = chan::<()>(0);
    let main = thread::spawn(move || {
        let mut got = Vec::new();
        loop {
            select! {
                recv(rx) -> v => match v { Ok(v) => got.push(v), Err(_) => break },
                recv(rx) -> v => match v { Ok(v) => got.push(v + 1_000_000), Err(_) => break },
                recv(drx) -> _ => break,
            }
        }
        got
    });
    for i in 0..N {
        tx.send(i).unwrap();
    }
    dtx.send(()).unwrap();
    drop(tx);
    let mut all: Vec<usize> = main
        .join()
        .unwrap()
        .into_iter()
        .map(|v| v % 1_000_000)
        .collect();
    all.extend(other.join().unwrap());
    all.sort_unstable();
    assert_eq!(all, (0..N).collect::<Vec<_>>());
}

/// A send case and a receive case of one `select!` on the same channel,
/// each parked in one of its two queues: each round completes one case.
#[test]
fn select_send_and_recv_on_one_channel() {
    let (tx, rx) = chan::<usize>(0);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    let t = thread::spawn(move || {
        let mut n = 0;
        for i in 0..N {
            if i % 2 == 0 {
                tx2.send(i).unwrap();
            } else {
                rx2.recv().unwrap();
                n += 1;
            }
        }
        n
    });
    let (mut sent, mut got) = (0, 0);
    for _ in 0..N {
        select! {
            send(tx, 7) -> r => { r.unwrap(); sent += 1; }
            recv(rx) -> v => { v.unwrap(); got += 1; }
        }
    }
    let n = t.join().unwrap();
    assert_eq!((sent, got), (n, N - n));
}
