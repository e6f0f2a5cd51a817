//! `rate`: a token-bucket rate limiter (golang.org/x/time/rate), and the
//! seed material's `MultiLimiter` that combines several.
//!
//! Owns: one bucket per [`Limiter`] — its rate, burst, token count (a
//! float, refilled lazily from the time of the last update) and the time
//! of the latest reserved event — behind one short std lock that is never
//! held across a park. A waiter parks on a timer channel and its
//! context's done channel, not on the lock.
//!
//! Must never: hand out more than `burst` tokens at one instant, park
//! holding the bucket's lock, or leave a wait's timer pending after the
//! wait returns.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use weft_channels::select;
use weft_channels::time::Timer;

use crate::context::{self, Context};

/// A token bucket (Go's `rate.Limiter`): tokens are added at
/// `per_second` a second up to `burst`; each event takes one. It starts
/// full. Cheap to clone (every clone is the same bucket) and safe to use
/// from many goroutines.
///
/// ```
/// use weft::rate::Limiter;
/// let lim = Limiter::new(1.0, 3); // 1 event a second, bursts of 3
/// assert!(lim.allow());
/// assert!(lim.allow());
/// assert!(lim.allow());
/// assert!(!lim.allow()); // the bucket is empty; the next token is a second away
/// ```
///
/// `per_second` may be `f64::INFINITY` (every event is allowed, Go's
/// `rate.Inf`) or `0.0` (only the initial `burst` events are).
#[derive(Clone)]
pub struct Limiter {
    bucket: Arc<Mutex<Bucket>>,
}

struct Bucket {
    limit: f64,
    burst: usize,
    tokens: f64,
    /// When `tokens` was last brought up to date.
    last: Instant,
    /// The time of the latest event reserved (possibly in the future).
    last_event: Instant,
}

/// How long `n` tokens take to accumulate; `None`: never (rate 0).
fn duration_from_tokens(limit: f64, tokens: f64) -> Option<Duration> {
    if tokens <= 0.0 {
        return Some(Duration::ZERO);
    }
    if limit <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(tokens / limit).ok()
}

fn tokens_from_duration(limit: f64, d: Duration) -> f64 {
    if limit <= 0.0 {
        0.0
    } else {
        d.as_secs_f64() * limit
    }
}

impl Bucket {
    /// The token count at `now` (not stored).
    fn advance(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.last);
        (self.tokens + tokens_from_duration(self.limit, elapsed)).min(self.burst as f64)
    }
}

#[track_caller]
fn check(per_second: f64, burst: usize) {
    assert!(
        per_second >= 0.0,
        "rate::Limiter: the rate must be a number of events per second ≥ 0 (f64::INFINITY: no limit), got {per_second}"
    );
    assert!(
        burst > 0 || per_second == f64::INFINITY,
        "rate::Limiter: a burst of 0 allows no event at all; use a burst of at least 1"
    );
}

impl Limiter {
    /// A limiter allowing `per_second` events a second on average, and
    /// bursts of up to `burst` (Go's `rate.NewLimiter(r, b)`).
    ///
    /// # Panics
    /// If `per_second` is negative or NaN, or `burst` is 0 with a finite
    /// rate (no event could ever be allowed).
    ///
    /// ```
    /// let per_minute = weft::rate::Limiter::new(10.0 / 60.0, 10);
    /// assert_eq!(per_minute.burst(), 10);
    /// ```
    #[track_caller]
    pub fn new(per_second: f64, burst: usize) -> Limiter {
        check(per_second, burst);
        let now = Instant::now();
        Limiter {
            bucket: Arc::new(Mutex::new(Bucket {
                limit: per_second,
                burst,
                tokens: burst as f64,
                last: now,
                last_event: now,
            })),
        }
    }

    /// A limiter allowing one event every `interval` (Go's `rate.Every`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let lim = weft::rate::Limiter::every(Duration::from_millis(200), 1);
    /// assert_eq!(lim.limit(), 5.0);
    /// ```
    #[track_caller]
    pub fn every(interval: Duration, burst: usize) -> Limiter {
        let per_second = if interval.is_zero() {
            f64::INFINITY
        } else {
            1.0 / interval.as_secs_f64()
        };
        Limiter::new(per_second, burst)
    }

    fn lock(&self) -> MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rate, in events per second.
    ///
    /// ```
    /// assert_eq!(weft::rate::Limiter::new(2.5, 1).limit(), 2.5);
    /// ```
    pub fn limit(&self) -> f64 {
        self.lock().limit
    }

    /// The largest number of events allowed at one instant.
    ///
    /// ```
    /// assert_eq!(weft::rate::Limiter::new(1.0, 4).burst(), 4);
    /// ```
    pub fn burst(&self) -> usize {
        self.lock().burst
    }

    /// The tokens available now.
    ///
    /// ```
    /// let lim = weft::rate::Limiter::new(0.0, 2);
    /// assert_eq!(lim.tokens(), 2.0);
    /// lim.allow();
    /// assert_eq!(lim.tokens(), 1.0);
    /// ```
    pub fn tokens(&self) -> f64 {
        self.lock().advance(Instant::now())
    }

    /// Changes the rate; tokens accumulated so far are kept (Go's
    /// `SetLimit`).
    ///
    /// # Panics
    /// As [`new`](Self::new), for a bad rate.
    ///
    /// ```
    /// let lim = weft::rate::Limiter::new(1.0, 1);
    /// lim.set_limit(f64::INFINITY); // no limit any more
    /// assert!((0..100).all(|_| lim.allow()));
    /// ```
    #[track_caller]
    pub fn set_limit(&self, per_second: f64) {
        let mut b = self.lock();
        check(per_second, b.burst);
        let now = Instant::now();
        b.tokens = b.advance(now);
        b.last = now;
        b.limit = per_second;
    }

    /// Changes the burst (Go's `SetBurst`).
    ///
    /// # Panics
    /// As [`new`](Self::new), for a burst of 0 with a finite rate.
    ///
    /// ```
    /// let lim = weft::rate::Limiter::new(1.0, 1);
    /// lim.set_burst(3);
    /// assert_eq!(lim.burst(), 3);
    /// ```
    #[track_caller]
    pub fn set_burst(&self, burst: usize) {
        let mut b = self.lock();
        check(b.limit, burst);
        let now = Instant::now();
        b.tokens = b.advance(now);
        b.last = now;
        b.burst = burst;
    }

    /// Takes a token if one is available now; never waits (Go's `Allow`).
    ///
    /// ```
    /// let lim = weft::rate::Limiter::new(100.0, 1);
    /// assert!(lim.allow());
    /// ```
    pub fn allow(&self) -> bool {
        self.allow_n(1)
    }

    /// Takes `n` tokens if they are all available now (Go's `AllowN`).
    ///
    /// ```
    /// let lim = weft::rate::Limiter::new(1.0, 5);
    /// assert!(lim.allow_n(5));
    /// assert!(!lim.allow_n(1));
    /// ```
    pub fn allow_n(&self, n: usize) -> bool {
        self.reserve_inner(Instant::now(), n, Some(Duration::ZERO))
            .ok
    }

    /// Reserves a token now, for an event that may happen only after
    /// [`Reservation::delay`] (Go's `Reserve`). Wait that long, then act —
    /// or [`cancel`](Reservation::cancel) the reservation to give the token
    /// back.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lim = weft::rate::Limiter::new(1.0, 1);
    /// assert!(lim.reserve().ok());
    /// let r = lim.reserve(); // the bucket is empty: this one waits ~1 s
    /// assert!(r.delay() > Duration::from_millis(500));
    /// r.cancel(); // never mind: the token goes back
    /// ```
    pub fn reserve(&self) -> Reservation {
        self.reserve_n(1)
    }

    /// Reserves `n` tokens (Go's `ReserveN`). The reservation is not `ok`
    /// if `n` exceeds the burst, or the tokens would never come (rate 0).
    ///
    /// ```
    /// let lim = weft::rate::Limiter::new(1.0, 3);
    /// assert!(lim.reserve_n(3).ok());
    /// assert!(!lim.reserve_n(4).ok());
    /// ```
    pub fn reserve_n(&self, n: usize) -> Reservation {
        self.reserve_inner(Instant::now(), n, None)
    }

    /// Go's `reserveN`: `max_wait` `None` is unbounded.
    fn reserve_inner(&self, now: Instant, n: usize, max_wait: Option<Duration>) -> Reservation {
        let mut b = self.lock();
        if b.limit == f64::INFINITY {
            return Reservation {
                limiter: Some(self.clone()),
                ok: true,
                tokens: n,
                time_to_act: now,
                limit: b.limit,
            };
        }
        let tokens = b.advance(now) - n as f64;
        let wait = duration_from_tokens(b.limit, -tokens);
        let ok = n <= b.burst
            && match (wait, max_wait) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(w), Some(max)) => w <= max,
            };
        let mut r = Reservation {
            limiter: Some(self.clone()),
            ok,
            tokens: 0,
            time_to_act: now,
            limit: b.limit,
        };
        if ok {
            let wait = wait.unwrap_or_default();
            r.tokens = n;
            r.time_to_act = now + wait;
            b.last = now;
            b.tokens = tokens;
            b.last_event = r.time_to_act;
        }
        r
    }

    /// Parks until a token is available and takes it, or returns the
    /// context's error if it is cancelled first (Go's `Wait`). Fails at
    /// once with `DeadlineExceeded` when the token would come only after
    /// the context's deadline, as Go's does. Leaves no timer pending.
    ///
    /// # Panics
    /// If no token can ever come (rate 0 and the burst used up) and `ctx`
    /// can never be cancelled either: the wait would never end.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use weft::{context, rate::Limiter};
    /// let lim = Limiter::new(50.0, 1); // one every 20 ms
    /// let bg = context::background();
    /// let start = Instant::now();
    /// for _ in 0..4 {
    ///     lim.wait(&bg).unwrap();
    /// }
    /// assert!(start.elapsed() >= Duration::from_millis(55)); // 3 waits of ~20 ms
    /// ```
    #[track_caller]
    pub fn wait(&self, ctx: &Context) -> Result<(), context::Error> {
        if let Some(e) = ctx.err() {
            return Err(e);
        }
        let now = Instant::now();
        let max_wait = ctx.deadline().map(|d| d.saturating_duration_since(now));
        let r = self.reserve_inner(now, 1, max_wait);
        if !r.ok {
            if max_wait.is_some() {
                return Err(context::Error::DeadlineExceeded);
            }
            // No token will ever come: only the context can end the wait.
            assert!(
                ctx.can_be_cancelled(),
                "rate::Limiter::wait: no token will ever come (rate 0, burst used up) and the context can never be cancelled: the wait would never end"
            );
            let _ = ctx.done().recv();
            return Err(ctx.err().unwrap_or(context::Error::Canceled));
        }
        let delay = r.delay_from(now);
        if delay.is_zero() {
            return Ok(());
        }
        let timer = Timer::new(delay);
        let done = ctx.done();
        let out = select! {
            recv(timer.c) -> _ => Ok(()),
            recv(done) -> _ => {
                r.cancel();
                Err(ctx.err().unwrap_or(context::Error::Canceled))
            }
        };
        timer.stop();
        out
    }
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.lock();
        f.debug_struct("Limiter")
            .field("limit", &b.limit)
            .field("burst", &b.burst)
            .field("tokens", &b.advance(Instant::now()))
            .finish()
    }
}

/// Tokens reserved by [`Limiter::reserve`] for an event that may happen
/// after [`delay`](Self::delay) (Go's `rate.Reservation`).
///
/// ```
/// let lim = weft::rate::Limiter::new(100.0, 1);
/// let r = lim.reserve();
/// assert!(r.ok());
/// weft::time::sleep(r.delay()); // then act
/// ```
pub struct Reservation {
    limiter: Option<Limiter>,
    ok: bool,
    tokens: usize,
    time_to_act: Instant,
    /// The limiter's rate when reserved.
    limit: f64,
}

impl Reservation {
    /// Whether the tokens can be had at all (`false`: more than the burst
    /// was asked for, or they would never come). A reservation that is not
    /// `ok` took nothing.
    ///
    /// ```
    /// let lim = weft::rate::Limiter::new(1.0, 2);
    /// assert!(!lim.reserve_n(3).ok());
    /// ```
    pub fn ok(&self) -> bool {
        self.ok
    }

    /// How long to wait before acting on the reservation (zero: act now).
    /// `Duration::MAX` if it is not `ok` (Go's `InfDuration`).
    ///
    /// ```
    /// let lim = weft::rate::Limiter::new(1.0, 1);
    /// assert!(lim.reserve().delay().is_zero());
    /// ```
    pub fn delay(&self) -> Duration {
        self.delay_from(Instant::now())
    }

    /// How long after `now` to wait before acting (Go's `DelayFrom`).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let lim = weft::rate::Limiter::new(10.0, 1);
    /// lim.allow();
    /// let r = lim.reserve();
    /// let later = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(r.delay_from(later), Duration::ZERO); // due by then
    /// ```
    pub fn delay_from(&self, now: Instant) -> Duration {
        if !self.ok {
            return Duration::MAX;
        }
        self.time_to_act.saturating_duration_since(now)
    }

    /// Gives the tokens back, as far as that is still possible: tokens
    /// that later reservations have already counted on stay taken (Go's
    /// `Cancel`). A no-op once the time to act has passed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lim = weft::rate::Limiter::new(1.0, 1);
    /// assert!(lim.allow()); // empty now; the next token comes in 1 s
    /// let r = lim.reserve(); // that token
    /// r.cancel(); // given back
    /// let r2 = lim.reserve(); // so this one waits 1 s, not 2
    /// assert!(r2.delay() <= Duration::from_secs(1));
    /// ```
    pub fn cancel(mut self) {
        let Some(lim) = self.limiter.take() else {
            return;
        };
        let now = Instant::now();
        let mut b = lim.lock();
        if !self.ok || b.limit == f64::INFINITY || self.tokens == 0 || self.time_to_act < now {
            return;
        }
        // Tokens reserved after this one (between its time to act and the
        // latest event) must not come back.
        let later = b.last_event.saturating_duration_since(self.time_to_act);
        let restore = self.tokens as f64 - tokens_from_duration(self.limit, later);
        if restore <= 0.0 {
            return;
        }
        let tokens = (b.advance(now) + restore).min(b.burst as f64);
        b.last = now;
        b.tokens = tokens;
        if self.time_to_act == b.last_event {
            if let Some(back) = duration_from_tokens(self.limit, self.tokens as f64) {
                if let Some(prev) = self.time_to_act.checked_sub(back) {
                    if prev >= now {
                        b.last_event = prev;
                    }
                }
            }
        }
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("ok", &self.ok)
            .field("tokens", &self.tokens)
            .field("delay", &self.delay())
            .finish()
    }
}

/// What [`MultiLimiter`] combines: anything that can wait for a token
/// and state its rate (the seed's `RateLimiter` interface).
///
/// ```
/// use weft::{context, rate::{Limiter, RateLimiter}};
/// fn read_file(lim: &dyn RateLimiter, ctx: &context::Context) -> Result<(), context::Error> {
///     lim.wait(ctx)?;
///     Ok(()) // read it
/// }
/// read_file(&Limiter::new(1.0, 1), &context::background()).unwrap();
/// ```
pub trait RateLimiter: Send + Sync {
    /// Parks until the event may happen, or the context is done.
    fn wait(&self, ctx: &Context) -> Result<(), context::Error>;
    /// The rate, in events per second.
    fn limit(&self) -> f64;
}

impl RateLimiter for Limiter {
    fn wait(&self, ctx: &Context) -> Result<(), context::Error> {
        Limiter::wait(self, ctx)
    }

    fn limit(&self) -> f64 {
        Limiter::limit(self)
    }
}

/// Several limits at once — e.g. 2 a second *and* 10 a minute — as one
/// limiter (the seed material's `MultiLimiter`): `wait` waits for each, and
/// `limit` is the most restrictive rate. Multi-limiters nest.
///
/// ```
/// use std::time::Duration;
/// use weft::{context, rate::{Limiter, MultiLimiter, RateLimiter}};
/// let per_second = Limiter::every(Duration::from_millis(500), 1);
/// let per_minute = Limiter::every(Duration::from_secs(6), 10);
/// let lim = MultiLimiter::new(vec![Box::new(per_second), Box::new(per_minute)]);
/// assert_eq!(lim.limit(), 1.0 / 6.0);
/// lim.wait(&context::background()).unwrap(); // both have a token now
/// ```
pub struct MultiLimiter {
    /// Sorted by rate, the most restrictive first.
    limiters: Vec<Box<dyn RateLimiter>>,
}

impl MultiLimiter {
    /// Combines `limiters`.
    ///
    /// # Panics
    /// If `limiters` is empty.
    ///
    /// ```
    /// use weft::rate::{Limiter, MultiLimiter, RateLimiter};
    /// let disk = MultiLimiter::new(vec![Box::new(Limiter::new(1.0, 1))]);
    /// let api = MultiLimiter::new(vec![Box::new(disk), Box::new(Limiter::new(0.5, 2))]);
    /// assert_eq!(api.limit(), 0.5);
    /// ```
    #[track_caller]
    pub fn new(mut limiters: Vec<Box<dyn RateLimiter>>) -> MultiLimiter {
        assert!(
            !limiters.is_empty(),
            "rate::MultiLimiter::new: needs at least one limiter"
        );
        limiters.sort_by(|a, b| a.limit().total_cmp(&b.limit()));
        MultiLimiter { limiters }
    }
}

impl RateLimiter for MultiLimiter {
    /// Waits on each limiter in turn, most restrictive first.
    fn wait(&self, ctx: &Context) -> Result<(), context::Error> {
        for l in &self.limiters {
            l.wait(ctx)?;
        }
        Ok(())
    }

    fn limit(&self) -> f64 {
        self.limiters[0].limit()
    }
}

impl fmt::Debug for MultiLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limits: Vec<f64> = self.limiters.iter().map(|l| l.limit()).collect();
        f.debug_struct("MultiLimiter")
            .field("limits", &limits)
            .finish()
    }
}
