//! The seed programs on time, as tests (issue 6 "Timers"): Go by Example's
//! timers, tickers, timeouts, rate limiting (basic and bursty) and worker
//! pools, with seed 000's variants, and the select programs around them.
//! Each runs the logic of its example in `examples/` as a function under
//! `weft::run` and asserts the behaviour the seed shows.
//!
//! Durations are the seeds' scaled down (`SCALE`), keeping every ordering
//! the seeds rely on. Timing assertions are lower bounds that hold however
//! late the machine runs (a timer never fires early, a ticker never sends
//! two ticks for one period), plus liveness bounds of seconds; never a
//! tight upper bound.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use weft::time::{after, sleep, tick, Ticker, Timer};
use weft::{Receiver, RecvTimeoutError, Sender, TryRecvError};

/// Seed durations are divided by this.
const SCALE: u32 = 10;

/// The timeouts programs race a result against a timeout: a smaller scale
/// keeps the margin between the two (here 250 ms) well above a scheduling
/// hiccup on a loaded machine.
const TIMEOUTS_SCALE: u32 = 4;

/// A seed duration in milliseconds, scaled.
fn ms(go_ms: u32) -> Duration {
    Duration::from_millis(u64::from(go_ms)) / SCALE
}

/// Generous bound for "eventually": a liveness check, not a timing one.
const LIVENESS: Duration = Duration::from_secs(10);

// ---- timers (002 "Timers", 000 "example: timers") ----

struct TimersOutcome {
    timer1_waited: Duration,
    timer1_stop_after_fire: bool,
    stop2: bool,
    timer2_fired: bool,
}

/// `timers.go`: timer1 fires; timer2 is stopped before it fires, and its
/// goroutine never hears from it (seed 000 waits 2 s to show that).
fn timers() -> TimersOutcome {
    let start = Instant::now();
    let timer1 = Timer::new(ms(2000));
    timer1.c.recv().unwrap();
    let timer1_waited = start.elapsed();
    let timer1_stop_after_fire = timer1.stop();

    let timer2 = Timer::new(ms(1000));
    let c2 = timer2.c.clone();
    let (fired_tx, fired) = weft::chan::<()>(1);
    weft::go!(move || {
        c2.recv().unwrap();
        fired_tx.send(()).unwrap(); // "Timer 2 expired"
    });
    let stop2 = timer2.stop();

    // Seed 000's `time.Sleep(2 * time.Second)`: twice timer2's duration.
    let timer2_fired = match fired.recv_timeout(ms(2000)) {
        Ok(()) => true,
        Err(RecvTimeoutError::Timeout) => false,
        Err(RecvTimeoutError::Closed) => panic!("timer2's goroutine ended without firing"),
    };
    TimersOutcome {
        timer1_waited,
        timer1_stop_after_fire,
        stop2,
        timer2_fired,
    }
}

#[test]
fn timers_timer1_fires_timer2_stopped_never_fires() {
    let o = weft::run(timers);
    assert!(o.timer1_waited >= ms(2000), "timer1 fired early");
    assert!(!o.timer1_stop_after_fire, "Stop after firing must be false");
    assert!(o.stop2, "timer2.Stop() before it fired must report true");
    assert!(!o.timer2_fired, "a stopped timer fired");
}

// ---- tickers (002 "Tickers", 000 "example: ticker") ----

struct TickersOutcome {
    created: Instant,
    stopped: Instant,
    ticks: Vec<Instant>,
    after_stop: Result<Instant, RecvTimeoutError>,
}

/// `tickers.go`: a 500 ms ticker read by a goroutine selecting on it and
/// `done`; main sleeps 1600 ms, stops the ticker, sends `done`.
fn tickers() -> TickersOutcome {
    let created = Instant::now();
    let ticker = Ticker::new(ms(500));
    let (done_tx, done) = weft::chan::<bool>(0);

    let c = ticker.c.clone();
    let reader = weft::go!(move || {
        let mut ticks = Vec::new();
        loop {
            weft::select! {
                recv(done) -> _ => return ticks, // seed 000: "bye bye"
                recv(c) -> t => ticks.push(t.unwrap()),
            }
        }
    });

    sleep(ms(1600));
    ticker.stop();
    let stopped = Instant::now(); // every tick was sent before this
    done_tx.send(true).unwrap();
    let ticks = reader.join().unwrap();

    // Stopped: nothing more arrives, not even a tick sent just before the
    // stop and not yet received (Go 1.23's rule). Three periods' wait.
    let after_stop = ticker.c.recv_timeout(ms(1500));
    TickersOutcome {
        created,
        stopped,
        ticks,
        after_stop,
    }
}

#[test]
fn tickers_tick_several_times_then_stop() {
    let o = weft::run(tickers);
    // Go prints 3 ticks. A receiver that falls behind loses ticks, so on a
    // loaded machine fewer may arrive: require at least 2.
    assert!(
        o.ticks.len() >= 2,
        "only {} ticks in 1600 ms of a 500 ms ticker",
        o.ticks.len()
    );
    // The k-th tick received is at least k periods after the ticker was
    // made: ticks are dropped when late, never bunched or early.
    for (k, t) in o.ticks.iter().enumerate() {
        assert!(
            *t >= o.created + ms(500) * (k as u32 + 1),
            "tick {k} came early"
        );
        assert!(*t <= o.stopped, "tick {k} was sent after the stop");
    }
    assert_eq!(
        o.after_stop,
        Err(RecvTimeoutError::Timeout),
        "a stopped ticker ticked"
    );
}

// ---- timeouts (002 "Timeouts", 000 "timeout by time.After()") ----

fn tms(go_ms: u32) -> Duration {
    Duration::from_millis(u64::from(go_ms)) / TIMEOUTS_SCALE
}

/// `timeouts.go`: a 2 s result against a 1 s timeout, then a 2 s result
/// against a 3 s timeout.
fn timeouts() -> (String, String) {
    let (c1_tx, c1) = weft::chan::<String>(1);
    weft::go!(move || {
        sleep(tms(2000));
        let _ = c1_tx.send("result from c1".to_string());
    });
    let first = weft::select! {
        recv(c1) -> response => response.unwrap(),
        recv(after(tms(1000))) -> _ => "timeout c1 after 1s".to_string(),
    };

    let (c2_tx, c2) = weft::chan::<String>(1);
    weft::go!(move || {
        sleep(tms(2000));
        c2_tx.send("result from c2".to_string()).unwrap();
    });
    let second = weft::select! {
        recv(c2) -> response => response.unwrap(),
        recv(after(tms(3000))) -> _ => "timeout c2 after 3s".to_string(),
    };
    (first, second)
}

#[test]
fn timeouts_slow_result_times_out_fast_result_wins() {
    let (first, second) = weft::run(timeouts);
    assert_eq!(first, "timeout c1 after 1s");
    assert_eq!(second, "result from c2");
}

/// Seed 000's first program: a task closing `done` after `task`, against a
/// 3 s `time.After` ("change here to test different conditions").
fn timeout_done_channel(task: Duration) -> &'static str {
    let (done_tx, done) = weft::chan::<()>(0);
    weft::go!(move || {
        sleep(task);
        done_tx.close().unwrap();
    });
    weft::select! {
        recv(done) -> _ => "task done",
        recv(after(tms(3000))) -> _ => "timeout after 3s",
    }
}

#[test]
fn timeouts_done_channel_both_conditions() {
    assert_eq!(weft::run(|| timeout_done_channel(tms(2000))), "task done");
    assert_eq!(
        weft::run(|| timeout_done_channel(tms(4000))),
        "timeout after 3s"
    );
}

/// Seed 000's second program, with the random delays fixed: `doWork`
/// gives each task 3 s; main collects the delays sent after 11 s.
fn timeouts_do_work(delays: &'static [u32]) -> (Vec<(usize, bool)>, Vec<u32>) {
    fn do_work(x: usize, delay: u32, ch: Sender<u32>, report: Sender<(usize, bool)>) {
        let (done_tx, done) = weft::chan::<()>(0);
        weft::go!(move || {
            sleep(tms(delay));
            ch.send(delay).unwrap();
            done_tx.close().unwrap();
        });
        weft::select! {
            recv(done) -> _ => report.send((x, true)).unwrap(),
            recv(after(tms(3000))) -> _ => report.send((x, false)).unwrap(),
        }
    }

    let (ch_tx, ch) = weft::chan::<u32>(5);
    let (report_tx, report) = weft::chan::<(usize, bool)>(delays.len());
    for (i, &d) in delays.iter().enumerate() {
        weft::go!(do_work(i, d, ch_tx.clone(), report_tx.clone()));
    }
    sleep(tms(11_000));
    ch_tx.close().unwrap();
    let mut sent: Vec<u32> = ch.iter().collect();
    sent.sort_unstable();
    drop(report_tx);
    let mut outcomes: Vec<(usize, bool)> = report.iter().collect();
    outcomes.sort_unstable();
    (outcomes, sent)
}

#[test]
fn timeouts_do_work_reports_done_or_timeout_per_task() {
    const DELAYS: &[u32] = &[0, 1000, 5000, 9000, 6000];
    let (outcomes, sent) = weft::run(|| timeouts_do_work(DELAYS));
    assert_eq!(
        outcomes,
        vec![(0, true), (1, true), (2, false), (3, false), (4, false)]
    );
    // Every task, timed out or not, still delivers its delay by the 11 s
    // mark (the channel's buffer holds all five).
    assert_eq!(sent, vec![0, 1000, 5000, 6000, 9000]);
}

// ---- rate limiting (002 "Rate Limiting", 000 "rate limiter") ----

/// The basic limiter: 5 queued requests, each waiting for a tick of a
/// 200 ms `time.Tick`. Returns when the limiter was made and when each
/// request was served.
fn rate_limiting_basic(interval: Duration) -> (Instant, Vec<Instant>) {
    let (requests_tx, requests) = weft::chan::<i32>(5);
    for i in 1..=5 {
        requests_tx.send(i).unwrap();
    }
    requests_tx.close().unwrap();

    let start = Instant::now();
    let limiter = tick(interval);
    let mut served = Vec::new();
    for _request in &requests {
        limiter.recv().unwrap();
        served.push(Instant::now());
    }
    (start, served)
}

#[test]
fn rate_limiting_basic_one_request_per_interval() {
    for interval in [ms(200), ms(1000)] {
        let (start, served) = weft::run(move || rate_limiting_basic(interval));
        assert_eq!(served.len(), 5);
        // Request i waits for the i-th tick, which comes no sooner than i
        // intervals after the limiter was made. (A per-pair spacing bound
        // would not be safe: a receiver that falls behind finds one tick
        // waiting, in Go as here.)
        for (i, t) in served.iter().enumerate() {
            assert!(
                *t >= start + interval * (i as u32 + 1),
                "request {} served before tick {}",
                i + 1,
                i + 1
            );
        }
    }
}

struct BurstyOutcome {
    prefill: Vec<Instant>,
    ticker_start: Instant,
    /// For each request, the token it took and when it was served.
    tokens: Vec<Instant>,
    served: Vec<Instant>,
    sleep_end: Instant,
    len_after_sleep: usize,
}

/// The bursty limiter of `rate-limiting.go`: a buffered channel of 3
/// tokens, filled up front, refilled every interval by a goroutine ranging
/// over a `time.Tick`; 15 requests, main sleeping 25 intervals before
/// request 7 (the seed's 5 s).
fn rate_limiting_bursty(
    interval: Duration,
    requests: i32,
    sleep_before_7: Option<Duration>,
) -> BurstyOutcome {
    let (bursty_tx, bursty_limiter) = weft::chan::<Instant>(3);
    let mut prefill = Vec::new();
    for _ in 1..=3 {
        let now = Instant::now();
        prefill.push(now);
        bursty_tx.send(now).unwrap();
    }

    let ticker_start = Instant::now();
    weft::go!(move || {
        for t in tick(interval) {
            if bursty_tx.send(t).is_err() {
                return; // main has returned (Go's send would block forever)
            }
        }
    });

    let (bursty_requests_tx, bursty_requests) = weft::chan::<i32>(requests as usize);
    for i in 1..=requests {
        bursty_requests_tx.send(i).unwrap();
    }
    bursty_requests_tx.close().unwrap();

    let (mut tokens, mut served) = (Vec::new(), Vec::new());
    let (mut sleep_end, mut len_after_sleep) = (ticker_start, 0);
    for request in &bursty_requests {
        if let (7, Some(d)) = (request, sleep_before_7) {
            sleep(d);
            len_after_sleep = bursty_limiter.len();
            sleep_end = Instant::now(); // after the len: see the test
        }
        tokens.push(bursty_limiter.recv().unwrap());
        served.push(Instant::now());
    }
    BurstyOutcome {
        prefill,
        ticker_start,
        tokens,
        served,
        sleep_end,
        len_after_sleep,
    }
}

fn assert_burst_then_rate(o: &BurstyOutcome, interval: Duration) {
    // The first 3 requests take the 3 prefilled tokens, in order, before
    // the 4th: the burst.
    assert_eq!(
        o.tokens[..3],
        o.prefill[..],
        "the burst did not use the prefilled tokens"
    );
    assert!(o.served[2] <= o.served[3]);
    // From the 4th on, each request waits for a tick of its own: request r
    // (1-based) takes tick r-3, which comes no sooner than r-3 intervals
    // after the ticker was made.
    for r in 4..=6.min(o.served.len()) {
        let k = (r - 3) as u32;
        assert!(
            o.tokens[r - 1] >= o.ticker_start + interval * k,
            "request {r}'s token is early"
        );
        assert!(
            o.served[r - 1] >= o.ticker_start + interval * k,
            "request {r} served early"
        );
    }
}

#[test]
fn rate_limiting_bursty_000_first_three_at_once_then_one_per_interval() {
    // Seed 000: 10 requests, bursts of 3, 1 request/s.
    let interval = ms(1000);
    let o = weft::run(move || rate_limiting_bursty(interval, 10, None));
    assert_eq!(o.served.len(), 10);
    assert_burst_then_rate(&o, interval);
    // All 7 non-burst requests waited for their own tick.
    for r in 4..=10 {
        assert!(o.served[r - 1] >= o.ticker_start + interval * (r as u32 - 3));
    }
}

#[test]
fn rate_limiting_bursty_002_refills_while_idle() {
    let interval = ms(200);
    let pause = ms(5000); // 25 intervals
    let o = weft::run(move || rate_limiting_bursty(interval, 15, Some(pause)));
    assert_eq!(o.served.len(), 15);
    assert_burst_then_rate(&o, interval);

    // During the pause the ticker refilled the limiter to its capacity
    // (the seed prints "Limiter length after Sleep : 3"), so requests 7-9
    // take tokens stored before the pause ended: a new burst.
    assert_eq!(o.len_after_sleep, 3);
    for r in 7..=9 {
        assert!(
            o.tokens[r - 1] <= o.sleep_end,
            "request {r} did not use a stored token"
        );
    }
    // Then the rate holds again. At the end of the pause at most 5 tokens
    // were in hand (3 buffered, 1 held by the blocked ticker goroutine, 1
    // in the tick channel): requests 7-15 need 9, so at least 4 come from
    // ticks fired after the pause, the last of them on a grid point at
    // least 2 intervals past it (ticks are never early, never two per
    // period).
    assert!(
        o.served[14] >= o.sleep_end + interval * 2,
        "no rate limit after the burst"
    );
}

// ---- worker pools (002 "Worker Pools", 000 "goroutine pool") ----

struct PoolOutcome {
    /// The results main received, sorted.
    results: Vec<i32>,
    /// The jobs each worker ran, as (worker, job), sorted.
    ran: Vec<(i32, i32)>,
    /// A further receive on `results` once every job was collected.
    extra: Result<i32, RecvTimeoutError>,
}

/// `worker-pools.go`: `workers` workers ranging over `jobs`, each job
/// sleeping a random time (`rand.Intn(max_ms)` ms, scaled), sending
/// `result(job)`; main sends `jobs_n` jobs, closes `jobs` and collects
/// `jobs_n` results.
fn worker_pools(jobs_n: i32, workers: i32, max_ms: u32, result: fn(i32) -> i32) -> PoolOutcome {
    fn worker(
        id: i32,
        jobs: Receiver<i32>,
        results: Sender<i32>,
        max_ms: u32,
        result: fn(i32) -> i32,
    ) -> Vec<(i32, i32)> {
        let mut ran = Vec::new();
        for job in &jobs {
            // rand.Intn(max_ms): a fresh RandomState hashes to a random u64.
            let r = RandomState::new().hash_one(job) % u64::from(max_ms);
            sleep(ms(r as u32));
            ran.push((id, job));
            results.send(result(job)).unwrap();
        }
        ran
    }

    let (jobs_tx, jobs) = weft::chan::<i32>(100);
    let (results_tx, results) = weft::chan::<i32>(100);
    let hs: Vec<_> = (1..=workers)
        .map(|id| weft::go!(worker(id, jobs.clone(), results_tx.clone(), max_ms, result)))
        .collect();
    for job in 1..=jobs_n {
        jobs_tx.send(job).unwrap();
    }
    jobs_tx.close().unwrap();

    let mut got: Vec<i32> = (0..jobs_n).map(|_| results.recv().unwrap()).collect();
    got.sort_unstable();
    // The workers end once `jobs` is closed and drained.
    let mut ran: Vec<(i32, i32)> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
    ran.sort_unstable();
    // Main still holds `results_tx` (Go's main holds `results`): the
    // channel stays open, and no extra result ever arrives.
    let extra = results.recv_timeout(Duration::from_millis(50));
    PoolOutcome {
        results: got,
        ran,
        extra,
    }
}

fn assert_each_job_once(o: &PoolOutcome, jobs_n: i32, result: fn(i32) -> i32) {
    assert_eq!(o.results, (1..=jobs_n).map(result).collect::<Vec<_>>());
    let jobs: HashSet<i32> = o.ran.iter().map(|&(_, j)| j).collect();
    assert_eq!(o.ran.len(), jobs_n as usize, "a job ran twice: {:?}", o.ran);
    assert_eq!(jobs, (1..=jobs_n).collect::<HashSet<_>>());
    assert_eq!(
        o.extra,
        Err(RecvTimeoutError::Timeout),
        "an extra result arrived"
    );
}

#[test]
fn worker_pools_every_result_exactly_once() {
    let o = weft::run(|| worker_pools(5, 3, 3000, |j| j));
    assert_each_job_once(&o, 5, |j| j);
}

#[test]
fn worker_pools_000_results_doubled_exactly_once() {
    // Seed 000: 5 jobs costing 0-4 s each, results `j * 2`.
    let o = weft::run(|| worker_pools(5, 3, 5000, |j| j * 2));
    assert_each_job_once(&o, 5, |j| j * 2);
}

#[test]
fn worker_pools_many_jobs_exactly_once() {
    let o = weft::run(|| worker_pools(100, 3, 100, |j| j));
    assert_each_job_once(&o, 100, |j| j);
}

// ---- select (002 "Select", 000 "example: channel select") ----

/// `select.go`: two goroutines sending after 4 s and 2 s; main selects
/// twice. Main keeps a sender of each channel, as Go's main keeps `c1` and
/// `c2` (dropping the last Sender would close the channel).
fn select_two(d1: Duration, d2: Duration) -> (Vec<String>, Duration) {
    let start = Instant::now();
    let (c1_tx, c1) = weft::chan::<String>(0);
    let (c2_tx, c2) = weft::chan::<String>(0);
    let tx = c1_tx.clone();
    weft::go!(move || {
        sleep(d1);
        tx.send("one".to_string()).unwrap();
    });
    let tx = c2_tx.clone();
    weft::go!(move || {
        sleep(d2);
        tx.send("two".to_string()).unwrap();
    });
    let mut got = Vec::new();
    for _ in 0..2 {
        weft::select! {
            recv(c1) -> msg1 => got.push(msg1.unwrap()),
            recv(c2) -> msg2 => got.push(msg2.unwrap()),
        }
    }
    (got, start.elapsed())
}

#[test]
fn select_receives_both_in_order_of_arrival() {
    let (got, took) = weft::run(|| select_two(tms(4000), tms(2000)));
    assert_eq!(got, ["two", "one"]);
    // The sleeps overlap: about 4 s, not 6 (liveness-sized bound).
    assert!(took >= tms(4000));
    assert!(took < tms(4000) + LIVENESS);
    let (got, _) = weft::run(|| select_two(tms(1000), tms(2000)));
    assert_eq!(got, ["one", "two"]);
}

// ---- non-blocking operations, closing and ranging (002, 000) ----

#[test]
fn non_blocking_channel_operations_take_default() {
    let out = weft::run(|| {
        let mut out = Vec::new();
        let (messages_tx, messages) = weft::chan::<String>(0);
        let (_signals_tx, signals) = weft::chan::<bool>(0);
        weft::select! {
            recv(messages) -> m => out.push(format!("received message : {}", m.unwrap())),
            default => out.push("no message received".to_string()),
        }
        weft::select! {
            send(messages_tx, "hi".to_string()) -> _ => out.push("sent message : hi".to_string()),
            default => out.push("no message sent".to_string()),
        }
        weft::select! {
            recv(messages) -> m => out.push(format!("received message : {}", m.unwrap())),
            recv(signals) -> s => out.push(format!("received signal : {}", s.unwrap())),
            default => out.push("no activity".to_string()),
        }
        out
    });
    assert_eq!(
        out,
        ["no message received", "no message sent", "no activity"]
    );
}

#[test]
fn non_blocking_channel_operations_000_modification() {
    let out = weft::run(|| {
        let mut out = Vec::new();
        let (messages_tx, messages) = weft::chan::<String>(10);
        let (_signals_tx, signals) = weft::chan::<bool>(0);
        let tx = messages_tx.clone();
        weft::go!(move || tx.send("one".to_string()).unwrap());
        sleep(ms(1000));
        weft::select! {
            recv(messages) -> m => out.push(format!("received message {}", m.unwrap())),
            default => out.push("no message received".to_string()),
        }
        weft::select! {
            send(messages_tx, "hi".to_string()) -> _ => out.push("sent message hi".to_string()),
            default => out.push("no message sent".to_string()),
        }
        weft::select! {
            recv(messages) -> m => out.push(format!("received message {}", m.unwrap())),
            recv(signals) -> s => out.push(format!("received signal {}", s.unwrap())),
            default => out.push("no activity".to_string()),
        }
        out
    });
    assert_eq!(
        out,
        [
            "received message one",
            "sent message hi",
            "received message hi"
        ]
    );
}

#[test]
fn closing_channels_worker_sees_all_jobs_then_close() {
    let (received, more_after) = weft::run(|| {
        let (jobs_tx, jobs) = weft::chan::<i32>(5);
        let (done_tx, done) = weft::chan::<Vec<i32>>(0);
        let worker_jobs = jobs.clone();
        weft::go!(move || {
            let mut got = Vec::new();
            loop {
                match worker_jobs.recv() {
                    Ok(job) => got.push(job),
                    Err(_) => {
                        done_tx.send(got).unwrap();
                        return;
                    }
                }
            }
        });
        for job in 1..=3 {
            jobs_tx.send(job).unwrap();
        }
        jobs_tx.close().unwrap();
        let received = done.recv().unwrap();
        // Seed 000: `_, ok := <-jobs` on the closed, drained channel.
        (received, jobs.try_recv())
    });
    assert_eq!(received, [1, 2, 3]);
    assert_eq!(more_after, Err(TryRecvError::Closed));
}

#[test]
fn range_over_closed_buffered_channel_gets_remaining_values() {
    let got = weft::run(|| {
        let (queue_tx, queue) = weft::chan::<String>(2);
        queue_tx.send("one".to_string()).unwrap();
        queue_tx.send("two".to_string()).unwrap();
        queue_tx.close().unwrap();
        queue.iter().collect::<Vec<_>>()
    });
    assert_eq!(got, ["one", "two"]);
}

#[test]
fn channel_synchronization_waits_for_worker() {
    let worked = weft::run(|| {
        let (done_tx, done) = weft::chan::<bool>(1);
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = flag.clone();
        weft::go!(move || {
            sleep(ms(1000));
            f.store(true, std::sync::atomic::Ordering::SeqCst);
            done_tx.send(true).unwrap();
        });
        done.recv().unwrap();
        flag.load(std::sync::atomic::Ordering::SeqCst)
    });
    assert!(worked, "main went on before the worker was done");
}
