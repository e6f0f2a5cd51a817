//! A socket waiter is woken even when no M sleeps in `epoll_wait`. Its own
//! test binary: the scenario starts from a runtime with every P idle (sysmon
//! in its deep sleep), which other tests' goroutines would disturb.
//!
//! The scenario (found in review): maxprocs 1 and a spare M. Goroutine R
//! waits on a socket, goroutine S sleeps on a timer; every P is idle, so
//! sysmon sleeps deeply and the timer-role M sleeps in `epoll_wait`. The
//! timer fires: that M takes the P and runs S, which yields in a loop until
//! R has its data. The role passes to the spare M, which sees no idle P and
//! sleeps on its condvar, leaving the netpoller to the running M (which
//! never runs out of work: S's yields) and to sysmon — which must therefore
//! be awake. Before the fix R woke only when S gave up, 3 s later.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long S yields before giving up: a lost wake-up shows as R waking
/// only after this.
const GIVE_UP: Duration = Duration::from_secs(5);
/// When the peer writes, after connecting.
const WRITE_AFTER: Duration = Duration::from_millis(300);

#[test]
fn socket_waiter_wakes_when_a_timer_hands_the_only_p_to_a_yield_loop() {
    weft::set_maxprocs(1);
    let woke_after_write = weft::run(|| {
        // A spare M: sysmon retakes the P of this call and starts one.
        weft::blocking(|| std::thread::sleep(Duration::from_millis(30)));
        let l = weft::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (wrote_tx, wrote_rx) = std::sync::mpsc::channel();
        let peer = std::thread::spawn(move || {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            std::thread::sleep(WRITE_AFTER);
            c.write_all(b"x").unwrap();
            wrote_tx.send(Instant::now()).unwrap();
            // Keep the connection open until R has read.
            let mut b = [0u8; 1];
            let _ = c.read(&mut b);
        });
        let (mut s, _) = l.accept().unwrap();
        let got = Arc::new(AtomicBool::new(false));
        let reader = {
            let got = got.clone();
            weft::go!(move || {
                let mut b = [0u8; 1];
                s.read_exact(&mut b).unwrap();
                let at = Instant::now();
                got.store(true, Ordering::SeqCst);
                drop(s);
                at
            })
        };
        let spinner = weft::go!(move || {
            weft::time::sleep(Duration::from_millis(100));
            let start = Instant::now();
            let mut yields = 0u64;
            while !got.load(Ordering::SeqCst) && start.elapsed() < GIVE_UP {
                weft::yield_now();
                yields += 1;
            }
            yields
        });
        let read_at = reader.join().unwrap();
        assert!(spinner.join().unwrap() > 0);
        let wrote_at = wrote_rx.recv().unwrap();
        peer.join().unwrap();
        read_at.saturating_duration_since(wrote_at)
    });
    // sysmon polls every 10 ms while a P runs; far below GIVE_UP.
    assert!(
        woke_after_write < GIVE_UP / 2,
        "the reader woke {woke_after_write:?} after the write"
    );
}
