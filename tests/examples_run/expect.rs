//! What each example must print, exit with and say on stderr: one entry
//! per program, by seed (the seeds' order, `examples/README.md`'s tables).
//! Patterns: `*` matches any text, `\\*` a literal `*` (see `Check`).

use super::*;

/// Every example.
pub fn expectations() -> Vec<(&'static str, Expect)> {
    let mut all = Vec::new();
    all.extend(seed_000());
    all.extend(seed_001());
    all.extend(seed_002());
    all.extend(seed_003());
    all.extend(seed_004());
    all
}

/// The deadlock report: Go's first line, then each listed goroutine line
/// (`goroutine N [wait reason]:`) in this order.
fn deadlock(stdout: Vec<Check>, goroutines: &[&str]) -> Expect {
    let mut report = vec![
        "fatal error: all goroutines are asleep - deadlock!".to_string(),
        String::new(),
    ];
    report.extend(goroutines.iter().map(|g| g.to_string()));
    Expect {
        stdout,
        status: 2,
        stderr: vec![starts(report[..2].to_vec()), in_order(report)],
    }
}

/// A goroutine's panic ending the process with status 2, as Go's does.
fn panics(stdout: Vec<Check>, message: &str) -> Expect {
    Expect {
        stdout,
        status: 2,
        stderr: vec![in_order(["goroutine * panicked at *", message])],
    }
}

/// No output at all.
fn nothing() -> Vec<Check> {
    vec![lines::<&str>([])]
}

/// The lines of `first` in any order, then `rest` in order.
fn any_then(first: &[&str], rest: &[&str]) -> Check {
    let mut b: Vec<&[&str]> = vec![first];
    b.extend(rest.iter().map(std::slice::from_ref));
    blocks(&b)
}

/// Each line matching `pat` carries a number (its first `*`) in
/// `min..=max`, and at least one line does.
fn number(pat: &str, min: u64, max: u64) -> Check {
    Check::Number {
        pat: pat.to_string(),
        min,
        max,
    }
}

fn count_in(pat: &str, min: usize, max: usize) -> Check {
    Check::Count {
        pat: pat.to_string(),
        min,
        max,
    }
}

fn strings(v: impl IntoIterator<Item = String>) -> Vec<String> {
    v.into_iter().collect()
}

// ---- 000: goroutines and channels notes ----

fn seed_000() -> Vec<(&'static str, Expect)> {
    let pipeline = [
        "goroutine2 send: 1",
        "goroutine1 receive: 1",
        "goroutine1 send: 10",
        "main goroutine receive: 10",
        "goroutine2 send: 2",
        "goroutine1 receive: 2",
        "goroutine1 send: 20",
        "main goroutine receive: 20",
        "goroutine2 send: 3",
        "goroutine1 receive: 3",
        "goroutine1 send: 30",
        "main goroutine receive: 30",
    ];
    let begins = ["goroutine1 begin", "goroutine2 begin"];
    let starts_both = ["main goutine here", "closure goroutine start"];
    // The goroutine's send on ch1 is taken first; then main's send on ch2
    // and the goroutine's print race.
    let select_loop = || {
        vec![blocks(&[
            &starts_both,
            &["case2, value = 1"],
            &["case1", "closure, value =: 2"],
        ])]
    };
    let producer: Vec<String> = (1..=5)
        .flat_map(|i| [format!("Producing: {i}"), format!("Produced: {i}")])
        .collect();
    let consumer: Vec<String> = (1..=5)
        .flat_map(|i| [format!("Consuming: {i}"), format!("Consumed: {i}")])
        .collect();
    let producer0: Vec<String> = (0..5)
        .flat_map(|i| [format!("Producing: {i}"), format!("Produced: {i}")])
        .collect();
    vec![
        (
            "goroutines_guide_closure",
            vec![any_then(&begins, &pipeline)].into(),
        ),
        (
            "goroutines_guide_recommended",
            vec![any_then(&begins, &pipeline)].into(),
        ),
        (
            "deadlock_guide_simple",
            deadlock(
                vec![blocks(&[&starts_both])],
                &["goroutine * [chan send]:", "goroutine * [chan send]:"],
            ),
        ),
        (
            "deadlock_guide_select",
            deadlock(select_loop(), &["goroutine * [select]:"]),
        ),
        ("deadlock_guide_break_label", select_loop().into()),
        ("deadlock_guide_return", select_loop().into()),
        (
            "done_channel_guide",
            vec![
                only([
                    "fastest results for searching 'a': [apple banana orange grape pear]",
                    "fastest results for searching 'a': [cat]",
                ]),
                count("fastest results *", 1),
            ]
            .into(),
        ),
        (
            "waitgroup_guide_three",
            vec![blocks(&[&["doThing1", "doThing2", "doThing3"]])].into(),
        ),
        (
            "waitgroup_guide_worker",
            workers("Worker N starting", "Worker N done"),
        ),
        (
            "waitgroup_guide_defer",
            workers("Worker N starting", "Worker N done"),
        ),
        (
            "waitgroup_guide_process_and_gather",
            vec![Check::Custom("process_and_gather", process_and_gather)].into(),
        ),
        (
            "select_guide_turn_off_case",
            vec![Check::Custom("turn_off_case", turn_off_case)].into(),
        ),
        (
            "buffered_channels_guide",
            vec![
                in_order(producer),
                in_order(consumer),
                count("*", 20),
                only(["Producing: *", "Produced: *", "Consuming: *", "Consumed: *"]),
            ]
            .into(),
        ),
        (
            "buffered_channels_guide_producer_consumer",
            vec![
                in_order(producer0),
                in_order((0..5).map(|i| format!("Consumed: {i}"))),
                count("*", 15),
                only(["Producing: *", "Produced: *", "Consumed: *"]),
            ]
            .into(),
        ),
        (
            "backpressure_guide",
            vec![
                only(["200 OK: done", "429 Too Many Requests: Too many requests"]),
                count("200 OK: done", 10),
                count("429 *", 2),
            ]
            .into(),
        ),
        ("timeouts_guide", vec![lines(["task done"])].into()),
        (
            "timeouts_guide_workers",
            vec![Check::Custom("delays_and_verdicts", delays_and_verdicts)].into(),
        ),
        (
            "goroutines_guide",
            vec![
                starts(["direct : 0", "direct : 1", "direct : 2"]),
                only([
                    "direct : *",
                    "going",
                    "goroutine : 0",
                    "goroutine : 1",
                    "done",
                ]),
                count("going", 1),
                count("goroutine : 0", 1),
                count("done", 1),
                in_order(["going", "done"]),
                in_order(["goroutine : 0", "done"]),
                // Printed 1 s after `goroutine : 0`, racing main's `done`
                // (before or after it, or not at all when the exit wins).
                count_in("goroutine : 1", 0, 1),
            ]
            .into(),
        ),
        (
            "channels_guide",
            vec![lines(["---", "in goroutine func", "xxx ping"])].into(),
        ),
        (
            "channel_buffering_guide",
            vec![lines(["buffered", "channel"])].into(),
        ),
        (
            "channel_synchronization_guide",
            // Main's line and the new goroutine's race (spawn policy).
            vec![blocks(&[
                &["waiting for flag", "working..."],
                &["work done"],
                &["ending for flag"],
            ])]
            .into(),
        ),
        (
            "select_guide",
            vec![lines(["received one", "received two"])].into(),
        ),
        (
            "non_blocking_channel_operations_guide",
            vec![lines([
                "received message one",
                "sent message hi",
                "received message hi",
            ])]
            .into(),
        ),
        (
            "closing_channels_guide",
            // 2 s between sends: only each send's two lines race.
            vec![blocks(&[
                &["sent job 1", "received job 1"],
                &["sent job 2", "received job 2"],
                &["sent job 3", "received job 3"],
                &["sent all jobs", "received all jobs"],
                &["received more jobs: false"],
            ])]
            .into(),
        ),
        (
            "timers_guide",
            vec![lines(["Timer 1 fired", "Timer 2 stopped"])].into(),
        ),
        (
            "tickers_guide",
            vec![
                only(["Tick at * +0000 UTC m=+*", "bye bye", "Ticker stopped"]),
                at_least("Tick at *", 2),
                count("bye bye", 1),
                count("Ticker stopped", 1),
                ends(["bye bye", "Ticker stopped"]),
            ]
            .into(),
        ),
        ("worker_pools_guide", worker_pools_guide().into()),
        (
            "atomic_counters_guide",
            vec![lines(["ops: 1280000"])].into(),
        ),
        (
            "mutexes_guide",
            vec![lines(["map[a:20000 b:10000]"])].into(),
        ),
        (
            "rate_limiting_guide_simple",
            vec![lines(
                (1..=5).map(|n| format!("request {n} * +0000 UTC m=+*")),
            )]
            .into(),
        ),
        (
            "rate_limiting_guide_bursty",
            vec![lines(
                (1..=10).map(|n| format!("request {n} * +0000 UTC m=+*")),
            )]
            .into(),
        ),
        (
            "stateful_goroutines_guide",
            vec![
                lines(["readOps: *", "writeOps: *"]),
                number("readOps: *", 1, u64::MAX),
                number("writeOps: *", 1, u64::MAX),
            ]
            .into(),
        ),
    ]
}

/// Five workers: every `starting` line, then every `done` line, each five
/// in any order (`N` stands for the worker's number).
fn workers(starting: &str, done: &str) -> Expect {
    let each = |pat: &str| (1..=5).map(|i| pat.replace('N', &i.to_string())).collect();
    vec![Check::Blocks(vec![each(starting), each(done)])].into()
}

/// Ten goroutines launched, five values each taken once by one of them,
/// and last the five results gathered in some order.
fn process_and_gather(out: &[&str]) -> Result<(), String> {
    if out.len() != 16 {
        return Err(format!("{} lines, want 10 + 5 + 1", out.len()));
    }
    for i in 0..10 {
        one_match(out, &format!("launch groutine {i}"))?;
    }
    for v in 0..5 {
        let g = one_match(out, &format!("goroutine* get {v}"))?[0];
        if !(0..10).any(|i| g == i.to_string()) {
            return Err(format!(
                "value {v} taken by goroutine {g:?}: no such goroutine"
            ));
        }
    }
    let last = out[15];
    let Some(inner) = last.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
        return Err(format!("last line {last:?} is not a slice"));
    };
    let mut got: Vec<&str> = inner.split(' ').collect();
    got.sort_unstable();
    if got != ["0", "10", "20", "30", "40"] {
        return Err(format!(
            "results {last:?}, want 0 10 20 30 40 in some order"
        ));
    }
    Ok(())
}

/// Twenty slices, each the previous one plus a value; the last holds
/// 0..=9 and 0, 10, ..., 90, each channel's values in its order.
fn turn_off_case(out: &[&str]) -> Result<(), String> {
    if out.len() != 20 {
        return Err(format!("{} lines, want 20", out.len()));
    }
    let mut prev: Vec<i32> = Vec::new();
    for (i, line) in out.iter().enumerate() {
        let inner = line
            .strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .ok_or_else(|| format!("line {}: {line:?} is not a slice", i + 1))?;
        let got: Vec<i32> = inner
            .split(' ')
            .map(|v| v.parse().map_err(|_| format!("line {}: {line:?}", i + 1)))
            .collect::<Result<_, _>>()?;
        if got.len() != i + 1 || got[..i] != prev[..] {
            return Err(format!(
                "line {}: {line:?} does not extend the line before",
                i + 1
            ));
        }
        prev = got;
    }
    // Values of ch1 are 0..=9, of ch2 0, 10, ..., 90; each channel's in order.
    let tens: Vec<i32> = prev
        .iter()
        .copied()
        .filter(|v| v % 10 == 0 && *v > 0)
        .collect();
    let ones: Vec<i32> = prev.iter().copied().filter(|v| v % 10 != 0).collect();
    let zeros = prev.iter().filter(|v| **v == 0).count();
    if tens != (1..10).map(|v| v * 10).collect::<Vec<_>>()
        || ones != (1..10).collect::<Vec<_>>()
        || zeros != 2
    {
        return Err(format!(
            "last line {:?}: not the two channels' values, each in order",
            out[19]
        ));
    }
    Ok(())
}

// ---- 001: notes on Concurrency in Go ----

fn seed_001() -> Vec<(&'static str, Expect)> {
    let received = |fmt: &str| -> Vec<String> {
        let mut v: Vec<String> = (0..=5).map(|i| format!("{fmt}{i}")).collect();
        v.push("Done receiving!".to_string());
        v
    };
    vec![
        ("fork_join_cig", vec![lines(["hello"])].into()),
        (
            "waitgroup_cig",
            vec![blocks(&[
                &["1st goroutine sleeping...", "2nd goroutine sleeping..."],
                &["All goroutines complete"],
            ])]
            .into(),
        ),
        (
            "mutex_cig",
            vec![Check::Custom("incr_decr", incr_decr)].into(),
        ),
        (
            "cond_cig",
            vec![Check::Custom("queue_of_two", queue_of_two)].into(),
        ),
        ("once_cig", vec![lines(["count is 1"])].into()),
        ("once_cig_only_once", vec![lines(["count is 1"])].into()),
        (
            "pool_cig",
            vec![
                only(["Creating new instance."]),
                count_in("Creating new instance.", 2, 3),
            ]
            .into(),
        ),
        (
            "channels_cig",
            vec![lines(["(true): Hello channels!", "(false): "])].into(),
        ),
        (
            "channel_ownership_cig",
            vec![lines(received("received : "))].into(),
        ),
        (
            "select_cig_nil_channels",
            deadlock(nothing(), &["goroutine 1 [select]:"]),
        ),
        (
            "select_cig_random",
            vec![Check::Custom("fair_choice", |out| {
                fair_choice(out, "c1: *", ", c2: *")
            })]
            .into(),
        ),
        ("select_cig_timeout", vec![lines(["Time out"])].into()),
        (
            "select_cig_default",
            vec![lines(["In default after *", ""])].into(),
        ),
        (
            "select_cig_work_loop",
            vec![
                lines(["Achieved * cycles of work before signalled to stop."]),
                // Five 100 ms cycles in 500 ms; the last check races the
                // close, and a loaded machine oversleeps (fewer cycles).
                number("Achieved * cycles *", 2, 6),
            ]
            .into(),
        ),
        (
            "confinement_cig",
            vec![lines(received("Received : "))].into(),
        ),
        (
            "for_select_cig",
            vec![
                lines(["a", "b", "c", "worked * times before done"]),
                number("worked * times *", 1, u64::MAX),
            ]
            .into(),
        ),
        ("goroutine_leaks_cig", vec![lines(["Done."])].into()),
        (
            "goroutine_leaks_cig_done",
            vec![lines([
                "canceling doWork goroutine...",
                "doWork exited",
                "Done",
            ])]
            .into(),
        ),
        (
            "goroutine_leaks_cig_rand_stream",
            vec![lines(["3 random ints:", "1:*", "2:*", "3:*"])].into(),
        ),
        (
            "goroutine_leaks_cig_rand_stream_done",
            vec![lines([
                "3 random ints:",
                "1:*",
                "2:*",
                "3:*",
                "newRandStream closure exited.",
            ])]
            .into(),
        ),
        // The 1 s signal wins; `1.*s` is Go's `1.001234567s`.
        ("or_channel_cig", vec![lines(["done after 1.*s"])].into()),
        (
            "error_handling_cig",
            vec![lines(["Response: %!", "(string=200 OK)error:*"])].into(),
        ),
        ("pipelines_cig", vec![lines(["6", "10", "14", "18"])].into()),
        (
            "generators_cig",
            vec![lines(["1 1 1 1 1 1 1 1 1 1 "])].into(),
        ),
        ("or_done_cig", vec![lines(["0", "1", "2", "3", "4"])].into()),
        (
            "tee_cig",
            vec![lines([
                "out1: 1, out2:1",
                "out1: 2, out2:2",
                "out1: 1, out2:1",
                "out1: 2, out2:2",
            ])]
            .into(),
        ),
        ("bridge_cig", vec![lines(["0 1 2 3 4 5 6 7 8 9 "])].into()),
        (
            "heartbeats_cig",
            // 1 s of 100 ms pulses and 200 ms results.
            vec![
                only(["pulse", "results *"]),
                at_least("pulse", 3),
                at_least("results *", 2),
                number("results *", 0, 59),
            ]
            .into(),
        ),
        (
            "replicated_requests_cig",
            vec![Check::Custom("replicated", replicated)].into(),
        ),
        ("rate_limiting_cig", api_calls()),
        ("rate_limiting_cig_multi", api_calls()),
        (
            "healing_goroutines_cig",
            vec![Check::Custom("steward", steward)].into(),
        ),
        ("work_stealing_cig_fib", vec![lines(["fib = 3"])].into()),
        (
            "race_detection_cig",
            vec![only(["value is 0"]), count_in("*", 0, 1)].into(),
        ),
        (
            "pprof_cig",
            vec![Check::Custom("goroutine_counts", goroutine_counts)].into(),
        ),
    ]
}

/// The rate-limited `APIConnection`: ten `ReadFile` and ten
/// `ResolveAddress` log lines in any order, then `Done`.
fn api_calls() -> Expect {
    vec![
        only(["*:*:* ReadFile", "*:*:* ResolveAddress", "*:*:* Done"]),
        count("*:*:* ReadFile", 10),
        count("*:*:* ResolveAddress", 10),
        ends(["*:*:* Done"]),
        count("*", 21),
    ]
    .into()
}

/// Six increments and six decrements, printed under the lock: each count
/// one more or one less than the one before, from 0 back to 0.
fn incr_decr(out: &[&str]) -> Result<(), String> {
    if out.len() != 13 || out[12] != "Done" {
        return Err(format!("{} lines, want 12 and `Done`", out.len()));
    }
    let (mut count, mut incr, mut decr) = (0i64, 0, 0);
    for line in &out[..12] {
        let (step, n) = if let Some(n) = line.strip_prefix("Incr: ") {
            incr += 1;
            (1, n)
        } else if let Some(n) = line.strip_prefix("Decr: ") {
            decr += 1;
            (-1, n)
        } else {
            return Err(format!("unexpected line {line:?}"));
        };
        count += step;
        if n != count.to_string() {
            return Err(format!("{line:?}: the count should be {count}"));
        }
    }
    if incr != 6 || decr != 6 {
        return Err(format!(
            "{incr} increments and {decr} decrements, want 6 each"
        ));
    }
    Ok(())
}

/// Ten adds; never more than two items queued; eight or nine removals
/// before main returns after its tenth add.
fn queue_of_two(out: &[&str]) -> Result<(), String> {
    let (mut queued, mut added, mut removed) = (0i32, 0, 0);
    for line in out {
        match *line {
            "Adding to queue" => {
                queued += 1;
                added += 1;
            }
            "removed from queue" => {
                queued -= 1;
                removed += 1;
            }
            _ => return Err(format!("unexpected line {line:?}")),
        }
        if !(0..=2).contains(&queued) {
            return Err(format!("{queued} items queued after {line:?}"));
        }
    }
    if added != 10 || !(8..=9).contains(&removed) {
        return Err(format!(
            "{added} adds and {removed} removals, want 10 and 8 or 9"
        ));
    }
    Ok(())
}

/// Two counts of a 1001-way random choice between two ready cases: they
/// add up, and each is near half (binomial sd ~16: 400 is six sd away).
fn fair_choice(out: &[&str], first: &str, second: &str) -> Result<(), String> {
    if out.len() != 2 {
        return Err(format!("{} lines, want 2", out.len()));
    }
    let a = number_in(out[0], first)?;
    let b = number_in(out[1], second)?;
    if a + b != 1001 || a < 400 || b < 400 {
        return Err(format!("counts {a} and {b}: want two near-halves of 1001"));
    }
    Ok(())
}

/// The number `pat`'s first `*` captures in `line`.
fn number_in(line: &str, pat: &str) -> Result<u64, String> {
    let captures = glob(pat, line).ok_or_else(|| format!("{line:?} does not match {pat:?}"))?;
    captures[0]
        .parse()
        .map_err(|_| format!("{line:?}: {:?} is not a number", captures[0]))
}

/// Ten handlers report once each; the last line names the first to answer.
fn replicated(out: &[&str]) -> Result<(), String> {
    if out.len() != 11 {
        return Err(format!("{} lines, want 10 + 1", out.len()));
    }
    for id in 0..10 {
        one_match(&out[..10], &format!("{id} took *s"))?;
    }
    let first = one_match(out, "Received an answer from #*")?[0];
    if out[10] != format!("Received an answer from #{first}") {
        return Err("the answer is not the last line".to_string());
    }
    Ok(())
}

/// The steward restarts the silent ward every 400 ms until `done` closes
/// at 1 s: each restart starts a new ward, and the wards it stopped halt.
fn steward(out: &[&str]) -> Result<(), String> {
    let n = |pat: &str| out.iter().filter(|l| matches(pat, l)).count();
    let hello = n("*:*:* ward: Hello, I'm irresponsible!");
    let restarts = n("*:*:* steward: ward unhealthy: restarting");
    let halts = n("*:*:* ward: I am halting.");
    if !(1..=2).contains(&restarts) || hello != restarts + 1 || !(restarts..=hello).contains(&halts)
    {
        return Err(format!(
            "{hello} wards started, {restarts} restarts, {halts} halts: \
             want one more ward than restarts, and every replaced ward halted"
        ));
    }
    Check::InOrder(pats([
        "*:*:* ward: Hello, I'm irresponsible!",
        "*:*:* steward: ward unhealthy: restarting",
        "*:*:* main: halting steward and ward.",
        "*:*:* Done",
    ]))
    .check(out)?;
    if n("*:*:* main: halting steward and ward.") != 1
        || n("*:*:* Done") != 1
        || out.len() != hello + restarts + halts + 2
    {
        return Err("unexpected lines".to_string());
    }
    Ok(())
}

/// One line per 200 ms tick while main starts ten goroutines 100 ms apart
/// (five ticks; more when a loaded machine oversleeps); the count never
/// falls and stays between main + the logger and all twelve goroutines.
fn goroutine_counts(out: &[&str]) -> Result<(), String> {
    if !(3..=10).contains(&out.len()) {
        return Err(format!("{} lines, want about 5", out.len()));
    }
    let mut prev = 0;
    for line in out {
        let captures = glob("*:*:* goroutine count:*", line)
            .ok_or_else(|| format!("unexpected line {line:?}"))?;
        let n: u64 = captures[3]
            .parse()
            .map_err(|_| format!("{line:?}: not a count"))?;
        if !(2..=12).contains(&n) || n < prev {
            return Err(format!("{line:?}: count {n} after {prev}"));
        }
        prev = n;
    }
    Ok(())
}

// ---- 002: Go by Example ----

fn seed_002() -> Vec<(&'static str, Expect)> {
    let closing_lines = [
        "sent job : 1",
        "sent job : 2",
        "sent job : 3",
        "sent all jobs",
        "received job : 1",
        "received job : 2",
        "received job : 3",
        "received all jobs",
    ];
    // Rust's `type_name` of the halves, where Go prints `chan string`.
    let chan_type = "(*Sender<*String>, *Receiver<*String>)";
    vec![
        (
            "goroutines",
            vec![
                starts(["Direct : 0", "Direct : 1", "Direct : 2", "Direct : 3"]),
                blocks(&[
                    &["Direct : 0", "Direct : 1", "Direct : 2", "Direct : 3"],
                    &[
                        "Goroutine : 0",
                        "Goroutine : 1",
                        "Goroutine : 2",
                        "Goroutine : 3",
                        "Going",
                        "Sleep with Duration : 1s",
                    ],
                    &["Done"],
                ]),
                in_order([
                    "Goroutine : 0",
                    "Goroutine : 1",
                    "Goroutine : 2",
                    "Goroutine : 3",
                ]),
            ]
            .into(),
        ),
        ("channels", vec![lines([chan_type, "ping"])].into()),
        (
            "channel_buffering",
            vec![lines([chan_type, "buffered", "channel"])].into(),
        ),
        (
            "channel_synchronization",
            vec![lines(["Working... Done"])].into(),
        ),
        ("channel_directions", vec![lines(["passed message"])].into()),
        (
            "echo_client",
            vec![lines([
                "100 clients x 10 round trips: 1000 of 1000 echoes intact",
            ])]
            .into(),
        ),
        (
            "echo_server",
            vec![lines([
                "listening on 127.0.0.1:*",
                "echoed: client 0 line 0",
                "echoed: client 0 line 1",
                "echoed: client 0 line 2",
                "echoed: client 1 line 0",
                "echoed: client 1 line 1",
                "echoed: client 1 line 2",
                "echoed: client 2 line 0",
                "echoed: client 2 line 1",
                "echoed: client 2 line 2",
                "served 3 connections",
            ])]
            .into(),
        ),
        (
            "select",
            vec![lines(["Received : two", "Received : one"])].into(),
        ),
        (
            "timeouts",
            vec![lines(["timeout c1 after 1s", "result from c2"])].into(),
        ),
        (
            "non_blocking_channel_operations",
            vec![lines([
                "no message received",
                "no message sent",
                "no activity",
            ])]
            .into(),
        ),
        (
            "closing_channels",
            vec![
                // The two goroutines interleave: each prints in order, and
                // the worker sees the close only after the last send.
                blocks(&[&closing_lines]),
                in_order(closing_lines[..4].iter().copied()),
                in_order(closing_lines[4..].iter().copied()),
                in_order(["sent job : 3", "received all jobs"]),
            ]
            .into(),
        ),
        ("range_over_channels", vec![lines(["one", "two"])].into()),
        (
            "timers",
            vec![lines(["Timer 1 expired", "Timer 2 stopped"])].into(),
        ),
        (
            "tickers",
            // 1600 ms of a 500 ms ticker: Go prints 3 ticks; a late reader
            // loses ticks, an overslept main sees more: at least 2.
            vec![
                only(["Tick at : * +0000 UTC m=+*", "Ticker stopped"]),
                at_least("Tick at : *", 2),
                count("Ticker stopped", 1),
                ends(["Ticker stopped"]),
            ]
            .into(),
        ),
        ("worker_pools", worker_pools().into()),
        (
            "waitgroups",
            workers("Worker : N -> Starting", "Worker : N -> Done"),
        ),
        ("rate_limiting", rate_limiting().into()),
        (
            "atomic_counters",
            vec![
                lines([
                    "nonAtomicCounter : *",
                    "atomicCounter    : 50000",
                    "atomic.LoadUint64(&atomicCounter) = 50000",
                ]),
                // Lost updates make it smaller, never larger.
                number("nonAtomicCounter : *", 1000, 50000),
            ]
            .into(),
        ),
    ]
}

// ---- 003: Effective Go ----

fn seed_003() -> Vec<(&'static str, Expect)> {
    let processing: Vec<String> = (0..10).map(|i| format!("processing request {i}")).collect();
    let semaphore = || -> Expect {
        vec![
            Check::Blocks(vec![
                processing.clone(),
                pats(["at most * requests were processed at once"]),
            ]),
            // MAX_OUTSTANDING is 3: never more at once.
            number("at most * requests *", 1, 3),
        ]
        .into()
    };
    let zero_one_two = || -> Expect { vec![blocks(&[&["0", "1", "2"]])].into() };
    vec![
        (
            "goroutines_effective_go",
            vec![blocks(&[&[
                "computeFactorial(100000): 456574 digits",
                "writeDataToDisk: wrote 9 bytes",
                "downloadFile(http://example.com/large-file): done",
            ]])]
            .into(),
        ),
        (
            "channels_effective_go",
            vec![lines(["ci: cap 0", "cj: cap 0", "cs: cap 100"])].into(),
        ),
        (
            "channels_effective_go_sort",
            vec![lines([
                "doing something for a while",
                "sorted: [1 2 3 5 8 13]",
            ])]
            .into(),
        ),
        ("semaphore_effective_go", semaphore()),
        ("semaphore_effective_go_loop_variable", semaphore()),
        ("semaphore_effective_go_argument", semaphore()),
        ("semaphore_effective_go_shadow", semaphore()),
        (
            "quit_channel_effective_go",
            vec![Check::Blocks(vec![
                strings((0..10).map(|i| format!("Processed {i}"))),
                pats(["Server exiting."]),
            ])]
            .into(),
        ),
        ("loop_variable_effective_go", zero_one_two()),
        ("loop_variable_effective_go_argument", zero_one_two()),
        ("loop_variable_effective_go_shadow", zero_one_two()),
    ]
}

// ---- 004: the Go Concurrency Guide ----

fn seed_004() -> Vec<(&'static str, Expect)> {
    let received: Vec<String> = (0..=5)
        .map(|i| format!("Received: {i}"))
        .chain(["Done receiving!".to_string()])
        .collect();
    vec![
        (
            "race_condition_gcg",
            vec![
                only(["the value is 0", "the value is 1"]),
                count_in("*", 0, 1),
            ]
            .into(),
        ),
        ("mutex_gcg", vec![lines(["value: 1000"])].into()),
        (
            "waitgroup_gcg",
            vec![blocks(&[&["hello", "greetings", "good day"]])].into(),
        ),
        (
            "rwmutex_gcg",
            vec![Check::Custom("readers_table", readers_table)].into(),
        ),
        (
            "cond_gcg",
            vec![blocks(&[
                &[
                    "Registered and wait ... ",
                    "Registered and wait ... ",
                    "Registered and wait ... ",
                ],
                &[
                    "Maximizing window.",
                    "Displaying annoying dialog box!",
                    "Mouse clicked.",
                ],
            ])]
            .into(),
        ),
        ("once_gcg", vec![lines(["Count is 1"])].into()),
        (
            "pool_gcg",
            vec![Check::Custom("calculators", calculators)].into(),
        ),
        (
            "deadlocks_gcg",
            deadlock(
                nothing(),
                &[
                    "goroutine 1 [sync.WaitGroup.Wait]:",
                    "goroutine * [sync.Mutex.Lock]:",
                    "goroutine * [sync.Mutex.Lock]:",
                ],
            ),
        ),
        (
            "deadlocks_gcg_send",
            deadlock(nothing(), &["goroutine 1 [chan send]:"]),
        ),
        (
            "deadlocks_gcg_recv",
            deadlock(nothing(), &["goroutine 1 [chan receive]:"]),
        ),
        (
            "livelocks_gcg",
            vec![Check::Custom("hallway", hallway)].into(),
        ),
        (
            "starvation_gcg",
            vec![blocks(&[
                &["vim-go"],
                &[
                    "Greedy worker was able to execute * work loops",
                    "Polite worker was able to execute * work loops ",
                ],
            ])]
            .into(),
        ),
        ("channels_gcg", vec![lines(["Hello world"])].into()),
        ("channels_gcg_range", vec![lines(["1 2 3 4 5 "])].into()),
        (
            "channels_gcg_nil_recv",
            deadlock(nothing(), &["goroutine 1 [chan receive (nil chan)]:"]),
        ),
        (
            "channels_gcg_nil_send",
            deadlock(nothing(), &["goroutine 1 [chan send (nil chan)]:"]),
        ),
        (
            "channels_gcg_nil_close",
            panics(nothing(), "close of nil channel"),
        ),
        ("channels_gcg_owner", vec![lines(received.clone())].into()),
        (
            "select_gcg_blocking",
            vec![lines(["Blocking on read...", "Unblocked 1.*s later."])].into(),
        ),
        (
            "select_gcg_random",
            vec![Check::Custom("fair_choice", |out| {
                fair_choice(out, "c1Count: *", "c2Count: *")
            })]
            .into(),
        ),
        ("select_gcg_timeout", vec![lines(["Timed out."])].into()),
        (
            "select_gcg_block_forever",
            deadlock(nothing(), &["goroutine 1 [select (no cases)]:"]),
        ),
        (
            "gomaxprocs_gcg",
            vec![
                lines(["NumCPU: *", "GOMAXPROCS was *, is *"]),
                number("NumCPU: *", 1, 4096),
            ]
            .into(),
        ),
        (
            "confinement_gcg_ad_hoc",
            vec![lines(["0", "0", "0", "0"])].into(),
        ),
        ("confinement_gcg_lexical", vec![lines(received)].into()),
        (
            "cancellation_gcg",
            vec![lines([
                "Canceling doWork goroutine...",
                "doWork exited.",
                "Done.",
            ])]
            .into(),
        ),
        ("or_channel_gcg", vec![lines(["done after 1.*s"])].into()),
        (
            "error_handling_gcg",
            vec![lines(["Response: 200 OK", "error: *"])].into(),
        ),
        ("pipelines_gcg", vec![lines(["3", "5", "7", "9"])].into()),
        (
            "fan_out_fan_in_gcg",
            vec![blocks(&[
                &["send to wch :  1"],
                &["send to wch :  2"],
                &["send to wch :  3"],
                &["send to wch :  4"],
                &["send to wch :  5"],
                &[
                    "receive from res :  2",
                    "receive from res :  4",
                    "receive from res :  6",
                    "receive from res :  8",
                    "receive from res :  10",
                ],
            ])]
            .into(),
        ),
        (
            "or_done_gcg",
            vec![lines([
                "loop: 1",
                "loop: 2",
                "loop: 3",
                "orDone: 1",
                "orDone: 2",
                "orDone: 3",
            ])]
            .into(),
        ),
        ("bridge_gcg", vec![lines(["0 1 2 3 4 5 6 7 8 9 "])].into()),
        (
            "queuing_gcg",
            vec![Check::Blocks(vec![
                pats(["Started, Limit *"]),
                strings((0..=50).map(|i| format!("Process {i}"))),
                pats(["Finished"]),
            ])]
            .into(),
        ),
        (
            "context_gcg_value",
            vec![lines(["handling response for jane (abc123)"])].into(),
        ),
        (
            "context_gcg_cancel",
            vec![lines([
                "cannot print greeting: context deadline exceeded",
                "cannot print farewell: context canceled",
            ])]
            .into(),
        ),
    ]
}

/// A header and 16 rows, 1 to 32768 readers, each with two durations.
fn readers_table(out: &[&str]) -> Result<(), String> {
    if out.len() != 17 {
        return Err(format!("{} lines, want a header and 16 rows", out.len()));
    }
    let header: Vec<&str> = out[0].split_whitespace().collect();
    if header != ["Readers", "RWMutex", "Mutex"] {
        return Err(format!("header {:?}", out[0]));
    }
    for (i, row) in out[1..].iter().enumerate() {
        let cells: Vec<&str> = row.split_whitespace().collect();
        let readers = 1u64 << i;
        if cells.len() != 3
            || cells[0] != readers.to_string()
            || !cells[1..].iter().all(|c| c.ends_with('s'))
        {
            return Err(format!("row {:?}: want {readers} and two durations", row));
        }
    }
    Ok(())
}

/// The fixed lines, then few buffers created for a million goroutines
/// (each returns its buffer for the next; without reuse: a million).
fn calculators(out: &[&str]) -> Result<(), String> {
    let zeros = vec!["0"; 1024].join(" ");
    let new_line = format!("calcPool.New &[{zeros}]");
    let want = [
        "Creating new instance.",
        "Creating new instance.",
        "instance {}",
        "new calc pool",
        new_line.as_str(),
        "new calc pool",
        "new calc pool",
        "new calc pool",
        "new calc pool",
    ];
    let Some((last, head)) = out.split_last() else {
        return Err("no output".to_string());
    };
    // Creations during the million gets print `new calc pool` too.
    if head.len() < want.len()
        || head[..want.len()] != want
        || head[want.len()..].iter().any(|l| *l != "new calc pool")
    {
        return Err("the fixed lines differ".to_string());
    }
    let n = number_in(last, "* calculators were created.")?;
    if !(5..=64).contains(&n) || n as usize != head.len() - want.len() + 5 {
        return Err(format!(
            "{last:?}: want 5 to 64, one per `new calc pool` line"
        ));
    }
    Ok(())
}

/// Each of Alice and Barbara tries left and right up to five times, in
/// step with the other: she either gets through or gives up.
fn hallway(out: &[&str]) -> Result<(), String> {
    for name in ["Alice", "Barbara"] {
        let intro = format!("{name} is trying to scoot:");
        let at = out
            .iter()
            .position(|l| l.starts_with(&intro))
            .ok_or_else(|| format!("no line for {name}"))?;
        let moves = &out[at][intro.len()..];
        let success = moves.ends_with(" . Success!");
        let steps: Vec<&str> = moves
            .trim_end_matches(" . Success!")
            .split_whitespace()
            .collect();
        let alternating = steps
            .iter()
            .enumerate()
            .all(|(i, s)| *s == if i % 2 == 0 { "left" } else { "right" });
        if !alternating || steps.is_empty() || steps.len() > 10 {
            return Err(format!("{name}'s moves {moves:?}"));
        }
        let gave_up = out.get(at + 1)
            == Some(&format!("{name} tosses her hands up in exasperation").as_str());
        if success == gave_up || (gave_up && steps.len() != 10) {
            return Err(format!("{name}: {moves:?}, gave up: {gave_up}"));
        }
    }
    Ok(())
}

// ---- the programs of time (seeds 000 and 002) ----

fn rate_limiting() -> Vec<Check> {
    let init = "Initializing Ticker for every 200ms";
    let initial_len = "Initial Limiter length     : 3";
    let mut head = vec![init.to_string()];
    head.extend((1..=5).map(|n| format!("Request {n} : at *")));
    head.extend(pats(["", initial_len, ""]));

    let mut bursty = vec![initial_len.to_string()];
    for n in 1..=15 {
        if n == 7 {
            bursty.extend(pats([
                "Go to Sleep for 5s...",
                "Limiter length after Sleep : 3",
            ]));
        }
        bursty.push(format!("Request {n:2}                 : at *"));
    }
    vec![
        starts(head),
        in_order(bursty),
        // The ticker goroutine's, printed once it runs.
        in_order([initial_len, init]),
        count(init, 2),
        count("Request * : at *", 5 + 15),
        count("Decreased Limiter length   : *", 15),
        // Tokens for requests 4–15 come from the ticker goroutine, each
        // sent after its `Ticking` and `Increasing` lines; each send's
        // `Increased` line comes before the next `Ticking`.
        at_least("Ticking                    : at *", 12),
        at_least("Increasing Limiter length  : * + 1", 12),
        at_least("Increased Limiter length   : at *", 11),
        count("Go to Sleep for 5s...", 1),
        count("Limiter length after Sleep : *", 1),
        only([
            "",
            init,
            "Request * : at *",
            initial_len,
            "Ticking                    : at *",
            "Increasing Limiter length  : * + 1",
            "Increased Limiter length   : at *",
            "Decreased Limiter length   : *",
            "Go to Sleep for 5s...",
            "Limiter length after Sleep : 3",
        ]),
    ]
}

/// 3 workers, 5 jobs of random length: which worker takes which job, and
/// the order, vary; each job's result is received after it finished.
fn worker_pools() -> Vec<Check> {
    let start = "Worker : *  -> Starting Job : *";
    let finish = "Worker : *  -> Finished Job : *  -> Duration : *";
    let mut checks = vec![
        Check::Pool {
            start: start.into(),
            finish: finish.into(),
            workers: 3,
            jobs: 5,
        },
        only([start, finish, "Received Result : *"]),
    ];
    for job in 1..=5 {
        checks.push(count(format!("Received Result : {job}"), 1));
        checks.push(in_order([
            format!("Worker : *  -> Finished Job : {job}  -> Duration : *"),
            format!("Received Result : {job}"),
        ]));
    }
    checks
}

/// Main's `---` and `xxx` come before any job is sent, `***` after every
/// result; `+++` races the workers.
fn worker_pools_guide() -> Vec<Check> {
    let start = "worker * started  job *";
    let finish = "worker * finished job * costs *";
    let stars = r"\*\*\*";
    vec![
        starts(["---", "xxx"]),
        ends([stars]),
        Check::Pool {
            start: start.into(),
            finish: finish.into(),
            workers: 3,
            jobs: 5,
        },
        only(["---", "xxx", "+++", stars, start, finish]),
        count("---", 1),
        count("xxx", 1),
        count("+++", 1),
        count(stars, 1),
    ]
}

/// `timeouts_guide_workers`: goroutine N sleeps a random D s against a 3 s
/// timeout, so it prints `done` if D < 3, `timeout` if D > 3 (D = 3 races).
/// Last, with no newline, the delays in the order the tasks woke (sorted),
/// each followed by a tab.
fn delays_and_verdicts(out: &[&str]) -> Result<(), String> {
    if out.len() != 11 {
        return Err(format!("{} lines, want 5 + 5 + 1", out.len()));
    }
    let mut delays = Vec::new();
    for n in 0..5 {
        let delay = one_match(out, &format!("goroutine{n} to sleep *s"))?[0];
        let delay: u64 = delay
            .parse()
            .map_err(|_| format!("goroutine{n}: delay {delay:?} is not a number"))?;
        let verdict = one_match(out, &format!("goroutine{n}, *"))?[0];
        let right = match verdict {
            "done" => delay <= 3,
            "timeout" => delay >= 3,
            _ => false,
        };
        if !right {
            return Err(format!(
                "goroutine{n} slept {delay}s against a 3s timeout and printed {verdict:?}"
            ));
        }
        delays.push(delay);
    }
    delays.sort_unstable();
    let want: String = delays.iter().map(|d| format!("{d}\t")).collect();
    if out[10] != want {
        return Err(format!(
            "last line {:?}, want the delays sorted: {want:?}",
            out[10]
        ));
    }
    Ok(())
}
