//! `weft::net` on the netpoller: behaviour that must hold under every spawn
//! policy and processor count (CI runs this file under
//! `WEFT_SPAWN=continuation|child` × `WEFT_MAXPROCS=1|2`, see `test.sh`).
//! Loopback only; every test is bounded in count and stops by itself.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};

/// A liveness bound for whole tests: far above what any needs.
const LIVENESS: Duration = Duration::from_secs(30);

fn loopback_listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

/// An echo server for `n` connections; returns the bytes it echoed.
fn echo_server(l: TcpListener, n: usize) -> weft::JoinHandle<usize> {
    weft::go!(move || {
        let echoed = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..n {
            let (mut c, _) = l.accept().unwrap();
            let echoed = echoed.clone();
            hs.push(weft::go!(move || {
                let mut buf = [0u8; 256];
                loop {
                    match c.read(&mut buf) {
                        Ok(0) => break,
                        Ok(k) => {
                            c.write_all(&buf[..k]).unwrap();
                            echoed.fetch_add(k, Ordering::Relaxed);
                        }
                        Err(e) => panic!("server read: {e}"),
                    }
                }
            }));
        }
        for h in hs {
            h.join().unwrap();
        }
        echoed.load(Ordering::Relaxed)
    })
}

fn listen_overflows() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = s.lines().filter(|l| l.starts_with("TcpExt:"));
    let names = lines.next()?;
    let values = lines.next()?;
    let i = names
        .split_whitespace()
        .position(|n| n == "ListenOverflows")?;
    values.split_whitespace().nth(i)?.parse().ok()
}

#[test]
fn echo_500_connections_counting_every_byte() {
    const CONNS: usize = 500;
    const ROUNDS: usize = 20;
    let t = Instant::now();
    let overflows = listen_overflows();
    let (echoed, got) = weft::run(|| {
        let (l, addr) = loopback_listener();
        let server = echo_server(l, CONNS);
        let clients: Vec<_> = (0..CONNS)
            .map(|i| {
                weft::go!(move || {
                    let mut c = TcpStream::connect(addr).unwrap();
                    let mut got = 0;
                    for r in 0..ROUNDS {
                        let msg = [(i + r) as u8; 64];
                        c.write_all(&msg).unwrap();
                        let mut back = [0u8; 64];
                        c.read_exact(&mut back).unwrap();
                        assert_eq!(back, msg);
                        got += back.len();
                    }
                    got
                })
            })
            .collect();
        let got: usize = clients.into_iter().map(|h| h.join().unwrap()).sum();
        (server.join().unwrap(), got)
    });
    assert_eq!(got, CONNS * ROUNDS * 64);
    assert_eq!(echoed, got);
    // The accept loop kept up: no connection was dropped from a full
    // listen queue (which would cost the client a 1 s SYN retry).
    if let (Some(before), Some(after)) = (overflows, listen_overflows()) {
        assert_eq!(after, before, "listen queue overflowed");
    }
    assert!(t.elapsed() < LIVENESS);
}

#[test]
fn idle_connections_park_goroutines_not_threads() {
    const CONNS: usize = 2000;
    let (threads, io_waits) = weft::run(|| {
        let (l, addr) = loopback_listener();
        let parked = Arc::new(AtomicUsize::new(0));
        let p = parked.clone();
        let server = weft::go!(move || {
            let mut hs = Vec::new();
            for _ in 0..CONNS {
                let (mut c, _) = l.accept().unwrap();
                let p = p.clone();
                hs.push(weft::go!(move || {
                    p.fetch_add(1, Ordering::SeqCst);
                    let mut b = [0u8; 1];
                    assert_eq!(c.read(&mut b).unwrap(), 0); // parks until the client closes
                }));
            }
            for h in hs {
                h.join().unwrap();
            }
        });
        let clients: Vec<TcpStream> = (0..CONNS)
            .map(|_| TcpStream::connect(addr).unwrap())
            .collect();
        while parked.load(Ordering::SeqCst) < CONNS {
            weft::time::sleep(Duration::from_millis(1));
        }
        weft::time::sleep(Duration::from_millis(20));
        let threads = weft::stats().threads;
        let dump = weft::dump_goroutines();
        let io_waits = dump.matches("[IO wait").count();
        drop(clients);
        server.join().unwrap();
        (threads, io_waits)
    });
    // Every server goroutine is parked in IO wait, on a handful of Ms.
    assert!(io_waits >= CONNS, "{io_waits} goroutines in IO wait");
    assert!(
        threads <= weft::maxprocs() + 10,
        "{threads} Ms for {CONNS} idle connections"
    );
}

#[test]
fn half_close_then_read_to_end() {
    weft::run(|| {
        let (l, addr) = loopback_listener();
        let server = weft::go!(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut all = Vec::new();
            c.read_to_end(&mut all).unwrap(); // until the client's FIN
            c.write_all(&all).unwrap();
            c.write_all(b"|done").unwrap();
            all.len()
        });
        let mut c = TcpStream::connect(addr).unwrap();
        let req = vec![7u8; 100_000];
        c.write_all(&req).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut resp = Vec::new();
        c.read_to_end(&mut resp).unwrap();
        assert_eq!(server.join().unwrap(), req.len());
        assert_eq!(resp.len(), req.len() + 5);
        assert!(resp.ends_with(b"|done"));
    });
}

#[test]
fn one_mib_write_against_a_slow_reader() {
    const LEN: usize = 1 << 20;
    weft::run(|| {
        let (l, addr) = loopback_listener();
        let reader = weft::go!(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let (mut total, mut sum) = (0usize, 0u64);
            loop {
                let n = c.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                sum = buf[..n]
                    .iter()
                    .fold(sum, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
                total += n;
                weft::time::sleep(Duration::from_micros(500)); // slow
            }
            (total, sum)
        });
        let data: Vec<u8> = (0..LEN).map(|i| (i * 7 % 251) as u8).collect();
        let want = data
            .iter()
            .fold(0u64, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(&data).unwrap(); // parks while the send buffer is full
        drop(c);
        assert_eq!(reader.join().unwrap(), (LEN, want));
    });
}

fn check_read_timeout(s: &mut TcpStream) {
    let asked = Duration::from_millis(50);
    s.set_read_timeout(Some(asked)).unwrap();
    assert_eq!(s.read_timeout().unwrap(), Some(asked));
    let t = Instant::now();
    let e = s.read(&mut [0u8; 8]).unwrap_err();
    let took = t.elapsed();
    assert!(
        matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{e:?}"
    );
    assert!(took >= asked, "timed out after {took:?}, asked {asked:?}");
}

#[test]
fn read_timeout_no_earlier_than_asked() {
    weft::run(|| {
        let (l, addr) = loopback_listener();
        let mut c = TcpStream::connect(addr).unwrap();
        let (server, _) = l.accept().unwrap();
        check_read_timeout(&mut c);
        // A zero timeout is an error, as in std.
        let e = c.set_read_timeout(Some(Duration::ZERO)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        // The largest timeout is accepted, as in std, and waits as long as
        // it takes (`connect_timeout` with it used to panic: net_timeout's
        // dial_timeout_max_duration in tests/golang).
        c.set_read_timeout(Some(Duration::MAX)).unwrap();
        let mut s = server;
        let h = weft::go!(move || {
            weft::time::sleep(Duration::from_millis(20));
            s.write_all(b"late").unwrap();
            s
        });
        let mut b = [0u8; 4];
        c.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"late");
        drop(h.join().unwrap());
    });
    // And on a plain thread, which blocks in poll(2).
    let (l, addr) = loopback_listener();
    let mut c = TcpStream::connect(addr).unwrap();
    let (_s, _) = l.accept().unwrap();
    check_read_timeout(&mut c);
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    let (l, addr) = loopback_listener();
    drop(l);
    weft::run(move || {
        let e = TcpStream::connect(addr).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e:?}");
        let e = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e:?}");
        let e = TcpStream::connect_timeout(&addr, Duration::ZERO).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e:?}");
    });
    let e = TcpStream::connect(addr).unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::ConnectionRefused,
        "plain thread: {e:?}"
    );
}

#[test]
fn bind_twice_is_addr_in_use() {
    let (_l, addr) = loopback_listener();
    let e = weft::run(move || TcpListener::bind(addr).unwrap_err());
    assert_eq!(e.kind(), ErrorKind::AddrInUse);
}

#[test]
fn peer_reset_is_connection_reset_not_a_hang() {
    weft::run(|| {
        let (l, addr) = loopback_listener();
        let server = weft::go!(move || {
            let (s, _) = l.accept().unwrap();
            let mut b = [0u8; 1];
            s.peek(&mut b).unwrap(); // the client's byte is here...
            weft::time::sleep(Duration::from_millis(20)); // ...while it parks in read
            drop(s); // closing with unread data sends a RST
        });
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"x").unwrap();
        let e = c.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e:?}");
        server.join().unwrap();
    });
}

#[test]
fn parked_reader_wakes_with_eof_when_peer_closes() {
    weft::run(|| {
        let (l, addr) = loopback_listener();
        let c = TcpStream::connect(addr).unwrap();
        let (s, _) = l.accept().unwrap();
        let reader = weft::go!(move || {
            let mut s = s;
            let mut b = [0u8; 8];
            s.read(&mut b).unwrap()
        });
        weft::time::sleep(Duration::from_millis(20));
        drop(c);
        assert_eq!(reader.join().unwrap(), 0);
    });
}

#[test]
fn udp_round_trip() {
    weft::run(|| {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let saddr = server.local_addr().unwrap();
        let echo = weft::go!(move || {
            let mut buf = [0u8; 1500];
            for _ in 0..100 {
                let (n, from) = server.recv_from(&mut buf).unwrap();
                server.send_to(&buf[..n], from).unwrap();
            }
        });
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        c.connect(saddr).unwrap();
        for i in 0..100u32 {
            c.send(&i.to_le_bytes()).unwrap();
            let mut b = [0u8; 4];
            assert_eq!(c.recv(&mut b).unwrap(), 4);
            assert_eq!(u32::from_le_bytes(b), i);
        }
        echo.join().unwrap();
    });
}

#[test]
fn unix_stream_echo_and_pair() {
    let dir = std::env::temp_dir().join(format!("weft-net-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    let p = path.clone();
    weft::run(move || {
        let l = UnixListener::bind(&p).unwrap();
        let server = weft::go!(move || {
            for conn in l.incoming().take(10) {
                let mut c = conn.unwrap();
                weft::go!(move || {
                    let mut buf = [0u8; 64];
                    while let Ok(n @ 1..) = c.read(&mut buf) {
                        c.write_all(&buf[..n]).unwrap();
                    }
                });
            }
        });
        let hs: Vec<_> = (0..10u8)
            .map(|i| {
                let p = p.clone();
                weft::go!(move || {
                    let mut c = UnixStream::connect(&p).unwrap();
                    c.write_all(&[i; 32]).unwrap();
                    let mut b = [0u8; 32];
                    c.read_exact(&mut b).unwrap();
                    assert_eq!(b, [i; 32]);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        server.join().unwrap();
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let w = weft::go!(move || a.write_all(&[9u8; 300_000]).unwrap());
        let mut all = Vec::new();
        let r = weft::go!(move || {
            b.read_to_end(&mut all).unwrap();
            all.len()
        });
        w.join().unwrap();
        assert_eq!(r.join().unwrap(), 300_000);
    });
    let e = UnixStream::connect(dir.join("x".repeat(200))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plain_threads_block_like_std() {
    // A goroutine server, plain-thread clients: the clients block their
    // threads in poll(2); the server's goroutines park.
    let (l, addr) = loopback_listener();
    let server = weft::go!(move || {
        let (mut c, _) = l.accept().unwrap();
        let mut buf = [0u8; 5];
        c.read_exact(&mut buf).unwrap();
        c.write_all(&buf).unwrap();
    });
    let t = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        c.write_all(b"hello").unwrap();
        let mut b = [0u8; 5];
        c.read_exact(&mut b).unwrap();
        b
    });
    assert_eq!(&t.join().unwrap(), b"hello");
    server.join().unwrap();
}

#[test]
fn reader_and_writer_goroutines_share_a_stream() {
    weft::run(|| {
        let (l, addr) = loopback_listener();
        let server = echo_server(l, 1);
        let c = Arc::new(TcpStream::connect(addr).unwrap());
        let w = c.clone();
        let writer = weft::go!(move || {
            for i in 0..1000u32 {
                (&*w).write_all(&i.to_le_bytes()).unwrap();
            }
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut all = Vec::new();
        (&*c).read_to_end(&mut all).unwrap();
        writer.join().unwrap();
        assert_eq!(all.len(), 4000);
        for (i, ch) in all.chunks(4).enumerate() {
            assert_eq!(u32::from_le_bytes(ch.try_into().unwrap()), i as u32);
        }
        assert_eq!(server.join().unwrap(), 4000);
        let dbg = format!("{c:?}");
        assert!(dbg.contains("TcpStream"), "{dbg}");
    });
}

/// While every P runs a goroutine that yields in a loop (so its M never
/// runs out of work and never polls on the way to stealing), a goroutine
/// waiting on a socket still wakes for each message: sysmon's poll, or an
/// M in `epoll_wait` if the runtime has a spare one, finds the events.
/// Counts every message. (`net_wakeups.rs` builds the harder case: no M in
/// `epoll_wait`, and sysmon having slept.)
#[test]
fn socket_waiters_wake_while_every_p_is_busy() {
    const ROUNDS: usize = 50;
    weft::run(|| {
        let (l, addr) = loopback_listener();
        // The peer is a plain thread: it needs no P.
        let peer = std::thread::spawn(move || {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            let mut back = [0u8; 4];
            for i in 0..ROUNDS as u32 {
                c.write_all(&i.to_le_bytes()).unwrap();
                c.read_exact(&mut back).unwrap();
                assert_eq!(u32::from_le_bytes(back), i + 1);
            }
        });
        let (mut s, _) = l.accept().unwrap();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let busy: Vec<_> = (0..weft::maxprocs())
            .map(|_| {
                let (done, started) = (done.clone(), started.clone());
                weft::go!(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let mut spins = 0u64;
                    let start = Instant::now();
                    // Capped: a lost wake-up fails the test below instead
                    // of hanging it.
                    while !done.load(Ordering::Relaxed) && start.elapsed() < LIVENESS {
                        spins += 1;
                        weft::yield_now();
                    }
                    spins
                })
            })
            .collect();
        // Every busy goroutine is in its loop before the first read: on a
        // loaded machine each read may find its data already there, and
        // this goroutine may never park to let them start.
        while started.load(Ordering::SeqCst) < weft::maxprocs() {
            weft::yield_now();
        }
        let start = Instant::now();
        let mut n = [0u8; 4];
        for _ in 0..ROUNDS {
            s.read_exact(&mut n).unwrap();
            let v = u32::from_le_bytes(n) + 1;
            s.write_all(&v.to_le_bytes()).unwrap();
        }
        let took = start.elapsed();
        done.store(true, Ordering::Relaxed);
        peer.join().unwrap();
        for b in busy {
            assert!(b.join().unwrap() > 0);
        }
        assert!(took < LIVENESS, "{ROUNDS} round trips took {took:?}");
    });
}
