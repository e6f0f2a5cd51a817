//! Port of *Concurrency in Go* notes, "Rate Limiting" with
//! `golang.org/x/time/rate` (seed 001): an `APIConnection` whose calls
//! each wait on one token-bucket limiter; ten `ReadFile` and ten
//! `ResolveAddress` calls at once are let through one at a time. Logs with
//! the time of day, on stdout (`log.SetFlags(log.Ltime | log.LUTC)`).
//!
//! The seed's limiter allows 1 event per second (20 s for the 20 calls);
//! here 20 per second, burst 1 (about 1 s).
//!
//! Prints 20 lines, `ReadFile` and `ResolveAddress` ten times each in some
//! order, about 50 ms apart, then `Done`:
//! ```text
//! 10:21:30 ResolveAddress
//! 10:21:30 ReadFile
//! ...
//! 10:21:31 Done
//! ```

use std::sync::Arc;

use weft::context::{self, Context};
use weft::rate::Limiter;
use weft::sync::WaitGroup;

#[path = "common/mod.rs"]
mod common;

fn open() -> ApiConnection {
    ApiConnection {
        rate_limiter: Limiter::new(20.0, 1), // 20 events per second
    }
}

struct ApiConnection {
    rate_limiter: Limiter,
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
