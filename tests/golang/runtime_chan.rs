//! Port of Go's `src/runtime/chan_test.go`.
//!
//! Ported: TestChan, TestNonblockRecvRace, TestNonblockSelectRace,
//! TestNonblockSelectRace2, TestSelfSelect, TestSelectStress,
//! TestSelectFairness, TestChanSendInterface, TestPseudoRandomSend,
//! TestMultiConsumer, TestShrinkStackDuringBlockedSend,
//! TestNoShrinkStackWhileParking, TestSelectDuplicateChannel,
//! TestSelectStackAdjust.
//!
//! Mapping: a receive from a closed channel is `Err(RecvError)` (Go: the
//! zero value, `ok == false`). Go raises GOMAXPROCS (4, 2, 10) in some of
//! these for more parallelism; here the matrix's maxprocs (1 and 2) is kept
//! so each runs under both. The three stack tests exist to catch Go's GC
//! shrinking or moving a stack under a parked goroutine; weft's stacks
//! never move or shrink and it has no `runtime.GC()`, so they run their
//! channel traffic with the same deep-stack pattern and no GC. TestChan
//! and TestSelectStress run Go's `-short` sizes in the matrix and Go's full
//! sizes once (`slow_*`). Go's `sync.Mutex` used as a done signal
//! (locked here, unlocked there) is a channel: weft's guards stay with the
//! goroutine that locked. The benchmarks belong in sched-bench.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use weft::sync::WaitGroup;
use weft::{chan, never, select, Receiver, RecvError};

use crate::common::{self, ms};

fn test_chan(n: usize) {
    common::run(move || {
        for chan_cap in 0..n {
            {
                // Ensure that receive from empty chan blocks.
                let (c_tx, c) = chan::<i32>(chan_cap);
                let recv1 = Arc::new(AtomicBool::new(false));
                let (r, f) = (c.clone(), recv1.clone());
                weft::go!(move || {
                    let _ = r.recv();
                    f.store(true, Ordering::SeqCst);
                });
                let recv2 = Arc::new(AtomicBool::new(false));
                let (r, f) = (c.clone(), recv2.clone());
                weft::go!(move || {
                    let _ = r.recv();
                    f.store(true, Ordering::SeqCst);
                });
                weft::time::sleep(ms(1));
                assert!(
                    !recv1.load(Ordering::SeqCst) && !recv2.load(Ordering::SeqCst),
                    "chan[{chan_cap}]: receive from empty chan"
                );
                // Ensure that non-blocking receive does not block.
                select! {
                    recv(c) -> _ => panic!("chan[{chan_cap}]: receive from empty chan"),
                    default => {}
                }
                c_tx.send(0).unwrap();
                c_tx.send(0).unwrap();
            }

            {
                // Ensure that send to full chan blocks.
                let (c_tx, c) = chan::<i32>(chan_cap);
                for i in 0..chan_cap {
                    c_tx.send(i as i32).unwrap();
                }
                let sent = Arc::new(AtomicU32::new(0));
                let (t, s) = (c_tx.clone(), sent.clone());
                weft::go!(move || {
                    t.send(0).unwrap();
                    s.store(1, Ordering::SeqCst);
                });
                weft::time::sleep(ms(1));
                assert_eq!(
                    sent.load(Ordering::SeqCst),
                    0,
                    "chan[{chan_cap}]: send to full chan"
                );
                // Ensure that non-blocking send does not block.
                select! {
                    send(c_tx, 0) -> _ => panic!("chan[{chan_cap}]: send to full chan"),
                    default => {}
                }
                c.recv().unwrap();
            }

            {
                // Ensure that we receive 0 (here: Err) from closed chan.
                let (c_tx, c) = chan::<i32>(chan_cap);
                for i in 0..chan_cap {
                    c_tx.send(i as i32).unwrap();
                }
                c_tx.close().unwrap();
                for i in 0..chan_cap {
                    let v = c.recv().unwrap();
                    assert_eq!(v, i as i32, "chan[{chan_cap}]: received {v}, expected {i}");
                }
                assert_eq!(c.recv(), Err(RecvError), "chan[{chan_cap}]");
                assert_eq!(c.recv(), Err(RecvError), "chan[{chan_cap}]");
            }

            {
                // Ensure that close unblocks receive.
                let (c_tx, c) = chan::<i32>(chan_cap);
                let (done, done_rx) = chan::<bool>(0);
                weft::go!(move || {
                    let v = c.recv();
                    done.send(v == Err(RecvError)).unwrap();
                });
                weft::time::sleep(ms(1));
                c_tx.close().unwrap();
                assert!(
                    done_rx.recv().unwrap(),
                    "chan[{chan_cap}]: received non zero from closed chan"
                );
            }

            {
                // Send 100 integers, ensure that we receive them
                // non-corrupted in FIFO order.
                let (c_tx, c) = chan::<i32>(chan_cap);
                let t = c_tx.clone();
                weft::go!(move || {
                    for i in 0..100 {
                        t.send(i).unwrap();
                    }
                });
                for i in 0..100 {
                    let v = c.recv().unwrap();
                    assert_eq!(v, i, "chan[{chan_cap}]: received {v}, expected {i}");
                }

                // Same, but using recv2 (Go's `v, ok := <-c`).
                let t = c_tx.clone();
                weft::go!(move || {
                    for i in 0..100 {
                        t.send(i).unwrap();
                    }
                });
                for i in 0..100 {
                    match c.recv() {
                        Ok(v) => assert_eq!(v, i, "chan[{chan_cap}]: received {v}, expected {i}"),
                        Err(_) => panic!("chan[{chan_cap}]: receive failed, expected {i}"),
                    }
                }

                // Send 1000 integers in 4 goroutines, ensure that we
                // receive what we send.
                const P: usize = 4;
                const L: i32 = 1000;
                for _ in 0..P {
                    let t = c_tx.clone();
                    weft::go!(move || {
                        for i in 0..L {
                            t.send(i).unwrap();
                        }
                    });
                }
                let (done, done_rx) = chan::<HashMap<i32, usize>>(0);
                for _ in 0..P {
                    let (r, done) = (c.clone(), done.clone());
                    weft::go!(move || {
                        let mut recv = HashMap::new();
                        for _ in 0..L {
                            *recv.entry(r.recv().unwrap()).or_insert(0) += 1;
                        }
                        done.send(recv).unwrap();
                    });
                }
                let mut recv = HashMap::new();
                for _ in 0..P {
                    for (k, v) in done_rx.recv().unwrap() {
                        *recv.entry(k).or_insert(0) += v;
                    }
                }
                assert_eq!(
                    recv.len(),
                    L as usize,
                    "chan[{chan_cap}]: received {} values, expected {L}",
                    recv.len()
                );
                for v in recv.values() {
                    assert_eq!(*v, P, "chan[{chan_cap}]: received {v} values, expected {P}");
                }
            }

            {
                // Test len/cap.
                let (c_tx, c) = chan::<i32>(chan_cap);
                assert!(
                    c.is_empty() && c.cap() == chan_cap,
                    "chan[{chan_cap}]: bad len/cap, expect 0/{chan_cap}, got {}/{}",
                    c.len(),
                    c.cap()
                );
                for i in 0..chan_cap {
                    c_tx.send(i as i32).unwrap();
                }
                assert!(
                    c.len() == chan_cap && c.cap() == chan_cap,
                    "chan[{chan_cap}]: bad len/cap, expect {chan_cap}/{chan_cap}, got {}/{}",
                    c.len(),
                    c.cap()
                );
            }
        }
    });
}

#[test]
fn chan_() {
    test_chan(20); // Go's -short size
}

#[test]
fn slow_chan() {
    test_chan(200);
}

#[test]
fn nonblock_recv_race() {
    common::run(|| {
        let failed = Arc::new(AtomicBool::new(false));
        for _ in 0..10_000 {
            let (c_tx, c) = chan::<i32>(1);
            c_tx.send(1).unwrap();
            let (r, f) = (c.clone(), failed.clone());
            weft::go!(move || {
                select! {
                    recv(r) -> _ => {}
                    default => f.store(true, Ordering::SeqCst), // "chan is not ready"
                }
            });
            c_tx.close().unwrap();
            let _ = c.recv();
            assert!(!failed.load(Ordering::SeqCst), "chan is not ready");
        }
    });
}

/// Select acts on the state of the channels at one moment, not over a
/// smeared time window: from the time the goroutine is created, at least
/// one of c1 and c2 is always ready, so its non-blocking select must
/// receive from one or the other and never run `default`.
fn nonblock_select_race(close_c2: bool) {
    common::run(move || {
        let (done, done_rx) = chan::<bool>(1);
        for _ in 0..100_000 {
            let (c1_tx, c1) = chan::<i32>(1);
            let (c2_tx, c2) = chan::<i32>(if close_c2 { 0 } else { 1 });
            c1_tx.send(1).unwrap();
            let (r1, r2, done) = (c1.clone(), c2.clone(), done.clone());
            weft::go!(move || {
                select! {
                    recv(r1) -> _ => {}
                    recv(r2) -> _ => {}
                    default => {
                        done.send(false).unwrap();
                        return;
                    }
                }
                done.send(true).unwrap();
            });
            if close_c2 {
                c2_tx.close().unwrap();
            } else {
                c2_tx.send(1).unwrap();
            }
            select! {
                recv(c1) -> _ => {}
                default => {}
            }
            assert!(done_rx.recv().unwrap(), "no chan is ready");
        }
    });
}

#[test]
fn nonblock_select_race_() {
    nonblock_select_race(false);
}

/// Same as `nonblock_select_race`, but `close(c2)` replaces `c2 <- 1`.
#[test]
fn nonblock_select_race2() {
    nonblock_select_race(true);
}

/// Send and receive on the same channel in one select neither crash nor
/// deadlock, and never pair with each other.
#[test]
fn self_select() {
    common::run(|| {
        for chan_cap in [0, 10] {
            let wg = Arc::new(WaitGroup::new());
            wg.add(2);
            let (c_tx, c) = chan::<usize>(chan_cap);
            for p in 0..2 {
                let (wg, tx, rx) = (wg.clone(), c_tx.clone(), c.clone());
                weft::go!(move || {
                    for i in 0..1000 {
                        let v = if p == 0 || i % 2 == 0 {
                            select! {
                                send(tx, p) -> r => { r.unwrap(); None }
                                recv(rx) -> v => Some(v.unwrap()),
                            }
                        } else {
                            select! {
                                recv(rx) -> v => Some(v.unwrap()),
                                send(tx, p) -> r => { r.unwrap(); None }
                            }
                        };
                        assert!(!(chan_cap == 0 && v == Some(p)), "self receive");
                    }
                    wg.done();
                });
            }
            wg.wait();
        }
    });
}

fn select_stress(n: usize) {
    common::run(move || {
        let (txs, rxs): (Vec<_>, Vec<_>) = [0, 0, 2, 3].iter().map(|&cap| chan::<i32>(cap)).unzip();
        // There are 4 goroutines that send N values on each of the chans,
        // + 4 goroutines that receive N values on each of the chans,
        // + 1 goroutine that sends N values on each of the chans in a
        //   single select,
        // + 1 goroutine that receives N values on each of the chans in a
        //   single select.
        // All these sends, receives and selects interact chaotically at
        // runtime, but we are careful that this whole construct does not
        // deadlock.
        let wg = Arc::new(WaitGroup::new());
        wg.add(10);
        for k in 0..4 {
            let (tx, wg1) = (txs[k].clone(), wg.clone());
            weft::go!(move || {
                for _ in 0..n {
                    tx.send(0).unwrap();
                }
                wg1.done();
            });
            let (rx, wg2) = (rxs[k].clone(), wg.clone());
            weft::go!(move || {
                for _ in 0..n {
                    rx.recv().unwrap();
                }
                wg2.done();
            });
        }
        let (mut c1, w) = (txs.clone(), wg.clone());
        weft::go!(move || {
            let mut cnt = [0; 4];
            for _ in 0..4 * n {
                let k = select! {
                    send(c1[3], 0) -> r => { r.unwrap(); 3 }
                    send(c1[2], 0) -> r => { r.unwrap(); 2 }
                    send(c1[0], 0) -> r => { r.unwrap(); 0 }
                    send(c1[1], 0) -> r => { r.unwrap(); 1 }
                };
                cnt[k] += 1;
                if cnt[k] == n {
                    c1[k] = weft::never_sender();
                }
            }
            w.done();
        });
        let (mut c1, w) = (rxs.clone(), wg.clone());
        weft::go!(move || {
            let mut cnt = [0; 4];
            for _ in 0..4 * n {
                let k = select! {
                    recv(c1[0]) -> r => { r.unwrap(); 0 }
                    recv(c1[1]) -> r => { r.unwrap(); 1 }
                    recv(c1[2]) -> r => { r.unwrap(); 2 }
                    recv(c1[3]) -> r => { r.unwrap(); 3 }
                };
                cnt[k] += 1;
                if cnt[k] == n {
                    c1[k] = never();
                }
            }
            w.done();
        });
        wg.wait();
    });
}

#[test]
fn select_stress_() {
    select_stress(10_000); // Go's -short size
}

#[test]
fn slow_select_stress() {
    select_stress(100_000);
}

#[test]
fn select_fairness() {
    const TRIALS: usize = 10_000;
    let (cnt1, cnt2) = common::run(|| {
        let (c1_tx, c1) = chan::<u8>(TRIALS + 1);
        let (c2_tx, c2) = chan::<u8>(TRIALS + 1);
        for _ in 0..TRIALS + 1 {
            c1_tx.send(1).unwrap();
            c2_tx.send(2).unwrap();
        }
        let (_c3_tx, c3) = chan::<u8>(0);
        let (_c4_tx, c4) = chan::<u8>(0);
        let (out, out_rx) = chan::<u8>(0);
        let (done_tx, done) = chan::<u8>(0);
        let wg = Arc::new(WaitGroup::new());
        wg.add(1);
        let w = wg.clone();
        weft::go!(move || {
            loop {
                let b = select! {
                    recv(c3) -> b => b.unwrap(),
                    recv(c4) -> b => b.unwrap(),
                    recv(c1) -> b => b.unwrap(),
                    recv(c2) -> b => b.unwrap(),
                };
                select! {
                    send(out, b) -> r => r.unwrap(),
                    recv(done) -> _ => break,
                }
            }
            w.done();
        });
        let (mut cnt1, mut cnt2) = (0i64, 0i64);
        for _ in 0..TRIALS {
            match out_rx.recv().unwrap() {
                1 => cnt1 += 1,
                2 => cnt2 += 1,
                b => panic!("unexpected value {b} on channel"),
            }
        }
        done_tx.close().unwrap();
        wg.wait();
        (cnt1, cnt2)
    });
    // If the select in the goroutine is fair, cnt1 and cnt2 should be about
    // the same value. See if we're more than 10 sigma away from the
    // expected value. 10 sigma is a lot, but we're ok with some systematic
    // bias as long as it isn't too severe.
    let mean = TRIALS as f64 * 0.5;
    let variance = TRIALS as f64 * 0.5 * (1.0 - 0.5);
    let stddev = variance.sqrt();
    assert!(
        (cnt1 as f64 - mean).abs() <= 10.0 * stddev,
        "unfair select: in {TRIALS} trials, results were {cnt1}, {cnt2}"
    );
}

#[test]
fn chan_send_interface() {
    struct Mt;
    common::run(|| {
        let (c, _c_rx) = chan::<Box<dyn std::any::Any + Send>>(1);
        c.send(Box::new(Mt)).unwrap();
        select! {
            send(c, Box::new(Mt)) -> _ => {}
            default => {}
        }
        select! {
            send(c, Box::new(Mt)) -> _ => {}
            send(c, Box::new(Mt)) -> _ => {}
            default => {}
        }
    });
}

#[test]
fn pseudo_random_send() {
    common::run(|| {
        let n = 100;
        for chan_cap in [0, n] {
            let (c_tx, c) = chan::<i32>(chan_cap);
            let (done, done_rx) = chan::<Vec<i32>>(0);
            weft::go!(move || {
                let mut l = vec![0; n];
                for v in l.iter_mut() {
                    weft::yield_now();
                    *v = c.recv().unwrap();
                }
                done.send(l).unwrap();
            });
            for _ in 0..n {
                select! {
                    send(c_tx, 1) -> r => r.unwrap(),
                    send(c_tx, 0) -> r => r.unwrap(),
                }
            }
            let l = done_rx.recv().unwrap(); // wait
            let n0 = l.iter().filter(|&&i| i == 0).count();
            let n1 = l.iter().filter(|&&i| i == 1).count();
            assert!(
                n0 > n / 10 && n1 > n / 10,
                "Want pseudorandom, got {n0} zeros and {n1} ones (chan cap {chan_cap})"
            );
        }
    });
}

#[test]
fn multi_consumer() {
    const NWORK: usize = 23;
    const NITER: usize = 271_828;
    const PN: [i64; 10] = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31];
    common::run(|| {
        let (q, q_rx) = chan::<i64>(NWORK * 3);
        let (r, r_rx) = chan::<i64>(NWORK * 3);
        // workers
        let wg = Arc::new(WaitGroup::new());
        for w in 0..NWORK {
            wg.add(1);
            let (q_rx, r, wg) = (q_rx.clone(), r.clone(), wg.clone());
            weft::go!(move || {
                for v in &q_rx {
                    // mess with the fifo-ish nature of range
                    if PN[w % PN.len()] == v {
                        weft::yield_now();
                    }
                    r.send(v).unwrap();
                }
                wg.done();
            });
        }
        drop(q_rx);
        // feeder & closer
        let (expect_tx, expect_rx) = chan::<i64>(1);
        weft::go!(move || {
            let mut expect = 0;
            for i in 0..NITER {
                let v = PN[i % PN.len()];
                expect += v;
                q.send(v).unwrap();
            }
            q.close().unwrap(); // no more work
            wg.wait(); // workers done
            expect_tx.send(expect).unwrap();
            r.close().unwrap(); // ... so there can be no more results
        });
        // consume & check
        let (mut n, mut s) = (0, 0);
        for v in &r_rx {
            n += 1;
            s += v;
        }
        let expect = expect_rx.recv().unwrap();
        assert!(
            n == NITER && s == expect,
            "Expected sum {expect} (got {s}) from {NITER} iter (saw {n})"
        );
    });
}

static PAD_DATA: [u64; 128] = [0; 128];

/// Go's `stackGrowthRecursive`: uses about 1 KiB of stack per level.
#[inline(never)]
pub(crate) fn stack_growth_recursive(i: usize) {
    let pad: [u64; 128] = std::hint::black_box(PAD_DATA);
    if pad.iter().any(|&v| v != 0) {
        return;
    }
    if i != 0 {
        stack_growth_recursive(i - 1);
    }
    std::hint::black_box(&pad);
}

/// Channel operations still work while the sender, blocked in a send,
/// had used a lot of stack just before (Go also shrinks its stack with a
/// GC here).
#[test]
fn shrink_stack_during_blocked_send() {
    common::run(|| {
        const N: i32 = 10;
        let (c, c_rx) = chan::<i32>(0);
        let (done, done_rx) = chan::<()>(0);
        weft::go!(move || {
            for i in 0..N {
                c.send(i).unwrap();
                // use lots of stack, briefly.
                stack_growth_recursive(20);
            }
            done.send(()).unwrap();
        });
        for i in 0..N {
            let x = c_rx.recv().unwrap();
            assert_eq!(x, i, "bad channel read: want {i}, got {x}");
            // Waste some time so sender can finish using lots of stack and
            // block in channel send.
            weft::time::sleep(ms(1));
        }
        done_rx.recv().unwrap();
    });
}

/// Go's race between stack shrinking and a goroutine parking on a
/// channel, without the GC: sender and receiver exchange values while the
/// sender's stack use swings.
#[test]
fn no_shrink_stack_while_parking() {
    common::run(|| {
        const N: i32 = 10;
        for _ in 0..N * 20 {
            let (c, c_rx) = chan::<i32>(0);
            let (done, done_rx) = chan::<()>(0);
            let d = done.clone();
            weft::go!(move || {
                for _ in 0..N {
                    // Sleep here so that the sender always fully blocks.
                    weft::time::sleep(std::time::Duration::from_micros(10));
                    c_rx.recv().unwrap();
                }
                d.send(()).unwrap();
            });
            weft::go!(move || {
                for i in 0..N {
                    c.send(i).unwrap();
                    stack_growth_recursive(20);
                }
                done.send(()).unwrap();
            });
            weft::time::sleep(std::time::Duration::from_micros(50));
            done_rx.recv().unwrap();
            done_rx.recv().unwrap();
        }
    });
}

/// A goroutine can be queued on the same channel several times (two cases
/// of one select); when it wins on another channel, it leaves c's queue
/// intact.
#[test]
fn select_duplicate_channel() {
    common::run(|| {
        let (c_tx, c) = chan::<i32>(0);
        let (d_tx, d) = chan::<i32>(0);
        let (e_tx, e) = chan::<i32>(0);

        // goroutine A
        let c1 = c.clone();
        weft::go!(move || {
            select! {
                recv(c1) -> _ => {}
                recv(c1) -> _ => {}
                recv(d) -> _ => {}
            }
            e_tx.send(9).unwrap();
        });
        weft::time::sleep(ms(1)); // make sure goroutine A gets queued first on c

        // goroutine B
        weft::go!(move || {
            c.recv().unwrap();
        });
        weft::time::sleep(ms(1)); // make sure goroutine B gets queued on c before continuing

        d_tx.send(7).unwrap(); // wake up A, it dequeues itself from c
        e.recv().unwrap(); // A tells us it's done
        c_tx.send(8).unwrap(); // wake up B
    });
}

/// A pointer to a stack local survives a select (Go: stack shrinking must
/// adjust it; weft's stacks never move).
#[test]
fn select_stack_adjust() {
    fn f(c: Receiver<Box<i32>>, d: Receiver<Box<i32>>, ready: weft::Sender<bool>, dup: bool) {
        // Temporarily grow the stack to 10K.
        stack_growth_recursive((10 << 10) / (128 * 8));
        // We're ready to trigger GC and stack shrink.
        ready.send(true).unwrap();

        let mut val = 42;
        let cx: *mut i32 = &mut val;
        let (c2, d2) = if dup {
            (c.clone(), d.clone())
        } else {
            (never(), never())
        };
        // Receive from d (closed). cx won't be affected.
        select! {
            recv(c) -> _ => panic!("c is never sent on"),
            recv(c2) -> _ => panic!("c is never sent on"),
            recv(d) -> _ => {}
            recv(d2) -> _ => {}
        }
        // Check that the pointer in cx is still right.
        assert!(std::ptr::eq(cx, &val), "cx no longer points to val");
        assert_eq!(val, 42, "val changed");
        // SAFETY: `cx` points to `val`, alive and not otherwise borrowed.
        unsafe { *cx = 43 };
        assert_eq!(val, 43, "changing *cx failed to change val");
        ready.send(true).unwrap();
    }
    common::run(|| {
        let (_c_tx, c) = chan::<Box<i32>>(0);
        let (d_tx, d) = chan::<Box<i32>>(0);
        let (ready1, ready1_rx) = chan::<bool>(0);
        let (ready2, ready2_rx) = chan::<bool>(0);
        let (c1, d1) = (c.clone(), d.clone());
        weft::go!(move || f(c1, d1, ready1, false));
        weft::go!(move || f(c, d, ready2, true));
        // Let the goroutines get into the select.
        ready1_rx.recv().unwrap();
        ready2_rx.recv().unwrap();
        weft::time::sleep(ms(10));
        // Wake selects.
        d_tx.close().unwrap();
        ready1_rx.recv().unwrap();
        ready2_rx.recv().unwrap();
    });
}
