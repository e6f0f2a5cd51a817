//! One test per row and cell of GUIDE §2's channel table, plus the seed
//! programs' channel behaviours and the select! surface.
//!
//! "Blocks forever" is checked as "has not completed after a generous
//! while, and completes once unblocked where that is possible".

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use weft_channels::{
    chan, never, never_sender, select, CloseError, RecvError, RecvTimeoutError, SendError,
    SendTimeoutError, TryRecvError, TrySendError,
};
use weft_runtime as weft;

const QUIET: Duration = Duration::from_millis(100);

/// Runs `f` in a goroutine and asserts it is still blocked after QUIET.
fn assert_blocks<F: FnOnce() + Send + 'static>(f: F) {
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let _h = weft::spawn(move || {
        f();
        d.store(1, Ordering::SeqCst);
    });
    thread::sleep(QUIET);
    assert_eq!(done.load(Ordering::SeqCst), 0, "operation did not block");
}

// ---- row: recv ----

#[test]
fn recv_nil_blocks_forever() {
    assert_blocks(|| {
        let _ = never::<u8>().recv();
    });
    assert_eq!(never::<u8>().try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn recv_open_not_ready_blocks_until_send() {
    for cap in [0, 3] {
        let (tx, rx) = chan::<u8>(cap);
        let got = Arc::new(AtomicUsize::new(0));
        let g = got.clone();
        let h = weft::spawn(move || g.store(rx.recv().unwrap() as usize + 1, Ordering::SeqCst));
        thread::sleep(QUIET);
        assert_eq!(got.load(Ordering::SeqCst), 0, "recv did not block");
        tx.send(41).unwrap();
        h.join().unwrap();
        assert_eq!(got.load(Ordering::SeqCst), 42);
    }
}

#[test]
fn recv_open_ready_gives_value() {
    let (tx, rx) = chan(2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    // Unbuffered, ready = a sender waiting.
    let (tx, rx) = chan(0);
    let h = weft::spawn(move || tx.send("x").unwrap());
    assert_eq!(rx.recv(), Ok("x"));
    h.join().unwrap();
}

#[test]
fn recv_closed_drains_then_errs() {
    let (tx, rx) = chan(3);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    tx.close().unwrap();
    assert!(rx.is_closed());
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    let (tx, rx) = chan::<u8>(0);
    drop(tx);
    assert_eq!(rx.recv(), Err(RecvError));
}

// ---- row: send ----

#[test]
fn send_nil_blocks_forever() {
    assert_blocks(|| {
        let _ = never_sender::<u8>().send(1);
    });
    assert_eq!(never_sender::<u8>().try_send(1), Err(TrySendError::Full(1)));
}

#[test]
fn send_open_not_ready_blocks_until_recv() {
    for cap in [0, 1] {
        let (tx, rx) = chan::<u8>(cap);
        for i in 0..cap {
            tx.send(i as u8).unwrap();
        }
        let sent = Arc::new(AtomicUsize::new(0));
        let s = sent.clone();
        let h = weft::spawn(move || {
            tx.send(9).unwrap();
            s.store(1, Ordering::SeqCst);
        });
        thread::sleep(QUIET);
        assert_eq!(sent.load(Ordering::SeqCst), 0, "send did not block");
        let mut got = vec![];
        for _ in 0..=cap {
            got.push(rx.recv().unwrap());
        }
        h.join().unwrap();
        assert_eq!(*got.last().unwrap(), 9);
    }
}

#[test]
fn send_open_ready_ok() {
    let (tx, rx) = chan(1);
    assert_eq!(tx.send(5), Ok(()));
    assert_eq!(tx.len(), 1);
    assert_eq!(tx.cap(), 1);
    assert_eq!(rx.recv(), Ok(5));
    // Unbuffered, ready = a receiver waiting: the value is handed over.
    let (tx, rx) = chan(0);
    let h = weft::spawn(move || rx.recv().unwrap());
    thread::sleep(Duration::from_millis(20));
    assert_eq!(tx.send(6), Ok(()));
    assert_eq!(h.join().unwrap(), 6);
}

#[test]
fn send_closed_gives_value_back() {
    let (tx, _rx) = chan(4);
    tx.close().unwrap();
    assert_eq!(
        tx.send(String::from("v")),
        Err(SendError(String::from("v")))
    );
    assert_eq!(
        tx.try_send(3.to_string()),
        Err(TrySendError::Closed("3".into()))
    );
}

#[test]
fn send_with_every_receiver_gone_fails() {
    let (tx, rx) = chan(4);
    let rx2 = rx.clone();
    drop(rx);
    tx.send(1).unwrap();
    drop(rx2);
    assert_eq!(tx.send(2), Err(SendError(2)));
    // A sender blocked at that moment wakes with its value back.
    let (tx, rx) = chan::<u8>(0);
    let h = weft::spawn(move || tx.send(7));
    thread::sleep(QUIET);
    drop(rx);
    assert_eq!(h.join().unwrap(), Err(SendError(7)));
}

// ---- row: close ----

#[test]
fn close_nil_is_err() {
    assert_eq!(never_sender::<u8>().close(), Err(CloseError));
}

#[test]
fn close_wakes_blocked_receivers_and_senders() {
    let (tx, rx) = chan::<u8>(0);
    let rs: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            weft::spawn(move || rx.recv())
        })
        .collect();
    thread::sleep(QUIET);
    tx.close().unwrap();
    for h in rs {
        assert_eq!(h.join().unwrap(), Err(RecvError));
    }
    let (tx, rx) = chan::<u8>(0);
    let ss: Vec<_> = (0..3u8)
        .map(|i| {
            let tx = tx.clone();
            weft::spawn(move || tx.send(i))
        })
        .collect();
    thread::sleep(QUIET);
    rx.close().unwrap();
    let mut back: Vec<u8> = ss
        .into_iter()
        .map(|h| h.join().unwrap().unwrap_err().0)
        .collect();
    back.sort();
    assert_eq!(back, vec![0, 1, 2]);
}

#[test]
fn close_with_buffer_still_drains() {
    let (tx, rx) = chan(3);
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    tx.close().unwrap();
    assert!(tx.is_closed());
    assert_eq!(rx.iter().collect::<Vec<_>>(), vec![0, 1, 2]);
}

#[test]
fn close_closed_is_err() {
    let (tx, rx) = chan::<u8>(1);
    assert_eq!(tx.close(), Ok(()));
    assert_eq!(tx.close(), Err(CloseError));
    assert_eq!(rx.close(), Err(CloseError));
    drop(tx); // dropping after an explicit close is fine
}

#[test]
fn dropping_last_sender_closes() {
    let (tx, rx) = chan::<u8>(1);
    let tx2 = tx.clone();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
}

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Buffered values are dropped exactly once when the channel goes away,
/// whichever half goes last (the last half skips the close nobody could
/// see, and the buffer goes with the channel), and a sender that outlives
/// the receivers gets its value back.
#[test]
fn buffered_values_are_dropped_once_whichever_half_goes_last() {
    let drops = Arc::new(AtomicUsize::new(0));
    // Senders first, then the receiver.
    let (tx, rx) = chan::<Counted>(4);
    for _ in 0..3 {
        tx.send(Counted(drops.clone())).map_err(|_| ()).unwrap();
    }
    drop(tx);
    assert!(rx.is_closed());
    drop(rx.recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    // The receiver first, then the sender: the buffer goes at once, and a
    // later send hands its value back.
    let (tx, rx) = chan::<Counted>(4);
    for _ in 0..2 {
        tx.send(Counted(drops.clone())).map_err(|_| ()).unwrap();
    }
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    let back = tx.send(Counted(drops.clone())).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 6);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 6);
}

// ---- semantics around the table ----

#[test]
fn unbuffered_send_completes_only_when_received() {
    // Happens-before: what the sender wrote before send is visible to the
    // receiver; and send does not return before the receiver has the value.
    let (tx, rx) = chan::<u64>(0);
    let phase = Arc::new(AtomicUsize::new(0));
    let p = phase.clone();
    let h = weft::spawn(move || {
        tx.send(1).unwrap();
        p.load(Ordering::SeqCst)
    });
    thread::sleep(QUIET);
    phase.store(1, Ordering::SeqCst);
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(h.join().unwrap(), 1);
}

#[test]
fn full_buffer_with_waiting_sender_keeps_fifo_order() {
    // Go's order: recv takes the head and moves the blocked sender's value
    // to the tail.
    let (tx, rx) = chan(2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let h = weft::spawn(move || tx.send(3).unwrap());
    thread::sleep(QUIET);
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.recv(), Ok(1));
    h.join().unwrap();
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.recv(), Ok(2));
    assert_eq!(rx.recv(), Ok(3));
}

#[test]
fn error_types_are_debug_display_error_for_any_t() {
    struct NoDebug;
    fn is_error<E: std::error::Error>(_: &E) {}
    let e = SendError(NoDebug);
    is_error(&e);
    assert_eq!(e.to_string(), "sending on a closed channel");
    assert_eq!(format!("{e:?}"), "SendError { .. }");
    is_error(&TrySendError::Full(NoDebug));
    is_error(&SendTimeoutError::Timeout(NoDebug));
    assert_eq!(
        TrySendError::Full(1).to_string(),
        "sending on a full channel"
    );
    assert_eq!(RecvError.to_string(), "receiving on a closed channel");
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receiving on an empty channel"
    );
    assert!(RecvTimeoutError::Timeout.is_timeout());
    assert_eq!(CloseError.to_string(), "close of closed channel");
    let (tx, _rx) = chan::<NoDebug>(0);
    tx.close().unwrap();
    assert!(tx.send(NoDebug).is_err());
    // .unwrap() works whatever T is.
    let (tx, rx) = chan::<NoDebug>(1);
    tx.send(NoDebug).unwrap();
    let _ = rx.recv().unwrap();
}

#[test]
fn halves_are_send_and_clone() {
    fn send_sync_clone<X: Send + Sync + Clone>() {}
    send_sync_clone::<weft_channels::Receiver<u8>>();
    send_sync_clone::<weft_channels::Sender<u8>>();
}

// ---- thread <-> goroutine, thread <-> thread ----

#[test]
fn thread_to_goroutine_and_back() {
    let (tx, rx) = chan::<u32>(0);
    let (back_tx, back_rx) = chan::<u32>(0);
    let h = weft::spawn(move || {
        for v in &rx {
            back_tx.send(v * 2).unwrap();
        }
    });
    for i in 0..1000 {
        tx.send(i).unwrap();
        assert_eq!(back_rx.recv(), Ok(i * 2));
    }
    drop(tx);
    h.join().unwrap();
}

#[test]
fn thread_to_thread() {
    let (tx, rx) = chan::<u32>(0);
    let t = thread::spawn(move || (0..1000).map(|_| rx.recv().unwrap()).sum::<u32>());
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    assert_eq!(t.join().unwrap(), 999 * 1000 / 2);
}

// ---- seed programs ----

#[test]
fn seed_buffered_without_receiver() {
    // messages := make(chan string, 2); messages <- "buffered"; ... no receiver yet
    let (tx, rx) = chan(2);
    tx.send("buffered").unwrap();
    tx.send("channel").unwrap();
    assert_eq!(rx.recv(), Ok("buffered"));
    assert_eq!(rx.recv(), Ok("channel"));
}

#[test]
fn seed_range_until_close() {
    let (tx, rx) = chan(0);
    weft::spawn(move || {
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        tx.close().unwrap();
    });
    let got: Vec<i32> = weft::run(move || rx.iter().collect());
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
}

#[test]
fn seed_turn_off_case_in_select() {
    // for ch1 != nil || ch2 != nil { select { case v, ok := <-ch1: if !ok { ch1 = nil } ... } }
    let (tx1, rx1) = chan::<i32>(0);
    let (tx2, rx2) = chan::<i32>(0);
    weft::spawn(move || {
        for i in 0..3 {
            tx1.send(i).unwrap();
        }
    });
    weft::spawn(move || {
        for i in 10..15 {
            tx2.send(i).unwrap();
        }
    });
    let total = weft::run(move || {
        let (mut rx1, mut rx2) = (rx1, rx2);
        let mut total = 0;
        loop {
            if rx1.chan_is_nil() && rx2.chan_is_nil() {
                break total;
            }
            select! {
                recv(rx1) -> v => match v {
                    Ok(v) => total += v,
                    Err(_) => rx1 = never(),
                },
                recv(rx2) -> v => match v {
                    Ok(v) => total += v,
                    Err(_) => rx2 = never(),
                },
            }
        }
    });
    assert_eq!(total, 3 + 60);
}

trait NilCheck {
    fn chan_is_nil(&self) -> bool;
}
impl<T> NilCheck for weft_channels::Receiver<T> {
    fn chan_is_nil(&self) -> bool {
        format!("{self:?}") == "Receiver { nil }"
    }
}

#[test]
fn seed_non_blocking_operations() {
    let (msg_tx, messages) = chan::<&str>(0);
    let (_sig_tx, signals) = chan::<bool>(0);
    let out = select! {
        recv(messages) -> m => format!("received message {}", m.unwrap()),
        default => "no message received".to_string(),
    };
    assert_eq!(out, "no message received");
    let out = select! {
        send(msg_tx, "hi") -> _ => "sent message",
        default => "no message sent",
    };
    assert_eq!(out, "no message sent");
    let out = select! {
        recv(messages) -> _ => "message",
        recv(signals) -> _ => "signal",
        default => "no activity",
    };
    assert_eq!(out, "no activity");
}

// ---- select! surface ----

#[test]
fn select_only_default_runs_it() {
    let x = select! { default => 7 };
    assert_eq!(x, 7);
    let y = select! { default => { 8 } };
    assert_eq!(y, 8);
}

#[test]
fn select_no_cases_blocks_forever() {
    assert_blocks(|| select! {});
}

#[test]
fn select_all_nil_cases_blocks_forever() {
    assert_blocks(|| {
        let rx = never::<u8>();
        let tx = never_sender::<u8>();
        select! {
            recv(rx) -> _ => {},
            send(tx, 1) -> _ => {},
        }
    });
}

#[test]
fn select_send_case_delivers_and_value_coerces() {
    let (tx, rx) = chan::<Box<dyn std::fmt::Debug + Send>>(1);
    select! {
        send(tx, Box::new(5u8)) -> r => r.unwrap(),
    }
    assert_eq!(format!("{:?}", rx.recv().unwrap()), "5");
}

#[test]
fn select_blocks_then_wakes_on_any_case() {
    for which in 0..3 {
        let (tx_a, rx_a) = chan::<u8>(0);
        let (tx_b, rx_b) = chan::<u8>(0);
        let (tx_c, rx_c) = chan::<u8>(0);
        let _keep = (rx_a.clone(), rx_b.clone(), tx_c.clone());
        let h = weft::spawn(move || {
            select! {
                recv(rx_a) -> v => (0, v.unwrap()),
                recv(rx_b) -> v => (1, v.unwrap()),
                send(tx_c, 99) -> r => { r.unwrap(); (2, 99) }
            }
        });
        thread::sleep(Duration::from_millis(20));
        match which {
            0 => tx_a.send(1).unwrap(),
            1 => tx_b.send(2).unwrap(),
            _ => assert_eq!(rx_c.recv(), Ok(99)),
        }
        let (case, _) = h.join().unwrap();
        assert_eq!(case, which);
        // The losers' entries are gone: a later op does not pair with them.
        assert_eq!(tx_a.try_send(1), Err(TrySendError::Full(1)));
        assert_eq!(tx_b.try_send(1), Err(TrySendError::Full(1)));
        assert_eq!(rx_c.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn select_recv_and_send_on_one_channel_never_pair() {
    let (tx, rx) = chan::<u8>(0);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    let h = weft::spawn(move || {
        select! {
            recv(rx2) -> v => format!("recv {}", v.unwrap()),
            send(tx2, 1) -> _ => "sent".to_string(),
        }
    });
    thread::sleep(QUIET);
    assert!(!h.is_finished(), "a select paired with itself");
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(h.join().unwrap(), "sent");
}

#[test]
fn select_same_channel_in_several_cases() {
    let (tx, rx) = chan::<u8>(0);
    let h = weft::spawn(move || {
        let mut seen = [0; 2];
        for _ in 0..200 {
            select! {
                recv(rx) -> _ => seen[0] += 1,
                recv(rx) -> _ => seen[1] += 1,
            }
        }
        seen
    });
    for i in 0..200 {
        tx.send(i as u8).unwrap();
    }
    let seen = h.join().unwrap();
    assert_eq!(seen[0] + seen[1], 200);
}

#[test]
fn select_closed_channel_is_ready() {
    let (tx, rx) = chan::<u8>(0);
    tx.close().unwrap();
    let r = select! {
        recv(rx) -> v => v,
    };
    assert_eq!(r, Err(RecvError));
    let r = select! {
        send(tx, 1) -> r => r,
    };
    assert_eq!(r, Err(SendError(1)));
}

#[test]
fn select_woken_by_close() {
    let (tx, rx) = chan::<u8>(0);
    let (tx2, rx2) = chan::<u8>(0);
    let h = weft::spawn(move || {
        select! {
            recv(rx) -> v => v,
            recv(rx2) -> v => v,
        }
    });
    thread::sleep(Duration::from_millis(20));
    tx.close().unwrap();
    assert_eq!(h.join().unwrap(), Err(RecvError));
    drop(tx2);
}

#[test]
fn select_temporary_receiver_and_references() {
    let (tx, rx) = chan::<u8>(1);
    tx.send(3).unwrap();
    let r = &rx;
    let v = select! {
        recv(r) -> v => v.unwrap(),
        recv(never::<u8>()) -> _ => 0,
    };
    assert_eq!(v, 3);
    let v = select! {
        recv(&rx) -> _ => 1,
        send(&tx, 4) -> _ => 2,
    };
    assert_eq!(v, 2);
}

#[test]
fn select_loop_with_break_and_continue() {
    let (tx, rx) = chan::<u32>(8);
    for i in 0..8 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut sum = 0;
    loop {
        select! {
            recv(rx) -> v => {
                match v {
                    Ok(v) if v % 2 == 0 => continue,
                    Ok(v) => sum += v,
                    Err(_) => break,
                }
            }
        }
    }
    assert_eq!(sum, 1 + 3 + 5 + 7);
}

#[test]
fn select_between_goroutines_and_threads() {
    let (tx, rx) = chan::<u32>(0);
    let (qtx, qrx) = chan::<()>(0);
    let t = thread::spawn(move || {
        let mut n = 0;
        loop {
            select! {
                recv(rx) -> v => n += v.unwrap(),
                recv(qrx) -> _ => return n,
            }
        }
    });
    let h = weft::spawn(move || {
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
        qtx.send(()).unwrap();
    });
    h.join().unwrap();
    assert_eq!(t.join().unwrap(), 999 * 1000 / 2);
}

// ---- timeouts and time channels (generous liveness bounds only) ----

mod timeouts {
    use super::*;
    use weft_channels::time::{after, after_func, tick, Ticker, Timer};

    const SHORT: Duration = Duration::from_millis(20);

    #[test]
    fn recv_timeout_times_out_then_gets_value() {
        for on_goroutine in [false, true] {
            let f = || {
                let (tx, rx) = chan::<u8>(0);
                assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
                // The timed-out waiter left the queue: a try_send finds nobody.
                assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
                let h = weft::spawn(move || tx.send(2));
                assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(2));
                h.join().unwrap().unwrap();
                assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Closed));
            };
            if on_goroutine {
                weft::run(f);
            } else {
                f();
            }
        }
    }

    #[test]
    fn send_timeout_gives_value_back() {
        weft::run(|| {
            let (tx, rx) = chan::<String>(0);
            let r = tx.send_timeout("a".into(), SHORT);
            assert_eq!(r, Err(SendTimeoutError::Timeout("a".into())));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            let h = weft::spawn(move || rx.recv().unwrap());
            assert_eq!(tx.send_timeout("b".into(), Duration::from_secs(30)), Ok(()));
            assert_eq!(h.join().unwrap(), "b");
            assert!(tx.send_timeout("c".into(), SHORT).unwrap_err().is_closed());
        });
    }

    #[test]
    fn nil_channel_timeouts() {
        assert_eq!(
            never::<u8>().recv_timeout(SHORT),
            Err(RecvTimeoutError::Timeout)
        );
        assert_eq!(
            never_sender::<u8>().send_timeout(1, SHORT),
            Err(SendTimeoutError::Timeout(1))
        );
    }

    #[test]
    fn select_with_after_times_out() {
        let (_tx, rx) = chan::<u8>(0);
        let fired = weft::run(move || {
            select! {
                recv(rx) -> _ => false,
                recv(after(SHORT)) -> t => { t.unwrap(); true }
            }
        });
        assert!(fired);
    }

    #[test]
    fn after_channel_is_not_closed_after_firing() {
        let a = after(Duration::from_millis(1));
        a.recv().unwrap();
        assert_eq!(a.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
    }

    #[test]
    fn timer_stop_and_reset() {
        let t = Timer::new(Duration::from_secs(60));
        assert!(t.stop());
        assert!(!t.stop());
        assert_eq!(t.c.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
        assert!(!t.reset(Duration::from_millis(1)));
        t.c.recv_timeout(Duration::from_secs(30)).unwrap();
        // Fired and not received: the value was never delivered (Go 1.23),
        // so stop reports the timer stopped and the value is gone.
        let t = Timer::new(Duration::from_millis(1));
        thread::sleep(SHORT);
        assert!(t.stop());
        assert_eq!(t.c.try_recv(), Err(TryRecvError::Empty));
        // Fired and received: stop finds nothing to stop.
        assert!(!t.reset(Duration::from_millis(1)));
        t.c.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(!t.stop());
    }

    #[test]
    fn ticker_ticks_drops_and_stops() {
        let t = Ticker::new(Duration::from_millis(2));
        for _ in 0..3 {
            t.c.recv_timeout(Duration::from_secs(30)).unwrap();
        }
        // A slow receiver gets at most one buffered tick, not a burst.
        thread::sleep(Duration::from_millis(30));
        assert!(t.c.len() <= 1);
        t.stop();
        let _ = t.c.try_recv();
        assert_eq!(t.c.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
        t.reset(Duration::from_millis(2));
        t.c.recv_timeout(Duration::from_secs(30)).unwrap();
        let c = tick(Duration::from_millis(2));
        c.recv().unwrap();
        c.recv().unwrap();
    }

    #[test]
    fn after_func_runs_in_a_goroutine_unless_stopped() {
        let (tx, rx) = chan(1);
        let _t = after_func(Duration::from_millis(1), move || {
            tx.send(weft::current_id().is_some()).unwrap()
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(true));
        let (tx, rx) = chan::<u8>(1);
        let t = after_func(Duration::from_millis(50), move || tx.send(1).unwrap());
        if t.stop() {
            // Stopped before its time: it never runs.
            assert_eq!(
                rx.recv_timeout(Duration::from_millis(150)),
                Err(RecvTimeoutError::Timeout)
            );
        } else {
            // A loaded machine let 50 ms pass before the stop: it ran.
            assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(1));
        }
    }

    #[test]
    fn after_func_reset_runs_it_again() {
        let (tx, rx) = chan(2);
        let t = after_func(Duration::from_millis(1), move || tx.send(1u8).unwrap());
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(1));
        assert!(!t.reset(Duration::from_millis(1)));
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(1));
    }

    /// Go 1.23: `stop` returning `false` means the value was delivered (it
    /// arrives, or it was received); `true` means it never will be — also
    /// when `stop` lands between the runtime popping the timer and its
    /// callback acting (issue 20: that window used to return `false` and
    /// then drop the value).
    #[test]
    fn stop_result_says_whether_the_value_arrives_when_racing_the_firing() {
        // A receiver waits on the timer's channel while `stop` races the
        // firing; it reports whether the value reached it.
        let mut stopped = 0;
        for i in 0..20_000u32 {
            let t = Timer::new(Duration::ZERO);
            let (c, (quit_tx, quit)) = (t.c.clone(), chan::<()>(0));
            let h = weft::spawn(move || {
                select! {
                    recv(c) -> v => v.is_ok(),
                    recv(quit) -> _ => false,
                }
            });
            for _ in 0..i % 64 {
                std::hint::spin_loop();
            }
            let stop = t.stop();
            quit_tx.close().unwrap();
            let received = h.join().unwrap();
            assert_eq!(received, !stop, "round {i}: stop() = {stop}");
            stopped += u32::from(stop);
        }
        // Both outcomes occur (else the race was not exercised).
        assert!(
            stopped > 0 && stopped < 20_000,
            "stopped {stopped} of 20000"
        );
        let (tx, rx) = chan::<u32>(1);
        for i in 0..5_000u32 {
            let tx = tx.clone();
            let t = after_func(Duration::ZERO, move || {
                let _ = tx.try_send(i);
            });
            for _ in 0..i % 64 {
                std::hint::spin_loop();
            }
            if t.stop() {
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "round {i}");
            } else {
                let got = rx.recv_timeout(Duration::from_secs(10));
                assert_eq!(got, Ok(i), "round {i}: stop() = false, but f did not run");
            }
        }
    }

    /// Go 1.23: a time channel's `len` and `cap` are 0 (it is synchronous);
    /// dropping every receiver of a timer takes it out of the heap.
    #[test]
    fn time_channels_look_unbuffered_and_unreachable_timers_leave_the_heap() {
        let t = Timer::new(Duration::ZERO);
        thread::sleep(SHORT); // it has fired (unless the machine is loaded)
        assert_eq!((t.c.len(), t.c.cap()), (0, 0));
        assert!(t.c.recv_timeout(Duration::from_secs(30)).is_ok());
        let tk = Ticker::new(Duration::from_millis(1));
        assert_eq!((tk.c.len(), tk.c.cap()), (0, 0));
        // Pending-timer count: other tests of this binary run beside this
        // one, so the check is "not 1,000 more", not an exact figure.
        let before = weft::stats().timers;
        for _ in 0..1000 {
            drop(after(Duration::from_secs(3600)));
            drop(tick(Duration::from_secs(3600)));
            drop(Timer::new(Duration::from_secs(3600)));
        }
        let after_ = weft::stats().timers;
        assert!(after_ < before + 500, "pending timers {before} -> {after_}");
    }

    #[test]
    fn no_stale_value_after_stop_even_when_racing_the_firing() {
        // Timers due now race `stop`; whichever wins, nothing is received
        // after `stop` returns.
        for _ in 0..2000 {
            let t = Timer::new(Duration::ZERO);
            t.stop();
            assert_eq!(t.c.try_recv(), Err(TryRecvError::Empty));
        }
        let tk = Ticker::new(Duration::from_micros(50));
        for _ in 0..200 {
            tk.stop();
            assert_eq!(tk.c.try_recv(), Err(TryRecvError::Empty));
            tk.reset(Duration::from_micros(50));
        }
    }
}
