//! Port of Go's `src/time/tick_test.go` (Go 1.23+ timer semantics).
//!
//! Ported: TestTicker, TestTeardown (Go's `-short` duration), TestTick,
//! TestNewTickerLtZeroDuration, TestTickerResetLtZeroDuration,
//! TestLongAdjustTimers (fewer rounds), TestTimerGC, TestChan,
//! TestAfterTimes, TestTickTimes.
//!
//! Mapping: Go's `Tick(d)` returns nil for `d <= 0`; weft's `tick` panics
//! on a zero duration (API.md: "non-positive interval", as `NewTicker`), so
//! TestTick checks that refusal. TestTimerGC has no GC to run: a timer is
//! unreachable once every handle and receiver of it is dropped, and the
//! test checks both Go's figure (fewer live allocations than iterations,
//! counted by this binary's allocator) and the runtime's pending-timer
//! count (`weft::stats().timers`).
//!
//! Not ported: TestTickerStopWithDirectInitialization and TestManualTicker
//! (a `Ticker` built without `Ticker::new` cannot be written: its fields
//! are private). The benchmarks belong in sched-bench.

use std::time::{Duration, Instant};

use weft::time::{after, after_func, sleep, tick, Ticker, Timer};
use weft::{chan, select, Receiver};

use crate::common::{self, ms};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn ticker() {
    common::run(|| {
        // We want to test that a ticker takes as much time as expected.
        // Since we don't want the test to run for too long, we don't want
        // to use lengthy times. This makes the test inherently flaky. Start
        // with a short time, but try again with a long one if the first
        // test fails.
        let mut errs = Vec::new();
        for (count, delta) in [(10u32, ms(20)), (8, Duration::from_secs(1))] {
            let ticker = Ticker::new(delta);
            let t0 = Instant::now();
            for _ in 0..count / 2 {
                ticker.c.recv().unwrap();
            }
            ticker.reset(delta * 2);
            for _ in 0..count - count / 2 {
                ticker.c.recv().unwrap();
            }
            ticker.stop();
            let dt = t0.elapsed();
            let target = 3 * delta * (count / 2);
            let slop = target * 3 / 10;
            if dt < target - slop || dt > target + slop {
                errs.push(format!(
                    "{} {delta:?} ticks then {} {:?} ticks took {dt:?}, expected [{:?},{:?}]",
                    count / 2,
                    count / 2,
                    delta * 2,
                    target - slop,
                    target + slop
                ));
                if dt > target + slop {
                    // System may be overloaded; sleep a bit in the hopes it
                    // will recover.
                    sleep(ms(500));
                }
                continue;
            }
            // Now test that the ticker stopped.
            sleep(2 * delta);
            select! {
                recv(ticker.c) -> _ => {
                    errs.push("Ticker did not shut down".into());
                    continue;
                }
                default => {}
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
    });
}

/// A bug tearing down a ticker has been fixed. This must not deadlock.
#[test]
fn teardown() {
    common::run(|| {
        let delta = ms(20); // Go's -short value
        for _ in 0..3 {
            let ticker = Ticker::new(delta);
            ticker.c.recv().unwrap();
            ticker.stop();
        }
    });
}

/// Go: `Tick(-1)` is nil. weft refuses a non-positive interval.
#[test]
fn tick_() {
    common::init();
    let r = std::panic::catch_unwind(|| tick(Duration::ZERO));
    assert!(r.is_err(), "tick(0) should have been refused");
}

#[test]
fn new_ticker_lt_zero_duration() {
    common::init();
    let r = std::panic::catch_unwind(|| Ticker::new(Duration::ZERO));
    assert!(r.is_err(), "Ticker::new(0) should have panicked");
}

#[test]
fn ticker_reset_lt_zero_duration() {
    common::init();
    let tk = Ticker::new(Duration::from_secs(1));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tk.reset(Duration::ZERO)));
    assert!(r.is_err(), "Ticker::reset(0) should have panicked");
}

/// A heap of timers, then a queue goroutine ping-ponging through the
/// scheduler with a fresh `after(5 s)` in every select: each must leave
/// the heap when its select is done (Go: "With the fix, the code runs in
/// under a second"). Go runs 50,000 rounds of 20.
pub(crate) fn long_adjust_timers(rounds: usize) {
    common::run(move || {
        let wg = std::sync::Arc::new(weft::sync::WaitGroup::new());
        // Build up the timer heap.
        const COUNT: usize = 5000;
        wg.add(COUNT);
        for _ in 0..COUNT {
            let wg = wg.clone();
            weft::go!(move || {
                sleep(Duration::from_micros(10));
                wg.done();
            });
        }
        for _ in 0..COUNT {
            sleep(Duration::from_micros(1));
        }

        // Give ourselves 60 seconds to complete.
        let (done_tx, done) = chan::<bool>(0);
        let done_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(done_tx)));
        let deadline = after_func(Duration::from_secs(60), move || {
            if let Some(tx) = done_tx.lock().unwrap().take() {
                tx.close().unwrap();
            }
        });

        // Set up a queuing goroutine to ping pong through the scheduler.
        let (in_q, in_q_rx) = chan::<fn()>(0);
        let (out_q, out_q_rx) = chan::<fn()>(0);
        wg.add(1);
        let (w, d) = (wg.clone(), done.clone());
        weft::go!(move || {
            let mut q: std::collections::VecDeque<fn()> = Default::default();
            loop {
                // Nothing queued: disable the send (Go's nil `sendTo`).
                let (send_to, send) = match q.front() {
                    Some(&f) => (out_q.clone(), f),
                    None => (weft::never_sender(), (|| {}) as fn()),
                };
                select! {
                    send(send_to, send) -> r => {
                        r.unwrap();
                        q.pop_front();
                    }
                    recv(in_q_rx) -> f => match f {
                        Ok(f) => q.push_back(f),
                        Err(_) => break,
                    },
                    recv(d) -> _ => break,
                }
            }
            out_q.close().unwrap(); // Go's deferred close(outQ)
            w.done();
        });

        for i in 0..rounds {
            const TRY: usize = 20;
            for _ in 0..TRY {
                in_q.send(|| {}).unwrap();
            }
            for _ in 0..TRY {
                select! {
                    recv(out_q_rx) -> r => assert!(r.is_ok(), "output channel is closed"),
                    recv(after(Duration::from_secs(5))) -> _ => panic!("failed to read work, iteration {i}"),
                    recv(done) -> _ => panic!("timer expired"),
                }
            }
        }
        in_q.close().unwrap(); // Go's deferred close(inQ)
        wg.wait();
        deadline.stop();
    });
}

#[test]
fn long_adjust_timers_() {
    long_adjust_timers(2_000);
}

#[test]
fn slow_long_adjust_timers() {
    long_adjust_timers(50_000);
}

/// Go's TestTimerGC: timers nobody can reach are collected. 10,000
/// iterations of each may leave fewer than 10,000 allocations live, and
/// (weft's own figure) must not leave 10,000 timers pending.
#[test]
fn timer_gc() {
    const N: usize = 10_000;
    let cases: [(&str, fn()); 6] = [
        ("After", || drop(after(HOUR))),
        ("Tick", || drop(tick(HOUR))),
        ("NewTimer", || drop(Timer::new(HOUR))),
        ("NewTicker", || drop(Ticker::new(HOUR))),
        ("NewTimerStop", || {
            Timer::new(HOUR).stop();
        }),
        ("NewTickerStop", || Ticker::new(HOUR).stop()),
    ];
    for (what, f) in cases {
        let (inuse, pending_before, pending_after) = common::run_alone(move || {
            let before = weft::stats().timers;
            let inuse = common::measure(|| {
                for _ in 0..N {
                    f();
                }
            });
            (inuse, before, weft::stats().timers)
        });
        assert!(
            inuse.allocs < N as isize,
            "{what} did not get collected: {} allocations ({} bytes) live",
            inuse.allocs,
            inuse.bytes
        );
        assert!(
            pending_after < pending_before + 100,
            "{what}: pending timers went from {pending_before} to {pending_after}"
        );
    }
}

/// `select!` over a fresh `after(long)` in a loop keeps one timer pending,
/// not one per iteration (the pattern TestLongAdjustTimers runs; the
/// issue's figure).
#[test]
fn select_loop_over_after_keeps_no_timers() {
    let (before, during, after_) = common::run_alone(|| {
        let before = weft::stats().timers;
        let (tx, rx) = chan::<u32>(1);
        let mut during = 0;
        for i in 0..10_000 {
            tx.send(i).unwrap();
            select! {
                recv(rx) -> v => assert_eq!(v.unwrap(), i),
                recv(after(HOUR)) -> _ => unreachable!(),
            }
            during = during.max(weft::stats().timers);
        }
        (before, during, weft::stats().timers)
    });
    assert!(
        during < before + 100 && after_ < before + 100,
        "pending timers: {before} before, up to {during} during, {after_} after 10,000 selects"
    );
}

/// Timer and Ticker through one interface (Go's `timer` interface).
trait TimerLike {
    fn stop(&mut self) -> bool;
    fn reset(&mut self, d: Duration) -> bool;
    fn c(&self) -> Receiver<Instant>;
    fn is_ticker(&self) -> bool;
}

impl TimerLike for Timer {
    fn stop(&mut self) -> bool {
        Timer::stop(self)
    }
    fn reset(&mut self, d: Duration) -> bool {
        Timer::reset(self, d)
    }
    fn c(&self) -> Receiver<Instant> {
        self.c.clone()
    }
    fn is_ticker(&self) -> bool {
        false
    }
}

/// Go's `tickerTimer`: a Ticker with Stop and Reset that return bools.
struct TickerTimer {
    ticker: Ticker,
    stopped: bool,
}

impl TimerLike for TickerTimer {
    fn stop(&mut self) -> bool {
        let pending = !self.stopped;
        self.stopped = true;
        self.ticker.stop();
        pending
    }
    fn reset(&mut self, d: Duration) -> bool {
        let pending = !self.stopped;
        self.stopped = false;
        self.ticker.reset(d);
        pending
    }
    fn c(&self) -> Receiver<Instant> {
        self.ticker.c.clone()
    }
    fn is_ticker(&self) -> bool {
        true
    }
}

const NS: Duration = Duration::from_nanos(1);

fn test_timer_chan(tim: &mut dyn TimerLike) {
    let c = tim.c();
    let is_ticker = tim.is_ticker();
    // Retry parameters. Enough to deflake even on slow machines.
    let sched = ms(10);
    let tries = 100;

    let no_tick = |line: u32| {
        select! {
            recv(c) -> _ => panic!("extra tick (line {line})"),
            default => {}
        }
    };
    let assert_tick = |line: u32| {
        select! {
            recv(c) -> _ => return,
            default => {}
        }
        for _ in 0..tries {
            sleep(sched);
            select! {
                recv(c) -> _ => return,
                default => {}
            }
        }
        panic!("missing tick (line {line})");
    };
    let not_done = |done: &Receiver<bool>| {
        select! {
            recv(done) -> _ => panic!("early done"),
            default => {}
        }
    };
    let wait_done = |done: &Receiver<bool>| {
        for _ in 0..tries {
            sleep(sched);
            select! {
                recv(done) -> _ => return,
                default => {}
            }
        }
        panic!("never got done");
    };

    // Test simple stop; timer never in heap.
    tim.stop();
    no_tick(line!());

    // Test modify of timer not in heap.
    tim.reset(Duration::from_secs(10000));
    no_tick(line!());

    // Test modify of timer in heap.
    tim.reset(NS);
    sleep(sched);
    let (l, cp) = (c.len(), c.cap());
    assert!(l == 0 && cp == 0, "len(C), cap(C) = {l}, {cp}, want 0, 0");
    assert_tick(line!());

    // Sleep long enough that a second tick must happen if this is a
    // ticker. Test that Reset does not lose the tick that should have
    // happened.
    sleep(sched);
    tim.reset(Duration::from_secs(10000));
    no_tick(line!());

    // Reset timer in heap (already reset above, but just in case).
    tim.reset(Duration::from_secs(10000));

    // Test stop while timer in heap (because goroutine is blocked on <-C).
    let (done_tx, done) = chan::<bool>(0);
    not_done(&done);
    let c2 = c.clone();
    weft::go!(move || {
        let _ = c2.recv();
        done_tx.close().unwrap();
    });
    sleep(sched);
    not_done(&done);

    // Test reset far away while timer in heap.
    tim.reset(Duration::from_secs(20000));
    sleep(sched);
    not_done(&done);

    // Test imminent reset while in heap.
    tim.reset(NS);
    wait_done(&done);

    // If this is a ticker, another tick should have come in already (they
    // are 1ns apart). If a timer, it should have stopped.
    if is_ticker {
        assert_tick(line!());
    } else {
        no_tick(line!());
    }

    tim.stop();
    no_tick(line!());

    // Again using select and with two goroutines waiting.
    tim.reset(Duration::from_secs(10000));
    let (done_tx, done) = chan::<bool>(2);
    let (done1_tx, done1) = chan::<bool>(0);
    let (done2_tx, done2) = chan::<bool>(0);
    let (stop_tx, stop) = chan::<bool>(0);
    for d in [done1_tx, done2_tx] {
        let (c, stop, done_tx) = (c.clone(), stop.clone(), done_tx.clone());
        weft::go!(move || {
            select! {
                recv(c) -> _ => { let _ = done_tx.send(true); }
                recv(stop) -> _ => {}
            }
            d.close().unwrap();
        });
    }
    sleep(sched);
    not_done(&done);
    tim.reset(sched / 2);
    sleep(sched);
    wait_done(&done);
    tim.stop();
    stop_tx.close().unwrap();
    wait_done(&done1);
    wait_done(&done2);
    if is_ticker {
        // extra send might have sent done again (handled by buffering done
        // above).
        select! {
            recv(done) -> _ => {}
            default => {}
        }
        // extra send after that might have filled C.
        select! {
            recv(c) -> _ => {}
            default => {}
        }
    }
    not_done(&done);

    // Test enqueueTimerChan when timer is stopped.
    let (stop_tx, stop) = chan::<bool>(0);
    let (done_tx, done) = chan::<bool>(2);
    for _ in 0..2 {
        let (c, stop, done_tx) = (c.clone(), stop.clone(), done_tx.clone());
        weft::go!(move || {
            select! {
                recv(c) -> _ => panic!("unexpected data"),
                recv(stop) -> _ => {}
            }
            done_tx.send(true).unwrap();
        });
    }
    sleep(sched);
    stop_tx.close().unwrap();
    wait_done(&done);
    wait_done(&done);

    // Test that Stop and Reset block old values from being received.
    // (Proposal go.dev/issue/37196.)
    tim.reset(NS);
    sleep(ms(10));
    let pending = tim.stop();
    assert!(pending, "tim.Stop() = {pending}, want true");
    no_tick(line!());

    tim.reset(HOUR);
    no_tick(line!());
    let pending = tim.reset(NS);
    assert!(pending, "tim.Stop() = {pending}, want true");
    assert_tick(line!());
    sleep(ms(10));
    if is_ticker {
        assert_tick(line!());
        sleep(ms(10));
    } else {
        no_tick(line!());
    }
    let (pending, want) = (tim.reset(HOUR), is_ticker);
    assert_eq!(pending, want, "tim.Stop() = {pending}, want {want}");
    no_tick(line!());
}

#[test]
fn chan_timer() {
    common::run(|| {
        let mut tim = Timer::new(Duration::from_secs(10000));
        test_timer_chan(&mut tim);
    });
}

#[test]
fn chan_ticker() {
    common::run(|| {
        let mut tim = TickerTimer {
            ticker: Ticker::new(Duration::from_secs(10000)),
            stopped: false,
        };
        test_timer_chan(&mut tim);
    });
}

/// Using `after(10ms)` (or `tick`) but waiting 500 ms to read the channel
/// must produce a time from start+10ms, not start+500ms. To avoid flakes
/// due to very long scheduling delays, require 10 failures in a row.
fn test_times(name: &'static str, make: fn(Duration) -> Receiver<Instant>) {
    common::run(move || {
        for _ in 0..10 {
            let start = Instant::now();
            let c = make(ms(10));
            sleep(ms(500));
            let dt = c.recv().unwrap().duration_since(start);
            if dt < ms(400) {
                return;
            }
            eprintln!("{name}(10ms) time is +{dt:?}, want <400ms");
        }
        panic!("not working");
    });
}

#[test]
fn after_times() {
    test_times("After", after);
}

#[test]
fn tick_times() {
    test_times("Tick", tick);
}
