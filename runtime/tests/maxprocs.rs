//! `set_maxprocs` while goroutines run. Its own test binary: it changes the
//! process-wide processor count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weft_runtime as weft;

#[test]
fn set_maxprocs_2_1_2_while_10k_goroutines_run() {
    let old = weft::set_maxprocs(2);
    assert!(old >= 1);
    assert_eq!(weft::maxprocs(), 2);
    let progress = Arc::new(AtomicUsize::new(0));
    let p = progress.clone();
    let hs: Vec<_> = (0..10_000u64)
        .map(|i| {
            let p = p.clone();
            weft::spawn(move || {
                let mut acc = i;
                for _ in 0..20 {
                    acc = acc.wrapping_mul(31).wrapping_add(7);
                    p.fetch_add(1, Ordering::Relaxed);
                    weft::yield_now();
                }
                (i, acc)
            })
        })
        .collect();
    let wait_for = |n: usize| {
        while progress.load(Ordering::Relaxed) < n {
            std::thread::yield_now();
        }
    };
    wait_for(20_000);
    assert_eq!(weft::set_maxprocs(1), 2);
    assert_eq!(weft::maxprocs(), 1);
    assert_eq!(weft::stats().procs.len(), 1);
    wait_for(80_000);
    assert_eq!(weft::set_maxprocs(2), 1);
    assert_eq!(weft::stats().procs.len(), 2);
    for (n, h) in hs.into_iter().enumerate() {
        let (i, acc) = h.join().unwrap();
        assert_eq!(i, n as u64);
        let mut want = i;
        for _ in 0..20 {
            want = want.wrapping_mul(31).wrapping_add(7);
        }
        assert_eq!(acc, want);
    }
    assert_eq!(progress.load(Ordering::Relaxed), 200_000);
    // Shrink to one and grow to three: the new P is created and used.
    weft::set_maxprocs(1);
    weft::set_maxprocs(3);
    let hs: Vec<_> = (0..1000u64).map(|i| weft::spawn(move || i)).collect();
    let sum: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, 999 * 1000 / 2);
    assert_eq!(weft::stats().procs.len(), 3);
}

#[test]
#[should_panic(expected = "at most 1024 processors")]
fn set_maxprocs_rejects_absurd_counts() {
    weft::set_maxprocs(1_000_000);
}
