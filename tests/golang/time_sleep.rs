//! Port of Go's `src/time/sleep_test.go` (Go 1.23+ timer semantics).
//!
//! Mapping: `time.Sleep` is `weft::time::sleep`, `After`/`NewTimer`/
//! `AfterFunc` are `after`/`Timer::new`/`after_func`; Go's `newTimerFunc`
//! (an `AfterFunc` timer whose `C` is replaced by a buffered channel the
//! function sends on) is [`new_timer_func`], so both timer paths are tested
//! as in Go. Go's negative durations (`Until(Unix(0, 0))`, `Duration(-1 <<
//! 63)`) are `Duration::ZERO`: a Rust `Duration` cannot be negative, and
//! Go treats both alike ("fires at once"). A channel read Go lets hang
//! ("the test fails if this read times out") has a 10 s liveness bound.
//!
//! Ported: TestSleep (without `Interrupt()`, which signals a thread
//! sleeping in the OS; a weft goroutine's sleep is a parked goroutine and a
//! timer, no thread sleeps), TestAfterFunc, TestTickerStress,
//! TestTickerConcurrentStress (without the `runtime.GC()` loop),
//! TestAfterFuncStarvation, TestAfter, TestAfterTick (Go's `-short`
//! durations and bounds), TestAfterStop, TestAfterQueuing,
//! TestTimerStopStress (shorter: see its comment), TestSleepZeroDeadlock
//! (without GC), TestReset, TestOverflowSleep, TestZeroTimer (fewer rounds),
//! TestTimerModifiedEarlier, TestAdjustTimers, TestStopResult,
//! TestResetResult, TestMultiWakeupTicker (fewer rounds),
//! TestMultiWakeupTimer.
//!
//! Not ported: TestIssue5745 (a nil `*Timer` cannot be written in Rust),
//! TestOverflowPeriodRuntimeTimer (Go's internal runtime timer),
//! TestZeroTimerResetPanics and TestZeroTimerStopPanics (a zero `Timer`
//! value cannot be built: its fields are private). The benchmarks belong in
//! sched-bench.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft::sync::WaitGroup;
use weft::time::{after, after_func, sleep, Ticker, Timer};
use weft::{chan, select, Receiver};

use crate::common::{self, ms, MaxProcs};

/// Go's `newTimerFunc`: an `AfterFunc` timer whose `C` is a buffered
/// channel the function sends on — the timer path without the special
/// cases for channel timers.
pub(crate) fn new_timer_func(d: Duration) -> Timer {
    let (tx, rx) = chan(1);
    let mut t = after_func(d, move || {
        let _ = tx.send(Instant::now());
    });
    t.c = rx;
    t
}

/// A liveness bound for reads Go lets block forever.
const LIVENESS: Duration = Duration::from_secs(10);

fn recv_live(c: &Receiver<Instant>, what: &str) -> Instant {
    c.recv_timeout(LIVENESS)
        .unwrap_or_else(|e| panic!("{what}: no value within {LIVENESS:?}: {e}"))
}

#[test]
fn sleep_() {
    common::run(|| {
        let delay = ms(100);
        weft::go!(move || sleep(delay / 2));
        let start = Instant::now();
        sleep(delay);
        let duration = start.elapsed();
        assert!(
            duration >= delay,
            "Sleep({delay:?}) slept for only {duration:?}"
        );
    });
}

/// Tests the basic function calling behaviour of AfterFunc.
#[test]
fn after_func_() {
    fn f(i: Arc<Mutex<i32>>, c: weft::Sender<bool>) {
        let left = {
            let mut i = i.lock().unwrap();
            *i -= 1;
            *i
        };
        if left >= 0 {
            let (i2, c2) = (i.clone(), c.clone());
            after_func(Duration::ZERO, move || f(i2.clone(), c2.clone()));
            sleep(Duration::from_secs(1));
        } else {
            c.send(true).unwrap();
        }
    }
    common::run(|| {
        let i = Arc::new(Mutex::new(10));
        let (c, c_rx) = chan(0);
        let (i2, c2) = (i.clone(), c.clone());
        after_func(Duration::ZERO, move || f(i2.clone(), c2.clone()));
        c_rx.recv().unwrap();
    });
}

fn nanosecond_sleeper(stop: Arc<AtomicBool>) {
    // Go runs runtime.GC() here too; weft has no GC. Yield so that timers
    // can generate channel sends for the test goroutine.
    while !stop.load(Ordering::SeqCst) {
        sleep(Duration::from_nanos(1));
    }
}

#[test]
fn ticker_stress() {
    common::run(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        weft::go!(move || nanosecond_sleeper(s));
        let ticker = Ticker::new(Duration::from_nanos(1));
        for _ in 0..100 {
            recv_live(&ticker.c, "tick");
        }
        ticker.stop();
        stop.store(true, Ordering::SeqCst);
    });
}

#[test]
fn ticker_concurrent_stress() {
    common::run(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        weft::go!(move || nanosecond_sleeper(s));
        let ticker = Ticker::new(Duration::from_nanos(1));
        let wg = Arc::new(WaitGroup::new());
        for _ in 0..10 {
            wg.add(1);
            let (c, wg) = (ticker.c.clone(), wg.clone());
            weft::go!(move || {
                for _ in 0..100 {
                    recv_live(&c, "tick");
                }
                wg.done();
            });
        }
        wg.wait();
        ticker.stop();
        stop.store(true, Ordering::SeqCst);
    });
}

/// Two goroutines ping-pong on a channel, so at any time one of them is
/// runnable; at GOMAXPROCS 1 the AfterFunc goroutine must still get to run.
#[test]
fn after_func_starvation() {
    common::run_alone(|| {
        let _procs = MaxProcs::set(1);
        let wg = Arc::new(WaitGroup::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, c_rx) = chan::<bool>(1);
        wg.add(2);
        let (w, s) = (wg.clone(), stop.clone());
        weft::go!(move || {
            while !s.load(Ordering::SeqCst) {
                c.send(true).unwrap();
            }
            c.close().unwrap();
            w.done();
        });
        let w = wg.clone();
        weft::go!(move || {
            for _ in &c_rx {}
            w.done();
        });
        let s = stop.clone();
        let _t = after_func(Duration::from_micros(1), move || {
            s.store(true, Ordering::SeqCst)
        });
        wg.wait();
    });
}

#[test]
fn after_() {
    common::run(|| {
        let delay = ms(100);
        let start = Instant::now();
        let end = recv_live(&after(delay), "After");
        let duration = start.elapsed();
        assert!(
            duration >= delay,
            "After({delay:?}) slept for only {duration:?}"
        );
        assert!(
            end >= start + delay,
            "After({delay:?}) expect >= start + delay"
        );
    });
}

#[test]
fn after_tick() {
    common::run(|| {
        const COUNT: u32 = 10;
        let delta = ms(10); // Go's -short value
        let t0 = Instant::now();
        for _ in 0..COUNT {
            recv_live(&after(delta), "After");
        }
        let d = t0.elapsed();
        let target = delta * COUNT;
        // Go checks the upper bound (3x) only without -short.
        assert!(
            d >= target * 9 / 10,
            "{COUNT} ticks of {delta:?} too fast: took {d:?}, expected {target:?}"
        );
    });
}

fn test_after_stop(new_timer: fn(Duration) -> Timer) {
    // We want to test that we stop a timer before it runs. We also want to
    // test that it didn't run after a longer timer. Since we don't want the
    // test to run for too long, we don't want to use lengthy times. That
    // makes the test inherently flaky. So only report an error if it fails
    // five times in a row.
    let mut errs = Vec::new();
    for _ in 0..5 {
        after_func(ms(100), || {});
        let t0 = new_timer(ms(50));
        let (c1, c1_rx) = chan(1);
        let t1 = after_func(ms(150), move || {
            let _ = c1.try_send(true);
        });
        let c2 = after(ms(200));
        if !t0.stop() {
            errs.push("failed to stop event 0");
            continue;
        }
        if !t1.stop() {
            errs.push("failed to stop event 1");
            continue;
        }
        recv_live(&c2, "c2");
        let stopped = select! {
            recv(t0.c) -> _ => Err("event 0 was not stopped"),
            recv(c1_rx) -> _ => Err("event 1 was not stopped"),
            default => Ok(()),
        };
        if let Err(e) = stopped {
            errs.push(e);
            continue;
        }
        if t1.stop() {
            errs.push("Stop returned true twice");
            continue;
        }
        // Test passed, so all done.
        if !errs.is_empty() {
            eprintln!(
                "saw {} errors, ignoring to avoid flakiness: {errs:?}",
                errs.len()
            );
        }
        return;
    }
    panic!("saw {} errors: {errs:?}", errs.len());
}

#[test]
fn after_stop() {
    common::run(|| {
        test_after_stop(Timer::new); // impl=chan
        test_after_stop(new_timer_func); // impl=func
    });
}

const SLOTS: [u32; 13] = [5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0];

fn test_after_queuing1(
    delta: Duration,
    after: fn(Duration) -> Receiver<Instant>,
) -> Result<(), String> {
    // Make the result channel buffered because we don't want to depend on
    // channel queuing semantics that might possibly change in the future.
    let (result, result_rx) = chan::<(u32, Instant)>(SLOTS.len());
    let t0 = Instant::now();
    for slot in SLOTS {
        let (result, ac) = (result.clone(), after(delta * slot));
        weft::go!(move || result.send((slot, ac.recv().unwrap())).unwrap());
    }
    let mut order = Vec::new();
    let mut times = Vec::new();
    for _ in SLOTS {
        let (slot, t) = result_rx.recv().unwrap();
        order.push(slot);
        times.push(t);
    }
    for i in 1..order.len() {
        if order[i] < order[i - 1] {
            return Err(format!("After calls returned out of order: {order:?}"));
        }
    }
    for (i, t) in times.iter().enumerate() {
        let dt = t.duration_since(t0);
        let target = delta * order[i];
        let (lo, hi) = (target.saturating_sub(delta / 2), target + delta * 10);
        if dt < lo || dt > hi {
            return Err(format!(
                "After({target:?}) arrived at {dt:?}, expected [{lo:?},{hi:?}]"
            ));
        }
    }
    Ok(())
}

fn test_after_queuing(after: fn(Duration) -> Receiver<Instant>) {
    // This test flakes out on some systems, so we'll try it a few times
    // before declaring it a failure.
    const ATTEMPTS: u32 = 5;
    let mut err = Err(String::new());
    for i in 0..ATTEMPTS {
        let delta = ms(u64::from(20 + i * 50));
        err = test_after_queuing1(delta, after);
        match &err {
            Ok(()) => break,
            Err(e) => eprintln!("attempt {i} failed: {e}"),
        }
    }
    err.unwrap();
}

#[test]
fn after_queuing() {
    common::run(|| {
        test_after_queuing(after); // impl=chan
        test_after_queuing(|d| {
            // impl=func. Go drops the *Timer; the AfterFunc still runs.
            new_timer_func(d).c.clone()
        });
    });
}

/// Go: timers of 2 s stopped after a 1 s sleep, checked after 3 s (and
/// skipped in `-short`). Here 1 s, 100 ms and 1.2 s: the 900 ms between a
/// goroutine's wake-up and its timer hold on a loaded machine, where 100
/// goroutines woken at once at maxprocs 1, behind the other tests'
/// goroutines, once took more than 100 ms to all run (every timer fired).
#[test]
fn timer_stop_stress() {
    let not_stopped = common::run(|| {
        let not_stopped = Arc::new(Mutex::new(Vec::new()));
        for i in 0..100 {
            let n = not_stopped.clone();
            weft::go!(move || {
                let timer = after_func(ms(1000), move || n.lock().unwrap().push(i));
                sleep(ms(100));
                timer.stop();
            });
        }
        sleep(ms(1200));
        let v = not_stopped.lock().unwrap().clone();
        v
    });
    assert!(
        not_stopped.is_empty(),
        "timers {not_stopped:?} were not stopped"
    );
}

#[test]
fn sleep_zero_deadlock() {
    // Sleep(0) used to hang (Go issue, with a GC in between; weft has no GC).
    common::run(|| {
        let (c, c_rx) = chan(0);
        weft::go!(move || {
            for _ in 0..100 {
                weft::yield_now();
            }
            c.send(true).unwrap();
        });
        for _ in 0..100 {
            sleep(Duration::ZERO);
            let (tmp, tmp_rx) = chan(1);
            tmp.send(true).unwrap();
            tmp_rx.recv().unwrap();
        }
        c_rx.recv().unwrap();
    });
}

fn test_reset(d: Duration) -> Result<(), &'static str> {
    let t0 = Timer::new(2 * d);
    sleep(d);
    if !t0.reset(3 * d) {
        return Err("resetting unfired timer returned false");
    }
    sleep(2 * d);
    select! {
        recv(t0.c) -> _ => return Err("timer fired early"),
        default => {}
    }
    sleep(2 * d);
    select! {
        recv(t0.c) -> _ => {}
        default => return Err("reset timer did not fire"),
    }
    if t0.reset(ms(50)) {
        return Err("resetting expired timer returned true");
    }
    Ok(())
}

#[test]
fn reset() {
    common::run(|| {
        // We try to run this test with increasingly larger multiples until
        // one works so slow, loaded hardware isn't as flaky, but without
        // slowing down fast machines unnecessarily.
        let mut d = ms(1);
        let max_duration = Duration::from_secs(10);
        loop {
            match test_reset(d) {
                Ok(()) => break,
                Err(e) => {
                    d *= 2;
                    assert!(d <= max_duration, "{e}");
                    eprintln!("{e}; trying duration {d:?}");
                }
            }
        }
    });
}

/// Sleeping (via Sleep or Timer) for an interval so large it overflows does
/// not result in a short sleep duration, nor does it interfere with other
/// timers.
#[test]
fn overflow_sleep() {
    common::run(|| {
        let big = Duration::MAX;
        weft::go!(move || {
            sleep(big);
            // On failure, this may return after the test has completed,
            // so we need to panic instead.
            panic!("big sleep returned");
        });
        select! {
            recv(after(big)) -> _ => panic!("big timeout fired"),
            recv(after(ms(25))) -> _ => {} // OK
        }
        let neg = Duration::ZERO; // Go: Duration(-1 << 63)
        sleep(neg); // Returns immediately.
        select! {
            recv(after(neg)) -> _ => {} // OK
            recv(after(Duration::from_secs(1))) -> _ => panic!("negative timeout didn't fire"),
        }
    });
}

fn test_zero_timer(rounds: usize, mut new_timer: impl FnMut(Duration) -> Arc<Timer>) {
    for _ in 0..rounds {
        let s = Instant::now();
        let ti = new_timer(Duration::ZERO);
        recv_live(&ti.c, "zero timer");
        let diff = s.elapsed();
        assert!(
            diff <= Duration::from_secs(2),
            "Expected time to get value from Timer channel in less than 2 sec, took {diff:?}"
        );
    }
}

/// Zero-duration timers aren't missed by the scheduler (Go issue 44868).
/// Go runs 1,000,000 rounds per timer kind, and skips it in `-short`.
pub(crate) fn zero_timer(rounds: usize) {
    common::run(move || {
        test_zero_timer(rounds, |d| Arc::new(Timer::new(d))); // impl=chan
        test_zero_timer(rounds, |d| Arc::new(new_timer_func(d))); // impl=func
        let timer = Arc::new(new_timer_func(Duration::from_secs(3600)));
        test_zero_timer(rounds, |d| {
            timer.reset(d); // impl=cache
            timer.clone()
        });
    });
}

#[test]
fn zero_timer_() {
    zero_timer(2_000);
}

#[test]
fn slow_zero_timer() {
    zero_timer(100_000);
}

/// Rapidly moving a timer earlier doesn't cause it to get dropped (Go issue
/// 47329): `if !t.Stop() { <-t.C }` must never block.
#[test]
fn timer_modified_earlier() {
    common::run(|| {
        let past = Duration::ZERO; // Go: Until(Unix(0, 0))
        let count = 1000;
        let mut fail = 0;
        for i in 0..count {
            let timer = new_timer_func(Duration::from_secs(3600));
            for _ in 0..10 {
                if !timer.stop() {
                    timer.c.recv_timeout(LIVENESS).unwrap_or_else(|_| {
                        panic!("round {i}: Stop() returned false (fired), but no value arrived")
                    });
                }
                timer.reset(past);
            }
            let deadline = Timer::new(Duration::from_secs(10));
            let now = Instant::now();
            select! {
                recv(timer.c) -> _ => {
                    let since = now.elapsed();
                    if since > Duration::from_secs(8) {
                        eprintln!("timer took too long ({since:?})");
                        fail += 1;
                    }
                }
                recv(deadline.c) -> _ => panic!("round {i}: deadline expired"),
            }
            deadline.stop();
        }
        assert_eq!(fail, 0, "{fail} failures");
    });
}

/// A small deterministic-per-seed generator (Go uses math/rand).
pub(crate) struct Rand(u64);

impl Rand {
    pub(crate) fn new() -> Rand {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Rand(seed | 1)
    }

    pub(crate) fn intn(&mut self, n: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    pub(crate) fn perm(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, self.intn(i + 1));
        }
        p
    }
}

/// Rapidly moving timers earlier and later doesn't cause some of the sleep
/// times to be lost (Go issue 47762).
#[test]
fn adjust_timers() {
    common::run(|| {
        let mut rnd = Rand::new();
        let mut timers: Vec<Option<Timer>> = (0..100).map(|_| None).collect();
        let mut states = vec![0; timers.len()];
        let mut indices = rnd.perm(timers.len());
        while !indices.is_empty() {
            let ii = rnd.intn(indices.len());
            let i = indices[ii];
            let state = states[i];
            states[i] += 1;
            if state == 0 {
                timers[i] = Some(new_timer_func(Duration::ZERO));
                continue;
            }
            let timer = timers[i].as_ref();
            match state {
                1 => {
                    recv_live(&timer.unwrap().c, "state 1"); // Timer is now idle.
                }
                // Reset to various long durations, which we'll cancel.
                2 => assert!(
                    !timer.unwrap().reset(Duration::from_secs(60)),
                    "shouldn't be active (1)"
                ),
                4 => assert!(
                    !timer.unwrap().reset(Duration::from_secs(180)),
                    "shouldn't be active (3)"
                ),
                6 => assert!(
                    !timer.unwrap().reset(Duration::from_secs(120)),
                    "shouldn't be active (2)"
                ),
                // Stop and drain a long-duration timer.
                3 | 5 | 7 => {
                    let t = timer.unwrap();
                    if !t.stop() {
                        eprintln!("timer {i} state {state} Stop returned false");
                        recv_live(&t.c, "drain");
                    }
                }
                // Start a short-duration timer we expect to select without blocking.
                8 => assert!(
                    !timer.unwrap().reset(Duration::ZERO),
                    "timer.Reset returned true"
                ),
                // Go allows 750 ms; a lost reset would leave the timer at
                // 60-180 s, so 5 s tells the two apart on a loaded machine too.
                9 => {
                    let now = Instant::now();
                    recv_live(&timer.unwrap().c, "state 9");
                    let dur = now.elapsed();
                    assert!(dur <= ms(5000), "timer {i} took {dur:?} to complete");
                }
                // Timer is done. Swap with tail and remove.
                10 => {
                    indices.swap_remove(ii);
                }
                _ => unreachable!(),
            }
        }
    });
}

/// When racing between running a timer and stopping (or resetting) it,
/// Stop consistently indicates whether a value can be read from the channel
/// (Go issue 69312).
fn test_stop_reset_result(test_stop: bool) {
    let stop_or_reset = move |timer: &Timer| {
        if test_stop {
            timer.stop()
        } else {
            timer.reset(Duration::from_secs(3600))
        }
    };
    common::run(move || {
        let (start, start_rx) = chan::<()>(0);
        let wg = Arc::new(WaitGroup::new());
        const N: usize = 1000;
        wg.add(N);
        for _ in 0..N {
            let (start_rx, wg) = (start_rx.clone(), wg.clone());
            weft::go!(move || {
                let _ = start_rx.recv();
                for _ in 0..100 {
                    let timer1 = Timer::new(ms(1));
                    let timer2 = Timer::new(ms(1));
                    select! {
                        recv(timer1.c) -> _ => {
                            if !stop_or_reset(&timer2) {
                                // The test fails if this channel read times out.
                                recv_live(&timer2.c, "timer2 after Stop/Reset false");
                            }
                        }
                        recv(timer2.c) -> _ => {
                            if !stop_or_reset(&timer1) {
                                recv_live(&timer1.c, "timer1 after Stop/Reset false");
                            }
                        }
                    }
                }
                wg.done();
            });
        }
        start.close().unwrap();
        wg.wait();
    });
}

#[test]
fn stop_result() {
    test_stop_reset_result(true);
}

#[test]
fn reset_result() {
    test_stop_reset_result(false);
}

/// A large number of goroutines wake up a ticker simultaneously. Go runs
/// 100,000 rounds and skips it in `-short`.
#[test]
fn slow_multi_wakeup_ticker() {
    common::run(|| {
        let goroutines = weft::maxprocs();
        let timer = Ticker::new(Duration::from_micros(1));
        let wg = Arc::new(WaitGroup::new());
        wg.add(goroutines);
        for _ in 0..goroutines {
            let (c, wg) = (timer.c.clone(), wg.clone());
            weft::go!(move || {
                for _ in 0..20_000 {
                    select! {
                        recv(c) -> _ => {}
                        recv(after(ms(1))) -> _ => {}
                    }
                }
                wg.done();
            });
        }
        wg.wait();
    });
}

/// A large number of goroutines wake up a timer simultaneously. Go skips it
/// in `-short`.
#[test]
fn multi_wakeup_timer() {
    common::run(|| {
        let goroutines = weft::maxprocs();
        let timer = Arc::new(Timer::new(Duration::from_nanos(1)));
        let wg = Arc::new(WaitGroup::new());
        wg.add(goroutines);
        for _ in 0..goroutines {
            let (timer, wg) = (timer.clone(), wg.clone());
            weft::go!(move || {
                for _ in 0..10_000 {
                    select! {
                        recv(timer.c) -> _ => {}
                        default => {}
                    }
                    timer.reset(Duration::from_nanos(1));
                }
                wg.done();
            });
        }
        wg.wait();
    });
}
