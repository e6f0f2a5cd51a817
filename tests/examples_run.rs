//! Every example in `examples/` is run and its deterministic output asserted
//! (`seeds_time.rs` tests the same programs' logic as functions; this file
//! runs the programs themselves).
//!
//! The examples are found by reading `examples/*.rs` at test time, so a new
//! example is run too, and fails until `expectations()` has an entry for it.
//! All of them run at once, as child processes (inheriting `WEFT_SPAWN` and
//! `WEFT_MAXPROCS`), each within 60 s. Each must exit with status 0, print
//! nothing on stderr, and print what its Go seed prints where that does not
//! depend on timing, randomness or the scheduler: the table lists, per
//! example, the checks that hold whichever way those go.
//!
//! The binaries are the ones `cargo test` builds next to this test
//! (`target/<profile>/examples/`). `cargo test --release -p weft` builds
//! them; `cargo test --test examples_run` alone does not, so a missing
//! binary, or one older than a source it was built from, is a failure that
//! says to build them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

/// A run taking longer than this is killed and fails.
const TIMEOUT: Duration = Duration::from_secs(60);

// ---- the expectations ----

/// A check on an example's stdout, split into lines. Patterns: `*` matches
/// any text (possibly empty), `\*` is a literal `*`; the rest is literal.
#[derive(Debug)]
enum Check {
    /// The whole output, line by line, in this order.
    Lines(Vec<String>),
    /// The whole output: these blocks one after the other, the lines of a
    /// block in any order (goroutines racing to print).
    Blocks(Vec<Vec<String>>),
    /// The output begins with these lines.
    Starts(Vec<String>),
    /// The output ends with these lines.
    Ends(Vec<String>),
    /// Each pattern matches a line after the one the previous matched.
    InOrder(Vec<String>),
    /// The number of lines matching `pat` is in `min..=max`.
    Count { pat: String, min: usize, max: usize },
    /// Every line matches one of these patterns.
    Only(Vec<String>),
    /// A worker pool: `start` and `finish` capture (worker, job). Each job
    /// in 1..=jobs starts once and finishes once, on the same worker in
    /// 1..=workers, and a worker finishes a job before it starts another.
    Pool {
        start: String,
        finish: String,
        workers: usize,
        jobs: usize,
    },
    /// Anything else, by a named function.
    Custom(&'static str, fn(&[&str]) -> Result<(), String>),
}

fn pats<S: Into<String>>(pats: impl IntoIterator<Item = S>) -> Vec<String> {
    pats.into_iter().map(Into::into).collect()
}

fn lines<S: Into<String>>(p: impl IntoIterator<Item = S>) -> Check {
    Check::Lines(pats(p))
}

fn blocks(blocks: &[&[&str]]) -> Check {
    Check::Blocks(blocks.iter().map(|b| pats(b.iter().copied())).collect())
}

fn starts<S: Into<String>>(p: impl IntoIterator<Item = S>) -> Check {
    Check::Starts(pats(p))
}

fn ends<S: Into<String>>(p: impl IntoIterator<Item = S>) -> Check {
    Check::Ends(pats(p))
}

fn in_order<S: Into<String>>(p: impl IntoIterator<Item = S>) -> Check {
    Check::InOrder(pats(p))
}

fn only<S: Into<String>>(p: impl IntoIterator<Item = S>) -> Check {
    Check::Only(pats(p))
}

fn count(pat: impl Into<String>, n: usize) -> Check {
    let pat = pat.into();
    Check::Count {
        pat,
        min: n,
        max: n,
    }
}

fn at_least(pat: impl Into<String>, min: usize) -> Check {
    let pat = pat.into();
    Check::Count {
        pat,
        min,
        max: usize::MAX,
    }
}

/// Example name (file stem in `examples/`) -> its checks.
fn expectations() -> Vec<(&'static str, Vec<Check>)> {
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
    vec![
        ("channel_directions", vec![lines(["passed message"])]),
        (
            "echo_client",
            vec![lines([
                "100 clients x 10 round trips: 1000 of 1000 echoes intact",
            ])],
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
            ])],
        ),
        ("channel_synchronization", vec![lines(["Working... Done"])]),
        (
            "channel_synchronization_guide",
            // Main's line and the new goroutine's race (spawn policy).
            vec![blocks(&[
                &["waiting for flag", "working..."],
                &["work done"],
                &["ending for flag"],
            ])],
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
            ],
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
            ])],
        ),
        (
            "non_blocking_channel_operations",
            vec![lines([
                "no message received",
                "no message sent",
                "no activity",
            ])],
        ),
        (
            "non_blocking_channel_operations_guide",
            vec![lines([
                "received message one",
                "sent message hi",
                "received message hi",
            ])],
        ),
        ("range_over_channels", vec![lines(["one", "two"])]),
        ("rate_limiting", rate_limiting()),
        (
            "rate_limiting_guide_bursty",
            vec![lines(
                (1..=10).map(|n| format!("request {n} * +0000 UTC m=+*")),
            )],
        ),
        (
            "rate_limiting_guide_simple",
            vec![lines(
                (1..=5).map(|n| format!("request {n} * +0000 UTC m=+*")),
            )],
        ),
        ("select", vec![lines(["Received : two", "Received : one"])]),
        (
            "select_guide",
            vec![lines(["received one", "received two"])],
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
            ],
        ),
        (
            "tickers_guide",
            vec![
                only(["Tick at * +0000 UTC m=+*", "bye bye", "Ticker stopped"]),
                at_least("Tick at *", 2),
                count("bye bye", 1),
                count("Ticker stopped", 1),
                ends(["bye bye", "Ticker stopped"]),
            ],
        ),
        (
            "timeouts",
            vec![lines(["timeout c1 after 1s", "result from c2"])],
        ),
        ("timeouts_guide", vec![lines(["task done"])]),
        (
            "timeouts_guide_workers",
            vec![Check::Custom("delays_and_verdicts", delays_and_verdicts)],
        ),
        (
            "timers",
            vec![lines(["Timer 1 expired", "Timer 2 stopped"])],
        ),
        (
            "timers_guide",
            vec![lines(["Timer 1 fired", "Timer 2 stopped"])],
        ),
        ("worker_pools", worker_pools()),
        ("worker_pools_guide", worker_pools_guide()),
    ]
}

/// Requests 1–5 one per tick; the bursty part's 15 requests in order, with
/// the 5 s sleep before request 7 (long enough for the ticker goroutine to
/// fill the limiter's 3 slots). The ticker goroutine's lines and all the
/// times vary.
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

// ---- matching ----

/// Splits a pattern at its unescaped `*`s.
fn glob_parts(pat: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = pat.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'*') => {
                chars.next();
                parts.last_mut().unwrap().push('*');
            }
            '*' => parts.push(String::new()),
            c => parts.last_mut().unwrap().push(c),
        }
    }
    parts
}

/// Whether `line` matches `pat`, and the text each `*` matched (each `*`
/// takes the shortest text that lets the next literal follow).
fn glob<'a>(pat: &str, line: &'a str) -> Option<Vec<&'a str>> {
    let parts = glob_parts(pat);
    let (first, rest) = parts.split_first().unwrap();
    let Some((last, middle)) = rest.split_last() else {
        return (line == first).then(Vec::new);
    };
    if line.len() < first.len() + last.len() || !line.starts_with(first.as_str()) {
        return None;
    }
    let mut text = line[first.len()..].strip_suffix(last.as_str())?;
    let mut captures = Vec::new();
    for part in middle {
        let at = text.find(part.as_str())?;
        captures.push(&text[..at]);
        text = &text[at + part.len()..];
    }
    captures.push(text);
    Some(captures)
}

/// The captures of the one line matching `pat`.
fn one_match<'a>(out: &[&'a str], pat: &str) -> Result<Vec<&'a str>, String> {
    let mut found = out.iter().filter_map(|line| glob(pat, line));
    match (found.next(), found.next()) {
        (Some(captures), None) => Ok(captures),
        (None, _) => Err(format!("no line matches {pat:?}")),
        (Some(_), Some(_)) => Err(format!("more than one line matches {pat:?}")),
    }
}

fn matches(pat: &str, line: &str) -> bool {
    glob(pat, line).is_some()
}

/// Each line of `got` matches the pattern at its index.
fn lines_match(got: &[&str], want: &[String], at: usize) -> Result<(), String> {
    for (i, (line, pat)) in got.iter().zip(want).enumerate() {
        if !matches(pat, line) {
            return Err(format!(
                "line {}: {line:?} does not match {pat:?}",
                at + i + 1
            ));
        }
    }
    Ok(())
}

/// Pairs each pattern with a distinct line of `got` (greedily).
fn same_lines(got: &[&str], want: &[String], at: usize) -> Result<(), String> {
    let mut used = vec![false; got.len()];
    for pat in want {
        let Some(i) = (0..got.len()).find(|&i| !used[i] && matches(pat, got[i])) else {
            return Err(format!(
                "lines {}..={}: {got:?} has no line for {pat:?} (want {want:?} in any order)",
                at + 1,
                at + got.len()
            ));
        };
        used[i] = true;
    }
    Ok(())
}

fn number(text: &str, line: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("{line:?}: {text:?} is not a number"))
}

fn check_pool(
    out: &[&str],
    start: &str,
    finish: &str,
    workers: usize,
    jobs: usize,
) -> Result<(), String> {
    // job -> (worker, line index) of its start and of its finish.
    let mut started: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    let mut finished: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    // worker -> the job it is running.
    let mut running: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, line) in out.iter().enumerate() {
        let (is_start, captures) = match (glob(start, line), glob(finish, line)) {
            (Some(c), _) => (true, c),
            (None, Some(c)) => (false, c),
            (None, None) => continue,
        };
        let worker = number(captures[0], line)?;
        let job = number(captures[1], line)?;
        if !(1..=workers).contains(&worker) || !(1..=jobs).contains(&job) {
            return Err(format!("{line:?}: no such worker or job"));
        }
        if is_start {
            if let Some(other) = running.insert(worker, job) {
                return Err(format!(
                    "{line:?}: worker {worker} is still running job {other}"
                ));
            }
            started.entry(job).or_default().push((worker, i));
        } else {
            if running.remove(&worker) != Some(job) {
                return Err(format!("{line:?}: worker {worker} did not start job {job}"));
            }
            finished.entry(job).or_default().push((worker, i));
        }
    }
    for job in 1..=jobs {
        let (s, f) = (started.get(&job), finished.get(&job));
        if s.map_or(0, Vec::len) != 1 || f.map_or(0, Vec::len) != 1 {
            return Err(format!(
                "job {job} started {s:?} and finished {f:?} (worker, line index): want once each"
            ));
        }
    }
    Ok(())
}

impl Check {
    fn check(&self, out: &[&str]) -> Result<(), String> {
        match self {
            Check::Lines(want) => {
                lines_match(out, want, 0)?;
                if out.len() != want.len() {
                    return Err(format!("{} lines, want {}", out.len(), want.len()));
                }
                Ok(())
            }
            Check::Blocks(blocks) => {
                let total: usize = blocks.iter().map(Vec::len).sum();
                if out.len() != total {
                    return Err(format!("{} lines, want {total}", out.len()));
                }
                let mut at = 0;
                for block in blocks {
                    same_lines(&out[at..at + block.len()], block, at)?;
                    at += block.len();
                }
                Ok(())
            }
            Check::Starts(want) => {
                if out.len() < want.len() {
                    return Err(format!("{} lines, want at least {}", out.len(), want.len()));
                }
                lines_match(&out[..want.len()], want, 0)
            }
            Check::Ends(want) => {
                let Some(at) = out.len().checked_sub(want.len()) else {
                    return Err(format!("{} lines, want at least {}", out.len(), want.len()));
                };
                lines_match(&out[at..], want, at)
            }
            Check::InOrder(want) => {
                let mut next = 0;
                for pat in want {
                    match (next..out.len()).find(|&i| matches(pat, out[i])) {
                        Some(i) => next = i + 1,
                        None => {
                            return Err(format!("no line matches {pat:?} after line {next}"));
                        }
                    }
                }
                Ok(())
            }
            Check::Count { pat, min, max } => {
                let n = out.iter().filter(|line| matches(pat, line)).count();
                if (*min..=*max).contains(&n) {
                    Ok(())
                } else {
                    Err(format!("{n} lines match {pat:?}"))
                }
            }
            Check::Only(want) => match out.iter().find(|l| !want.iter().any(|p| matches(p, l))) {
                Some(line) => Err(format!("unexpected line {line:?}")),
                None => Ok(()),
            },
            Check::Pool {
                start,
                finish,
                workers,
                jobs,
            } => check_pool(out, start, finish, *workers, *jobs),
            Check::Custom(name, f) => f(out).map_err(|e| format!("{name}: {e}")),
        }
    }
}

// ---- running ----

/// `target/<profile>/examples`: this test is `target/<profile>/deps/examples_run-HASH`.
fn examples_bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable is in target/<profile>/deps");
    profile_dir.join("examples")
}

/// The command that builds the examples for this test's profile.
fn build_hint(bin_dir: &Path) -> String {
    let release = bin_dir
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|p| p == "release");
    let flag = if release { " --release" } else { "" };
    format!(
        "run `cargo test{flag} -p weft`, which builds the examples \
         (`--test examples_run` alone does not), or `cargo build{flag} -p weft --examples`"
    )
}

/// The example names: the `*.rs` files directly in `examples/`.
fn example_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("reading examples/").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Checks that the binary exists and is not older than any source it was
/// built from (the sources cargo's dep-info file `<bin>.d` lists).
fn check_binary(bin: &Path, hint: &str) -> Result<(), String> {
    let Some(built) = modified(bin) else {
        return Err(format!("{} not found: {hint}", bin.display()));
    };
    let Ok(dep_info) = std::fs::read_to_string(bin.with_extension("d")) else {
        return Ok(()); // no dep-info: nothing to compare with
    };
    // `<bin>: <src> <src> ...` on the first line, spaces escaped as `\ `.
    let first = dep_info.lines().next().unwrap_or_default();
    let deps = first.split_once(": ").map_or("", |(_, deps)| deps);
    let deps = deps.replace("\\ ", "\0");
    for dep in deps.split(' ').filter(|d| !d.is_empty()) {
        let dep = PathBuf::from(dep.replace('\0', " "));
        if modified(&dep).is_none_or(|m| m > built) {
            return Err(format!(
                "{} is older than {}: {hint}",
                bin.display(),
                dep.display()
            ));
        }
    }
    Ok(())
}

struct Run {
    /// `None`: killed after `TIMEOUT`.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn read_all(mut from: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn run(bin: &Path) -> Result<Run, String> {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let stdout = read_all(child.stdout.take().unwrap());
    let stderr = read_all(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("waiting: {e}"))? {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed();
    Ok(Run {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        took,
    })
}

/// Runs one example and applies its checks; `Err` describes every failure.
fn run_and_check(bin: &Path, checks: &[Check]) -> (Duration, Result<(), String>) {
    let run = match run(bin) {
        Ok(run) => run,
        Err(e) => return (Duration::ZERO, Err(e)),
    };
    let mut failures = String::new();
    match run.status {
        None => writeln!(failures, "  killed after {TIMEOUT:?}").unwrap(),
        Some(s) if !s.success() => writeln!(failures, "  exit status {s}").unwrap(),
        Some(_) => {}
    }
    if !run.stderr.is_empty() {
        writeln!(failures, "  stderr is not empty").unwrap();
    }
    let out: Vec<&str> = run.stdout.lines().collect();
    for check in checks {
        if let Err(e) = check.check(&out) {
            writeln!(failures, "  {e}\n    in {check:?}").unwrap();
        }
    }
    if failures.is_empty() {
        return (run.took, Ok(()));
    }
    write!(
        failures,
        "  --- stdout ---\n{}\n  --- stderr ---\n{}",
        run.stdout, run.stderr
    )
    .unwrap();
    (run.took, Err(failures))
}

#[test]
fn every_example_prints_what_its_seed_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let names = example_names(&root.join("examples"));
    let entries = expectations();
    let n_entries = entries.len();
    let mut table: BTreeMap<&str, Vec<Check>> = entries.into_iter().collect();
    assert_eq!(table.len(), n_entries, "an example has two entries");
    let bin_dir = examples_bin_dir();
    let hint = build_hint(&bin_dir);

    let mut failures = Vec::new();
    let mut runs = Vec::new();
    for name in &names {
        let Some(checks) = table.remove(name.as_str()) else {
            failures.push(format!(
                "{name}: add expectations for example {name} to expectations() in {}",
                file!()
            ));
            continue;
        };
        let bin = bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        if let Err(e) = check_binary(&bin, &hint) {
            failures.push(format!("{name}: {e}"));
            continue;
        }
        let handle = thread::spawn(move || run_and_check(&bin, &checks));
        runs.push((name, handle));
    }
    for name in table.keys() {
        failures.push(format!(
            "{name}: expectations for examples/{name}.rs, which does not exist"
        ));
    }

    for (name, handle) in runs {
        let (took, result) = handle.join().expect("a runner thread panicked");
        println!("{name:40} {:6.2} s", took.as_secs_f64());
        if let Err(e) = result {
            failures.push(format!("{name}:\n{e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n\n{}",
        failures.len(),
        names.len(),
        failures.join("\n\n")
    );
}

#[test]
fn patterns() {
    assert_eq!(glob("a * b *", "a 1 b 22"), Some(vec!["1", "22"]));
    assert_eq!(
        glob("Request * : at *", "Request  7    : at 6.6"),
        Some(vec![" 7   ", "6.6"])
    );
    assert_eq!(glob("*", ""), Some(vec![""]));
    assert_eq!(glob("ab*ba", "aba"), None);
    assert_eq!(glob("x", "xy"), None);
    assert_eq!(glob(r"\*\*\*", "***"), Some(vec![]));
    assert_eq!(glob(r"\*\*\*", "*"), None);
}
