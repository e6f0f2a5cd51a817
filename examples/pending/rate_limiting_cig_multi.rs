//! Port of *Concurrency in Go* notes, "Rate Limiting" with several limits
//! combined (seed 001): a `RateLimiter` interface, a `multiLimiter` that
//! waits on each of its limiters (sorted most restrictive first), and an
//! `APIConnection` limited to 2 calls a second and 10 a minute.
//!
//! The seed stops at the types; here main makes the 20 calls of the
//! single-limiter program. With the seed's limits that takes a minute; here
//! time runs 20 times faster: 2 calls per 50 ms (burst 1) and 10 per 3 s
//! (burst 10) — the first ten calls pass about 25 ms apart, the next ten
//! one every 300 ms. Go's `Limiter.Limit()` is kept beside each limiter.
//!
//! Needs `weft::rate` and `weft::context` (land with the library; until
//! then this file sits in `examples/pending/`, outside the build).
//!
//! Prints 20 lines, `ReadFile` and `ResolveAddress` ten times each in some
//! order, then `Done`:
//! ```text
//! 10:21:30 ResolveAddress
//! 10:21:30 ReadFile
//! ...
//! 10:21:33 Done
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::context::{self, Context};
use weft::rate::Limiter;
use weft::sync::WaitGroup;

#[path = "../common/mod.rs"]
mod common;

/// Go's `rate.Limit`: events per second.
type Limit = f64;

/// `rate.Every`-style helper: `n` events per `d`.
fn per(event_count: u32, d: Duration) -> Limit {
    f64::from(event_count) / d.as_secs_f64()
}

trait RateLimiter: Send + Sync {
    fn wait(&self, ctx: &Context) -> Result<(), context::Error>;
    fn limit(&self) -> Limit;
}

/// A `rate.Limiter` with the limit it was made with (Go's `Limit()`).
struct TokenBucket {
    limiter: Limiter,
    limit: Limit,
}

fn new_limiter(limit: Limit, burst: usize) -> TokenBucket {
    TokenBucket {
        limiter: Limiter::new(limit, burst),
        limit,
    }
}

impl RateLimiter for TokenBucket {
    fn wait(&self, ctx: &Context) -> Result<(), context::Error> {
        self.limiter.wait(ctx)
    }

    fn limit(&self) -> Limit {
        self.limit
    }
}

fn multi_limiter(mut limiters: Vec<Box<dyn RateLimiter>>) -> MultiLimiter {
    limiters.sort_by(|a, b| a.limit().total_cmp(&b.limit()));
    MultiLimiter { limiters }
}

struct MultiLimiter {
    limiters: Vec<Box<dyn RateLimiter>>,
}

impl RateLimiter for MultiLimiter {
    fn wait(&self, ctx: &Context) -> Result<(), context::Error> {
        for l in &self.limiters {
            l.wait(ctx)?;
        }
        Ok(())
    }

    fn limit(&self) -> Limit {
        // The most restrictive limit.
        self.limiters[0].limit()
    }
}

/// The seed's time, 20 times faster.
const SECOND: Duration = Duration::from_millis(50);
const MINUTE: Duration = Duration::from_secs(3);

fn open() -> ApiConnection {
    let second_limit = new_limiter(per(2, SECOND), 1);
    let minute_limit = new_limiter(per(10, MINUTE), 10);
    ApiConnection {
        rate_limiter: Box::new(multi_limiter(vec![
            Box::new(second_limit),
            Box::new(minute_limit),
        ])),
    }
}

struct ApiConnection {
    rate_limiter: Box<dyn RateLimiter>,
}

impl ApiConnection {
    fn read_file(&self, ctx: &Context) -> Result<(), context::Error> {
        self.rate_limiter.wait(ctx)?;
        Ok(())
    }

    fn resolve_address(&self, ctx: &Context) -> Result<(), context::Error> {
        self.rate_limiter.wait(ctx)?;
        Ok(())
    }
}

fn main() {
    weft::run(|| {
        let _done = common::defer(|| common::log_time("Done"));
        let api_connection = Arc::new(open());
        let wg = Arc::new(WaitGroup::new());
        wg.add(20);

        for _ in 0..10 {
            let (api, wg) = (api_connection.clone(), wg.clone());
            weft::go!(move || {
                let _done = common::defer(|| wg.done());
                if let Err(err) = api.read_file(&context::background()) {
                    common::log_time(&format!("cannot ReadFile :{err}"));
                }
                common::log_time("ReadFile");
            });
        }

        for _ in 0..10 {
            let (api, wg) = (api_connection.clone(), wg.clone());
            weft::go!(move || {
                let _done = common::defer(|| wg.done());
                if let Err(err) = api.resolve_address(&context::background()) {
                    common::log_time(&format!("cannot ResolveAddress :{err}"));
                }
                common::log_time("ResolveAddress");
            });
        }
        wg.wait();
    });
}
