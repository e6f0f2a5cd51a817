//! Port of Go by Example "Rate Limiting" (seed 002, `rate-limiting.go`):
//! a basic limiter (one request per tick of a 200 ms `weft::time::tick`)
//! and a bursty one (a buffered channel of 3 tokens, filled up front and
//! then refilled by a ticker goroutine), with the seed's tracing of the
//! limiter's length and the 5 s pause before request 7.
//!
//! Prints, with the seed's timings (monotonic seconds since start):
//! requests 1–5 about 200 ms apart; bursty requests 1–3 at once; 4–6 a
//! tick apart; after the 5 s sleep, 7–11 at once (3 buffered tokens, the
//! token the blocked ticker goroutine was holding, and the tick the
//! ticker channel kept meanwhile); then 12–15 a tick apart.

use std::time::{Duration, Instant};

use weft::time::{sleep, tick};

#[path = "common/mod.rs"]
mod common;

fn get_monotonic_clock() -> String {
    let now = common::time_string(Instant::now());
    let separator = "m=+";
    now.split(separator).nth(1).unwrap_or_default().to_string()
}

fn main() {
    common::mark_start();
    weft::run(|| {
        // Suppose we want to limit our handling of incoming requests.
        let (requests_tx, requests) = weft::chan::<i32>(5);
        for i in 1..=5 {
            requests_tx.send(i).unwrap();
        }
        requests_tx.close().unwrap();

        // The limiter is the regulator of our rate limiting scheme.
        let duration = Duration::from_millis(200);
        println!(
            "Initializing Ticker for every {}",
            common::duration_string(duration)
        );
        let limiter = tick(duration);

        // Blocking on a receive from `limiter` before serving each request
        // limits us to 1 request every 200 ms.
        for request in &requests {
            limiter.recv().unwrap();
            println!("Request {request} : at {}", get_monotonic_clock());
        }
        println!();

        // Short bursts of requests while preserving the overall rate limit:
        // this channel allows bursts of up to 3 events.
        let (bursty_tx, bursty_limiter) = weft::chan::<Instant>(3);
        for _ in 1..=3 {
            bursty_tx.send(Instant::now()).unwrap();
        }
        print!("Initial Limiter length     : {}\n\n", bursty_limiter.len());

        // Every 200 ms, try to add a new value to `bursty_limiter`, up to
        // its limit of 3.
        weft::go!(move || {
            print!(
                "Initializing Ticker for every {}\n\n",
                common::duration_string(duration)
            );

            for t in tick(duration) {
                println!("Ticking                    : at {}", get_monotonic_clock());
                println!("Increasing Limiter length  : {} + 1", bursty_tx.len());

                // Blocks while `bursty_limiter` is at its capacity. (Once
                // main has returned and dropped its receiver, weft fails the
                // send where Go's would block forever: stop quietly then.)
                if bursty_tx.send(t).is_err() {
                    return;
                }
                println!("Increased Limiter length   : at {}", get_monotonic_clock());
            }
        });

        // Now simulate 15 incoming requests.
        let (bursty_requests_tx, bursty_requests) = weft::chan::<i32>(15);
        for i in 1..=15 {
            bursty_requests_tx.send(i).unwrap();
        }
        bursty_requests_tx.close().unwrap();

        // The first 3 requests benefit from the burst capability.
        for request in &bursty_requests {
            let duration = Duration::from_secs(5);
            if request == 7 {
                print!(
                    "Go to Sleep for {}...\n\n",
                    common::duration_string(duration)
                );
                sleep(duration);
                print!(
                    "\nLimiter length after Sleep : {}\n\n",
                    bursty_limiter.len()
                );
            }

            bursty_limiter.recv().unwrap();
            println!("Decreased Limiter length   : {}", bursty_limiter.len());
            print!(
                "Request {request:2}                 : at {}\n\n",
                get_monotonic_clock()
            );
        }
    });
}
