//! Scheduler behaviour that must hold under every spawn policy and
//! processor count. CI runs this file under `WEFT_SPAWN=continuation|child`
//! × `WEFT_MAXPROCS=1|2` (see `test.sh`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_runtime::park::{park, unparker, Unparker};
use weft_runtime::{self as weft, WaitReason};

#[test]
fn spawn_and_join_100k_summing_results() {
    let total: u64 = weft::run(|| {
        let hs: Vec<_> = (0..100_000u64).map(|i| weft::spawn(move || i)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(total, 100_000 * 99_999 / 2);
}

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let a = weft::spawn(move || fib(n - 1));
    let b = fib(n - 2);
    a.join().unwrap() + b
}

#[test]
fn fork_join_fib_25() {
    assert_eq!(weft::run(|| fib(25)), 75025);
}

#[test]
fn spawn_from_plain_threads_without_run() {
    let ts: Vec<_> = (0..4u64)
        .map(|t| {
            std::thread::spawn(move || {
                let hs: Vec<_> = (0..1000u64)
                    .map(|i| weft::go!(move || t * 1000 + i))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
            })
        })
        .collect();
    let total: u64 = ts.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(total, (0..4000u64).sum());
}

/// A one-shot flag that parks its waiter: the smallest user of the parking
/// primitive, used to wake goroutines from threads and back.
#[derive(Default)]
struct Flag {
    state: Mutex<(bool, Option<Unparker>)>,
}

impl Flag {
    fn set(&self) {
        let mut st = self.state.lock().unwrap();
        st.0 = true;
        let w = st.1.take();
        drop(st);
        if let Some(w) = w {
            w.unpark();
        }
    }

    fn wait(&self) {
        let mut st = self.state.lock().unwrap();
        while !st.0 {
            st.1 = Some(unparker());
            let mut g = Some(st);
            park(WaitReason::Park, move || drop(g.take()));
            st = self.state.lock().unwrap();
        }
    }
}

#[test]
fn goroutines_woken_by_plain_threads() {
    const N: usize = 1000;
    let flags: Arc<Vec<Flag>> = Arc::new((0..N).map(|_| Flag::default()).collect());
    let woke = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..N)
        .map(|i| {
            let (flags, woke) = (flags.clone(), woke.clone());
            weft::spawn(move || {
                flags[i].wait();
                woke.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let f = flags.clone();
    let waker = std::thread::spawn(move || {
        for flag in f.iter().rev() {
            flag.set();
        }
    });
    for h in hs {
        h.join().unwrap();
    }
    waker.join().unwrap();
    assert_eq!(woke.load(Ordering::SeqCst), N);
}

#[test]
fn plain_threads_woken_by_goroutines() {
    const N: usize = 8;
    let flags: Arc<Vec<Flag>> = Arc::new((0..N).map(|_| Flag::default()).collect());
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let flags = flags.clone();
            std::thread::spawn(move || {
                flags[i].wait();
                i
            })
        })
        .collect();
    let f = flags.clone();
    weft::run(move || {
        let hs: Vec<_> = (0..N)
            .map(|i| {
                let f = f.clone();
                weft::spawn(move || f[i].set())
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
    let got: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
}

#[test]
fn unpark_races_with_park_from_many_wakers() {
    // Ping-pong through the parking primitive: every wake-up is counted, and
    // several wakers race to wake the same goroutine.
    const ROUNDS: usize = 20_000;
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    weft::run(move || {
        let me = unparker();
        let wakers: Vec<_> = (0..3)
            .map(|_| {
                let (me, c) = (me.clone(), c.clone());
                weft::spawn(move || {
                    for _ in 0..ROUNDS {
                        c.fetch_add(1, Ordering::SeqCst);
                        me.unpark();
                        weft::yield_now();
                    }
                })
            })
            .collect();
        // Wait until every increment is seen; each park may absorb many
        // unparks (tokens do not accumulate) but none is lost: the final
        // unpark always wakes us.
        while c.load(Ordering::SeqCst) < 3 * ROUNDS {
            park(WaitReason::Park, || {});
        }
        for w in wakers {
            w.join().unwrap();
        }
    });
    assert_eq!(count.load(Ordering::SeqCst), 3 * ROUNDS);
}

#[test]
fn go_macro_evaluates_arguments_at_the_call() {
    fn add(a: u64, b: u64) -> u64 {
        a + b
    }
    let mut x = 1;
    let h = weft::go!(add(x, {
        x += 10;
        x
    }));
    x = 1000;
    assert_eq!(h.join().unwrap(), 12);
    assert_eq!(weft::go!(move || x).join().unwrap(), 1000);
    assert_eq!(weft::go!(std::cmp::max(3, 4)).join().unwrap(), 4);
}

#[test]
fn panicking_goroutine_while_others_finish() {
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let (ok, failed) = weft::run(move || {
        let hs: Vec<_> = (0..200)
            .map(|i| {
                let d = d.clone();
                weft::Builder::new()
                    .name(format!("w{i}"))
                    .spawn(move || {
                        weft::yield_now();
                        if i % 50 == 7 {
                            panic!("worker {i} failed");
                        }
                        d.fetch_add(1, Ordering::SeqCst);
                    })
                    .unwrap()
            })
            .collect();
        let mut ok = 0;
        let mut failed = Vec::new();
        for h in hs {
            match h.join() {
                Ok(()) => ok += 1,
                Err(e) => failed.push(e.to_string()),
            }
        }
        (ok, failed)
    });
    assert_eq!(ok, 196);
    assert_eq!(done.load(Ordering::SeqCst), 196);
    assert_eq!(failed.len(), 4);
    assert!(failed
        .iter()
        .all(|m| m.starts_with("goroutine panicked: worker ")));
}

#[test]
fn run_reraises_the_main_goroutines_panic() {
    let r = std::panic::catch_unwind(|| weft::run(|| panic!("main failed")));
    let payload = r.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
}

#[test]
fn yield_lets_the_other_goroutine_run() {
    // Two goroutines that yield in turn both make progress.
    let flag = Arc::new(AtomicUsize::new(0));
    weft::run(move || {
        let f = flag.clone();
        let a = weft::spawn(move || {
            for _ in 0..1000 {
                f.fetch_add(1, Ordering::SeqCst);
                weft::yield_now();
            }
        });
        let f = flag.clone();
        let b = weft::spawn(move || {
            for _ in 0..1000 {
                f.fetch_add(1, Ordering::SeqCst);
                weft::yield_now();
            }
        });
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(flag.load(Ordering::SeqCst), 2000);
    });
}

#[test]
fn work_spreads_over_every_p() {
    let n = weft::maxprocs();
    let before = weft::stats();
    // CPU-bound goroutines that each spin until every one of them has
    // started: with n Ps they can only all be running at once on n Ms.
    let started = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..n)
        .map(|_| {
            let s = started.clone();
            weft::spawn(move || {
                s.fetch_add(1, Ordering::SeqCst);
                let t = Instant::now();
                while s.load(Ordering::SeqCst) < n && t.elapsed() < Duration::from_secs(30) {
                    std::hint::spin_loop();
                }
                weft::current_id().unwrap()
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(started.load(Ordering::SeqCst), n);
    let after = weft::stats();
    assert_eq!(after.procs.len(), n);
    for (a, b) in after.procs.iter().zip(&before.procs) {
        assert!(
            a.schedticks > b.schedticks,
            "P{} never scheduled: {after:?}",
            a.id
        );
    }
}

#[test]
fn current_id_and_num_goroutine() {
    assert_eq!(weft::current_id(), None);
    let release = Arc::new(AtomicBool::new(false));
    let r = release.clone();
    let h = weft::spawn(move || {
        while !r.load(Ordering::SeqCst) {
            weft::yield_now();
        }
        weft::current_id()
    });
    assert!(weft::num_goroutine() >= 1);
    let id = h.id();
    release.store(true, Ordering::SeqCst);
    assert_eq!(h.join().unwrap(), Some(id));
}

#[test]
fn builder_rejects_bad_stack_sizes_with_clear_errors() {
    let e = weft::Builder::new()
        .stack_size(100)
        .spawn(|| ())
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("stack_size"), "{e}");
    let e = weft::Builder::new()
        .stack_size(usize::MAX)
        .spawn(|| ())
        .unwrap_err();
    assert!(e.to_string().contains("maximum"), "{e}");
    let h = weft::Builder::new()
        .stack_size(64 * 1024)
        .name("small")
        .spawn(|| 5)
        .unwrap();
    assert_eq!(h.join().unwrap(), 5);
}

#[test]
fn run_again_and_again_from_a_plain_thread() {
    // Each `run` starts right after the previous one left every M idle: the
    // main goroutine is pushed to the global queue from a plain thread while
    // Ms are giving up their Ps (a lost wake-up here once hung the loop).
    for round in 0..100u64 {
        let sum: u64 = weft::run(move || {
            let hs: Vec<_> = (0..2000u64)
                .map(|i| weft::spawn(move || i + round))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(sum, 1999 * 1000 + 2000 * round);
    }
}
