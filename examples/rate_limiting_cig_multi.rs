//! Port of *Concurrency in Go* notes, "Rate Limiting" with several limits
//! combined (seed 001): a `RateLimiter` interface, a `multiLimiter` that
//! waits on each of its limiters (sorted most restrictive first), and an
//! `APIConnection` limited to 2 calls a second and 10 a minute.
//!
//! The seed defines `RateLimiter` and `multiLimiter` itself, and so does
//! this port (over `weft::rate::Limiter`, which has Go's `Limit()`);
//! `weft::rate` also ships the pair as `rate::RateLimiter` and
//! `rate::MultiLimiter`. The book's `Per` helper, which the seed calls but
//! does not show, is `per` here.
//!
//! The seed stops at the types (its `main` is not shown); here main makes
//! the 20 calls of the single-limiter program. With the seed's limits that
//! takes over a minute; here time runs 40 times faster: 2 calls per 25 ms
//! (burst 1) and 10 per 1.5 s (burst 10) — the first ten calls pass about
//! 12.5 ms apart, the next ten one every 150 ms (about 1.5 s in all).
//!
//! Prints 20 lines, `ReadFile` and `ResolveAddress` ten times each in some
//! order, then `Done`:
//! ```text
//! 10:21:30 ResolveAddress
//! 10:21:30 ReadFile
//! ...
//! 10:21:31 Done
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::context::{self, Context};
use weft::rate::Limiter;
use weft::sync::WaitGroup;

#[path = "common/mod.rs"]
mod common;

/// Go's `rate.Limit`: events per second.
type Limit = f64;

/// The book's `Per`: `eventCount` events per `duration`
/// (`rate.Every(duration / eventCount)`).
fn per(event_count: u32, d: Duration) -> Limit {
    f64::from(event_count) / d.as_secs_f64()
}

trait RateLimiter: Send + Sync {
    fn wait(&self, ctx: &Context) -> Result<(), context::Error>;
    fn limit(&self) -> Limit;
}

impl RateLimiter for Limiter {
    fn wait(&self, ctx: &Context) -> Result<(), context::Error> {
        Limiter::wait(self, ctx)
    }

    fn limit(&self) -> Limit {
        Limiter::limit(self)
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

/// The seed's time, 40 times faster.
const SECOND: Duration = Duration::from_millis(25);
const MINUTE: Duration = Duration::from_millis(1500);

fn open() -> ApiConnection {
    let second_limit = Limiter::new(per(2, SECOND), 1);
    let minute_limit = Limiter::new(per(10, MINUTE), 10);
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
