//! Scheduler-sensitive tests of `weft::sync`: run by test.sh under
//! `WEFT_SPAWN=continuation|child` × `WEFT_MAXPROCS=1|2`.
//!
//! No timing assertions beyond generous liveness bounds: overlap and order
//! are proved with counters and flags.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime as weft;
use weft_runtime::sync::{Cond, Mutex, Once, OnceLock, Pool, RwLock, Semaphore, WaitGroup};

/// Spins until `f()` holds, letting other goroutines run; fails the test
/// after a generous bound instead of hanging.
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        weft::yield_now();
    }
}

#[path = "support/nap.rs"]
mod nap;
use nap::nap;

#[test]
fn mutex_mutual_exclusion_8x100k() {
    let per: u64 = if cfg!(debug_assertions) {
        10_000
    } else {
        100_000
    };
    let (count, inside) = weft::run(move || {
        let m = Arc::new(Mutex::new(0u64));
        let inside = Arc::new(AtomicBool::new(false));
        let hs: Vec<_> = (0..8)
            .map(|g| {
                let (m, inside) = (m.clone(), inside.clone());
                weft::spawn(move || {
                    for i in 0..per {
                        let mut c = m.lock();
                        assert!(!inside.swap(true, Ordering::Relaxed), "two owners");
                        *c += 1;
                        // Now and then hold the lock across a switch, so
                        // waiters really park and get woken.
                        if (i + g) % 1024 == 0 {
                            weft::yield_now();
                        }
                        inside.store(false, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let c = *m.lock();
        (c, inside.load(Ordering::Relaxed))
    });
    assert_eq!(count, 8 * per);
    assert!(!inside);
}

#[test]
fn seed_mutex_incr_decr() {
    // Concurrency in Go, 3: six increments and six decrements under a Mutex.
    let (final_count, log) = weft::run(|| {
        let count = Arc::new(Mutex::new((0i64, Vec::new())));
        let wg = Arc::new(WaitGroup::new());
        for i in 0..12 {
            wg.add(1);
            let (count, wg) = (count.clone(), wg.clone());
            weft::spawn(move || {
                let mut g = count.lock();
                g.0 += if i < 6 { 1 } else { -1 };
                let v = g.0;
                g.1.push(v);
                drop(g);
                wg.done();
            });
        }
        wg.wait();
        let g = count.lock();
        (g.0, g.1.clone())
    });
    assert_eq!(final_count, 0);
    assert_eq!(log.len(), 12);
}

#[test]
fn seed_waitgroup_workers() {
    let done = weft::run(|| {
        let wg = Arc::new(WaitGroup::new());
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 1..=5 {
            wg.add(1);
            let (wg, done) = (wg.clone(), done.clone());
            weft::spawn(move || {
                nap(Duration::from_millis(1));
                done.fetch_add(1, Ordering::SeqCst);
                wg.done();
            });
        }
        wg.wait();
        done.load(Ordering::SeqCst)
    });
    assert_eq!(done, 5);
}

#[test]
fn waitgroup_fan_out_join_10k() {
    let n = weft::run(|| {
        let wg = Arc::new(WaitGroup::new());
        let n = Arc::new(AtomicUsize::new(0));
        wg.add(10_000);
        for _ in 0..10_000 {
            let (wg, n) = (wg.clone(), n.clone());
            weft::spawn(move || {
                n.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        wg.wait();
        n.load(Ordering::Relaxed)
    });
    assert_eq!(n, 10_000);
}

#[test]
fn waitgroup_many_waiters() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());
        wg.add(1);
        let woke = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..20)
            .map(|_| {
                let (wg, woke) = (wg.clone(), woke.clone());
                weft::spawn(move || {
                    wg.wait();
                    woke.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        nap(Duration::from_millis(2));
        assert_eq!(woke.load(Ordering::SeqCst), 0);
        wg.done();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(woke.load(Ordering::SeqCst), 20);
    });
}

#[test]
fn waitgroup_negative_counter_panics_with_gos_message() {
    let err = weft::run(|| {
        weft::spawn(|| {
            let wg = WaitGroup::new();
            wg.add(1);
            wg.done();
            wg.done();
        })
        .join()
        .unwrap_err()
    });
    assert_eq!(err.message(), Some("sync: negative WaitGroup counter"));
}

#[test]
fn seed_cond_queue_of_two() {
    // Concurrency in Go, 3: push 10 items into a queue of at most 2; each
    // push starts a goroutine that removes one item after a delay.
    let (added, removed, max_len) = weft::run(|| {
        let st = Arc::new((Mutex::new(Vec::<u32>::new()), Cond::new()));
        let removed = Arc::new(AtomicUsize::new(0));
        let wg = Arc::new(WaitGroup::new());
        let mut max_len = 0;
        for i in 0..10 {
            let mut q = st.0.lock();
            while q.len() == 2 {
                q = st.1.wait(q);
            }
            q.push(i);
            max_len = max_len.max(q.len());
            wg.add(1);
            let (st, removed, wg) = (st.clone(), removed.clone(), wg.clone());
            weft::spawn(move || {
                nap(Duration::from_micros(200));
                st.0.lock().remove(0);
                removed.fetch_add(1, Ordering::SeqCst);
                st.1.signal();
                wg.done();
            });
            drop(q);
        }
        wg.wait();
        (10, removed.load(Ordering::SeqCst), max_len)
    });
    assert_eq!(added, 10);
    assert_eq!(removed, 10);
    assert_eq!(max_len, 2);
}

#[test]
fn seed_cond_broadcast_button() {
    // The Go Concurrency Guide's button: three subscribers wait on a Cond;
    // one broadcast runs all three handlers.
    let ran = weft::run(|| {
        let clicked = Arc::new((Mutex::new(false), Cond::new()));
        let ran = Arc::new(AtomicUsize::new(0));
        let registered = Arc::new(WaitGroup::new());
        let handled = Arc::new(WaitGroup::new());
        for _ in 0..3 {
            registered.add(1);
            handled.add(1);
            let (c, ran, registered, handled) = (
                clicked.clone(),
                ran.clone(),
                registered.clone(),
                handled.clone(),
            );
            weft::spawn(move || {
                let mut g = c.0.lock();
                registered.done();
                while !*g {
                    g = c.1.wait(g);
                }
                ran.fetch_add(1, Ordering::SeqCst);
                handled.done();
            });
        }
        registered.wait();
        *clicked.0.lock() = true;
        clicked.1.broadcast();
        handled.wait();
        ran.load(Ordering::SeqCst)
    });
    assert_eq!(ran, 3);
}

#[test]
fn seed_once_counts_to_one() {
    let count = weft::run(|| {
        let once = Arc::new(Once::new());
        let count = Arc::new(AtomicUsize::new(0));
        let wg = Arc::new(WaitGroup::new());
        wg.add(100);
        for _ in 0..100 {
            let (once, count, wg) = (once.clone(), count.clone(), wg.clone());
            weft::spawn(move || {
                once.call_once(|| {
                    // Make the others arrive while we run, so they park.
                    weft::yield_now();
                    count.fetch_add(1, Ordering::SeqCst);
                });
                // Everyone returns only after the call completed.
                assert_eq!(count.load(Ordering::SeqCst), 1);
                wg.done();
            });
        }
        wg.wait();
        // The second function is never run: Once counts calls, not functions.
        once.call_once(|| {
            count.fetch_sub(1, Ordering::SeqCst);
        });
        count.load(Ordering::SeqCst)
    });
    assert_eq!(count, 1);
}

#[test]
fn oncelock_initialises_once() {
    weft::run(|| {
        let cell = Arc::new(OnceLock::new());
        let inits = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..50)
            .map(|i| {
                let (cell, inits) = (cell.clone(), inits.clone());
                weft::spawn(move || {
                    *cell.get_or_init(|| {
                        weft::yield_now();
                        inits.fetch_add(1, Ordering::SeqCst);
                        i
                    })
                })
            })
            .collect();
        let vals: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(inits.load(Ordering::SeqCst), 1);
        assert!(vals.iter().all(|v| *v == vals[0]));
        assert_eq!(cell.set(1000), Err(1000));
    });
}

#[test]
fn seed_pool_reuse() {
    let (created, created_calc) = weft::run(|| {
        // The guide's first pool: get, get, put, get => two creations.
        let created = Arc::new(AtomicUsize::new(0));
        let c = created.clone();
        let pool = Pool::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
            String::from("instance")
        });
        pool.get();
        let instance = pool.get();
        pool.put(instance);
        pool.get();

        // The calc pool: 4 warmed, then many goroutines get and put.
        let calc_created = Arc::new(AtomicUsize::new(0));
        let c = calc_created.clone();
        let calc = Arc::new(Pool::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
            vec![0u8; 1024]
        }));
        for _ in 0..4 {
            calc.put(vec![0u8; 1024]);
        }
        let wg = Arc::new(WaitGroup::new());
        let n = if cfg!(debug_assertions) {
            2_000
        } else {
            10_000
        };
        wg.add(n);
        for _ in 0..n {
            let (calc, wg) = (calc.clone(), wg.clone());
            weft::spawn(move || {
                let mem = calc.get();
                assert_eq!(mem.len(), 1024);
                calc.put(mem);
                wg.done();
            });
        }
        wg.wait();
        (
            created.load(Ordering::SeqCst),
            calc_created.load(Ordering::SeqCst),
        )
    });
    assert_eq!(created, 2);
    // Only values in use at the same moment are ever created: a handful,
    // not one per goroutine.
    assert!(created_calc <= 64, "{created_calc} calculators created");
}

#[test]
fn rwlock_readers_run_together() {
    const N: usize = 8;
    let peak = weft::run(|| {
        let lock = Arc::new(RwLock::new(0u32));
        let inside = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..N)
            .map(|_| {
                let (lock, inside, peak) = (lock.clone(), inside.clone(), peak.clone());
                weft::spawn(move || {
                    let g = lock.read();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    // Hold the read lock until every reader is inside: only
                    // possible if readers overlap.
                    wait_until("all readers inside", || inside.load(Ordering::SeqCst) == N);
                    assert_eq!(*g, 0);
                    drop(g);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        peak.load(Ordering::SeqCst)
    });
    assert_eq!(peak, N);
}

#[test]
fn rwlock_writers_alone() {
    let per = if cfg!(debug_assertions) { 500 } else { 5_000 };
    let (value, violations) = weft::run(move || {
        let lock = Arc::new(RwLock::new(0u64));
        // > 0: readers inside; -1: a writer inside.
        let occupancy = Arc::new(AtomicI64::new(0));
        let violations = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for w in 0..4 {
            let (lock, occ, bad) = (lock.clone(), occupancy.clone(), violations.clone());
            hs.push(weft::spawn(move || {
                for i in 0..per {
                    let mut g = lock.write();
                    if occ.swap(-1, Ordering::SeqCst) != 0 {
                        bad.fetch_add(1, Ordering::SeqCst);
                    }
                    *g += 1;
                    if (i + w) % 64 == 0 {
                        weft::yield_now();
                    }
                    if occ.swap(0, Ordering::SeqCst) != -1 {
                        bad.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
        for r in 0..8 {
            let (lock, occ, bad) = (lock.clone(), occupancy.clone(), violations.clone());
            hs.push(weft::spawn(move || {
                for i in 0..per {
                    let g = lock.read();
                    if occ.fetch_add(1, Ordering::SeqCst) < 0 {
                        bad.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = *g;
                    if (i + r) % 64 == 0 {
                        weft::yield_now();
                    }
                    if occ.fetch_sub(1, Ordering::SeqCst) <= 0 {
                        bad.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
        for h in hs {
            h.join().unwrap();
        }
        let v = *lock.read();
        (v, violations.load(Ordering::SeqCst))
    });
    assert_eq!(violations, 0);
    assert_eq!(value, 4 * per as u64);
}

#[test]
fn rwlock_waiting_writer_blocks_new_readers() {
    let order = weft::run(|| {
        let lock = Arc::new(RwLock::new(Vec::<&'static str>::new()));
        let first = lock.read();
        let l = lock.clone();
        let writer = weft::spawn(move || l.write().push("writer"));
        // The writer is pending once a fresh reader is refused.
        wait_until("writer pending", || lock.try_read().is_none());
        let l = lock.clone();
        let reader = weft::spawn(move || {
            let g = l.read();
            g.first().copied()
        });
        // Let the late reader try (and park) while the writer waits.
        for _ in 0..100 {
            weft::yield_now();
        }
        drop(first);
        writer.join().unwrap();
        let seen_by_late_reader = reader.join().unwrap();
        let v = lock.read().clone();
        (seen_by_late_reader, v)
    });
    // The late reader got in only after the writer.
    assert_eq!(order.0, Some("writer"));
    assert_eq!(order.1, ["writer"]);
}

#[test]
fn semaphore_weights_and_fifo() {
    weft::run(|| {
        let sem = Arc::new(Semaphore::new(10));
        let order = Arc::new(Mutex::new(Vec::new()));
        sem.acquire(6);
        let (s, o) = (sem.clone(), order.clone());
        let big = weft::spawn(move || {
            s.acquire(10);
            o.lock().push("big");
            s.release(10);
        });
        // 4 units are free, yet a small request is refused: the big one is
        // queued ahead of it (FIFO), so it is not starved.
        wait_until("big request queued", || {
            if sem.try_acquire(1) {
                sem.release(1); // not queued yet: give it back
                false
            } else {
                true
            }
        });
        let (s, o) = (sem.clone(), order.clone());
        let small = weft::spawn(move || {
            s.acquire(1);
            o.lock().push("small");
            s.release(1);
        });
        for _ in 0..100 {
            weft::yield_now();
        }
        assert!(order.lock().is_empty());
        sem.release(6);
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(*order.lock(), ["big", "small"]);
        assert_eq!(sem.available(), 10);
    });
}

#[test]
fn semaphore_never_over_committed() {
    let per = if cfg!(debug_assertions) { 200 } else { 2_000 };
    let (peak, bad) = weft::run(move || {
        let sem = Arc::new(Semaphore::new(7));
        let held = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let bad = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..16usize)
            .map(|g| {
                let (sem, held, peak, bad) = (sem.clone(), held.clone(), peak.clone(), bad.clone());
                weft::spawn(move || {
                    for i in 0..per {
                        let w = 1 + (g + i) % 4;
                        sem.acquire(w);
                        let now = held.fetch_add(w, Ordering::SeqCst) + w;
                        if now > 7 {
                            bad.fetch_add(1, Ordering::SeqCst);
                        }
                        peak.fetch_max(now, Ordering::SeqCst);
                        if i % 8 == 0 {
                            weft::yield_now();
                        }
                        held.fetch_sub(w, Ordering::SeqCst);
                        sem.release(w);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        (peak.load(Ordering::SeqCst), bad.load(Ordering::SeqCst))
    });
    assert_eq!(bad, 0);
    assert!(peak <= 7);
}

#[test]
fn panicking_lock_holder_does_not_hang_others() {
    weft::run(|| {
        let m = Arc::new(Mutex::new(0u32));
        let wg = Arc::new(WaitGroup::new());
        let holder_has_lock = Arc::new(AtomicBool::new(false));
        let (m2, flag) = (m.clone(), holder_has_lock.clone());
        let holder = weft::spawn(move || {
            let mut g = m2.lock();
            *g += 1;
            flag.store(true, Ordering::SeqCst);
            // Let the waiters queue up and park behind us.
            for _ in 0..200 {
                weft::yield_now();
            }
            panic!("holder dies with the lock");
        });
        wait_until("holder locked", || holder_has_lock.load(Ordering::SeqCst));
        for _ in 0..4 {
            wg.add(1);
            let (m, wg) = (m.clone(), wg.clone());
            weft::spawn(move || {
                *m.lock() += 1;
                wg.done();
            });
        }
        assert!(holder.join().is_err());
        wg.wait();
        assert_eq!(*m.lock(), 5);
        assert!(m.is_poisoned(), "the next locker can tell");
        m.clear_poison();
        assert!(!m.is_poisoned());

        // The same for an RwLock writer.
        let l = Arc::new(RwLock::new(0u32));
        let l2 = l.clone();
        let r = weft::spawn(move || {
            let _g = l2.write();
            weft::yield_now();
            panic!("writer dies");
        })
        .join();
        assert!(r.is_err());
        assert_eq!(*l.read(), 0);
        *l.write() += 1;
        assert!(l.is_poisoned());
    });
}

#[test]
fn goroutines_and_plain_threads_share_a_mutex() {
    let per = if cfg!(debug_assertions) {
        5_000
    } else {
        50_000
    };
    let m = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                for _ in 0..per {
                    *m.lock() += 1;
                }
            })
        })
        .collect();
    let m2 = m.clone();
    weft::run(move || {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let m = m2.clone();
                weft::spawn(move || {
                    for i in 0..per {
                        let mut g = m.lock();
                        *g += 1;
                        if i % 512 == 0 {
                            weft::yield_now();
                        }
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*m.lock(), 6 * per);
}
