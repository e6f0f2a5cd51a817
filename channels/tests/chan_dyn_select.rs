//! `weft::Select`, the dynamic select: the same choice rule as `select!`
//! (chi-square over 20,000 selects), send and receive cases, timeouts that
//! leave no timer pending, the one-shot send rule, and a counting stress
//! test. test.sh runs this file again under WEFT_SPAWN=continuation|child
//! × WEFT_MAXPROCS=1|2.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use weft::{chan, never, Receiver, Select, SelectTimeoutError, SendError, Sender, TrySelectError};

mod support;
use support::{check_exactly_once, closed, join_all};

const TRIALS: usize = 20_000;
/// Tests that read the process-wide timer count run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn assert_uniform(counts: &[usize]) {
    support::assert_uniform("Select", counts, TRIALS);
}

#[test]
fn ready_recv_cases_are_chosen_uniformly() {
    for n in 2..=4 {
        let rxs: Vec<Receiver<u8>> = (0..n).map(|_| closed()).collect();
        let mut sel = Select::new();
        for rx in &rxs {
            sel.recv(rx);
        }
        let mut counts = vec![0; n];
        for _ in 0..TRIALS {
            let op = sel.select();
            let i = op.index();
            assert!(op.recv(&rxs[i]).is_err());
            counts[i] += 1;
        }
        assert_uniform(&counts);
    }
}

/// Send and receive cases mixed, two on one channel, in a goroutine.
#[test]
fn ready_mixed_cases_are_chosen_uniformly() {
    let counts = weft::run(|| {
        let (atx, arx) = chan::<u8>(8);
        let (btx, brx) = chan::<u8>(8);
        for _ in 0..4 {
            atx.send(0).unwrap();
            btx.send(0).unwrap();
        }
        let mut counts = [0; 4];
        let mut sel = Select::new();
        let r1 = sel.recv(&arx);
        let r2 = sel.recv(&arx);
        let r3 = sel.recv(&brx);
        let s4 = sel.send_with(&btx, || 0);
        for _ in 0..TRIALS {
            let op = sel.select();
            match op.index() {
                i if i == r1 || i == r2 => {
                    op.recv(&arx).unwrap();
                    counts[i] += 1;
                    atx.send(0).unwrap();
                }
                i if i == r3 => {
                    op.recv(&brx).unwrap();
                    counts[2] += 1;
                    btx.send(0).unwrap();
                }
                i if i == s4 => {
                    op.send(&btx).unwrap();
                    counts[3] += 1;
                    brx.recv().unwrap();
                }
                _ => unreachable!(),
            }
        }
        counts
    });
    assert_uniform(&counts);
}

#[test]
fn ready_cases_always_beat_try_select_default() {
    let a = closed();
    let mut sel = Select::new();
    sel.recv(&a);
    for _ in 0..1000 {
        assert!(sel.try_select().is_ok());
    }
    let (_tx, idle) = chan::<u8>(0);
    let off = never::<u8>();
    let mut sel = Select::new();
    sel.recv(&idle);
    sel.recv(&off);
    assert_eq!(sel.try_select().err(), Some(TrySelectError));
}

#[test]
fn a_send_case_hands_over_to_a_waiting_receiver() {
    weft::run(|| {
        let (tx, rx) = chan::<String>(0);
        let h = weft::go!(move || rx.recv().unwrap());
        let (_idle_tx, idle) = chan::<u8>(0);
        let mut sel = Select::new();
        let s = sel.send(&tx, "hello".to_string());
        sel.recv(&idle);
        let op = sel.select();
        assert_eq!(op.index(), s);
        op.send(&tx).unwrap();
        assert_eq!(h.join().unwrap(), "hello");
    });
}

#[test]
fn a_send_on_a_closed_channel_gives_the_value_back() {
    let (tx, rx) = chan::<Vec<u8>>(0);
    rx.close().unwrap();
    let mut sel = Select::new();
    sel.send(&tx, vec![1, 2, 3]);
    let op = sel.select();
    assert_eq!(op.send(&tx), Err(SendError(vec![1, 2, 3])));
}

#[test]
fn a_one_shot_send_is_spent_after_one_select() {
    let (tx, rx) = chan::<u32>(1);
    let ready = closed();
    let mut sel = Select::new();
    let s = sel.send(&tx, 9);
    let r = sel.recv(&ready);
    let mut sent = 0;
    for _ in 0..200 {
        let op = sel.select();
        if op.index() == s {
            op.send(&tx).unwrap();
            sent += 1;
        } else {
            assert_eq!(op.index(), r);
        }
    }
    // Offered to the first select only: sent at most once, then skipped.
    assert!(sent <= 1);
    assert_eq!(rx.len(), sent);
}

#[test]
fn select_timeout_times_out_and_leaves_no_timer() {
    let _s = serial();
    weft::run(|| {
        let before = weft::stats().timers;
        let (_tx, rx) = chan::<u8>(0);
        let mut sel = Select::new();
        sel.recv(&rx);
        let start = Instant::now();
        for _ in 0..20 {
            let r = sel.select_timeout(Duration::from_millis(2));
            assert_eq!(r.err(), Some(SelectTimeoutError));
        }
        assert!(start.elapsed() >= Duration::from_millis(40));
        assert_eq!(weft::stats().timers, before);
    });
}

#[test]
fn select_timeout_returns_a_value_that_comes_first_and_stops_its_timer() {
    let _s = serial();
    weft::run(|| {
        let before = weft::stats().timers;
        let (tx, rx) = chan::<u8>(0);
        let h = weft::go!(move || {
            weft::time::sleep(Duration::from_millis(5));
            tx.send(3).unwrap();
        });
        let mut sel = Select::new();
        let i = sel.recv(&rx);
        let op = sel.select_timeout(Duration::from_secs(60)).unwrap();
        assert_eq!(op.index(), i);
        assert_eq!(op.recv(&rx), Ok(3));
        h.join().unwrap();
        assert_eq!(
            weft::stats().timers,
            before,
            "the 60 s timer is still pending"
        );
    });
}

#[test]
fn a_past_deadline_is_a_try() {
    let (tx, rx) = chan::<u8>(1);
    let mut sel = Select::new();
    sel.recv(&rx);
    assert!(sel.select_deadline(Instant::now()).is_err());
    tx.send(1).unwrap();
    let op = sel.select_deadline(Instant::now()).unwrap();
    assert_eq!(op.recv(&rx), Ok(1));
}

#[test]
fn removed_cases_are_never_chosen() {
    let (a, b) = (closed(), closed());
    let mut sel = Select::new();
    let ia = sel.recv(&a);
    let ib = sel.recv(&b);
    sel.remove(ia);
    for _ in 0..100 {
        assert_eq!(sel.select().index(), ib);
    }
}

#[test]
#[should_panic(expected = "no operation with index 5")]
fn removing_an_unknown_index_panics() {
    let mut sel = Select::new();
    sel.remove(5);
}

#[test]
#[should_panic(expected = "passed a receiver that wasn't selected")]
fn completing_with_another_receiver_panics() {
    let a = closed();
    let other = closed();
    let mut sel = Select::new();
    sel.recv(&a);
    let op = sel.select();
    let _ = op.recv(&other);
}

#[test]
#[should_panic(expected = "passed a sender that wasn't selected")]
fn completing_a_receive_as_a_send_panics() {
    let (tx, rx) = chan::<u8>(1);
    tx.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    let op = sel.select();
    let _ = op.send(&tx);
}

/// Every message is received exactly once: 8 producers, each on its own
/// channel, one consumer selecting over all of them, and a dynamic fan-out
/// of send cases to 4 consumers.
#[test]
fn dynamic_fan_in_and_fan_out_count_every_message() {
    const PER: u64 = if cfg!(debug_assertions) {
        5_000
    } else {
        50_000
    };
    const PRODUCERS: u64 = 8;
    let got = weft::run(|| {
        let mut rxs = Vec::new();
        let mut ps = Vec::new();
        for p in 0..PRODUCERS {
            let (tx, rx) = chan::<u64>(if p % 2 == 0 { 0 } else { 16 });
            rxs.push(rx);
            ps.push(weft::go!(move || {
                for i in 0..PER {
                    tx.send(p * PER + i).unwrap();
                }
            }));
        }
        // Fan out through send cases to 4 consumers.
        let outs: Vec<(Sender<u64>, Receiver<u64>)> = (0..4).map(|_| chan(0)).collect();
        let cs: Vec<_> = outs
            .iter()
            .map(|(_, rx)| {
                let rx = rx.clone();
                weft::go!(move || rx.iter().collect::<Vec<u64>>())
            })
            .collect();
        let txs: Vec<Sender<u64>> = outs.into_iter().map(|(tx, _)| tx).collect();
        let mut sel = Select::new();
        for rx in &rxs {
            sel.recv(rx);
        }
        let mut open = rxs.len();
        while open > 0 {
            let op = sel.select();
            let i = op.index();
            match op.recv(&rxs[i]) {
                Ok(v) => {
                    let mut out = Select::new();
                    for tx in &txs {
                        out.send(tx, v);
                    }
                    let op = out.select();
                    let j = op.index();
                    op.send(&txs[j]).unwrap();
                }
                Err(_) => {
                    sel.remove(i);
                    open -= 1;
                }
            }
        }
        drop(txs);
        join_all(ps, cs)
    });
    check_exactly_once(got, PER * PRODUCERS);
}

/// More cases than `select_run` keeps on the stack (8): its lists spill to
/// the heap, and the select still parks on every channel, takes each value
/// exactly once and sees every close.
#[test]
fn a_select_over_twenty_channels_counts_every_message() {
    const CHANS: u64 = 20;
    const PER: u64 = if cfg!(debug_assertions) { 500 } else { 5_000 };
    let seen = weft::run(|| {
        let mut rxs = Vec::new();
        for c in 0..CHANS {
            let (tx, rx) = chan::<u64>(if c % 3 == 0 { 4 } else { 0 });
            rxs.push(rx);
            weft::go!(move || {
                for i in 0..PER {
                    tx.send(c * PER + i).unwrap();
                    if i % 64 == 0 {
                        weft::yield_now();
                    }
                }
            });
        }
        let mut sel = Select::new();
        for rx in &rxs {
            sel.recv(rx);
        }
        let mut seen = vec![false; (CHANS * PER) as usize];
        let mut open = rxs.len();
        while open > 0 {
            let op = sel.select();
            let i = op.index();
            match op.recv(&rxs[i]) {
                Ok(v) => {
                    assert!(!seen[v as usize], "value {v} received twice");
                    seen[v as usize] = true;
                }
                Err(_) => {
                    sel.remove(i);
                    open -= 1;
                }
            }
        }
        seen
    });
    assert!(seen.iter().all(|&s| s), "a value was lost");
}
