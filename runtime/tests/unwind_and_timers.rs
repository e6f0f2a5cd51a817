//! Issue 15's item-6 bugs, each test failing on the runtime before its fix:
//! a goroutine parking while a panic unwinds through it, a panicking
//! `park` commit, timer callbacks that block or panic. maxprocs 1, one test
//! at a time (they share the process's runtime).

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_runtime::park::park;
use weft_runtime::{self as weft, JoinHandle, WaitReason};

fn one_proc() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    weft::set_maxprocs(1);
    guard
}

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Joins a goroutine when dropped: a `Drop` that parks.
struct JoinOnDrop(Option<JoinHandle<()>>);

impl Drop for JoinOnDrop {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.join().unwrap();
        }
    }
}

/// std counts panics per OS thread: a goroutine that parked mid-unwind
/// used to leave the count raised for the next goroutine on its M, which
/// then saw `std::thread::panicking() == true`.
#[test]
fn parking_while_unwinding_leaks_no_panic_state_to_other_goroutines() {
    let _one = one_proc();
    let saw_panicking = Arc::new(AtomicUsize::new(0));
    let checks = Arc::new(AtomicUsize::new(0));
    weft::run({
        let (saw, checks) = (saw_panicking.clone(), checks.clone());
        move || {
            let unwinding = weft::spawn(|| {
                let slow = weft::spawn(|| weft::time::sleep(Duration::from_millis(30)));
                let _join = JoinOnDrop(Some(slow));
                panic!("expected: unwinds through a Drop that joins");
            });
            let bystanders: Vec<_> = (0..20)
                .map(|_| {
                    let (saw, checks) = (saw.clone(), checks.clone());
                    weft::spawn(move || {
                        let t = Instant::now();
                        while t.elapsed() < Duration::from_millis(60) {
                            if std::thread::panicking() {
                                saw.fetch_add(1, Ordering::SeqCst);
                            }
                            checks.fetch_add(1, Ordering::SeqCst);
                            weft::yield_now();
                        }
                    })
                })
                .collect();
            assert!(unwinding.join().is_err());
            for b in bystanders {
                b.join().unwrap();
            }
        }
    });
    assert!(checks.load(Ordering::SeqCst) > 0);
    assert_eq!(
        saw_panicking.load(Ordering::SeqCst),
        0,
        "goroutines saw std::thread::panicking() for another goroutine's panic"
    );
}

/// A `commit` closure that panics: the panic reaches `park`'s caller (it
/// used to abort the process with "panic in the scheduler").
#[test]
fn a_panicking_park_commit_reaches_the_caller() {
    let _one = one_proc();
    let ok = weft::run(|| {
        let r = panic::catch_unwind(|| {
            park(WaitReason::Select, || panic!("expected: commit panics"));
        });
        assert!(r.is_err());
        // The goroutine is intact: it parks and switches as ever.
        weft::yield_now();
        weft::spawn(|| 7).join().unwrap()
    });
    assert_eq!(ok, 7);
}

/// A timer callback that blocks its thread holds its M, not the P: the
/// rest of the program runs on (it used to wait for the callback).
#[test]
fn a_blocking_timer_callback_does_not_hold_the_p() {
    let _one = one_proc();
    let in_call = Arc::new(AtomicBool::new(false));
    let released = Arc::new(AtomicBool::new(false));
    {
        let (in_call, released) = (in_call.clone(), released.clone());
        weft::timer::add(Instant::now(), move || {
            in_call.store(true, Ordering::SeqCst);
            let t = Instant::now();
            // Until released (30 s: a liveness bound; the goroutines below
            // may run slowly on a loaded machine, and must run meanwhile).
            while !released.load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(1));
            }
            in_call.store(false, Ordering::SeqCst);
        });
    }
    wait_until("the callback starts", || in_call.load(Ordering::SeqCst));
    // The only P's M is inside the callback: goroutines must still run.
    let rounds = weft::run(|| {
        let hs: Vec<_> = (0..50)
            .map(|_| {
                weft::spawn(|| {
                    for _ in 0..20 {
                        weft::yield_now();
                    }
                })
            })
            .collect();
        let n = hs.len();
        for h in hs {
            h.join().unwrap();
        }
        n
    });
    let still_blocked = in_call.load(Ordering::SeqCst);
    released.store(true, Ordering::SeqCst);
    assert_eq!(rounds, 50);
    assert!(
        still_blocked,
        "the goroutines ran only after the blocking timer callback returned"
    );
    wait_until("the callback returns", || !in_call.load(Ordering::SeqCst));
}

/// A timer callback that panics is reported and dropped; other timers
/// fire on (it used to abort the process).
#[test]
fn a_panicking_timer_callback_is_dropped() {
    let _one = one_proc();
    let fired = Arc::new(AtomicBool::new(false));
    weft::timer::add(Instant::now(), || {
        panic!("expected: a timer callback panics")
    });
    let f = fired.clone();
    weft::timer::add(Instant::now() + Duration::from_millis(5), move || {
        f.store(true, Ordering::SeqCst)
    });
    wait_until("the second timer fires", || fired.load(Ordering::SeqCst));
    let r = weft::run(|| {
        panic::catch_unwind(AssertUnwindSafe(|| weft::spawn(|| 1).join().unwrap())).unwrap()
    });
    assert_eq!(r, 1);
}
