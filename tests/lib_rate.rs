//! `weft::rate`: the token bucket's burst and refill, `wait` spacing events
//! within generous bounds (the machine is shared: only lower bounds are
//! tight), `wait` honouring cancellation and deadlines and leaving no
//! timer behind, reservations, and the multi-limiter.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use weft::context::{self, Error};
use weft::rate::{Limiter, MultiLimiter, RateLimiter};

/// Every test here runs alone: some count the process-wide pending timers,
/// which the others create (a wait, a sleep, a deadline).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn bg() -> context::Context {
    context::background()
}

#[test]
fn a_burst_is_allowed_then_refused() {
    let _s = serial();
    let lim = Limiter::new(0.5, 4);
    for _ in 0..4 {
        assert!(lim.allow());
    }
    assert!(!lim.allow());
    assert!(!lim.allow_n(1));
    assert!(lim.tokens() < 1.0);
}

#[test]
fn tokens_come_back_at_the_rate() {
    let _s = serial();
    let lim = Limiter::new(100.0, 1);
    assert!(lim.allow());
    assert!(!lim.allow());
    std::thread::sleep(Duration::from_millis(15));
    assert!(lim.allow(), "a token should be back after 10 ms");
}

#[test]
fn an_infinite_rate_allows_everything() {
    let _s = serial();
    let lim = Limiter::new(f64::INFINITY, 0);
    for _ in 0..1000 {
        assert!(lim.allow());
    }
    lim.wait(&bg()).unwrap();
}

/// 50 events at 200 a second with a burst of 1: at least 49 × 5 ms.
#[test]
fn wait_spaces_events_at_the_rate() {
    let _s = serial();
    let elapsed = weft::run(|| {
        let lim = Limiter::new(200.0, 1);
        let start = Instant::now();
        for _ in 0..50 {
            lim.wait(&bg()).unwrap();
        }
        start.elapsed()
    });
    assert!(
        elapsed >= Duration::from_millis(240),
        "50 events at 200/s took only {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

/// Four goroutines share one limiter: 100 events at 500 a second, burst
/// 5, take at least (100 − 5) / 500 s.
#[test]
fn waiters_in_many_goroutines_share_the_bucket() {
    let _s = serial();
    let elapsed = weft::run(|| {
        let lim = Limiter::new(500.0, 5);
        let start = Instant::now();
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let lim = lim.clone();
                weft::go!(move || {
                    for _ in 0..25 {
                        lim.wait(&context::background()).unwrap();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        start.elapsed()
    });
    assert!(
        elapsed >= Duration::from_millis(185),
        "100 events at 500/s (burst 5) took only {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn wait_returns_when_the_context_is_cancelled_and_gives_the_token_back() {
    let _s = serial();
    weft::run(|| {
        let before = weft::stats().timers;
        let lim = Limiter::new(0.1, 1); // one every 10 s
        assert!(lim.allow());
        let (ctx, cancel) = context::with_cancel(&bg());
        let l = lim.clone();
        let waiter = weft::go!(move || l.wait(&ctx));
        weft::time::sleep(Duration::from_millis(10));
        let start = Instant::now();
        cancel.cancel();
        assert_eq!(waiter.join().unwrap(), Err(Error::Canceled));
        assert!(start.elapsed() < Duration::from_secs(5));
        // The cancelled reservation gave its token back: the next one
        // waits one interval (~10 s), not two.
        assert!(lim.reserve().delay() <= Duration::from_secs(10));
        assert_eq!(
            weft::stats().timers,
            before,
            "the wait's timer is still pending"
        );
    });
}

#[test]
fn wait_fails_at_once_when_the_deadline_comes_first() {
    let _s = serial();
    weft::run(|| {
        // The token is 10 s away, the deadline 5 s: a wait that waited for
        // the deadline takes 5 s, one that did not takes no time (4 s of
        // slack for a loaded machine).
        let lim = Limiter::new(0.1, 1);
        assert!(lim.allow());
        let (ctx, _c) = context::with_timeout(&bg(), Duration::from_secs(5));
        let start = Instant::now();
        assert_eq!(lim.wait(&ctx), Err(Error::DeadlineExceeded));
        assert!(start.elapsed() < Duration::from_secs(4), "it waited");
        // Nothing was taken: the token is still 10 s away, not 20.
        assert!(lim.reserve().delay() <= Duration::from_secs(10));
    });
}

#[test]
fn wait_on_a_cancelled_context_fails_at_once() {
    let _s = serial();
    let lim = Limiter::new(1.0, 1);
    let (ctx, cancel) = context::with_cancel(&bg());
    cancel.cancel();
    assert_eq!(lim.wait(&ctx), Err(Error::Canceled));
    assert!(lim.allow(), "the failed wait took a token");
}

#[test]
fn a_wait_for_a_token_that_never_comes_ends_with_the_context() {
    let _s = serial();
    weft::run(|| {
        let lim = Limiter::new(0.0, 1);
        assert!(lim.allow());
        let (ctx, cancel) = context::with_cancel(&bg());
        let h = weft::go!(move || lim.wait(&ctx));
        weft::time::sleep(Duration::from_millis(5));
        cancel.cancel();
        assert_eq!(h.join().unwrap(), Err(Error::Canceled));
    });
}

#[test]
#[should_panic(expected = "the wait would never end")]
fn a_wait_that_can_never_end_panics() {
    let _s = serial();
    let lim = Limiter::new(0.0, 1);
    assert!(lim.allow());
    let _ = lim.wait(&bg());
}

#[test]
fn reservations_delay_and_cancel() {
    let _s = serial();
    // One token every 10 s: each bound below has 5 s of slack for a
    // thread a loaded machine deschedules between the calls.
    let lim = Limiter::new(0.1, 2);
    let r1 = lim.reserve();
    let r2 = lim.reserve();
    assert!(r1.ok() && r2.ok());
    assert_eq!(r1.delay(), Duration::ZERO);
    assert_eq!(r2.delay(), Duration::ZERO);
    let r3 = lim.reserve();
    assert!(r3.delay() > Duration::from_secs(5));
    assert!(r3.delay() <= Duration::from_secs(10));
    let r4 = lim.reserve();
    assert!(r4.delay() > Duration::from_secs(15));
    // Cancelling r4 (the latest) gives its token back; r3's stays taken.
    r4.cancel();
    let r5 = lim.reserve();
    assert!(r5.delay() <= Duration::from_secs(20));
    assert!(r5.delay() > Duration::from_secs(15));
    assert!(!lim.reserve_n(3).ok(), "more than the burst is never ok");
    assert_eq!(lim.reserve_n(3).delay(), Duration::MAX);
}

#[test]
fn set_limit_and_burst_apply_from_now() {
    let _s = serial();
    let lim = Limiter::new(1.0, 1);
    assert!(lim.allow());
    lim.set_limit(f64::INFINITY);
    assert!(lim.allow());
    lim.set_limit(1.0);
    lim.set_burst(3);
    assert_eq!(lim.burst(), 3);
    assert_eq!(lim.limit(), 1.0);
}

#[test]
#[should_panic(expected = "a burst of 0 allows no event")]
fn a_zero_burst_is_refused() {
    let _s = serial();
    Limiter::new(5.0, 0);
}

#[test]
#[should_panic(expected = "the rate must be")]
fn a_negative_rate_is_refused() {
    let _s = serial();
    Limiter::new(-1.0, 1);
}

#[test]
#[should_panic(expected = "the rate must be")]
fn a_nan_rate_is_refused() {
    let _s = serial();
    Limiter::new(f64::NAN, 1);
}

/// The seed's API connection: 2 a second *and* 3 per 100 ms; its limit is
/// the most restrictive, and waits obey both.
#[test]
fn a_multi_limiter_obeys_every_limit() {
    let _s = serial();
    let elapsed = weft::run(|| {
        let fast = Limiter::new(1000.0, 1);
        let slow = Limiter::new(20.0, 3); // 3 at once, then one per 50 ms
        let lim = MultiLimiter::new(vec![Box::new(fast), Box::new(slow)]);
        assert_eq!(lim.limit(), 20.0);
        let start = Instant::now();
        for _ in 0..5 {
            lim.wait(&bg()).unwrap();
        }
        start.elapsed()
    });
    assert!(
        elapsed >= Duration::from_millis(95),
        "the slow limit was not obeyed: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5));
}

#[test]
fn multi_limiters_nest() {
    let _s = serial();
    let inner = MultiLimiter::new(vec![Box::new(Limiter::new(5.0, 1))]);
    let outer = MultiLimiter::new(vec![Box::new(inner), Box::new(Limiter::new(2.0, 1))]);
    assert_eq!(outer.limit(), 2.0);
    outer.wait(&bg()).unwrap();
}

#[test]
#[should_panic(expected = "needs at least one limiter")]
fn an_empty_multi_limiter_is_refused() {
    let _s = serial();
    MultiLimiter::new(vec![]);
}
