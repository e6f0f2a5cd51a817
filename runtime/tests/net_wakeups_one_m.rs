//! A socket waiter is woken while the only M runs a goroutine that never
//! runs out of work. Its own test binary: the scenario starts from a
//! runtime with every P idle (sysmon in its deep sleep), which other tests'
//! goroutines would disturb.
//!
//! The scenario: maxprocs 1 and no spare M. Goroutine R waits on a socket,
//! goroutine S sleeps on a timer; every P is idle, so sysmon sleeps deeply
//! and the one M, holding the timer role, sleeps in `epoll_wait`. The timer
//! fires: the M leaves the idle list, takes the P (`idle::stopm`) and runs
//! S, which yields in a loop until R has its data. No M sleeps to take the
//! role, and the running M never runs out of work (S's yields), so only
//! sysmon polls the netpoller — and taking the P must have woken it. Before
//! the fix R woke only when S gave up: 4.79 s after the write, 3 runs of 3
//! (the figure of the TSan failure of `net_wakeups` at continuation@2P,
//! where the spare M had exited after 2 s idle).

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
fn socket_waiter_wakes_when_the_only_m_takes_the_p_for_a_timer() {
    weft::set_maxprocs(1);
    let woke_after_write = weft::run(|| {
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
