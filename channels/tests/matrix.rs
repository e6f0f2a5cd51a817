//! Scheduler-sensitive channel tests: test.sh runs this file again under
//! WEFT_SPAWN=continuation|child × WEFT_MAXPROCS=1|2. Every message is
//! counted: each must be received exactly once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use weft_channels::{chan, never, select, Receiver, Sender};
use weft_runtime as weft;

mod support;
use support::{check_exactly_once, join_all};

/// Messages per stress run: 1M in release, fewer in debug builds.
const TOTAL: u64 = if cfg!(debug_assertions) {
    40_000
} else {
    1_000_000
};

fn mpmc(cap: usize, producers: u64, consumers: usize) {
    let got = weft::run(move || {
        let (tx, rx) = chan::<u64>(cap);
        let per = TOTAL / producers;
        let ps: Vec<_> = (0..producers)
            .map(|p| {
                let tx = tx.clone();
                weft::spawn(move || {
                    for i in 0..per {
                        tx.send(p * per + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let cs: Vec<_> = (0..consumers)
            .map(|_| {
                let rx = rx.clone();
                weft::spawn(move || rx.iter().collect::<Vec<u64>>())
            })
            .collect();
        drop(rx);
        join_all(ps, cs)
    });
    check_exactly_once(got, TOTAL);
}

#[test]
fn stress_4x4_unbuffered() {
    mpmc(0, 4, 4);
}

#[test]
fn stress_4x4_buffered() {
    mpmc(64, 4, 4);
}

#[test]
fn stress_4x4_buffered_cap1() {
    mpmc(1, 4, 4);
}

#[test]
fn stress_1x1_unbuffered_ping() {
    mpmc(0, 1, 1);
}

/// 8 producers, each on its own channel; one consumer selects over all 8,
/// turning each case off (Go's `ch = nil`) when its channel closes.
fn fan_in(cap: usize) {
    let total = TOTAL / 2;
    let got = weft::run(move || {
        let per = total / 8;
        let mut rxs: Vec<Receiver<u64>> = Vec::new();
        for p in 0..8u64 {
            let (tx, rx) = chan::<u64>(cap);
            rxs.push(rx);
            weft::spawn(move || {
                for i in 0..per {
                    tx.send(p * per + i).unwrap();
                }
            });
        }
        let mut rx: [Receiver<u64>; 8] = rxs.try_into().unwrap();
        let mut open = 8;
        let mut got = Vec::with_capacity(total as usize);
        macro_rules! on {
            ($i:expr, $v:expr) => {
                match $v {
                    Ok(v) => got.push(v),
                    Err(_) => {
                        rx[$i] = never();
                        open -= 1;
                    }
                }
            };
        }
        while open > 0 {
            select! {
                recv(rx[0]) -> v => on!(0, v),
                recv(rx[1]) -> v => on!(1, v),
                recv(rx[2]) -> v => on!(2, v),
                recv(rx[3]) -> v => on!(3, v),
                recv(rx[4]) -> v => on!(4, v),
                recv(rx[5]) -> v => on!(5, v),
                recv(rx[6]) -> v => on!(6, v),
                recv(rx[7]) -> v => on!(7, v),
            }
        }
        got
    });
    check_exactly_once(got, total / 8 * 8);
}

#[test]
fn select_fan_in_8_unbuffered() {
    fan_in(0);
}

#[test]
fn select_fan_in_8_buffered() {
    fan_in(16);
}

/// Selects on both sides: producers select-send over two channels,
/// consumers select-receive over the same two (select meets select).
#[test]
fn select_to_select() {
    let total = TOTAL / 4;
    let got = weft::run(move || {
        let (a_tx, a_rx) = chan::<u64>(0);
        let (b_tx, b_rx) = chan::<u64>(0);
        let per = total / 4;
        let ps: Vec<_> = (0..4u64)
            .map(|p| {
                let (a, b) = (a_tx.clone(), b_tx.clone());
                weft::spawn(move || {
                    for i in 0..per {
                        select! {
                            send(a, p * per + i) -> r => r.unwrap(),
                            send(b, p * per + i) -> r => r.unwrap(),
                        }
                    }
                })
            })
            .collect();
        drop((a_tx, b_tx));
        let cs: Vec<_> = (0..4)
            .map(|_| {
                let (mut a, mut b) = (a_rx.clone(), b_rx.clone());
                weft::spawn(move || {
                    let mut got = Vec::new();
                    let mut open = 2;
                    while open > 0 {
                        select! {
                            recv(a) -> v => match v {
                                Ok(v) => got.push(v),
                                Err(_) => { a = never(); open -= 1; }
                            },
                            recv(b) -> v => match v {
                                Ok(v) => got.push(v),
                                Err(_) => { b = never(); open -= 1; }
                            },
                        }
                    }
                    got
                })
            })
            .collect();
        drop((a_rx, b_rx));
        for p in ps {
            p.join().unwrap();
        }
        cs.into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    });
    check_exactly_once(got, total / 4 * 4);
}

/// Plain threads and goroutines on both ends of one channel.
#[test]
fn threads_and_goroutines_mixed() {
    let total = TOTAL / 10;
    let (tx, rx) = chan::<u64>(0);
    let per = total / 4;
    let mut producers = Vec::new();
    for p in 0..4u64 {
        let tx: Sender<u64> = tx.clone();
        let f = move || {
            for i in 0..per {
                tx.send(p * per + i).unwrap();
            }
        };
        if p % 2 == 0 {
            producers.push(Err(std::thread::spawn(f)));
        } else {
            producers.push(Ok(weft::spawn(f)));
        }
    }
    drop(tx);
    let sum = Arc::new(AtomicU64::new(0));
    let r2 = rx.clone();
    let s2 = sum.clone();
    let t = std::thread::spawn(move || r2.iter().collect::<Vec<_>>());
    let g = weft::spawn(move || {
        let v: Vec<u64> = rx.iter().collect();
        s2.fetch_add(v.len() as u64, Ordering::Relaxed);
        v
    });
    for p in producers {
        match p {
            Ok(h) => h.join().unwrap(),
            Err(h) => h.join().unwrap(),
        }
    }
    let mut all = t.join().unwrap();
    all.extend(g.join().unwrap());
    check_exactly_once(all, per * 4);
}

/// Close races with blocked senders and receivers: every value sent with
/// `Ok` is received exactly once, every failed send got its value back.
#[test]
fn close_races_account_for_everything() {
    let rounds = if cfg!(debug_assertions) { 50 } else { 500 };
    for round in 0..rounds {
        let (ok_sent, got, back) = weft::run(move || {
            let (tx, rx) = chan::<u64>(round % 3);
            let ps: Vec<_> = (0..3u64)
                .map(|p| {
                    let tx = tx.clone();
                    weft::spawn(move || {
                        let (mut ok, mut back) = (vec![], vec![]);
                        for i in 0..200 {
                            match tx.send(p * 1000 + i) {
                                Ok(()) => ok.push(p * 1000 + i),
                                Err(e) => back.push(e.0),
                            }
                        }
                        (ok, back)
                    })
                })
                .collect();
            let cs: Vec<_> = (0..2)
                .map(|_| {
                    let rx = rx.clone();
                    weft::spawn(move || rx.iter().collect::<Vec<_>>())
                })
                .collect();
            for _ in 0..round % 7 {
                weft::yield_now();
            }
            tx.close().unwrap();
            let (mut ok, mut back) = (vec![], vec![]);
            for p in ps {
                let (o, b) = p.join().unwrap();
                ok.extend(o);
                back.extend(b);
            }
            let got: Vec<u64> = cs.into_iter().flat_map(|c| c.join().unwrap()).collect();
            (ok, got, back)
        });
        let mut ok_sorted = ok_sent.clone();
        ok_sorted.sort();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        assert_eq!(ok_sorted, got_sorted, "round {round}");
        assert_eq!(ok_sent.len() + back.len(), 600);
    }
}
