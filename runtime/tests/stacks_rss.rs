//! After a burst of a million goroutines, the stack pool returns their pages
//! to the OS: RSS comes back to within 20% of where it was. Alone in its
//! binary so nothing else moves RSS meanwhile.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use weft::park::{park, unparker, Unparker};
use weft::WaitReason;
use weft_runtime as weft;

// Under ASan each parked goroutine also holds a fake stack (250k peaked at 12 GB): 25k.
const WAVE: usize = if cfg!(weft_asan) { 25_000 } else { 250_000 };

fn rss_bytes() -> usize {
    // The heap is not the stack pool's: give its free pages back first.
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe { libc::malloc_trim(0) };
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// RSS once the process has settled: a little ordinary goroutine traffic
/// lets the scheduler's own deferred frees happen (crossbeam's epoch garbage,
/// run-queue buffers shrinking), which are not the stack pool's to make, and
/// the pauses let sysmon's scavenger run (it releases stacks left unused for
/// a whole 20 ms period). Rounds go on until ten in a row bring the minimum
/// down by no more than 1% (at most 200 rounds, about 3 s: on a loaded
/// machine sysmon may run late).
fn settled_rss_bytes() -> usize {
    let mut min = usize::MAX;
    let mut stable = 0;
    for _ in 0..200 {
        weft::time::sleep(std::time::Duration::from_millis(15));
        let hs: Vec<_> = (0..1000).map(|i| weft::spawn(move || i)).collect();
        hs.into_iter().for_each(|h| drop(h.join()));
        let rss = rss_bytes();
        if (rss as f64) < min as f64 * 0.99 {
            stable = 0;
        } else {
            stable += 1;
        }
        min = min.min(rss);
        if stable >= 10 {
            break;
        }
    }
    min
}

/// `n` goroutines alive (parked) at once, then woken as a relay (each wakes
/// the next, so no run queue grows: the scheduler's buffers are not what this
/// test measures) and joined. Returns RSS while they were all parked.
fn wave(n: usize) -> usize {
    let parked = Arc::new(AtomicUsize::new(0));
    let released = Arc::new(AtomicBool::new(false));
    let wakers: Arc<Mutex<Vec<Unparker>>> = Arc::default();
    let relay: Arc<OnceLock<Vec<Unparker>>> = Arc::default();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (parked, released) = (parked.clone(), released.clone());
            let (wakers, relay) = (wakers.clone(), relay.clone());
            weft::spawn(move || {
                let me = {
                    let mut w = wakers.lock().unwrap();
                    w.push(unparker());
                    w.len() - 1
                };
                parked.fetch_add(1, Ordering::AcqRel);
                while !released.load(Ordering::Acquire) {
                    park(WaitReason::Park, || {});
                }
                if let Some(next) = relay.get().and_then(|r| r.get(me + 1)) {
                    next.unpark();
                }
            })
        })
        .collect();
    while parked.load(Ordering::Acquire) < n {
        weft::yield_now();
    }
    let rss_parked = rss_bytes();
    let all = std::mem::take(&mut *wakers.lock().unwrap());
    relay.set(all).ok().unwrap();
    released.store(true, Ordering::Release);
    relay.get().unwrap()[0].unpark();
    for h in handles {
        h.join().unwrap();
    }
    rss_parked
}

#[test]
fn rss_returns_after_a_million_goroutine_burst() {
    // glibc raises its mmap threshold after the first large free, after
    // which this test's 4 MB vectors come from a thread arena whose top chunk
    // `malloc_trim` never returns. Fixed thresholds keep large blocks mmapped,
    // so what is measured is the stack pool, not malloc's high-water mark.
    // SAFETY: mallopt only changes allocator tuning; called before the
    // runtime starts any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
    // One `weft::run` for the whole test: see docs/stacks.md, "Known gaps".
    let (before, peak, after) = weft::run(|| {
        // Warm-up: one wave of the same size, so the baseline includes what
        // the scheduler keeps (run-queue buffers, heap high-water), the
        // pool's resident reserve and the P caches.
        wave(WAVE);
        let before = settled_rss_bytes();
        // The burst: a million goroutines, a quarter of them alive at once.
        let peak = (0..4).map(|_| wave(WAVE)).max().unwrap();
        let after = settled_rss_bytes();
        (before, peak, after)
    });
    eprintln!(
        "RSS before {} KiB, with {WAVE} parked {} KiB, after {} KiB",
        before >> 10,
        peak >> 10,
        after >> 10
    );
    // The burst's stacks were resident...
    assert!(
        peak > before + WAVE * 4096,
        "{before} -> {peak}: stacks not touched?"
    );
    // ...and their pages went back to the OS. (ASan's quarantine keeps up to 256 MB of freed heap.)
    let quarantine = if cfg!(weft_asan) { 256 << 20 } else { 0 };
    assert!(
        after as f64 <= before as f64 * 1.2 + quarantine as f64,
        "RSS {before} -> {after} bytes after the burst"
    );
}
