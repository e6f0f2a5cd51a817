//! The workloads on weft goroutines.
//!
//! Runs inside a worker process whose runtime was configured (spawn policy,
//! maxprocs) before first use; see `runners`. Each function runs its
//! workload inside `weft::run` and returns the row's figure.
//!
//! Workloads that need channels or `select!` are
//! absent until those APIs are in main: `plan` marks their rows "not yet
//! implemented in weft" and [`run`] refuses them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use weft::runtime::park::{park, unparker};
use weft::WaitReason;

use super::{
    fib_serial, fib_spawns, ms_since, ns_per, rss_bytes, timer_delay, Kind, MUTEX_GOROUTINES,
};

/// Runs `kind` at `size` on weft and returns its figure.
pub fn run(kind: Kind, size: u64) -> Result<f64, String> {
    match kind {
        Kind::Spawn => Ok(weft::run(move || spawn(size))),
        Kind::Yield => Ok(weft::run(move || yield_pair(size))),
        Kind::Skynet => weft::run(move || skynet_bench(size)),
        Kind::Fib => weft::run(move || fib_bench(size)),
        Kind::Memory => weft::run(move || memory(size)),
        Kind::Timers => weft::run(move || timers(size)),
        Kind::Mutex => weft::run(move || mutex(size)),
        _ => Err(format!("{kind}: not yet implemented in weft")),
    }
}

/// `size` goroutines that do nothing, then joined.
fn spawn(n: u64) -> f64 {
    let start = Instant::now();
    let hs: Vec<_> = (0..n).map(|_| weft::spawn(|| ())).collect();
    for h in hs {
        h.join().unwrap();
    }
    ns_per(start, n)
}

/// Two goroutines each yield `n` times.
fn yield_pair(n: u64) -> f64 {
    let start = Instant::now();
    let hs: Vec<_> = (0..2)
        .map(|_| {
            weft::spawn(move || {
                for _ in 0..n {
                    weft::yield_now();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    ns_per(start, 2 * n)
}

/// Skynet by spawn and join (Go's version uses channels; the tree and the
/// number of goroutines are the same).
fn skynet(num: u64, size: u64) -> u64 {
    if size == 1 {
        return num;
    }
    let sub = size / 10;
    let hs: Vec<_> = (0..10)
        .map(|i| weft::spawn(move || skynet(num + i * sub, sub)))
        .collect();
    hs.into_iter().map(|h| h.join().unwrap()).sum()
}

fn skynet_bench(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let sum = weft::spawn(move || skynet(0, n)).join().unwrap();
    let ms = ms_since(start);
    check(sum == n * (n - 1) / 2, "skynet: wrong sum")?;
    Ok(ms)
}

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let h = weft::spawn(move || fib(n - 1));
    let y = fib(n - 2);
    h.join().unwrap() + y
}

fn fib_bench(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let v = fib(n);
    let ns = ns_per(start, fib_spawns(n));
    check(v == fib_serial(n), "fib: wrong result")?;
    Ok(ns)
}

/// `n` goroutines parked at once (on the parking primitive itself); the RSS
/// they add, in KB per goroutine. The goroutines are then released and
/// joined, so the number is taken with everything still accounted for.
fn memory(n: u64) -> Result<f64, String> {
    let before = rss_bytes();
    let parked = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let wakers = Arc::new(Mutex::new(Vec::with_capacity(n as usize)));
    let mut hs = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (parked, release, wakers) = (parked.clone(), release.clone(), wakers.clone());
        let h = weft::Builder::new()
            .spawn(move || {
                wakers.lock().unwrap().push(unparker());
                parked.fetch_add(1, Ordering::Release);
                while !release.load(Ordering::Acquire) {
                    park(WaitReason::Park, || {});
                }
            })
            .map_err(|e| format!("spawn failed after {} goroutines: {e}", hs.len()))?;
        hs.push(h);
    }
    while parked.load(Ordering::Acquire) < n as usize {
        weft::yield_now();
    }
    let after = rss_bytes();
    release.store(true, Ordering::Release);
    for w in wakers.lock().unwrap().drain(..) {
        w.unpark();
    }
    for h in hs {
        h.join().map_err(|e| e.to_string())?;
    }
    Ok(after.saturating_sub(before) as f64 / n as f64 / 1024.0)
}

/// `n` goroutines each sleep 1–2 ms; ms until all have woken and been
/// joined.
fn timers(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let hs: Vec<_> = (0..n)
        .map(|i| weft::spawn(move || weft::time::sleep(timer_delay(i))))
        .collect();
    for h in hs {
        h.join().map_err(|e| e.to_string())?;
    }
    Ok(ms_since(start))
}

/// [`MUTEX_GOROUTINES`] goroutines share `n` lock/unlock pairs on one
/// `weft::sync::Mutex`.
fn mutex(n: u64) -> Result<f64, String> {
    let per = n / MUTEX_GOROUTINES as u64;
    let counter = Arc::new(weft::sync::Mutex::new(0u64));
    let start = Instant::now();
    let hs: Vec<_> = (0..MUTEX_GOROUTINES)
        .map(|_| {
            let counter = counter.clone();
            weft::spawn(move || {
                for _ in 0..per {
                    *counter.lock() += 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.join().map_err(|e| e.to_string())?;
    }
    let ns = ns_per(start, per * MUTEX_GOROUTINES as u64);
    check(
        *counter.lock() == per * MUTEX_GOROUTINES as u64,
        "mutex: lost updates",
    )?;
    Ok(ns)
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}
