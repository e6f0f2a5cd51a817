//! Goroutine records are recycled (Go's `gFree`) and wait records live on
//! stacks: these tests push millions of reuse cycles through both and count
//! every result, drop and wake-up. A record recycled too early shows up as
//! a handle seeing another goroutine's result, a result dropped twice or
//! never, or a wake-up lost, doubled or sent to the wrong goroutine.
//!
//! CI runs this file under `WEFT_SPAWN=continuation|child` ×
//! `WEFT_MAXPROCS=1|2` (see `test.sh`). `WEFT_STRESS_CYCLES` scales it
//! (default: 10M goroutines for the first test).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use weft::runtime::park::Waiter;
use weft::WaitReason;

fn cycles(default: u64) -> u64 {
    std::env::var("WEFT_STRESS_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Counts drops of the results that need a heap slot (too big to sit in
/// the record inline), so a result dropped twice or leaked is seen.
static BIG_DROPS: AtomicU64 = AtomicU64::new(0);

struct Big {
    id: u64,
    pad: [u64; 7],
}

impl Drop for Big {
    fn drop(&mut self) {
        BIG_DROPS.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn ten_million_recycled_goroutines_each_hand_back_their_own_result() {
    let total = cycles(10_000_000);
    let wave = 1000u64;
    let (joined, detached, big) = weft::run(move || {
        let mut joined = 0u64;
        let mut detached = 0u64;
        let mut big = 0u64;
        let mut base = 0u64;
        while base < total {
            // A wave: most handles joined (inline and boxed results), some
            // dropped at once (the goroutine may still run), some dropped
            // after the goroutine finished.
            let mut small = Vec::with_capacity(wave as usize);
            let mut large = Vec::new();
            let mut late_drop = Vec::new();
            for i in base..base + wave {
                match i % 10 {
                    0 => {
                        detached += 1;
                        drop(weft::go!(move || i));
                    }
                    1 => {
                        big += 1;
                        large.push((i, weft::go!(move || Big { id: i, pad: [i; 7] })));
                    }
                    2 => {
                        big += 1;
                        late_drop.push(weft::go!(move || Big { id: i, pad: [0; 7] }));
                    }
                    _ => small.push((i, weft::go!(move || i * 3))),
                }
            }
            for (i, h) in small {
                assert_eq!(h.join().unwrap(), i * 3, "a handle saw another result");
                joined += 1;
            }
            for (i, h) in large {
                let b = h.join().unwrap();
                assert_eq!((b.id, b.pad[6]), (i, i), "a boxed result was mixed up");
                joined += 1;
            }
            for h in &late_drop {
                while !h.is_finished() {
                    weft::yield_now();
                }
            }
            drop(late_drop);
            base += wave;
        }
        (joined, detached, big)
    });
    assert_eq!(joined + detached + total / 10, total);
    // Detached goroutines may still be finishing; every boxed result is
    // dropped exactly once in the end (joined, or dropped with its handle).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while BIG_DROPS.load(Ordering::Relaxed) < big && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(BIG_DROPS.load(Ordering::Relaxed), big);
    assert!(weft::num_goroutine() < 1000, "goroutines left over");
}

/// A queue of parked waiters, woken one by one: the smallest user of the
/// wait record (a channel or a mutex keeps the same kind of queue).
#[derive(Default)]
struct WaitList {
    q: Mutex<Vec<(usize, WPtr)>>,
}

struct WPtr(*const Waiter);
// SAFETY: the record outlives its time in the queue (the owner waits for
// DONE, and only the popper claims and wakes it).
unsafe impl Send for WPtr {}

impl WaitList {
    /// Parks until a waker hands over a value; returns it.
    fn wait(&self, me: usize) -> usize {
        let w = Waiter::new();
        let mut q = self.q.lock().unwrap();
        q.push((me, WPtr(&w)));
        w.wait(WaitReason::Park, move || drop(q))
    }

    /// Wakes one waiter (if any) with `value`; returns who it was.
    fn wake_one(&self, value: usize) -> Option<usize> {
        let (who, WPtr(w)) = self.q.lock().unwrap().pop()?;
        // SAFETY: popped under the lock, so only we claim it; the owner is
        // in `wait` until our DONE.
        unsafe {
            assert!((*w).try_claim(value), "a wait record was claimed twice");
            Waiter::wake(w);
        }
        Some(who)
    }
}

#[test]
fn wait_records_deliver_every_wake_up_to_its_owner() {
    let rounds = cycles(10_000_000) / 20;
    let sleepers = 16usize;
    let woken = Arc::new(AtomicUsize::new(0));
    let w2 = woken.clone();
    let per_sleeper: Vec<u64> = weft::run(move || {
        let list = Arc::new(WaitList::default());
        let hs: Vec<_> = (0..sleepers)
            .map(|me| {
                let list = list.clone();
                let woken = w2.clone();
                weft::go!(move || {
                    let mut got = 0u64;
                    loop {
                        // The value carries the intended recipient: a
                        // wake-up delivered to anyone else is caught here.
                        let v = list.wait(me);
                        if v == usize::MAX >> 3 {
                            return got;
                        }
                        assert_eq!(v % sleepers, me, "a wake-up reached the wrong goroutine");
                        got += 1;
                        woken.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        // Wakers: goroutines and a plain thread, each waking whoever is
        // queued with a value naming them.
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let list = list.clone();
                weft::go!(move || {
                    let mut sent = 0u64;
                    while sent < rounds {
                        let popped = list.q.lock().unwrap().pop();
                        match popped {
                            Some((who, WPtr(w))) => {
                                let v = who + sleepers * (sent as usize % 1000);
                                // SAFETY: popped under the lock, so only we
                                // claim it; its owner waits for our DONE.
                                unsafe {
                                    assert!((*w).try_claim(v), "claimed twice");
                                    Waiter::wake(w);
                                }
                                sent += 1;
                            }
                            None => weft::yield_now(),
                        }
                    }
                    sent
                })
            })
            .collect();
        let sent: u64 = wakers.into_iter().map(|h| h.join().unwrap()).sum();
        // Release everyone.
        let mut released = 0;
        while released < sleepers {
            if list.wake_one(usize::MAX >> 3).is_some() {
                released += 1;
            } else {
                weft::yield_now();
            }
        }
        let got: Vec<u64> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(got.iter().sum::<u64>(), sent, "wake-ups lost or doubled");
        got
    });
    assert_eq!(
        woken.load(Ordering::Relaxed) as u64,
        per_sleeper.iter().sum::<u64>()
    );
    assert_eq!(per_sleeper.iter().sum::<u64>(), 2 * rounds);
}

#[test]
fn joins_racing_exits_wake_every_joiner_once() {
    let n = cycles(10_000_000) / 10;
    let sum: u64 = weft::run(move || {
        // Each joiner is itself a goroutine racing the exit of the one it
        // joins; under continuation stealing the child often finishes
        // first, under child stealing the joiner often parks first.
        let mut total = 0;
        let mut i = 0;
        while i < n {
            let hs: Vec<_> = (i..i + 100)
                .map(|k| {
                    let child = weft::go!(move || {
                        if k % 3 == 0 {
                            weft::yield_now();
                        }
                        k
                    });
                    weft::go!(move || child.join().unwrap() + 1)
                })
                .collect();
            total += hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>();
            i += 100;
        }
        total
    });
    assert_eq!(sum, (0..n).map(|k| k + 1).sum::<u64>());
}
