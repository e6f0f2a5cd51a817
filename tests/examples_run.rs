//! Every example in `examples/` is run and its output asserted
//! (`seeds_time.rs` tests the time programs' logic as functions; this file
//! runs the programs themselves).
//!
//! The examples are found by reading `examples/*.rs` at test time, so a new
//! example is run too, and fails until `expect::expectations()`
//! (`examples_run/expect.rs`) has an entry for it. Each runs twice, under
//! `WEFT_SPAWN=continuation` and `WEFT_SPAWN=child` (inheriting
//! `WEFT_MAXPROCS`), all runs at once, as child processes, each within
//! 60 s (180 s under AddressSanitizer). Each must exit with its expected status (0, or 2 for the programs
//! whose point is a deadlock or a panic, as Go's do), print on stderr only
//! what is expected there (nothing, or the deadlock or panic report), and
//! print what its Go seed prints where that does not depend on timing,
//! randomness or the scheduler: the table lists, per example, the checks
//! that hold whichever way those go.
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

/// A run taking longer than this is killed and fails. Under
/// AddressSanitizer (`--cfg weft_asan`, scripts/asan.sh) three times as
/// long: its fake stacks cost an mmap and a munmap per goroutine, and
/// `pool_gcg`'s 1,048,576 goroutines took 31–47 s there, 0.3–0.6 s in a
/// release build.
const TIMEOUT: Duration = Duration::from_secs(if cfg!(weft_asan) { 180 } else { 60 });

/// Each example runs once under each spawn policy.
const POLICIES: [&str; 2] = ["continuation", "child"];

#[path = "examples_run/expect.rs"]
mod expect;

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
    /// At least one line matches `pat`, and in each, the text its first
    /// `*` matched is a number in `min..=max`.
    Number { pat: String, min: u64, max: u64 },
    /// Anything else, by a named function.
    Custom(&'static str, fn(&[&str]) -> Result<(), String>),
}

/// What one example must do: its stdout checks, its exit status, and its
/// stderr checks (none: stderr must be empty).
#[derive(Debug)]
struct Expect {
    stdout: Vec<Check>,
    status: i32,
    stderr: Vec<Check>,
}

/// An example that ends normally, printing nothing on stderr.
impl From<Vec<Check>> for Expect {
    fn from(stdout: Vec<Check>) -> Expect {
        Expect {
            stdout,
            status: 0,
            stderr: Vec::new(),
        }
    }
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
            Check::Number { pat, min, max } => {
                let mut found = 0;
                for line in out {
                    let Some(captures) = glob(pat, line) else {
                        continue;
                    };
                    found += 1;
                    let n: u64 = captures[0]
                        .trim()
                        .parse()
                        .map_err(|_| format!("{line:?}: {:?} is not a number", captures[0]))?;
                    if !(*min..=*max).contains(&n) {
                        return Err(format!("{line:?}: {n} is not in {min}..={max}"));
                    }
                }
                if found == 0 {
                    return Err(format!("no line matches {pat:?}"));
                }
                Ok(())
            }
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

fn run(bin: &Path, policy: &str) -> Result<Run, String> {
    let start = Instant::now();
    let mut cmd = Command::new(bin);
    // The long-run report's default 50 ms is wall-clock time: with every
    // run at once beside other work, a thread can spend that long in a
    // page fault or behind a descheduled lock holder (seen: a `println!`
    // after a CPU-bound loop, "held its thread (M3) for 52 ms ... blocked
    // in the kernel"). A second is beyond what load does and still
    // catches an example that blocks its thread. (`WEFT_DEBUG` from the
    // environment wins: scripts/asan.sh turns the report off.)
    if std::env::var_os("WEFT_DEBUG").is_none() {
        cmd.env("WEFT_DEBUG", "longrun=1000");
    }
    let mut child = cmd
        .env("WEFT_SPAWN", policy)
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

/// Runs one example under `policy` and applies its checks; `Err`
/// describes every failure.
fn run_and_check(bin: &Path, policy: &str, expect: &Expect) -> (Duration, Result<(), String>) {
    let run = match run(bin, policy) {
        Ok(run) => run,
        Err(e) => return (Duration::ZERO, Err(e)),
    };
    let mut failures = String::new();
    match run.status {
        None => writeln!(failures, "  killed after {TIMEOUT:?}").unwrap(),
        Some(s) if s.code() != Some(expect.status) => {
            writeln!(failures, "  {s}, want exit status {}", expect.status).unwrap()
        }
        Some(_) => {}
    }
    let err: Vec<&str> = run.stderr.lines().collect();
    if expect.stderr.is_empty() && !run.stderr.is_empty() {
        writeln!(failures, "  stderr is not empty").unwrap();
    }
    for check in &expect.stderr {
        if let Err(e) = check.check(&err) {
            writeln!(failures, "  stderr: {e}\n    in {check:?}").unwrap();
        }
    }
    let out: Vec<&str> = run.stdout.lines().collect();
    for check in &expect.stdout {
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
    let entries = expect::expectations();
    let n_entries = entries.len();
    let mut table: BTreeMap<&str, Expect> = entries.into_iter().collect();
    assert_eq!(table.len(), n_entries, "an example has two entries");
    let bin_dir = examples_bin_dir();
    let hint = build_hint(&bin_dir);

    let mut failures = Vec::new();
    let mut runs = Vec::new();
    let started = Instant::now();
    for name in &names {
        let Some(expect) = table.remove(name.as_str()) else {
            failures.push(format!(
                "{name}: add expectations for example {name} to examples_run/expect.rs"
            ));
            continue;
        };
        let bin = bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        if let Err(e) = check_binary(&bin, &hint) {
            failures.push(format!("{name}: {e}"));
            continue;
        }
        let expect = std::sync::Arc::new(expect);
        for policy in POLICIES {
            let (bin, expect) = (bin.clone(), expect.clone());
            let handle = thread::spawn(move || run_and_check(&bin, policy, &expect));
            runs.push((format!("{name} (WEFT_SPAWN={policy})"), handle));
        }
    }
    for name in table.keys() {
        failures.push(format!(
            "{name}: expectations for examples/{name}.rs, which does not exist"
        ));
    }

    for (name, handle) in runs {
        let (took, result) = handle.join().expect("a runner thread panicked");
        println!("{name:60} {:6.2} s", took.as_secs_f64());
        if let Err(e) = result {
            failures.push(format!("{name}:\n{e}"));
        }
    }
    println!(
        "{} examples, {} runs, {:.1} s",
        names.len(),
        names.len() * POLICIES.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} failures ({} examples, each under {} spawn policies):\n\n{}",
        failures.len(),
        names.len(),
        POLICIES.len(),
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
