//! The workloads on plain OS threads (std), the baseline every green-thread
//! runtime is sold against.
//!
//! "maxprocs n" means the process is pinned to n CPUs
//! (`sched_setaffinity`), so a switch between two threads at maxprocs 1 is a
//! real context switch. Sizes are smaller than the goroutine runtimes' where
//! each operation costs tens of microseconds, and the rows a million threads
//! would need are not run at all (see `plan`). The "unbuffered" channel is
//! std's `sync_channel(0)`; the buffered one and select use
//! crossbeam-channel (std has no select). Otherwise each program is Go's:
//! Go's `sync.WaitGroup` is [`WaitGroup`] below (std has none), and Go's
//! "close one channel to release everybody" is dropping the sender of a
//! crossbeam channel (std's receivers cannot be shared).

use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::runners::Measured;

use super::{
    echo, fib_serial, fib_spawns, ns_per, process_threads, rss_bytes, EchoResult, Kind,
    BUFFERED_CAP, ECHO_MSG, ECHO_ROUNDS, MUTEX_GOROUTINES, RING_SIZE, SOMAXCONN,
};

/// Stack size of the threads in the ring and memory workloads (std's
/// default is 2 MB, of which only touched pages are resident).
const SMALL_STACK: usize = 64 * 1024;

/// Runs `kind` at `size` on OS threads.
pub fn run(kind: Kind, size: u64) -> Result<f64, String> {
    match kind {
        Kind::Spawn => Ok(spawn(size)),
        Kind::SpawnJoin => spawn_join(size),
        Kind::Yield => Ok(yield_pair(size)),
        Kind::PingPong => pingpong(size),
        Kind::Buffered => buffered(size),
        Kind::Select => select(size),
        Kind::Ring => ring(size),
        Kind::Fib => fib_bench(size, fib),
        Kind::FibJoin => fib_bench(size, fib_join),
        Kind::Memory => memory(size),
        Kind::Mutex => mutex(size),
        Kind::Skynet | Kind::SkynetJoin | Kind::Timers => {
            Err(format!("{kind}: not run on OS threads"))
        }
        Kind::Echo => Err("echo: see echo_server".into()),
    }
}

/// Go's `sync.WaitGroup` for threads, which std lacks: a counter set
/// before the threads start, `done` by each, `wait` until zero.
struct WaitGroup {
    count: Mutex<u64>,
    zero: Condvar,
}

impl WaitGroup {
    fn new(n: u64) -> Arc<WaitGroup> {
        Arc::new(WaitGroup {
            count: Mutex::new(n),
            zero: Condvar::new(),
        })
    }

    fn done(&self) {
        let mut c = self.count.lock().unwrap();
        *c -= 1;
        if *c == 0 {
            self.zero.notify_all();
        }
    }

    fn wait(&self) {
        let mut c = self.count.lock().unwrap();
        while *c != 0 {
            c = self.zero.wait(c).unwrap();
        }
    }
}

/// Restricts the process (and the threads it will spawn) to the first
/// `procs` CPUs.
pub fn pin_to(procs: usize) -> Result<(), String> {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for cpu in 0..procs {
        // SAFETY: cpu < procs <= CPU_SETSIZE; `set` is a valid cpu_set_t.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: pid 0 is this thread; `set` is valid for its size.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!(
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        ))
    }
}

fn spawn(n: u64) -> f64 {
    let start = Instant::now();
    let wg = WaitGroup::new(n);
    for _ in 0..n {
        let wg = wg.clone();
        thread::spawn(move || wg.done());
    }
    wg.wait();
    ns_per(start, n)
}

fn spawn_join(n: u64) -> Result<f64, String> {
    let start = Instant::now();
    let hs: Vec<_> = (0..n).map(|_| thread::spawn(|| ())).collect();
    for h in hs {
        h.join().map_err(|_| "thread panicked")?;
    }
    Ok(ns_per(start, n))
}

fn yield_pair(n: u64) -> f64 {
    let wg = WaitGroup::new(2);
    let start = Instant::now();
    for _ in 0..2 {
        let wg = wg.clone();
        thread::spawn(move || {
            for _ in 0..n {
                thread::yield_now();
            }
            wg.done();
        });
    }
    wg.wait();
    ns_per(start, 2 * n)
}

fn pingpong(n: u64) -> Result<f64, String> {
    let (ping_tx, ping_rx) = sync_channel::<u64>(0);
    let (pong_tx, pong_rx) = sync_channel::<u64>(0);
    thread::spawn(move || {
        for v in ping_rx {
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
    Ok(ns_per(start, n))
}

fn buffered(n: u64) -> Result<f64, String> {
    // crossbeam-channel: what a Rust program on OS threads would pick (and
    // what the issue names); std's mpsc is a port of it.
    let (tx, rx) = crossbeam_channel::bounded::<u64>(BUFFERED_CAP);
    let start = Instant::now();
    thread::spawn(move || {
        for i in 0..n {
            if tx.send(i).is_err() {
                break;
            }
        }
    });
    let got = rx.iter().count() as u64;
    let ns = ns_per(start, n);
    if got != n {
        return Err("buffered: lost messages".into());
    }
    Ok(ns)
}

fn select(n: u64) -> Result<f64, String> {
    let per = n / 4;
    // As in Go, no channel closes while the consumer selects (a
    // disconnected channel is always ready): a sender of each lives until
    // the end.
    let (keep, rxs): (Vec<_>, Vec<_>) =
        (0..4).map(|_| crossbeam_channel::bounded::<u64>(0)).unzip();
    let start = Instant::now();
    for tx in &keep {
        let tx = tx.clone();
        thread::spawn(move || {
            for j in 0..per {
                if tx.send(j).is_err() {
                    break;
                }
            }
        });
    }
    for _ in 0..4 * per {
        crossbeam_channel::select! {
            recv(rxs[0]) -> _ => {},
            recv(rxs[1]) -> _ => {},
            recv(rxs[2]) -> _ => {},
            recv(rxs[3]) -> _ => {},
        }
    }
    Ok(ns_per(start, 4 * per))
}

fn ring(n: u64) -> Result<f64, String> {
    let mut txs = Vec::with_capacity(RING_SIZE);
    let mut rxs = Vec::with_capacity(RING_SIZE);
    for _ in 0..RING_SIZE {
        let (tx, rx) = sync_channel::<u64>(0);
        txs.push(tx);
        rxs.push(rx);
    }
    let first = txs[0].clone();
    txs.rotate_left(1);
    let wg = WaitGroup::new(RING_SIZE as u64);
    for (i, (rx, tx)) in rxs.into_iter().zip(txs).enumerate() {
        let wg = wg.clone();
        thread::Builder::new()
            .stack_size(SMALL_STACK)
            .spawn(move || {
                for v in &rx {
                    if v == 0 || tx.send(v - 1).is_err() {
                        break;
                    }
                }
                drop(tx); // std closes a channel when its last sender goes
                for _ in &rx {}
                wg.done();
            })
            .map_err(|e| format!("thread {i}: {e}"))?;
    }
    let start = Instant::now();
    first.send(n).map_err(|e| e.to_string())?;
    drop(first);
    wg.wait();
    Ok(ns_per(start, n))
}

/// Go's fib: the child thread sends fib(n-1) over a channel of capacity 1.
fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (tx, rx) = sync_channel::<u64>(1);
    thread::spawn(move || {
        let _ = tx.send(fib(n - 1));
    });
    let y = fib(n - 2);
    rx.recv().expect("fib: a child thread died without sending") + y
}

fn fib_join(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let h = thread::spawn(move || fib_join(n - 1));
    let y = fib_join(n - 2);
    h.join().unwrap() + y
}

fn fib_bench(n: u64, fib: fn(u64) -> u64) -> Result<f64, String> {
    let start = Instant::now();
    let v = fib(n);
    let ns = ns_per(start, fib_spawns(n));
    if v != fib_serial(n) {
        return Err("fib: wrong result".into());
    }
    Ok(ns)
}

fn memory(n: u64) -> Result<f64, String> {
    let before = rss_bytes();
    let (release_tx, release) = crossbeam_channel::bounded::<()>(0);
    let started = WaitGroup::new(n);
    let done = WaitGroup::new(n);
    for i in 0..n {
        let (release, started, done) = (release.clone(), started.clone(), done.clone());
        thread::Builder::new()
            .stack_size(SMALL_STACK)
            .spawn(move || {
                started.done();
                let _ = release.recv(); // Err once the sender is dropped
                done.done();
            })
            .map_err(|e| format!("thread {i}: {e}"))?;
    }
    started.wait();
    thread::sleep(Duration::from_millis(10));
    let after = rss_bytes();
    drop(release_tx);
    done.wait();
    Ok(after.saturating_sub(before) as f64 / n as f64 / 1024.0)
}

fn mutex(n: u64) -> Result<f64, String> {
    let per = n / MUTEX_GOROUTINES as u64;
    let counter = Arc::new(Mutex::new(0u64));
    let wg = WaitGroup::new(MUTEX_GOROUTINES as u64);
    let start = Instant::now();
    for _ in 0..MUTEX_GOROUTINES {
        let (counter, wg) = (counter.clone(), wg.clone());
        thread::spawn(move || {
            for _ in 0..per {
                *counter.lock().unwrap() += 1;
            }
            wg.done();
        });
    }
    wg.wait();
    let ns = ns_per(start, per * MUTEX_GOROUTINES as u64);
    if *counter.lock().unwrap() != per * MUTEX_GOROUTINES as u64 {
        return Err("mutex: lost updates".into());
    }
    Ok(ns)
}

/// The server side of the echo workload on std::net (see [`Kind::Echo`]
/// and `echo.rs`): a thread per accepted connection.
pub fn echo_server(rt: &str, n: u64, procs: usize) -> Result<Measured, String> {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    let s = |e: std::io::Error| e.to_string();
    let rss_before = rss_bytes();
    let l = TcpListener::bind("127.0.0.1:0").map_err(s)?;
    // The kernel's largest backlog, as Go and weft use (std's is 128).
    // SAFETY: listen(2) on a descriptor `l` owns; no pointers.
    if unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&l), SOMAXCONN as i32) } != 0 {
        return Err(format!("listen: {}", std::io::Error::last_os_error()));
    }
    let addr = l.local_addr().map_err(s)?;
    let mut child = echo::Child::spawn(rt, addr, n, procs)?;
    let server = thread::spawn(move || -> Result<(), String> {
        for _ in 0..n {
            let (mut c, _) = l.accept().map_err(|e| format!("accept: {e}"))?;
            c.set_nodelay(true).map_err(|e| e.to_string())?;
            thread::Builder::new()
                .spawn(move || {
                    let mut buf = [0u8; 512];
                    while let Ok(k @ 1..) = c.read(&mut buf) {
                        if c.write_all(&buf[..k]).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|e| format!("server thread: {e}"))?;
        }
        Ok(())
    });
    child.connected()?;
    server.join().map_err(|_| "server thread panicked")??;
    let kb = echo::kb_per(rss_before, rss_bytes(), n);
    let threads = process_threads(); // every server thread is alive now
    child.start()?;
    Ok(echo::combine(child.finish()?, kb, threads))
}

/// The client side: `n` threads, one connection each.
pub fn echo_client(addr: std::net::SocketAddr, n: u64) -> Result<EchoResult, String> {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let rss_before = rss_bytes();
    let connected = Arc::new(Barrier::new(n as usize + 1));
    let start = Arc::new(Barrier::new(n as usize + 1));
    let mut clients = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (connected, start) = (connected.clone(), start.clone());
        let h = thread::Builder::new()
            .spawn(move || -> Result<Vec<u32>, String> {
                let c = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"));
                connected.wait();
                let mut c = c?;
                c.set_nodelay(true).map_err(|e| e.to_string())?;
                start.wait();
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
            .map_err(|e| format!("client thread {}: {e}", clients.len()))?;
        clients.push(h);
    }
    connected.wait();
    let rss_idle = rss_bytes();
    let peak = process_threads(); // every client thread is alive now
    echo::announce_connected();
    echo::wait_start()?;
    let t = Instant::now();
    start.wait();
    let mut all = Vec::with_capacity(n as usize * ECHO_ROUNDS);
    for h in clients {
        all.extend(h.join().map_err(|_| "client thread panicked")??);
    }
    EchoResult::new(n, t.elapsed(), all, rss_before, rss_idle, peak)
}
