//! Port of Go's `src/net/tcpsock_unix_test.go`.
//!
//! Ported: TestTCPSpuriousConnSetupCompletion (1,000 connections;
//! `slow_tcp_spurious_conn_setup_completion` Go's 10,000; Go skips it in
//! `-short`). Go ends the accept loop by closing the listener; here a flag
//! and one more connection end it (`stop_acceptors`).
//!
//! Not ported: TestTCPSpuriousConnSetupCompletionWithCancel (a dial
//! cancelled by a context: weft's `connect` takes none).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft::chan;
use weft::net::{TcpListener, TcpStream};
use weft::sync::WaitGroup;

use crate::common;
use crate::net_mockserver::stop_acceptors;

/// Go's TestTCPSpuriousConnSetupCompletion: many concurrent dials, each
/// writing a byte as soon as it is connected (a dial that reported success
/// before the handshake completed would fail that write with `ENOTCONN`).
fn tcp_spurious_conn_setup_completion(attempts: usize) {
    let ln = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = ln.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    wg.add(1);
    {
        let (ln, stop, wg) = (ln.clone(), stop.clone(), wg.clone());
        weft::go!(move || {
            while !stop.load(Ordering::SeqCst) {
                let (mut c, _) = ln.accept().unwrap();
                wg.add(1);
                let wg = wg.clone();
                weft::go!(move || {
                    let _ = c.read(&mut [0u8; 1]);
                    drop(c);
                    wg.done();
                });
            }
            wg.done();
        });
    }
    wg.add(attempts);
    let (throttle_tx, throttle) = chan::<()>(weft::maxprocs() * 2);
    let connected = Arc::new(AtomicUsize::new(0));
    for i in 0..attempts {
        throttle_tx.send(()).unwrap();
        let (throttle, wg, connected) = (throttle.clone(), wg.clone(), connected.clone());
        weft::go!(move || {
            if let Ok(mut c) = TcpStream::connect_timeout(&addr, Duration::from_millis(50)) {
                connected.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = c.write(&[0u8; 1]) {
                    assert_ne!(
                        e.raw_os_error(),
                        Some(libc::ENOTCONN),
                        "#{i}: write after a successful connect: {e}"
                    );
                }
            }
            throttle.recv().unwrap();
            wg.done();
        });
    }
    // Go closes the listener here, before the dials finish.
    stop_acceptors(&ln, &stop, 1);
    wg.wait();
    assert!(connected.load(Ordering::Relaxed) > 0, "no dial succeeded");
}

#[test]
fn tcp_spurious_conn_setup_completion_() {
    common::run(|| tcp_spurious_conn_setup_completion(1_000));
}

#[test]
fn slow_tcp_spurious_conn_setup_completion() {
    common::run(|| tcp_spurious_conn_setup_completion(10_000));
}
