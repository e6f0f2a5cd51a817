//! Port of Go's `src/net/tcpsock_test.go`.
//!
//! Go ends its accept loops by closing the listener; a weft listener
//! cannot be closed under a goroutine blocked in `accept` (closing is
//! dropping the last handle), so here each acceptor is told to stop by a
//! flag and then woken by one more connection (`stop_acceptors`).
//!
//! Ported: TestTCPListenerName (the IPv4 loopback case),
//! TestTCPConcurrentAccept (at the matrix's maxprocs: Go raises it to 4
//! only for parallelism), TestTCPStress (1,000 messages per connection;
//! `slow_tcp_stress` Go's 10,000; `-short` is 100).
//!
//! Not ported: TestResolveTCPAddr (Go's resolver and address types);
//! TestIPv6LinkLocalUnicastTCP (needs a link-local interface);
//! TestTCPReadWriteAllocs (`common::measure` counts the allocations left
//! live, not allocations per run); TestTCPBig (off unless `-tcpbig`: 5 GB
//! buffers); TestCopyPipeIntoTCP (weft has no goroutine-blocking pipe; Go's
//! point is its splice/sendfile path); TestDialTCPDefaultKeepAlive (Go's
//! internal keep-alive hook; weft sets no keep-alive); TestTCPListenAfterClose
//! (`Accept` on a closed listener cannot be written).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use weft::chan;
use weft::net::{TcpListener, TcpStream};
use weft::sync::WaitGroup;

use crate::common::{self, ms};
use crate::net_mockserver::stop_acceptors;

#[test]
fn tcp_listener_name() {
    common::run(|| {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let la = ln.local_addr().unwrap();
        assert_ne!(
            la.port(),
            0,
            "got {la}; expected a proper address with non-zero port number"
        );
    });
}

#[test]
fn tcp_concurrent_accept() {
    common::run(|| {
        let ln = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let addr = ln.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        const N: usize = 10;
        let wg = Arc::new(WaitGroup::new());
        wg.add(N);
        for _ in 0..N {
            let (ln, stop, wg) = (ln.clone(), stop.clone(), wg.clone());
            weft::go!(move || {
                while !stop.load(Ordering::SeqCst) {
                    let (c, _) = ln.accept().unwrap();
                    drop(c);
                }
                wg.done();
            });
        }
        let attempts = 10 * N;
        let mut fails = 0;
        for _ in 0..attempts {
            match TcpStream::connect_timeout(&addr, ms(200)) {
                Ok(c) => drop(c),
                Err(_) => fails += 1,
            }
        }
        stop_acceptors(&ln, &stop, N);
        wg.wait();
        assert!(fails <= attempts / 9, "too many Dial failed: {fails}"); // see Go issues 7400 and 7541
    });
}

fn tcp_stress(msgs: usize) {
    const CONNS: usize = 2;
    const MSG_LEN: usize = 512;
    let ln = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = ln.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let (done_tx, done) = chan::<bool>(0);
    // Acceptor.
    let acceptor = {
        let (ln, stop, served) = (ln.clone(), stop.clone(), served.clone());
        weft::go!(move || {
            let mut servers = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let (mut c, _) = ln.accept().unwrap();
                let served = served.clone();
                // Server connection.
                servers.push(weft::go!(move || {
                    let mut buf = [0u8; MSG_LEN];
                    for _ in 0..msgs {
                        if c.read_exact(&mut buf).is_err() || c.write_all(&buf).is_err() {
                            break;
                        }
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
            servers
        })
    };
    for _ in 0..CONNS {
        // Client connection.
        let done_tx = done_tx.clone();
        weft::go!(move || {
            let mut c = TcpStream::connect(addr).unwrap();
            let mut buf = [0u8; MSG_LEN];
            for m in 0..msgs {
                buf[0] = m as u8;
                c.write_all(&buf).unwrap();
                c.read_exact(&mut buf).unwrap();
                assert_eq!(buf[0], m as u8, "message {m} came back changed");
            }
            done_tx.send(true).unwrap();
        });
    }
    for _ in 0..CONNS {
        done.recv().unwrap();
    }
    stop_acceptors(&ln, &stop, 1);
    for s in acceptor.join().unwrap() {
        s.join().unwrap();
    }
    assert_eq!(served.load(Ordering::Relaxed), CONNS * msgs);
}

#[test]
fn tcp_stress_() {
    common::run(|| tcp_stress(1_000));
}

#[test]
fn slow_tcp_stress() {
    common::run(|| tcp_stress(10_000));
}
