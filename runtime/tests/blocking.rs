//! `blocking()`, sysmon and the runnext guard, at maxprocs 1: whatever one
//! goroutine does, the others get to run.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_runtime::park::{park, unparker, Unparker};
use weft_runtime::{self as weft, WaitReason};

/// One P, and this file's tests one at a time: they assert what a single P
/// does with their own goroutines, and the test harness runs tests on
/// parallel threads into the one shared runtime.
fn one_proc() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    weft::set_maxprocs(1);
    guard
}

/// A one-slot handoff between goroutines on the parking primitive.
#[derive(Default)]
struct Slot {
    st: Mutex<(Option<u64>, Option<Unparker>)>,
}

impl Slot {
    fn put(&self, v: u64) {
        let mut st = self.st.lock().unwrap();
        st.0 = Some(v);
        let w = st.1.take();
        drop(st);
        if let Some(w) = w {
            w.unpark();
        }
    }

    fn take(&self) -> u64 {
        let mut st = self.st.lock().unwrap();
        loop {
            if let Some(v) = st.0.take() {
                return v;
            }
            st.1 = Some(unparker());
            let mut g = Some(st);
            park(WaitReason::Park, move || drop(g.take()));
            st = self.st.lock().unwrap();
        }
    }
}

#[test]
fn round_trips_go_on_while_one_goroutine_blocks() {
    let _serial = one_proc();
    weft::run(|| {
        let in_call = Arc::new(AtomicBool::new(true));
        let ic = in_call.clone();
        // The call blocks its M until the round trips are done (30 s: a
        // liveness bound), so how slowly a loaded machine runs them does
        // not matter.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let blocker = weft::spawn(move || {
            let _ = weft::blocking(|| released.recv_timeout(Duration::from_secs(30)));
            ic.store(false, Ordering::SeqCst);
        });
        let (a, b) = (Arc::new(Slot::default()), Arc::new(Slot::default()));
        let (a2, b2) = (a.clone(), b.clone());
        let echo = weft::spawn(move || {
            for _ in 0..10_000 {
                let v = a2.take();
                b2.put(v + 1);
            }
        });
        for i in 0..10_000 {
            a.put(i);
            assert_eq!(b.take(), i + 1);
        }
        echo.join().unwrap();
        assert!(
            in_call.load(Ordering::SeqCst),
            "10,000 round trips should finish while the blocking call is still blocked"
        );
        release.send(()).unwrap();
        blocker.join().unwrap();
    });
}

#[test]
fn a_goroutine_that_never_yields_does_not_starve_the_queue() {
    let _serial = one_proc();
    weft::run(|| {
        let done = Arc::new(AtomicUsize::new(0));
        let spinning = Arc::new(AtomicBool::new(true));
        let (d, s) = (done.clone(), spinning.clone());
        // Spins until the short tasks have all run (30 s: a liveness
        // bound), however slowly a loaded machine runs them.
        let ran = done.clone();
        let hog = weft::spawn(move || {
            let t = Instant::now();
            while ran.load(Ordering::SeqCst) < 100 && t.elapsed() < Duration::from_secs(30) {
                std::hint::spin_loop();
            }
            s.store(false, Ordering::SeqCst);
        });
        let hs: Vec<_> = (0..100)
            .map(|_| {
                let (d, s) = (d.clone(), spinning.clone());
                weft::spawn(move || {
                    let during = s.load(Ordering::SeqCst);
                    d.fetch_add(1, Ordering::SeqCst);
                    during
                })
            })
            .collect();
        let during: usize = hs.into_iter().map(|h| usize::from(h.join().unwrap())).sum();
        hog.join().unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 100);
        assert_eq!(
            during, 100,
            "the short tasks should run while the hog spins"
        );
    });
}

#[test]
fn ping_pong_through_runnext_does_not_starve_a_third() {
    let _serial = one_proc();
    weft::run(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let (a, b) = (Arc::new(Slot::default()), Arc::new(Slot::default()));
        let (a2, b2, s2) = (a.clone(), b.clone(), stop.clone());
        let trips = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let t2 = trips.clone();
        let pinger = weft::spawn(move || {
            let mut n = 0;
            while !s2.load(Ordering::SeqCst) {
                a2.put(n);
                n = b2.take();
                t2.fetch_add(1, Ordering::SeqCst);
            }
            a2.put(u64::MAX);
            n
        });
        let ponger = weft::spawn(move || loop {
            let v = a.take();
            if v == u64::MAX {
                break;
            }
            b.put(v + 1);
        });
        // Start the third only once the pair is ping-ponging (under child
        // stealing it would otherwise run first and stop them at once).
        while trips.load(Ordering::SeqCst) == 0 {
            weft::yield_now();
        }
        let s3 = stop.clone();
        let third = weft::spawn(move || s3.store(true, Ordering::SeqCst));
        third.join().unwrap();
        assert!(pinger.join().unwrap() > 0);
        ponger.join().unwrap();
    });
}

#[test]
fn a_thousand_blocking_calls_overlap_and_threads_are_released() {
    let _serial = one_proc();
    let t = Instant::now();
    weft::run(|| {
        let hs: Vec<_> = (0..1000)
            .map(|_| {
                weft::spawn(|| weft::blocking(|| std::thread::sleep(Duration::from_millis(100))))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "1000 × 100 ms calls took {took:?}"
    );
    let peak = weft::stats().threads;
    assert!(
        peak > 10,
        "the calls should have run on many threads, saw {peak}"
    );
    // Idle extra Ms exit after a while.
    let t = Instant::now();
    while weft::stats().threads > 4 && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        weft::stats().threads <= 4,
        "threads stayed at {}",
        weft::stats().threads
    );
}

#[test]
fn blocking_on_a_plain_thread_just_calls() {
    assert_eq!(weft::blocking(|| 7), 7);
}

/// The seed program: download (I/O), compute a factorial (CPU) and write to
/// disk (I/O) concurrently; the slow download does not hold up the others.
#[test]
fn seed_download_compute_write() {
    let _serial = one_proc();
    let dir = std::env::temp_dir().join(format!("weft-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("large-file");
    std::fs::write(&src, vec![7u8; 1 << 20]).unwrap();
    let out = dir.join("data");
    let (src2, out2) = (src.clone(), out.clone());
    let downloading = Arc::new(AtomicBool::new(true));
    let dl = downloading.clone();
    let finished_during_download = weft::run(move || {
        let download = weft::spawn(move || {
            // Waiting for "the network", then reading what arrived.
            let bytes = weft::blocking(|| {
                std::thread::sleep(Duration::from_millis(300));
                std::fs::read(&src2).unwrap()
            });
            dl.store(false, Ordering::SeqCst);
            bytes.len()
        });
        let d1 = downloading.clone();
        let compute = weft::spawn(move || {
            // 100000! mod a prime: CPU-bound.
            let p = 1_000_000_007u64;
            let f = (1..=100_000u64).fold(1u64, |a, k| a * k % p);
            (f, d1.load(Ordering::SeqCst))
        });
        let d2 = downloading.clone();
        let write = weft::spawn(move || {
            weft::blocking(|| std::fs::write(&out2, b"some data")).unwrap();
            d2.load(Ordering::SeqCst)
        });
        let (f, c_during) = compute.join().unwrap();
        let w_during = write.join().unwrap();
        assert_eq!(download.join().unwrap(), 1 << 20);
        assert_ne!(f, 0);
        c_during && w_during
    });
    assert!(
        finished_during_download,
        "compute and write should not wait for the download"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"some data");
    std::fs::remove_dir_all(&dir).unwrap();
}
