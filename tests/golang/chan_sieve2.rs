//! Port of Go's `test/chan/sieve2.go`: an Eratosthenes-like prime sieve over
//! odd candidates — the composites are merged from channels of multiples
//! through a heap (Go's `container/heap`; here `BinaryHeap`), and a send
//! proxy goroutine with an expanding ring buffer (Go's `container/ring`;
//! here `VecDeque`) feeds primes back without blocking, using a nil-channel
//! case (`never_sender()`) to turn its output off while the buffer is empty.
//! Checked against the primes below 100; the goroutines are abandoned
//! (parked) when the test returns, as in Go.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use weft::{chan, never_sender, select, Receiver, Sender};

use crate::chan_sieve1::PRIMES;
use crate::common;

/// A chan of odd numbers, starting from 5.
fn odds() -> Receiver<i32> {
    let (out, rx) = chan(50);
    weft::go!(move || {
        let mut n = 5;
        while out.send(n).is_ok() {
            n += 2;
        }
    });
    rx
}

/// A chan of odd multiples of the prime `p`, starting from p*p.
fn multiples(p: i32) -> Receiver<i32> {
    let (out, rx) = chan(10);
    weft::go!(move || {
        let mut n = p * p;
        while out.send(n).is_ok() {
            n += 2 * p;
        }
    });
    rx
}

/// A channel head and the channel, ordered by head (`PeekCh`).
struct PeekCh {
    head: i32,
    ch: Receiver<i32>,
}

impl PartialEq for PeekCh {
    fn eq(&self, o: &Self) -> bool {
        self.head == o.head
    }
}
impl Eq for PeekCh {}
impl PartialOrd for PeekCh {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for PeekCh {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.head.cmp(&o.head)
    }
}

/// A channel to serve as a sending proxy to `out`: a goroutine receives
/// from it and buffers without bound, so sending to it never blocks for
/// long.
fn sendproxy(out: Sender<i32>) -> Sender<i32> {
    let (proxy, proxy_rx) = chan::<i32>(10);
    weft::go!(move || {
        let mut buf: VecDeque<i32> = VecDeque::with_capacity(16);
        loop {
            // Buffer empty: disable output (Go's `c = nil`).
            let (c, e) = match buf.front() {
                Some(&e) => (out.clone(), e),
                None => (never_sender(), 0),
            };
            select! {
                recv(proxy_rx) -> e => match e {
                    Ok(e) => buf.push_back(e),
                    Err(_) => return,
                },
                send(c, e) -> r => {
                    if r.is_err() {
                        return;
                    }
                    buf.pop_front();
                }
            }
        }
    });
    proxy
}

/// A chan of primes.
fn sieve() -> Receiver<i32> {
    // The output values.
    let (out, out_rx) = chan(10);
    out.send(2).unwrap();
    out.send(3).unwrap();

    // The channel of all composites to be eliminated in increasing order.
    let (composites, composites_rx) = chan::<i32>(50);

    // The feedback loop.
    let (primes, primes_rx) = chan::<i32>(10);
    primes.send(3).unwrap();

    // Merge channels of multiples of `primes` into `composites`.
    weft::go!(move || {
        let mut h: BinaryHeap<Reverse<PeekCh>> = BinaryHeap::new();
        let mut min = 15;
        loop {
            let Ok(p) = primes_rx.recv() else { return };
            let m = multiples(p);
            let head = m.recv().unwrap();
            while min < head {
                if composites.send(min).is_err() {
                    return;
                }
                let Reverse(mut minchan) = h.pop().unwrap();
                min = minchan.head;
                minchan.head = minchan.ch.recv().unwrap();
                h.push(Reverse(minchan));
            }
            while min == head {
                let Reverse(mut minchan) = h.pop().unwrap();
                min = minchan.head;
                minchan.head = minchan.ch.recv().unwrap();
                h.push(Reverse(minchan));
            }
            if composites.send(head).is_err() {
                return;
            }
            let head = m.recv().unwrap();
            h.push(Reverse(PeekCh { head, ch: m }));
        }
    });

    // Sieve out `composites` from `candidates`.
    weft::go!(move || {
        // In order to generate the nth prime we only need multiples of
        // primes ≤ sqrt(nth prime). Thus, the merging goroutine will
        // receive from `primes` much slower than this goroutine will send
        // to it, making the buffer accumulate and block this goroutine
        // from sending, causing a deadlock. The solution is to use a proxy
        // goroutine to do automatic buffering.
        let primes = sendproxy(primes);
        let candidates = odds();
        let mut p = candidates.recv().unwrap();
        loop {
            let Ok(c) = composites_rx.recv() else { return };
            while p < c {
                if primes.send(p).is_err() || out.send(p).is_err() {
                    return;
                }
                p = candidates.recv().unwrap();
            }
            if p == c {
                p = candidates.recv().unwrap();
            }
        }
    });

    out_rx
}

#[test]
fn sieve2() {
    common::run(|| {
        let primes = sieve();
        for want in PRIMES {
            let x = primes.recv().unwrap();
            assert_eq!(x, want, "{x} != {want}");
        }
    });
}
