//! The workloads on tokio: what a Rust user would otherwise pick.
//!
//! maxprocs 1 is tokio's current-thread runtime; maxprocs n > 1 is the
//! multi-thread runtime with n workers. Every workload runs as a spawned
//! task (not in `block_on`'s future, which would run off the workers).
//!
//! Each program is Go's, in tokio's closest terms: tokio has no rendezvous
//! channel, so Go's unbuffered channels are `mpsc::channel(1)`, its
//! smallest; it has no WaitGroup, so [`WaitGroup`] below is one (a counter
//! and a `Notify`); Go's "close a channel to release everybody" is a
//! `watch` channel whose sender is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Notify};

use crate::runners::Measured;

use super::{
    echo, fib_serial, fib_spawns, ms_since, ns_per, process_threads, rss_bytes, timer_delay,
    EchoResult, Kind, BUFFERED_CAP, ECHO_MSG, ECHO_ROUNDS, MUTEX_GOROUTINES, RING_SIZE, SOMAXCONN,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

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
    let fut: BoxFuture<Result<f64, String>> = match kind {
        Kind::Spawn => Box::pin(spawn(size)),
        Kind::SpawnJoin => Box::pin(spawn_join(size)),
        Kind::Yield => Box::pin(yield_pair(size)),
        Kind::PingPong => Box::pin(pingpong(size)),
        Kind::Buffered => Box::pin(buffered(size)),
        Kind::Select => Box::pin(select(size)),
        Kind::Skynet => Box::pin(skynet_bench(size)),
        Kind::SkynetJoin => Box::pin(skynet_join_bench(size)),
        Kind::Ring => Box::pin(ring(size)),
        Kind::Fib => Box::pin(fib_bench(size, fib)),
        Kind::FibJoin => Box::pin(fib_bench(size, fib_join)),
        Kind::Memory => Box::pin(memory(size)),
        Kind::Mutex => Box::pin(mutex(size)),
        Kind::Timers => Box::pin(timers(size)),
        Kind::Echo => return Err("echo: see echo_server".into()),
    };
    rt.block_on(async move { tokio::spawn(fut).await.map_err(|e| e.to_string())? })
}

/// Go's `sync.WaitGroup` for tasks, which tokio lacks: a counter set
/// before the tasks start, `done` by each, one waiter.
struct WaitGroup {
    count: AtomicUsize,
    zero: Notify,
}

impl WaitGroup {
    fn new(n: u64) -> Arc<WaitGroup> {
        Arc::new(WaitGroup {
            count: AtomicUsize::new(n as usize),
            zero: Notify::new(),
        })
    }

    fn done(&self) {
        // AcqRel: the waiter that sees zero sees every task's writes.
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Stores a permit when the waiter is not waiting yet.
            self.zero.notify_one();
        }
    }

    async fn wait(&self) {
        while self.count.load(Ordering::Acquire) != 0 {
            self.zero.notified().await;
        }
    }
}

async fn spawn(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let wg = WaitGroup::new(n);
    for _ in 0..n {
        let wg = wg.clone();
        tokio::spawn(async move { wg.done() });
    }
    wg.wait().await;
    Ok(ns_per(start, n))
}

async fn spawn_join(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let hs: Vec<_> = (0..n).map(|_| tokio::spawn(async {})).collect();
    for h in hs {
        h.await.map_err(|e| e.to_string())?;
    }
    Ok(ns_per(start, n))
}

async fn yield_pair(n: u64) -> Result<f64, String> {
    let wg = WaitGroup::new(2);
    let start = Instant::now();
    for _ in 0..2 {
        let wg = wg.clone();
        tokio::spawn(async move {
            for _ in 0..n {
                tokio::task::yield_now().await;
            }
            wg.done();
        });
    }
    wg.wait().await;
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
    // As in Go, no channel closes while the consumer selects: a sender of
    // each lives until the end.
    let mut keep = Vec::new();
    for _ in 0..4 {
        let (tx, rx) = mpsc::channel::<u64>(1);
        rxs.push(rx);
        keep.push(tx);
    }
    let start = Instant::now();
    for tx in &keep {
        let tx = tx.clone();
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

/// Go's skynet: a channel per node, the children send to it.
fn skynet(c: mpsc::Sender<u64>, num: u64, size: u64) -> BoxFuture<()> {
    Box::pin(async move {
        if size == 1 {
            let _ = c.send(num).await;
            return;
        }
        let (rtx, mut rrx) = mpsc::channel::<u64>(1);
        let sub = size / 10;
        for i in 0..10 {
            tokio::spawn(skynet(rtx.clone(), num + i * sub, sub));
        }
        drop(rtx);
        let mut sum = 0;
        for _ in 0..10 {
            match rrx.recv().await {
                Some(v) => sum += v,
                None => return,
            }
        }
        let _ = c.send(sum).await;
    })
}

async fn skynet_bench(n: u64) -> Result<f64, String> {
    let (c, mut r) = mpsc::channel::<u64>(1);
    let start = Instant::now();
    tokio::spawn(skynet(c, 0, n));
    let sum = r.recv().await.ok_or("skynet: the tree sent no sum")?;
    let ms = ms_since(start);
    if sum != n * (n - 1) / 2 {
        return Err("skynet: wrong sum".into());
    }
    Ok(ms)
}

fn skynet_join(num: u64, size: u64) -> BoxFuture<u64> {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let sub = size / 10;
        let hs: Vec<_> = (0..10)
            .map(|i| tokio::spawn(skynet_join(num + i * sub, sub)))
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    })
}

async fn skynet_join_bench(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let sum = tokio::spawn(skynet_join(0, n))
        .await
        .map_err(|e| e.to_string())?;
    let ms = ms_since(start);
    if sum != n * (n - 1) / 2 {
        return Err("skynet: wrong sum".into());
    }
    Ok(ms)
}

/// A ring member: forward the token, decremented; at 0 drop the next
/// member's sender (tokio's close) and drain.
async fn ring_member(mut rx: mpsc::Receiver<u64>, tx: mpsc::Sender<u64>, wg: Arc<WaitGroup>) {
    while let Some(v) = rx.recv().await {
        if v == 0 || tx.send(v - 1).await.is_err() {
            break;
        }
    }
    drop(tx);
    while rx.recv().await.is_some() {}
    wg.done();
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
    let wg = WaitGroup::new(RING_SIZE as u64);
    for (rx, tx) in rxs.into_iter().zip(txs) {
        tokio::spawn(ring_member(rx, tx, wg.clone()));
    }
    let start = Instant::now();
    first.send(n).await.map_err(|e| e.to_string())?;
    // tokio closes a channel when its last sender goes: this one must not
    // keep member 0's open.
    drop(first);
    wg.wait().await;
    Ok(ns_per(start, n))
}

/// Go's fib: the child sends fib(n-1) over a channel of capacity 1.
fn fib(n: u64) -> BoxFuture<u64> {
    Box::pin(async move {
        if n < 2 {
            return n;
        }
        let (tx, mut rx) = mpsc::channel::<u64>(1);
        tokio::spawn(async move {
            let _ = tx.send(fib(n - 1).await).await;
        });
        let y = fib(n - 2).await;
        rx.recv()
            .await
            .expect("fib: a child task died without sending")
            + y
    })
}

async fn fib_bench(n: u64, fib: fn(u64) -> BoxFuture<u64>) -> Result<f64, String> {
    let start = Instant::now();
    let v = fib(n).await;
    let ns = ns_per(start, fib_spawns(n));
    if v != fib_serial(n) {
        return Err("fib: wrong result".into());
    }
    Ok(ns)
}

fn fib_join(n: u64) -> BoxFuture<u64> {
    Box::pin(async move {
        if n < 2 {
            return n;
        }
        let h = tokio::spawn(fib_join(n - 1));
        let y = fib_join(n - 2).await;
        h.await.unwrap() + y
    })
}

async fn memory(n: u64) -> Result<f64, String> {
    let before = rss_bytes();
    let (release_tx, release) = watch::channel(());
    let started = WaitGroup::new(n);
    let done = WaitGroup::new(n);
    for _ in 0..n {
        let (mut release, started, done) = (release.clone(), started.clone(), done.clone());
        tokio::spawn(async move {
            started.done();
            // Err once the sender is dropped: Go's receive from a closed
            // channel.
            let _ = release.changed().await;
            done.done();
        });
    }
    started.wait().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let after = rss_bytes();
    drop(release_tx);
    done.wait().await;
    Ok(after.saturating_sub(before) as f64 / n as f64 / 1024.0)
}

async fn mutex(n: u64) -> Result<f64, String> {
    let per = n / MUTEX_GOROUTINES as u64;
    let counter = Arc::new(tokio::sync::Mutex::new(0u64));
    let wg = WaitGroup::new(MUTEX_GOROUTINES as u64);
    let start = Instant::now();
    for _ in 0..MUTEX_GOROUTINES {
        let (counter, wg) = (counter.clone(), wg.clone());
        tokio::spawn(async move {
            for _ in 0..per {
                *counter.lock().await += 1;
            }
            wg.done();
        });
    }
    wg.wait().await;
    let ns = ns_per(start, per * MUTEX_GOROUTINES as u64);
    if *counter.lock().await != per * MUTEX_GOROUTINES as u64 {
        return Err("mutex: lost updates".into());
    }
    Ok(ns)
}

async fn timers(n: u64) -> Result<f64, String> {
    let wg = WaitGroup::new(n);
    let fired = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    for i in 0..n {
        let (wg, fired) = (wg.clone(), fired.clone());
        let d = timer_delay(i);
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            fired.fetch_add(1, Ordering::Relaxed);
            wg.done();
        });
    }
    wg.wait().await;
    if fired.load(Ordering::Relaxed) != n {
        return Err("timers: lost wake-ups".into());
    }
    Ok(ms_since(start))
}

fn echo_runtime(procs: usize) -> Result<tokio::runtime::Runtime, String> {
    if procs <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(procs)
            .enable_all()
            .build()
    }
    .map_err(|e| e.to_string())
}

/// The server side of the echo workload on tokio::net (see [`Kind::Echo`]
/// and `echo.rs`): a task per accepted connection.
pub fn echo_server(rt: &str, n: u64, procs: usize) -> Result<Measured, String> {
    let rt_name = rt.to_string();
    echo_runtime(procs)?.block_on(async move {
        tokio::spawn(echo_server_run(rt_name, n, procs))
            .await
            .map_err(|e| e.to_string())?
    })
}

/// The client side: `n` tasks, one connection each.
pub fn echo_client(addr: std::net::SocketAddr, n: u64, procs: usize) -> Result<EchoResult, String> {
    echo_runtime(procs)?.block_on(async move {
        tokio::spawn(echo_client_run(addr, n))
            .await
            .map_err(|e| e.to_string())?
    })
}

async fn echo_serve(mut c: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 512];
    loop {
        match c.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(k) => {
                if c.write_all(&buf[..k]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Runs a blocking call (a pipe to the other process) off the workers.
async fn off_workers<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| e.to_string())?
}

/// Samples this process's OS threads every 2 ms into `peak` until `done`.
fn thread_sampler(
    peak: Arc<AtomicUsize>,
    done: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    peak.fetch_max(process_threads(), Ordering::Relaxed);
    tokio::spawn(async move {
        while !done.load(Ordering::Relaxed) {
            peak.fetch_max(process_threads(), Ordering::Relaxed);
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
}

async fn echo_server_run(rt: String, n: u64, procs: usize) -> Result<Measured, String> {
    use tokio::net::TcpListener;
    let s = |e: std::io::Error| e.to_string();
    let rss_before = rss_bytes();
    // The kernel's largest backlog, as Go and weft use (tokio's bind gives
    // 128 here: a burst of connects then overflows into the 1 s SYN retry).
    let sock = tokio::net::TcpSocket::new_v4().map_err(s)?;
    sock.set_reuseaddr(true).map_err(s)?;
    sock.bind("127.0.0.1:0".parse().unwrap()).map_err(s)?;
    let l: TcpListener = sock.listen(SOMAXCONN).map_err(s)?;
    let addr = l.local_addr().map_err(s)?;
    let mut child = off_workers(move || echo::Child::spawn(&rt, addr, n, procs)).await?;
    let (acc_tx, mut acc_rx) = mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        for _ in 0..n {
            let c = match l.accept().await {
                Ok((c, _)) => c,
                Err(e) => {
                    eprintln!("error: accept: {e}");
                    std::process::exit(1);
                }
            };
            let _ = c.set_nodelay(true);
            let _ = acc_tx.send(());
            tokio::spawn(echo_serve(c));
        }
    });
    let mut child = off_workers(move || child.connected().map(|_| child)).await?;
    for _ in 0..n {
        acc_rx.recv().await.ok_or("the server failed to accept")?;
    }
    let kb = echo::kb_per(rss_before, rss_bytes(), n);
    let peak = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = thread_sampler(peak.clone(), done.clone());
    child.start()?;
    let client = off_workers(move || child.finish()).await?;
    done.store(true, Ordering::Relaxed);
    sampler.await.map_err(|e| e.to_string())?;
    Ok(echo::combine(client, kb, peak.load(Ordering::Relaxed)))
}

async fn echo_client_run(addr: std::net::SocketAddr, n: u64) -> Result<EchoResult, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    let rss_before = rss_bytes();
    let (conn_tx, mut conn_rx) = mpsc::unbounded_channel::<()>();
    let start = Arc::new(tokio::sync::Semaphore::new(0));
    let clients: Vec<_> = (0..n)
        .map(|_| {
            let (conn_tx, start) = (conn_tx.clone(), start.clone());
            tokio::spawn(async move {
                let mut c = match TcpStream::connect(addr).await {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("error: connect: {e}");
                        std::process::exit(1);
                    }
                };
                c.set_nodelay(true).map_err(|e| e.to_string())?;
                let _ = conn_tx.send(());
                start.acquire().await.map_err(|e| e.to_string())?.forget();
                let mut lat = Vec::with_capacity(ECHO_ROUNDS);
                let msg = [7u8; ECHO_MSG];
                let mut back = [0u8; ECHO_MSG];
                for _ in 0..ECHO_ROUNDS {
                    let t = Instant::now();
                    c.write_all(&msg).await.map_err(|e| format!("write: {e}"))?;
                    c.read_exact(&mut back)
                        .await
                        .map_err(|e| format!("read: {e}"))?;
                    lat.push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
                }
                Ok::<_, String>(lat)
            })
        })
        .collect();
    for _ in 0..n {
        conn_rx.recv().await.ok_or("a client failed to connect")?;
    }
    let rss_idle = rss_bytes();
    echo::announce_connected();
    off_workers(echo::wait_start).await?;
    let peak = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = thread_sampler(peak.clone(), done.clone());
    let t = Instant::now();
    start.add_permits(n as usize);
    let mut all = Vec::with_capacity(n as usize * ECHO_ROUNDS);
    for h in clients {
        all.extend(h.await.map_err(|e| e.to_string())??);
    }
    let elapsed = t.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.await.map_err(|e| e.to_string())?;
    let peak = peak.load(Ordering::Relaxed);
    EchoResult::new(n, elapsed, all, rss_before, rss_idle, peak)
}
