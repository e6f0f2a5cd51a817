//! Panics where user code runs inside the runtime's machinery (issue 26):
//! a timer callback, a panic payload whose `Drop` panics, a
//! `weft::time::after_func` function, a context `after_func`, a timer
//! closure whose captures panic when a cancel drops them. In each, the
//! panic is reported with its message and location, the runtime stays
//! consistent (every other timer fires, every message arrives, no timer is
//! left counted), and the process lives on: never "fatal error", never an
//! abort.
//!
//! Each case runs in a child process (this binary again), whose stdout
//! (the case's tally) and stderr (the reports) the parent reads.

use std::panic;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::runtime::timer;

const CHILD: &str = "WEFT_PANICS_TEST_CHILD";

/// Runs test `name` of this binary in a child; (success, stdout, stderr).
fn child(name: &str) -> (bool, String, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), s(&out.stdout), s(&out.stderr))
}

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Checks that child `name` finished and printed `tally`, and that its
/// stderr reports the panic `msg` once, on the line after a header that
/// starts with `who` (`goroutine ` or `thread 'weft-m`) and names this
/// file: the report the panic hook gives, with nothing fatal.
fn check(name: &str, tally: &str, who: &str, msg: &str) {
    let (ok, out, err) = child(name);
    assert!(
        ok,
        "{name}: the child failed\nstdout:\n{out}\nstderr:\n{err}"
    );
    assert!(
        out.contains(tally),
        "{name}: no {tally:?} in\n{out}\nstderr:\n{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    let reports = lines
        .windows(2)
        .filter(|w| {
            w[0].starts_with(who)
                && w[0].contains(" panicked at tests/panics_in_callbacks.rs:")
                && w[1] == msg
        })
        .count();
    assert_eq!(
        reports, 1,
        "{name}: {msg:?} not reported once by {who:?}:\n{err}"
    );
    for bad in ["fatal error", "panic in the scheduler", "aborted"] {
        assert!(!err.contains(bad), "{name}: {bad:?} in\n{err}");
    }
}

/// Polls `f` until it holds (a liveness bound, not a timing claim).
fn wait_until(what: &str, f: impl Fn() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(30), "timed out: {what}");
        weft::time::sleep(Duration::from_millis(1));
    }
}

/// Panics when dropped, with `self.0` as the message.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// Goroutines passing `n` messages around a ring of `k` while the case
/// runs: the scheduler must keep them all moving.
fn ring(k: usize, n: usize) -> weft::JoinHandle<usize> {
    weft::go!(move || {
        let (first_tx, mut rx) = weft::chan::<usize>(0);
        for _ in 1..k {
            let (tx, next_rx) = weft::chan::<usize>(0);
            let prev = std::mem::replace(&mut rx, next_rx);
            weft::go!(move || {
                for v in prev {
                    tx.send(v + 1).unwrap();
                }
            });
        }
        let mut hops = 0;
        for i in 0..n {
            first_tx.send(i).unwrap();
            hops += rx.recv().unwrap() - i;
        }
        hops
    })
}

/// Runtime timers: one callback panics; the ten after it all fire, and
/// goroutines run throughout.
#[test]
fn a_panicking_timer_callback_is_reported_and_the_rest_fire() {
    if !is_child() {
        return check(
            "a_panicking_timer_callback_is_reported_and_the_rest_fire",
            "fired 10, hops 4000",
            "thread 'weft-m",
            "boom: timer callback",
        );
    }
    ten_timers_after(|| panic!("boom: timer callback"));
}

/// A timer callback panics with a payload whose `Drop` panics too: the
/// runtime drops the payload, and that second panic must not escape into
/// the scheduler either.
#[test]
fn a_timer_callback_panic_payload_that_panics_on_drop() {
    if !is_child() {
        return check(
            "a_timer_callback_panic_payload_that_panics_on_drop",
            "fired 10, hops 4000",
            "thread 'weft-m",
            "boom: payload dropped",
        );
    }
    ten_timers_after(|| panic::panic_any(PanicOnDrop("boom: payload dropped")));
}

/// Adds `bad` as a timer callback due now, then ten more, while a ring of
/// goroutines passes messages; waits for the ten, and prints the tally.
fn ten_timers_after(bad: fn()) {
    weft::run(|| {
        let r = ring(5, 1000);
        let fired = Arc::new(AtomicUsize::new(0));
        let now = Instant::now();
        timer::add(now, bad);
        for i in 0..10 {
            let f = fired.clone();
            timer::add(now + Duration::from_millis(i), move || {
                f.fetch_add(1, Ordering::SeqCst);
            });
        }
        wait_until("ten timers fire", || fired.load(Ordering::SeqCst) == 10);
        let hops = r.join().unwrap();
        println!("fired {}, hops {hops}", fired.load(Ordering::SeqCst));
    });
}

/// `weft::time::after_func`: one function panics, in its own goroutine;
/// the others all run.
#[test]
fn a_panicking_time_after_func_is_a_goroutine_panic() {
    if !is_child() {
        return check(
            "a_panicking_time_after_func_is_a_goroutine_panic",
            "ran 10",
            "goroutine ",
            "boom: after_func",
        );
    }
    weft::run(|| {
        let (tx, rx) = weft::chan::<u64>(10);
        let bad = weft::time::after_func(Duration::from_millis(1), || panic!("boom: after_func"));
        let ts: Vec<_> = (0..10)
            .map(|i| {
                let tx = tx.clone();
                weft::time::after_func(Duration::from_millis(i), move || tx.send(i).unwrap())
            })
            .collect();
        let mut got: Vec<u64> = (0..10).map(|_| rx.recv().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        drop((bad, ts));
        println!("ran {}", got.len());
    });
}

/// A context's `after_func`s: one panics; the cancel returns, the others
/// all run.
#[test]
fn a_panicking_context_after_func_is_a_goroutine_panic() {
    if !is_child() {
        return check(
            "a_panicking_context_after_func_is_a_goroutine_panic",
            "ran 9",
            "goroutine ",
            "boom: context after_func",
        );
    }
    weft::run(|| {
        use weft::context;
        let (ctx, cancel) = context::with_cancel(&context::background());
        let (tx, rx) = weft::chan::<usize>(10);
        let stops: Vec<_> = (0..10)
            .map(|i| {
                let tx = tx.clone();
                context::after_func(&ctx, move || {
                    if i == 4 {
                        panic!("boom: context after_func");
                    }
                    tx.send(i).unwrap();
                })
            })
            .collect();
        cancel.cancel();
        let mut got: Vec<usize> = (0..9).map(|_| rx.recv().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2, 3, 5, 6, 7, 8, 9]);
        drop(stops);
        println!("ran {}", got.len());
    });
}

/// Cancelling a runtime timer drops its callback; a capture that panics
/// then panics in the goroutine that cancelled, which sees it in `join`,
/// and the timer is gone (not counted as pending, never fires).
#[test]
fn a_timer_closure_that_panics_when_a_cancel_drops_it() {
    if !is_child() {
        return check(
            "a_timer_closure_that_panics_when_a_cancel_drops_it",
            "cancelled: boom: dropped by cancel; pending 0; later timer fired",
            "goroutine ",
            "boom: dropped by cancel",
        );
    }
    weft::run(|| {
        let guard = PanicOnDrop("boom: dropped by cancel");
        let id = timer::add(Instant::now() + Duration::from_secs(3600), move || {
            let _keep = &guard;
            unreachable!("a cancelled timer fired");
        });
        assert_eq!(weft::stats().timers, 1);
        let h = weft::go!(move || timer::cancel(&id));
        let e = h.join().unwrap_err();
        let msg = e.message().unwrap_or("?").to_owned();
        let pending = weft::stats().timers;
        let (tx, rx) = weft::chan::<()>(1);
        timer::add(Instant::now(), move || tx.try_send(()).unwrap());
        rx.recv().unwrap();
        println!("cancelled: {msg}; pending {pending}; later timer fired");
    });
}
