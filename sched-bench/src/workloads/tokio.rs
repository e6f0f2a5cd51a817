//! The workloads on tokio: what a Rust user would otherwise pick.
//!
//! maxprocs 1 is tokio's current-thread runtime; maxprocs n > 1 is the
//! multi-thread runtime with n workers. Every workload runs as a spawned
//! task (not in `block_on`'s future, which would run off the workers).
//! tokio has no rendezvous channel: the "unbuffered" workloads use
//! `mpsc::channel(1)`, its smallest.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, Notify};

use super::{
    fib_serial, fib_spawns, ms_since, ns_per, rss_bytes, timer_delay, Kind, BUFFERED_CAP,
    MUTEX_GOROUTINES, RING_SIZE,
};

/// Runs `kind` at `size` on a tokio runtime with `procs` workers.
pub fn run(kind: Kind, size: u64, procs: usize) -> Result<f64, String> {
    let rt = if procs <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(procs)
            .enable_time()
            .build()
    }
    .map_err(|e| e.to_string())?;
    let fut: std::pin::Pin<Box<dyn Future<Output = Result<f64, String>> + Send>> = match kind {
        Kind::Spawn => Box::pin(spawn(size)),
        Kind::Yield => Box::pin(yield_pair(size)),
        Kind::PingPong => Box::pin(pingpong(size)),
        Kind::Buffered => Box::pin(buffered(size)),
        Kind::Select => Box::pin(select(size)),
        Kind::Skynet => Box::pin(skynet_bench(size)),
        Kind::Ring => Box::pin(ring(size)),
        Kind::Fib => Box::pin(fib_bench(size)),
        Kind::Memory => Box::pin(memory(size)),
        Kind::Mutex => Box::pin(mutex(size)),
        Kind::Timers => Box::pin(timers(size)),
    };
    rt.block_on(async move { tokio::spawn(fut).await.map_err(|e| e.to_string())? })
}

async fn spawn(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let hs: Vec<_> = (0..n).map(|_| tokio::spawn(async {})).collect();
    for h in hs {
        h.await.map_err(|e| e.to_string())?;
    }
    Ok(ns_per(start, n))
}

async fn yield_pair(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let hs: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..n {
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.map_err(|e| e.to_string())?;
    }
    Ok(ns_per(start, 2 * n))
}

async fn pingpong(n: u64) -> Result<f64, String> {
    let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
    tokio::spawn(async move {
        while let Some(v) = ping_rx.recv().await {
            if pong_tx.send(v).await.is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    for i in 0..n {
        ping_tx.send(i).await.map_err(|e| e.to_string())?;
        pong_rx.recv().await.ok_or("pong closed")?;
    }
    Ok(ns_per(start, n))
}

async fn buffered(n: u64) -> Result<f64, String> {
    let (tx, mut rx) = mpsc::channel::<u64>(BUFFERED_CAP);
    let start = Instant::now();
    tokio::spawn(async move {
        for i in 0..n {
            if tx.send(i).await.is_err() {
                break;
            }
        }
    });
    let mut got = 0;
    while rx.recv().await.is_some() {
        got += 1;
    }
    let ns = ns_per(start, n);
    if got != n {
        return Err("buffered: lost messages".into());
    }
    Ok(ns)
}

async fn select(n: u64) -> Result<f64, String> {
    let per = n / 4;
    let mut rxs = Vec::new();
    let start = Instant::now();
    for _ in 0..4 {
        let (tx, rx) = mpsc::channel::<u64>(1);
        rxs.push(rx);
        tokio::spawn(async move {
            for j in 0..per {
                if tx.send(j).await.is_err() {
                    break;
                }
            }
        });
    }
    let [mut a, mut b, mut c, mut d]: [mpsc::Receiver<u64>; 4] =
        rxs.try_into().map_err(|_| "select: 4 channels")?;
    for _ in 0..4 * per {
        tokio::select! {
            Some(_) = a.recv() => {},
            Some(_) = b.recv() => {},
            Some(_) = c.recv() => {},
            Some(_) = d.recv() => {},
        }
    }
    Ok(ns_per(start, 4 * per))
}

fn skynet(num: u64, size: u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let sub = size / 10;
        let hs: Vec<_> = (0..10)
            .map(|i| tokio::spawn(skynet(num + i * sub, sub)))
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    })
}

async fn skynet_bench(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let sum = tokio::spawn(skynet(0, n))
        .await
        .map_err(|e| e.to_string())?;
    let ms = ms_since(start);
    if sum != n * (n - 1) / 2 {
        return Err("skynet: wrong sum".into());
    }
    Ok(ms)
}

async fn ring(n: u64) -> Result<f64, String> {
    let mut txs = Vec::with_capacity(RING_SIZE);
    let mut rxs = Vec::with_capacity(RING_SIZE);
    for _ in 0..RING_SIZE {
        let (tx, rx) = mpsc::channel::<u64>(1);
        txs.push(tx);
        rxs.push(rx);
    }
    let first = txs[0].clone();
    txs.rotate_left(1); // member i receives on rxs[i], sends to txs[i] = ring[i+1]
    let mut hs = Vec::with_capacity(RING_SIZE);
    for (mut rx, tx) in rxs.into_iter().zip(txs) {
        hs.push(tokio::spawn(async move {
            while let Some(v) = rx.recv().await {
                if v == 0 {
                    return; // dropping tx ends the next member
                }
                if tx.send(v - 1).await.is_err() {
                    return;
                }
            }
        }));
    }
    let start = Instant::now();
    first.send(n).await.map_err(|e| e.to_string())?;
    drop(first);
    for h in hs {
        h.await.map_err(|e| e.to_string())?;
    }
    Ok(ns_per(start, n))
}

fn fib(n: u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if n < 2 {
            return n;
        }
        let h = tokio::spawn(fib(n - 1));
        let y = fib(n - 2).await;
        h.await.unwrap() + y
    })
}

async fn fib_bench(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let v = fib(n).await;
    let ns = ns_per(start, fib_spawns(n));
    if v != fib_serial(n) {
        return Err("fib: wrong result".into());
    }
    Ok(ns)
}

async fn memory(n: u64) -> Result<f64, String> {
    let before = rss_bytes();
    let release = Arc::new(Notify::new());
    let parked = Arc::new(AtomicUsize::new(0));
    let mut hs = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (release, parked) = (release.clone(), parked.clone());
        hs.push(tokio::spawn(async move {
            let wait = release.notified();
            parked.fetch_add(1, Ordering::Release);
            wait.await;
        }));
    }
    while parked.load(Ordering::Acquire) < n as usize {
        tokio::task::yield_now().await;
    }
    let after = rss_bytes();
    release.notify_waiters();
    for h in hs {
        h.await.map_err(|e| e.to_string())?;
    }
    Ok(after.saturating_sub(before) as f64 / n as f64 / 1024.0)
}

async fn mutex(n: u64) -> Result<f64, String> {
    let per = n / MUTEX_GOROUTINES as u64;
    let counter = Arc::new(tokio::sync::Mutex::new(0u64));
    let start = Instant::now();
    let hs: Vec<_> = (0..MUTEX_GOROUTINES)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move {
                for _ in 0..per {
                    *counter.lock().await += 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.map_err(|e| e.to_string())?;
    }
    let ns = ns_per(start, per * MUTEX_GOROUTINES as u64);
    if *counter.lock().await != per * MUTEX_GOROUTINES as u64 {
        return Err("mutex: lost updates".into());
    }
    Ok(ns)
}

async fn timers(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let hs: Vec<_> = (0..n)
        .map(|i| tokio::spawn(tokio::time::sleep(timer_delay(i))))
        .collect();
    for h in hs {
        h.await.map_err(|e| e.to_string())?;
    }
    Ok(ms_since(start))
}
