//! Ten thousand concurrent loopback connections, echoing and all closing.
//!
//! The server runs in this process, the clients in a child process (this
//! binary again, chosen by [`CLIENT`]): each side then holds ~10,000
//! sockets, within the usual hard limit of open files, which both sides in
//! one process (20,000+) would exceed. Each client connects, waits until
//! all 10,000 are connected (so they are all open at once), echoes
//! [`ROUNDS`] 64-byte messages and closes. Every byte is counted on both
//! sides, and the server process's OS threads at the peak are checked
//! against `maxprocs + 10`. Runs once (not in the policy matrix): it is the
//! slow one.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::net::{TcpListener, TcpStream};

const CLIENT: &str = "WEFT_NET_SCALE_CLIENT";
const CONNS: usize = 10_000;
const ROUNDS: usize = 10;
const MSG: usize = 64;
/// A liveness bound: the whole test, far above what it needs.
const LIVENESS: Duration = Duration::from_secs(120);

fn main() {
    std::thread::spawn(|| {
        std::thread::sleep(LIVENESS);
        eprintln!("net_scale: still running after {LIVENESS:?}");
        std::process::exit(1);
    });
    match std::env::var(CLIENT) {
        Ok(addr) => client(&addr),
        Err(_) => server(),
    }
}

fn process_threads() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// The open-file hard limit (the runtime raises the soft one to it).
fn nofile_hard_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let hard = line.split_whitespace().nth(4).unwrap();
    hard.parse().unwrap_or(u64::MAX) // "unlimited"
}

fn server() {
    let hard = nofile_hard_limit();
    assert!(
        hard >= CONNS as u64 + 100,
        "net_scale needs {} open files per process; the hard limit is {hard} (ulimit -Hn)",
        CONNS + 100
    );
    let t = Instant::now();
    let (echoed, peak_threads) = weft::run(|| {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CLIENT, addr.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let echoed = Arc::new(AtomicUsize::new(0));
        let live = Arc::new(AtomicUsize::new(0));
        let mut peak_threads = 0;
        let mut hs = Vec::with_capacity(CONNS);
        for i in 0..CONNS {
            let (mut c, _) = l.accept().unwrap();
            let (echoed, live) = (echoed.clone(), live.clone());
            live.fetch_add(1, Ordering::SeqCst);
            hs.push(weft::go!(move || {
                let mut buf = [0u8; 512];
                loop {
                    match c.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            c.write_all(&buf[..n]).unwrap();
                            echoed.fetch_add(n, Ordering::Relaxed);
                        }
                        Err(e) => panic!("server read: {e}"),
                    }
                }
                live.fetch_sub(1, Ordering::SeqCst);
            }));
            if i % 1000 == 999 {
                peak_threads = peak_threads.max(process_threads());
            }
        }
        peak_threads = peak_threads.max(process_threads());
        for h in hs {
            h.join().unwrap();
        }
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(child.wait().unwrap().success(), "client process failed");
        let want = format!("connected={CONNS} echoed={}", CONNS * ROUNDS * MSG);
        assert!(out.contains(&want), "client said {out:?}, want {want:?}");
        assert_eq!(live.load(Ordering::SeqCst), 0);
        (echoed.load(Ordering::Relaxed), peak_threads)
    });
    assert_eq!(echoed, CONNS * ROUNDS * MSG);
    let bound = weft::maxprocs() + 10;
    assert!(
        peak_threads <= bound + 1, // + the liveness watchdog thread
        "{peak_threads} OS threads at the peak (bound {bound} + watchdog)"
    );
    println!(
        "net_scale: {CONNS} connections x {ROUNDS} round trips echoed in {:?}, peak {peak_threads} threads",
        t.elapsed()
    );
}

fn client(addr: &str) {
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let summary = weft::run(move || {
        let connected = Arc::new(weft::sync::WaitGroup::new());
        connected.add(CONNS);
        let (start_tx, start_rx) = weft::chan::<()>(0);
        let hs: Vec<_> = (0..CONNS)
            .map(|i| {
                let (connected, start) = (connected.clone(), start_rx.clone());
                weft::go!(move || {
                    let mut c = TcpStream::connect(addr).unwrap();
                    connected.done();
                    let _ = start.recv(); // closed: everyone is connected
                    let mut got = 0;
                    for r in 0..ROUNDS {
                        let msg = [(i + r) as u8; MSG];
                        c.write_all(&msg).unwrap();
                        let mut back = [0u8; MSG];
                        c.read_exact(&mut back).unwrap();
                        assert_eq!(back, msg);
                        got += MSG;
                    }
                    got
                })
            })
            .collect();
        connected.wait();
        start_tx.close().unwrap();
        let echoed: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
        format!("connected={CONNS} echoed={echoed}")
    });
    println!("{summary}");
}
