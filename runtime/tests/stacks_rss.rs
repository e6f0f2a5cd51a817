//! After a burst of a million goroutines, the stack pool returns their pages
//! to the OS: RSS comes back to within 20% of where it was. Alone in its
//! binary so nothing else moves RSS meanwhile.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use weft::park::{park, unparker, Unparker};
use weft::WaitReason;
use weft_runtime as weft;

fn rss_bytes() -> usize {
    // The heap is not the stack pool's: give its free pages back first.
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe { libc::malloc_trim(0) };
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// `n` goroutines alive (parked) at once, then all woken and joined.
fn wave(n: usize) {
    weft::run(move || {
        let parked = Arc::new(AtomicUsize::new(0));
        let released = Arc::new(AtomicBool::new(false));
        let wakers: Arc<Mutex<Vec<Unparker>>> = Arc::default();
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (parked, released, wakers) = (parked.clone(), released.clone(), wakers.clone());
                weft::spawn(move || {
                    wakers.lock().unwrap().push(unparker());
                    parked.fetch_add(1, Ordering::AcqRel);
                    while !released.load(Ordering::Acquire) {
                        park(WaitReason::Park, || {});
                    }
                })
            })
            .collect();
        while parked.load(Ordering::Acquire) < n {
            weft::yield_now();
        }
        released.store(true, Ordering::Release);
        for w in std::mem::take(&mut *wakers.lock().unwrap()) {
            w.unpark();
        }
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn rss_returns_after_a_million_goroutine_burst() {
    // Warm-up: starts the runtime and fills the pool's resident reserve.
    wave(20_000);
    let before = rss_bytes();
    let mut peak = 0;
    for _ in 0..4 {
        wave(250_000);
        peak = peak.max(rss_bytes());
    }
    let after = rss_bytes();
    eprintln!(
        "RSS before {} KiB, highest after a wave {} KiB, after {} KiB",
        before >> 10,
        peak >> 10,
        after >> 10
    );
    assert!(
        after as f64 <= before as f64 * 1.2,
        "RSS {before} -> {after} bytes after the burst"
    );
}
