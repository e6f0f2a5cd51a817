//! The workloads on weft goroutines.
//!
//! Runs inside a worker process whose runtime was configured (spawn policy,
//! maxprocs) before first use; see `runners`. Each function runs its
//! workload inside `weft::run` and returns the row's figure.
//!
//! Every program is Go's (`sched-bench/go/main.go`) written with weft's
//! public API, as a user would port it: `weft::go!` where Go says `go`
//! (the handle dropped where Go has none), `weft::chan` where Go makes a
//! channel, an `Arc<weft::sync::WaitGroup>` where Go shares a
//! `sync.WaitGroup`. Only the "(spawn+join)" rows join handles.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::sync::WaitGroup;
use weft::Sender;

use std::io::{Read, Write};
use std::net::SocketAddr;

use crate::runners::Measured;

use super::{
    echo, fib_serial, fib_spawns, ms_since, ns_per, process_threads, rss_bytes, timer_delay,
    EchoResult, Kind, BUFFERED_CAP, ECHO_MSG, ECHO_ROUNDS, MUTEX_GOROUTINES, RING_SIZE,
};

/// Runs `kind` at `size` on weft and returns its figure.
pub fn run(kind: Kind, size: u64) -> Result<f64, String> {
    match kind {
        Kind::Spawn => Ok(weft::run(move || spawn(size))),
        Kind::SpawnJoin => weft::run(move || spawn_join(size)),
        Kind::Yield => Ok(weft::run(move || yield_pair(size))),
        Kind::Skynet => weft::run(move || skynet_bench(size)),
        Kind::SkynetJoin => weft::run(move || skynet_join_bench(size)),
        Kind::Fib => weft::run(move || fib_bench(size, fib)),
        Kind::FibJoin => weft::run(move || fib_bench(size, fib_join)),
        Kind::Memory => weft::run(move || memory(size)),
        Kind::Timers => weft::run(move || timers(size)),
        Kind::PingPong => weft::run(move || pingpong(size)),
        Kind::Buffered => weft::run(move || buffered(size)),
        Kind::Select => weft::run(move || select(size)),
        Kind::Ring => weft::run(move || ring(size)),
        Kind::Mutex => weft::run(move || mutex(size)),
        Kind::Echo => Err("echo: see echo_server".into()),
    }
}

/// A WaitGroup with its counter already at `n`.
fn wait_group(n: u64) -> Arc<WaitGroup> {
    let wg = Arc::new(WaitGroup::new());
    wg.add(n as usize);
    wg
}

/// `n` goroutines that each call `wg.done()`, then `wg.wait()`.
fn spawn(n: u64) -> f64 {
    let start = Instant::now();
    let wg = wait_group(n);
    for _ in 0..n {
        let wg = wg.clone();
        weft::go!(move || wg.done());
    }
    wg.wait();
    ns_per(start, n)
}

/// `n` goroutines that do nothing, each joined through its handle.
fn spawn_join(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let hs: Vec<_> = (0..n).map(|_| weft::go!(|| ())).collect();
    for h in hs {
        h.join().map_err(|e| e.to_string())?;
    }
    Ok(ns_per(start, n))
}

/// Two goroutines each yield `n` times.
fn yield_pair(n: u64) -> f64 {
    let wg = wait_group(2);
    let start = Instant::now();
    for _ in 0..2 {
        let wg = wg.clone();
        weft::go!(move || {
            for _ in 0..n {
                weft::yield_now();
            }
            wg.done();
        });
    }
    wg.wait();
    ns_per(start, 2 * n)
}

/// Go's skynet: each node makes an unbuffered channel, its ten children
/// send their sums to it, and it sends the total to its parent's.
fn skynet(c: Sender<u64>, num: u64, size: u64) {
    if size == 1 {
        let _ = c.send(num);
        return;
    }
    let (rtx, rrx) = weft::chan::<u64>(0);
    let sub = size / 10;
    for i in 0..10 {
        let rtx = rtx.clone();
        weft::go!(move || skynet(rtx, num + i * sub, sub));
    }
    // Not in Go's program, and free: a child that died without sending
    // ends the receive below with an error instead of a hang.
    drop(rtx);
    let mut sum = 0;
    for _ in 0..10 {
        match rrx.recv() {
            Ok(v) => sum += v,
            Err(_) => return, // the root sees a closed channel and says so
        }
    }
    let _ = c.send(sum);
}

fn skynet_bench(n: u64) -> Result<f64, String> {
    let (c, r) = weft::chan::<u64>(0);
    let start = Instant::now();
    weft::go!(move || skynet(c, 0, n));
    let sum = r
        .recv()
        .map_err(|_| "skynet: the tree sent no sum".to_string())?;
    let ms = ms_since(start);
    check(sum == n * (n - 1) / 2, "skynet: wrong sum")?;
    Ok(ms)
}

/// Skynet by spawn and join: the same tree, each child's sum returned
/// through its JoinHandle.
fn skynet_join(num: u64, size: u64) -> u64 {
    if size == 1 {
        return num;
    }
    let sub = size / 10;
    let hs: Vec<_> = (0..10)
        .map(|i| weft::go!(move || skynet_join(num + i * sub, sub)))
        .collect();
    hs.into_iter().map(|h| h.join().unwrap()).sum()
}

fn skynet_join_bench(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let sum = weft::go!(move || skynet_join(0, n))
        .join()
        .map_err(|e| e.to_string())?;
    let ms = ms_since(start);
    check(sum == n * (n - 1) / 2, "skynet: wrong sum")?;
    Ok(ms)
}

/// Go's fib: a goroutine per call above the leaves sends fib(n-1) over a
/// channel of capacity 1, received once.
fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (tx, rx) = weft::chan::<u64>(1);
    weft::go!(move || {
        let _ = tx.send(fib(n - 1));
    });
    let y = fib(n - 2);
    rx.recv()
        .expect("fib: a child goroutine died without sending")
        + y
}

fn fib_bench(n: u64, fib: fn(u64) -> u64) -> Result<f64, String> {
    let start = Instant::now();
    let v = fib(n);
    let ns = ns_per(start, fib_spawns(n));
    check(v == fib_serial(n), "fib: wrong result")?;
    Ok(ns)
}

/// fib by spawn and join.
fn fib_join(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let h = weft::go!(move || fib_join(n - 1));
    let y = fib_join(n - 2);
    h.join().unwrap() + y
}

/// `n` goroutines blocked on the receive of one unbuffered channel, which
/// is closed at the end; the RSS they add, in KB per goroutine. Go's
/// program: `started`/`done` WaitGroups, 10 ms for the last ones to park.
fn memory(n: u64) -> Result<f64, String> {
    let before = rss_bytes();
    let (release_tx, release) = weft::chan::<()>(0);
    let started = wait_group(n);
    let done = wait_group(n);
    for i in 0..n {
        let (release, started, done) = (release.clone(), started.clone(), done.clone());
        // Builder, not go!: a failed spawn (out of memory, map count) is
        // this row's likeliest failure, and should say so, not panic.
        weft::Builder::new()
            .spawn(move || {
                started.done();
                let _ = release.recv();
                done.done();
            })
            .map_err(|e| format!("spawn failed after {i} goroutines: {e}"))?;
    }
    started.wait();
    weft::time::sleep(Duration::from_millis(10));
    let after = rss_bytes();
    release_tx.close().map_err(|e| e.to_string())?;
    done.wait();
    Ok(after.saturating_sub(before) as f64 / n as f64 / 1024.0)
}

/// `n` goroutines each sleep 1–2 ms; ms until all have woken.
fn timers(n: u64) -> Result<f64, String> {
    let wg = wait_group(n);
    let fired = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    for i in 0..n {
        let (wg, fired) = (wg.clone(), fired.clone());
        let d = timer_delay(i);
        weft::go!(move || {
            weft::time::sleep(d);
            fired.fetch_add(1, Ordering::Relaxed);
            wg.done();
        });
    }
    wg.wait();
    check(fired.load(Ordering::Relaxed) == n, "timers: lost wake-ups")?;
    Ok(ms_since(start))
}

/// `n` round trips over two unbuffered channels.
fn pingpong(n: u64) -> Result<f64, String> {
    let (ping_tx, ping_rx) = weft::chan::<u64>(0);
    let (pong_tx, pong_rx) = weft::chan::<u64>(0);
    weft::go!(move || {
        for v in &ping_rx {
            if pong_tx.send(v).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    for i in 0..n {
        ping_tx.send(i).map_err(|e| e.to_string())?;
        pong_rx.recv().map_err(|e| e.to_string())?;
    }
    let ns = ns_per(start, n);
    drop(ping_tx);
    Ok(ns)
}

/// One producer, one consumer, `n` messages through a channel of capacity
/// [`BUFFERED_CAP`].
fn buffered(n: u64) -> Result<f64, String> {
    let (tx, rx) = weft::chan::<u64>(BUFFERED_CAP);
    let start = Instant::now();
    weft::go!(move || {
        for i in 0..n {
            if tx.send(i).is_err() {
                break;
            }
        }
    });
    let got = rx.iter().count() as u64;
    let ns = ns_per(start, n);
    check(got == n, "buffered: lost messages")?;
    Ok(ns)
}

/// Four producers on unbuffered channels, one consumer selecting over them.
fn select(n: u64) -> Result<f64, String> {
    let per = n / 4;
    let mut rxs = Vec::new();
    // As in Go, no channel closes while the consumer selects (a closed
    // channel is always ready, so a select would pick it): this function
    // keeps a sender of each until it returns.
    let mut keep = Vec::new();
    for _ in 0..4 {
        let (tx, rx) = weft::chan::<u64>(0);
        rxs.push(rx);
        keep.push(tx);
    }
    let start = Instant::now();
    for tx in &keep {
        let tx = tx.clone();
        weft::go!(move || {
            for j in 0..per {
                if tx.send(j).is_err() {
                    break;
                }
            }
        });
    }
    let (a, b, c, d) = (&rxs[0], &rxs[1], &rxs[2], &rxs[3]);
    // Every channel stays open until the consumer is done, so a receive
    // that fails is a runtime bug: count it and say so.
    let mut failed = 0u64;
    for _ in 0..4 * per {
        weft::select! {
            recv(a) -> m => { failed += u64::from(m.is_err()); },
            recv(b) -> m => { failed += u64::from(m.is_err()); },
            recv(c) -> m => { failed += u64::from(m.is_err()); },
            recv(d) -> m => { failed += u64::from(m.is_err()); },
        }
    }
    let ns = ns_per(start, 4 * per);
    if failed > 0 {
        return Err(format!(
            "select: {failed} of {} receives on open channels returned RecvError",
            4 * per
        ));
    }
    Ok(ns)
}

/// A token passed `n` hops around a ring of [`RING_SIZE`] goroutines. The
/// member that receives 0 closes the next channel and drains its own, so
/// the closes go round the ring; a WaitGroup waits for every member.
fn ring(n: u64) -> Result<f64, String> {
    let mut txs = Vec::with_capacity(RING_SIZE);
    let mut rxs = Vec::with_capacity(RING_SIZE);
    for _ in 0..RING_SIZE {
        let (tx, rx) = weft::chan::<u64>(0);
        txs.push(tx);
        rxs.push(rx);
    }
    let first = txs[0].clone();
    txs.rotate_left(1); // member i receives on rxs[i] and sends to member i+1
    let wg = wait_group(RING_SIZE as u64);
    for (i, (rx, tx)) in rxs.into_iter().zip(txs).enumerate() {
        let wg = wg.clone();
        weft::Builder::new()
            .spawn(move || {
                for v in &rx {
                    if v == 0 || tx.send(v - 1).is_err() {
                        break;
                    }
                }
                let _ = tx.close();
                for _ in &rx {}
                wg.done();
            })
            .map_err(|e| format!("spawn failed after {i} goroutines: {e}"))?;
    }
    let start = Instant::now();
    first.send(n).map_err(|e| e.to_string())?;
    wg.wait();
    Ok(ns_per(start, n))
}

/// [`MUTEX_GOROUTINES`] goroutines share `n` lock/unlock pairs on one
/// `weft::sync::Mutex`.
fn mutex(n: u64) -> Result<f64, String> {
    let per = n / MUTEX_GOROUTINES as u64;
    let counter = Arc::new(weft::sync::Mutex::new(0u64));
    let wg = wait_group(MUTEX_GOROUTINES as u64);
    let start = Instant::now();
    for _ in 0..MUTEX_GOROUTINES {
        let (counter, wg) = (counter.clone(), wg.clone());
        weft::go!(move || {
            for _ in 0..per {
                *counter.lock() += 1;
            }
            wg.done();
        });
    }
    wg.wait();
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

/// The server side of the echo workload on `weft::net` (see
/// [`Kind::Echo`] and `echo.rs`): accepts `n` connections, a goroutine
/// each, while a child process runs the clients.
pub fn echo_server(rt: &str, n: u64, procs: usize) -> Result<Measured, String> {
    let rt = rt.to_string();
    weft::run(move || echo_server_run(&rt, n, procs))
}

/// The client side: `n` goroutines, one connection each.
pub fn echo_client(addr: SocketAddr, n: u64) -> Result<EchoResult, String> {
    weft::run(move || echo_client_run(addr, n))
}

fn echo_serve(mut c: weft::net::TcpStream) {
    let mut buf = [0u8; 512];
    loop {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(k) => {
                if c.write_all(&buf[..k]).is_err() {
                    return;
                }
            }
        }
    }
}

/// An error that would leave the other side waiting forever: report it
/// and exit, as the Go program does.
fn fatal(what: &str, e: std::io::Error) -> ! {
    eprintln!("error: {what}: {e}");
    std::process::exit(1)
}

/// Samples this process's OS threads every 2 ms into `peak` until `done`.
fn thread_sampler(peak: Arc<AtomicUsize>, done: Arc<AtomicBool>) -> weft::JoinHandle<()> {
    peak.fetch_max(process_threads(), Ordering::Relaxed);
    weft::go!(move || {
        while !done.load(Ordering::Relaxed) {
            peak.fetch_max(process_threads(), Ordering::Relaxed);
            weft::time::sleep(std::time::Duration::from_millis(2));
        }
    })
}

fn echo_server_run(rt: &str, n: u64, procs: usize) -> Result<Measured, String> {
    use weft::net::TcpListener;
    let rss_before = rss_bytes();
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = l.local_addr().map_err(|e| e.to_string())?;
    let mut child = weft::blocking(|| echo::Child::spawn(rt, addr, n, procs))?;
    let accepted = Arc::new(weft::sync::WaitGroup::new());
    accepted.add(n as usize);
    let acc = accepted.clone();
    weft::go!(move || {
        for _ in 0..n {
            let (c, _) = l.accept().unwrap_or_else(|e| fatal("accept", e));
            c.set_nodelay(true).unwrap_or_else(|e| fatal("nodelay", e));
            acc.done();
            weft::go!(move || echo_serve(c));
        }
    });
    weft::blocking(|| child.connected())?;
    accepted.wait();
    let kb = echo::kb_per(rss_before, rss_bytes(), n);
    let (peak, done) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let sampler = thread_sampler(peak.clone(), done.clone());
    child.start()?;
    let client = weft::blocking(move || child.finish())?;
    done.store(true, Ordering::Relaxed);
    sampler.join().map_err(|e| e.to_string())?;
    Ok(echo::combine(client, kb, peak.load(Ordering::Relaxed)))
}

fn echo_client_run(addr: SocketAddr, n: u64) -> Result<EchoResult, String> {
    use weft::net::TcpStream;
    let rss_before = rss_bytes();
    let connected = Arc::new(weft::sync::WaitGroup::new());
    connected.add(n as usize);
    let (start_tx, start_rx) = weft::chan::<()>(0);
    let clients: Vec<_> = (0..n)
        .map(|_| {
            let (connected, start) = (connected.clone(), start_rx.clone());
            weft::go!(move || -> Result<Vec<u32>, String> {
                let mut c = TcpStream::connect(addr).unwrap_or_else(|e| fatal("connect", e));
                c.set_nodelay(true).map_err(|e| e.to_string())?;
                connected.done();
                let _ = start.recv(); // closed when the server says start
                let mut lat = Vec::with_capacity(ECHO_ROUNDS);
                let msg = [7u8; ECHO_MSG];
                let mut back = [0u8; ECHO_MSG];
                for _ in 0..ECHO_ROUNDS {
                    let t = Instant::now();
                    c.write_all(&msg).map_err(|e| format!("write: {e}"))?;
                    c.read_exact(&mut back).map_err(|e| format!("read: {e}"))?;
                    lat.push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
                }
                Ok(lat)
            })
        })
        .collect();
    connected.wait();
    let rss_idle = rss_bytes();
    echo::announce_connected();
    weft::blocking(echo::wait_start)?;
    let (peak, done) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let sampler = thread_sampler(peak.clone(), done.clone());
    let start = Instant::now();
    start_tx.close().map_err(|e| e.to_string())?;
    let mut all = Vec::with_capacity(n as usize * ECHO_ROUNDS);
    for h in clients {
        all.extend(h.join().map_err(|e| e.to_string())??);
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.join().map_err(|e| e.to_string())?;
    let peak = peak.load(Ordering::Relaxed);
    EchoResult::new(n, elapsed, all, rss_before, rss_idle, peak)
}
