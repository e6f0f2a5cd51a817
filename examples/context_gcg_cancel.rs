//! Port of the Go Concurrency Guide's "Context package" cancellation
//! example (seed 004): `printGreeting` and `printFarewell` run at once
//! under one cancellable context. `genGreeting` gives `locale` a 1 s
//! timeout; `locale` sees that its deadline is sooner than the minute it
//! would take and fails at once with `context.DeadlineExceeded`; the
//! greeting goroutine then cancels the shared context, which stops the
//! farewell's `locale` waiting on `ctx.Done()`.
//!
//! Go's `cancel` is a function value the closure captures; here the
//! `CancelFunc` is cloned into the greeting goroutine (dropping its last
//! clone cancels too, as Go's `defer cancel()` does at the end of main).
//!
//! Prints:
//! ```text
//! cannot print greeting: context deadline exceeded
//! cannot print farewell: context canceled
//! ```

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::context::{self, Context};
use weft::sync::WaitGroup;
use weft::time::after;

#[path = "common/mod.rs"]
mod common;

type BoxError = Box<dyn Error + Send + Sync>;

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());
        let (ctx, cancel) = context::with_cancel(&context::background());
        let _cancel = common::defer({
            let cancel = cancel.clone();
            move || cancel.cancel()
        });

        wg.add(1);
        let (w, c) = (wg.clone(), ctx.clone());
        weft::go!(move || {
            let _done = common::defer(|| w.done());

            if let Err(err) = print_greeting(&c) {
                println!("cannot print greeting: {err}");
                cancel.cancel();
            }
        });

        wg.add(1);
        let (w, c) = (wg.clone(), ctx.clone());
        weft::go!(move || {
            let _done = common::defer(|| w.done());
            if let Err(err) = print_farewell(&c) {
                println!("cannot print farewell: {err}");
            }
        });

        wg.wait();
    });
}

fn print_greeting(ctx: &Context) -> Result<(), BoxError> {
    let greeting = gen_greeting(ctx)?;
    println!("{greeting} world!");

    Ok(())
}

fn print_farewell(ctx: &Context) -> Result<(), BoxError> {
    let farewell = gen_farewell(ctx)?;
    println!("{farewell} world!");

    Ok(())
}

fn gen_greeting(ctx: &Context) -> Result<String, BoxError> {
    let (ctx, cancel) = context::with_timeout(ctx, Duration::from_secs(1));
    let _cancel = common::defer(move || cancel.cancel());

    match locale(&ctx)?.as_str() {
        "EN/US" => Ok("hello".to_string()),
        _ => Err("unsupported locale".into()),
    }
}

fn gen_farewell(ctx: &Context) -> Result<String, BoxError> {
    match locale(ctx)?.as_str() {
        "EN/US" => Ok("goodbye".to_string()),
        _ => Err("unsupported locale".into()),
    }
}

fn locale(ctx: &Context) -> Result<String, context::Error> {
    if let Some(deadline) = ctx.deadline() {
        if deadline <= Instant::now() + Duration::from_secs(60) {
            return Err(context::Error::DeadlineExceeded);
        }
    }

    weft::select! {
        recv(ctx.done()) -> _ => return Err(ctx.err().expect("done is closed")),
        recv(after(Duration::from_secs(60))) -> _ => {},
    }

    Ok("EN/US".to_string())
}
