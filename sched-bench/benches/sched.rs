//! Criterion benches for the scheduler's two basic costs, goroutines beside
//! OS threads (and tokio tasks) in one group each, so criterion's comparison
//! plots show them side by side:
//!
//! - `spawn`: spawn one and join it (weft goroutine, tokio task, OS thread);
//! - `switch`: hand control to another goroutine/thread and get it back
//!   (weft `yield_now` between two goroutines; a baton passed by park/unpark
//!   between two goroutines and between two OS threads);
//! - `handoff`: one round trip over two unbuffered channels (weft `chan(0)`
//!   between goroutines; `std::sync::mpsc::sync_channel(0)` and
//!   crossbeam's `bounded(0)` between OS threads; tokio's `mpsc` with
//!   capacity 1 between tasks).
//!
//! The goroutine sides run their timing loop inside `weft::run`, so they
//! measure goroutine-to-goroutine costs rather than a plain thread waiting
//! on a goroutine. `cargo bench -p sched-bench`; reports land in
//! `target/criterion`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

fn spawn(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn");
    g.bench_function("weft goroutine", |b| {
        b.iter_custom(|iters| {
            weft::run(move || {
                let start = Instant::now();
                for i in 0..iters {
                    black_box(weft::spawn(move || black_box(i)).join().unwrap());
                }
                start.elapsed()
            })
        })
    });
    let rt = tokio::runtime::Builder::new_multi_thread().build().unwrap();
    g.bench_function("tokio task", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async move {
                tokio::spawn(async move {
                    let start = Instant::now();
                    for i in 0..iters {
                        black_box(tokio::spawn(async move { black_box(i) }).await.unwrap());
                    }
                    start.elapsed()
                })
                .await
                .unwrap()
            })
        })
    });
    g.bench_function("os thread", |b| {
        b.iter(|| black_box(thread::spawn(|| black_box(1)).join().unwrap()))
    });
    g.finish();
}

/// Passes a baton `iters` times between the caller and a partner: each
/// side waits (parks) until the counter shows its turn. `park`/`unpark`
/// are weft's or std's. The partner's handle is published through a std
/// mutex that is never held across a park, and awaited with `yield_now`, so
/// nothing blocks an M whatever the spawn policy.
fn baton<P, U, S>(
    iters: u64,
    spawn: S,
    park: P,
    yield_now: fn(),
    me: U,
    unparker: fn() -> U,
    wake: fn(&U),
) -> Duration
where
    P: Fn() + Send + Sync + Copy + 'static,
    U: Send + Sync + 'static,
    S: FnOnce(Box<dyn FnOnce() + Send>),
{
    let turn = Arc::new(AtomicU64::new(0));
    let slot = Arc::new(std::sync::Mutex::new(None::<U>));
    let me = Arc::new(me);
    let partner = {
        let (turn, me, slot) = (turn.clone(), me.clone(), slot.clone());
        move || {
            *slot.lock().unwrap() = Some(unparker());
            for i in 0..iters {
                while turn.load(Ordering::Acquire) != 2 * i + 1 {
                    park();
                }
                turn.store(2 * i + 2, Ordering::Release);
                wake(&me);
            }
        }
    };
    spawn(Box::new(partner));
    let other = loop {
        if let Some(u) = slot.lock().unwrap().take() {
            break u;
        }
        yield_now();
    };
    let start = Instant::now();
    for i in 0..iters {
        turn.store(2 * i + 1, Ordering::Release);
        wake(&other);
        while turn.load(Ordering::Acquire) != 2 * i + 2 {
            park();
        }
    }
    start.elapsed()
}

fn switch(c: &mut Criterion) {
    let mut g = c.benchmark_group("switch");
    g.bench_function("weft yield_now pair", |b| {
        b.iter_custom(|iters| {
            weft::run(move || {
                let half = iters.div_ceil(2);
                let start = Instant::now();
                let hs: Vec<_> = (0..2)
                    .map(|_| {
                        weft::spawn(move || {
                            for _ in 0..half {
                                weft::yield_now();
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.join().unwrap();
                }
                start.elapsed()
            })
        })
    });
    g.bench_function("weft park/unpark baton", |b| {
        use weft::runtime::park::{park, unparker, Unparker};
        b.iter_custom(|iters| {
            weft::run(move || {
                baton(
                    iters,
                    |f| drop(weft::spawn(f)),
                    || park(weft::WaitReason::Park, || {}),
                    weft::yield_now,
                    unparker(),
                    unparker,
                    Unparker::unpark,
                )
            })
        })
    });
    g.bench_function("os thread park/unpark baton", |b| {
        b.iter_custom(|iters| {
            baton(
                iters,
                |f| drop(thread::spawn(f)),
                thread::park,
                thread::yield_now,
                thread::current(),
                thread::current,
                thread::Thread::unpark,
            )
        })
    });
    g.finish();
}

/// An echo partner and `iters` round trips through two rendezvous channels,
/// with the given channel constructor and spawner (OS threads).
fn thread_round_trips<Tx, Rx>(
    iters: u64,
    make: fn() -> (Tx, Rx),
    send: fn(&Tx, u64) -> bool,
    recv: fn(&Rx) -> Option<u64>,
) -> Duration
where
    Tx: Send + 'static,
    Rx: Send + 'static,
{
    let (ping_tx, ping_rx) = make();
    let (pong_tx, pong_rx) = make();
    let echo = thread::spawn(move || {
        while let Some(v) = recv(&ping_rx) {
            if !send(&pong_tx, v) {
                break;
            }
        }
    });
    let start = Instant::now();
    for i in 0..iters {
        send(&ping_tx, i);
        black_box(recv(&pong_rx));
    }
    let took = start.elapsed();
    drop(ping_tx);
    echo.join().unwrap();
    took
}

fn handoff(c: &mut Criterion) {
    let mut g = c.benchmark_group("handoff");
    g.bench_function("weft chan(0) round trip", |b| {
        b.iter_custom(|iters| {
            weft::run(move || {
                let (ping_tx, ping_rx) = weft::chan::<u64>(0);
                let (pong_tx, pong_rx) = weft::chan::<u64>(0);
                let echo = weft::spawn(move || {
                    for v in &ping_rx {
                        if pong_tx.send(v).is_err() {
                            break;
                        }
                    }
                });
                let start = Instant::now();
                for i in 0..iters {
                    ping_tx.send(i).unwrap();
                    black_box(pong_rx.recv().unwrap());
                }
                let took = start.elapsed();
                drop(ping_tx);
                echo.join().unwrap();
                took
            })
        })
    });
    g.bench_function("os thread std sync_channel(0) round trip", |b| {
        b.iter_custom(|iters| {
            thread_round_trips(
                iters,
                || std::sync::mpsc::sync_channel::<u64>(0),
                |tx, v| tx.send(v).is_ok(),
                |rx| rx.recv().ok(),
            )
        })
    });
    g.bench_function("os thread crossbeam bounded(0) round trip", |b| {
        b.iter_custom(|iters| {
            thread_round_trips(
                iters,
                || crossbeam_channel::bounded::<u64>(0),
                |tx, v| tx.send(v).is_ok(),
                |rx| rx.recv().ok(),
            )
        })
    });
    let rt = tokio::runtime::Builder::new_multi_thread().build().unwrap();
    g.bench_function("tokio mpsc(1) round trip", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async move {
                // Both ends on the runtime's workers, as in `spawn`.
                tokio::spawn(async move {
                    let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(1);
                    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(1);
                    let echo = tokio::spawn(async move {
                        while let Some(v) = ping_rx.recv().await {
                            if pong_tx.send(v).await.is_err() {
                                break;
                            }
                        }
                    });
                    let start = Instant::now();
                    for i in 0..iters {
                        ping_tx.send(i).await.unwrap();
                        black_box(pong_rx.recv().await.unwrap());
                    }
                    let took = start.elapsed();
                    drop(ping_tx);
                    echo.await.unwrap();
                    took
                })
                .await
                .unwrap()
            })
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = spawn, switch, handoff
}
criterion_main!(benches);
