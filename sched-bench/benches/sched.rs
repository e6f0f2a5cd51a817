//! Criterion benches for the scheduler's two basic costs, goroutines beside
//! OS threads (and tokio tasks) in one group each, so criterion's comparison
//! plots show them side by side:
//!
//! - `spawn`: spawn one and join it (weft goroutine, tokio task, OS thread);
//! - `switch`: hand control to another goroutine/thread and get it back
//!   (weft `yield_now` between two goroutines; a baton passed by park/unpark
//!   between two goroutines and between two OS threads).
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

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = spawn, switch
}
criterion_main!(benches);
