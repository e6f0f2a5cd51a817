//! Fault injection on the standard streams (issue 26, defect 4): no thread
//! of the runtime may panic, hang or lose the program's result when a
//! write to stderr or stdout fails.
//!
//! Each case is a program run as a child of this binary (it has its own
//! `main`: the deadlock case needs every thread of the process accounted
//! for, which the test harness is not). The child's stderr — and stdout —
//! is one of the faults below, and the program reports its result only by
//! its exit code:
//! - `pipe`: a pipe whose reader has gone, so a write fails with EPIPE
//!   (Rust programs ignore SIGPIPE), as in `prog 2>&1 | head -1`;
//! - `full`: `/dev/full`, so a write fails with ENOSPC, as on a full disk;
//! - `closed`: the program closes fds 1 and 2 itself before the runtime
//!   starts (std reopens a stream closed at exec on /dev/null, so this is
//!   the only way to run with them closed); the runtime's first file
//!   descriptors then take their numbers.
//!
//! And a stuck stderr: a pipe whose reader is alive but does not read, full,
//! so a write to it blocks, and the writer holds std's stderr lock while it
//! does. The program needs sysmon's retakes to finish; it must, and once the
//! reader drains the pipe the runtime's reports must arrive (`stuck`).
//!
//! And the reports after which the process ends (the deadlock report, the
//! SIGQUIT dump, a fatal error): each must reach stderr, a pipe, whole,
//! also when the pipe is stuck until well after the process decided to end
//! (`last_words`).
//!
//! Run with no arguments: runs every case under every fault and checks it.

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use weft_runtime as weft;

const CASE: &str = "WEFT_FAULT_CASE";
const FAULT: &str = "WEFT_FAULT_STDIO";

/// What a program that ran to its end exits with.
const DONE: i32 = 7;

/// A liveness bound: a child still running after it hangs, and is killed.
const BOUND: Duration = Duration::from_secs(60);

/// The programs, run in the child. Each writes to stderr through the
/// runtime only: a long-run report, schedtrace lines, a panic report, a
/// deadlock report, a goroutine dump.
fn run_case(name: &str) {
    // SIGQUIT ignored, as a shell without job control starts background
    // commands: the runtime takes it over all the same, as Go does.
    // SAFETY: sigaction(2) with SIG_IGN and a null old action only sets
    // SIGQUIT's disposition; the runtime has not started yet.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_IGN;
        libc::sigaction(libc::SIGQUIT, &sa, std::ptr::null_mut());
    }
    match name {
        "std_mutex_across_sleep" => std_mutex_across_sleep(),
        // stderr stuck (`stuck`), held by the program: a plain thread is
        // blocked in one `eprint!` of more than the pipe holds, so it holds
        // std's stderr lock; then the program that needs sysmon's retakes
        // (whose long runs sysmon reports) runs.
        "stderr_held_by_program" => {
            let filler = std::thread::spawn(|| eprint!("{}", "x".repeat(FILLER)));
            wait_until_stderr_full();
            std_mutex_across_sleep();
            finished_then_wait_for_eof();
            filler.join().unwrap();
        }
        // stderr stuck as in `stderr_held_by_program`, until after the
        // exit: the filler is never joined.
        "stderr_stuck_to_the_end" => {
            std::thread::spawn(|| eprint!("{}", "x".repeat(FILLER)));
            wait_until_stderr_full();
            std_mutex_across_sleep();
            println!("finished");
        }
        // stderr stuck, filled by the runtime itself: schedtrace lines every
        // millisecond into a one-page pipe; then the same program.
        "stderr_filled_by_schedtrace" => {
            // SAFETY: F_SETPIPE_SZ resizes fd 2's pipe, touching no memory.
            assert!(unsafe { libc::fcntl(2, libc::F_SETPIPE_SZ, 4096) } >= 4096);
            weft::run(|| ()); // starts the runtime, and schedtrace
            wait_until_stderr_full();
            std_mutex_across_sleep();
            finished_then_wait_for_eof();
        }
        // The reports the process ends after, with schedtrace lines queued
        // before them (the `weft-report` thread runs): read at once, or
        // (`_stuck`) behind a pipe schedtrace filled and nobody reads yet.
        "deadlock_last" => {
            weft::run(|| ()); // starts the runtime, and schedtrace
            deadlock();
        }
        "deadlock_last_stuck" => {
            stuck_by_schedtrace();
            deadlock();
        }
        "sigquit_last_stuck" => {
            stuck_by_schedtrace();
            sigquit();
        }
        "throw_last" => {
            weft::run(|| ());
            throw();
        }
        "throw_last_stuck" => {
            stuck_by_schedtrace();
            throw();
        }
        // The trace, written when `run` returns, cannot be written (its
        // directory is gone): the runtime reports that, and goes on.
        "trace_unwritable" => weft::run(|| {
            let path = std::env::var("WEFT_TRACE").unwrap();
            std::fs::remove_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        }),
        // schedtrace lines every 5 ms for a while.
        "schedtrace" => weft::run(|| {
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(200) {
                weft::time::sleep(Duration::from_millis(10));
            }
        }),
        // A goroutine panics (its report asks for a backtrace); the
        // program goes on.
        "goroutine_panic" => weft::run(|| {
            let r = weft::spawn(|| panic!("boom")).join();
            assert!(r.is_err());
            assert_eq!(weft::spawn(|| 5).join().unwrap(), 5);
        }),
        // Every goroutine asleep: the report is written, the exit code
        // still says deadlock (2).
        "deadlock" => deadlock(),
        // SIGQUIT: the dump is written, the exit code is Go's 2.
        "sigquit_dump" => sigquit(),
        // The runtime opens descriptors of its own (the SIGQUIT pipe at
        // start, epoll and an eventfd for the first socket): with fds 1
        // and 2 closed, none of them may take their numbers, or the
        // program's own writes to stdout and stderr land in them.
        "own_fds_off_stdio" => {
            weft::run(|| {
                let l = weft::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = l.local_addr().unwrap();
                let h = weft::spawn(move || l.accept().map(|_| ()));
                weft::net::TcpStream::connect(addr).unwrap();
                h.join().unwrap().unwrap();
            });
            if std::env::var(FAULT).as_deref() == Ok("closed") {
                for fd in [1, 2] {
                    // SAFETY: F_GETFD reads a descriptor's flags, nothing else.
                    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
                    assert_eq!(r, -1, "the runtime took fd {fd}");
                }
                // Writes to a closed stream are dropped, not errors.
                println!("to stdout");
                eprintln!("to stderr");
            }
        }
        other => panic!("unknown case {other}"),
    }
}

/// Every goroutine asleep: the runtime reports a deadlock and exits 2.
fn deadlock() {
    weft::run(|| {
        let (_tx, rx) = std::sync::mpsc::channel::<()>();
        let h = weft::spawn(move || {
            weft::park::park(weft::WaitReason::ChanReceive, || {});
            drop(rx);
        });
        h.join().unwrap();
    })
}

/// SIGQUIT: the runtime dumps the goroutines and exits 2.
fn sigquit() {
    weft::run(|| {
        let h = weft::spawn(|| weft::time::sleep(Duration::from_secs(30)));
        // SAFETY: raise(3) only sends a signal to this thread; the
        // runtime's SIGQUIT handler is installed (the runtime runs).
        unsafe { libc::raise(libc::SIGQUIT) };
        h.join().unwrap();
    })
}

/// A fatal error of the runtime (`throw`): a goroutine-local value of a
/// plain thread panics in its `Drop` as the thread exits (silently: the
/// runtime's panic hook is replaced). The process aborts.
fn throw() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb");
        }
    }
    weft::goroutine_local! { static BOMB: Bomb = Bomb; }
    // The panic itself is not reported: the fatal error is the first
    // write to stderr after the case began.
    std::panic::set_hook(Box::new(|_| {}));
    let _ = std::thread::spawn(|| BOMB.with(|_| ())).join();
    unreachable!("the thread's exit did not end the process");
}

/// stderr is a one-page pipe nobody reads, filled by schedtrace: the
/// `weft-report` thread is blocked writing to it (schedtrace queues a line
/// every millisecond, and none has reached the pipe for 100 ms); says
/// `stuck` on stdout.
fn stuck_by_schedtrace() {
    // SAFETY: F_SETPIPE_SZ resizes fd 2's pipe, touching no memory.
    assert!(unsafe { libc::fcntl(2, libc::F_SETPIPE_SZ, 4096) } >= 4096);
    weft::run(|| ()); // starts the runtime, and schedtrace
    wait_until_stderr_full();
    let mut last = (stderr_bytes(), Instant::now());
    while last.1.elapsed() < Duration::from_millis(100) {
        std::thread::sleep(Duration::from_millis(5));
        let n = stderr_bytes();
        if n != last.0 {
            last = (n, Instant::now());
        }
    }
    println!("stuck");
}

/// Bytes in fd 2's pipe, unread.
fn stderr_bytes() -> libc::c_int {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD stores the bytes in fd 2's pipe in `n`, an int.
    assert_eq!(unsafe { libc::ioctl(2, libc::FIONREAD, &mut n) }, 0);
    n
}

/// The reproducer: at maxprocs 1, a goroutine holds a std Mutex
/// across a sleep while others wait for the lock, blocking the only P's
/// thread: sysmon reports that as a long run, and only its retake of the P
/// lets the sleeper run again and unlock.
fn std_mutex_across_sleep() {
    let total = weft::run(|| {
        let m = Arc::new(Mutex::new(0u32));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                weft::spawn(move || {
                    for _ in 0..3 {
                        let mut g = m.lock().unwrap();
                        weft::time::sleep(Duration::from_millis(100));
                        *g += 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let n = *m.lock().unwrap();
        n
    });
    assert_eq!(total, 6);
}

/// Bytes of `x` the `stderr_held_by_program` filler writes in one call.
const FILLER: usize = 1 << 20;

/// Waits until fd 2, a pipe nobody reads, is full to within a line: its
/// next write blocks.
fn wait_until_stderr_full() {
    // SAFETY: F_GETPIPE_SZ reads fd 2's pipe capacity, touching no memory.
    let size = unsafe { libc::fcntl(2, libc::F_GETPIPE_SZ) };
    assert!(size > 0, "stderr is not a pipe");
    let t = Instant::now();
    loop {
        let n = stderr_bytes();
        if n >= size - 512 {
            return;
        }
        assert!(t.elapsed() < BOUND, "stderr never filled: {n} of {size}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Tells the parent (on stdout) that the program finished, then waits for
/// it to close stdin.
fn finished_then_wait_for_eof() {
    println!("finished");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// Runs `case` with stderr a pipe this process holds but does not read
/// until the child says it finished (a liveness bound: a hang is killed),
/// then drains it (`drain`: before the child exits, else after): the
/// child's stderr, or why it failed.
fn stuck(case: &str, env: &[(&str, &str)], drain: bool) -> Result<String, String> {
    // The long-run reports are what these cases write: not turned off by
    // the caller's WEFT_DEBUG (the sanitizer scripts set longrun=0).
    let mut c = Command::new(std::env::current_exe().unwrap())
        .env(CASE, case)
        .env("WEFT_MAXPROCS", "1")
        .env_remove("WEFT_DEBUG")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = BufReader::new(c.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in out.lines() {
            let _ = tx.send(line.unwrap_or_default());
        }
    });
    let err = c.stderr.take().unwrap();
    match rx.recv_timeout(BOUND) {
        Ok(line) if line == "finished" => {}
        got => {
            let _ = c.kill();
            let _ = c.wait();
            return Err(format!(
                "the program did not finish with stderr stuck (stdout: {got:?}), killed after \
                 {BOUND:?}: a hang"
            ));
        }
    }
    let mut err = Some(err);
    let mut reader = None;
    if drain {
        reader = err.take().map(read_all);
    }
    drop(c.stdin.take());
    let status = wait_bounded(&mut c).map_err(|e| format!("after stdin closed: {e}"))?;
    let reader = reader.or_else(|| err.take().map(read_all)).unwrap();
    let err = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    if status.code() != Some(DONE) {
        return Err(format!(
            "{status}, expected exit code {DONE}; stderr:\n{err}"
        ));
    }
    Ok(err)
}

/// Waits for `c` to exit, for at most [`BOUND`] (then kills it: a hang).
fn wait_bounded(c: &mut std::process::Child) -> Result<std::process::ExitStatus, String> {
    let t = Instant::now();
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            return Ok(st);
        }
        if t.elapsed() > BOUND {
            let _ = c.kill();
            let _ = c.wait();
            return Err(format!("still running after {BOUND:?}, killed (a hang)"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads `r` to its end on a thread of its own.
fn read_all(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// The `stuck` cases and what their stderr must hold once drained.
fn check_stuck(failures: &mut Vec<String>) {
    let reports = |e: &str| e.matches("has held its thread").count();
    let r = stuck("stderr_held_by_program", &[], true).and_then(|err| {
        // Every byte of the filler, in one piece; the long-run reports,
        // none dropped (far fewer than the queue holds).
        let filler = "x".repeat(FILLER);
        if !err.contains(&filler) {
            return Err(format!(
                "the filler's {FILLER} bytes did not arrive in one piece"
            ));
        }
        let rest = err.replacen(&filler, "", 1);
        if reports(&rest) == 0 || rest.contains("dropped") {
            return Err(format!(
                "expected long-run reports, none dropped; got:\n{rest}"
            ));
        }
        Ok(())
    });
    record("stderr_held_by_program", r, failures);
    let env = [("WEFT_DEBUG", "schedtrace=1")];
    let r = stuck("stderr_filled_by_schedtrace", &env, true).and_then(|err| {
        // Lines whole (each SCHED line ends with its schedticks list);
        // what the full queue dropped, counted in the stream.
        let sched = err.lines().filter(|l| l.starts_with("SCHED ")).count();
        let torn = err
            .lines()
            .filter(|l| l.contains("SCHED") && !(l.starts_with("SCHED ") && l.ends_with(']')))
            .count();
        if sched == 0 || torn > 0 || !err.contains("reports dropped") {
            return Err(format!(
                "expected whole SCHED lines and a count of the dropped ones; {sched} lines, \
                 {torn} torn:\n{err}"
            ));
        }
        Ok(())
    });
    record("stderr_filled_by_schedtrace", r, failures);
    // Nobody reads stderr before the exit: the reports queued behind the
    // stuck pipe are given up, and the program still exits.
    let r = stuck("stderr_stuck_to_the_end", &[], false).map(drop);
    record("stderr_stuck_to_the_end", r, failures);
}

/// Prints and records the outcome of a `stuck` case.
fn record(case: &str, r: Result<(), String>, failures: &mut Vec<String>) {
    match r {
        Ok(()) => println!("ok: {case}, stderr stuck: the program finished"),
        Err(e) => {
            let line = format!("{case}, stderr stuck: {e}");
            println!("FAILED: {line}");
            failures.push(line);
        }
    }
}

/// How long a `last_words` case leaves stderr stuck after the child says
/// so: well past the patience of the exit hook that writes the queued
/// reports (`stdio::PATIENCE`, 1 s), so a final report that waited in the
/// queue would be given up.
const HOLD: Duration = Duration::from_secs(3);

/// A child's exit status and stderr.
type Outcome = (std::process::ExitStatus, String);

/// What a `last_words` case must show: its stderr, or what is wrong.
type Check = dyn Fn(Outcome) -> Result<String, String>;

/// Runs `case` (with schedtrace on) with stderr a pipe: read from the start,
/// or (`stuck`) read only [`HOLD`] after the child said `stuck`. Its exit
/// status and stderr, or why it has none.
fn last_words(case: &str, stuck: bool) -> Result<Outcome, String> {
    let mut c = Command::new(std::env::current_exe().unwrap())
        .env(CASE, case)
        .env("WEFT_MAXPROCS", "1")
        .env("WEFT_DEBUG", "schedtrace=1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(c.stdout.take().unwrap());
    if stuck {
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        if line.trim_end() != "stuck" {
            let _ = c.kill();
            let _ = c.wait();
            return Err(format!("expected 'stuck' on stdout, got {line:?}"));
        }
        std::thread::sleep(HOLD);
    }
    let reader = read_all(c.stderr.take().unwrap());
    let status = wait_bounded(&mut c)?;
    let err = reader.join().unwrap();
    Ok((status, String::from_utf8_lossy(&err).into_owned()))
}

/// The `last_words` cases: each final report arrives whole, after the
/// schedtrace lines queued before it.
fn check_last_words(failures: &mut Vec<String>) {
    use std::os::unix::process::ExitStatusExt as _;
    // The dump lists the goroutine parked in the case (`deadlock`) or
    // sleeping (`sigquit`): the report is whole when that line is in it.
    let deadlock = |(st, err): Outcome| {
        let report = err
            .split_once("fatal error: all goroutines are asleep - deadlock!\n")
            .map(|(_, r)| r);
        match report {
            Some(r) if st.code() == Some(2) && r.contains("[chan receive]:") => Ok(err),
            _ => Err(format!(
                "{st}, expected exit code 2 and the whole deadlock report:\n{err}"
            )),
        }
    };
    let sigquit = |(st, err): Outcome| {
        let report = err.split_once("SIGQUIT: quit\n").map(|(_, r)| r);
        match report {
            Some(r) if st.code() == Some(2) && r.contains("[sleep]:") => Ok(err),
            _ => Err(format!(
                "{st}, expected exit code 2 and the whole SIGQUIT dump:\n{err}"
            )),
        }
    };
    let throw = |(st, err): Outcome| {
        let msg = "fatal error: a goroutine_local! value panicked while its thread exited\n";
        if st.signal() == Some(libc::SIGABRT) && err.contains(msg) {
            Ok(err)
        } else {
            Err(format!(
                "{st}, expected SIGABRT and {msg:?} on stderr:\n{err}"
            ))
        }
    };
    // Reports queued before the final one are written before it. Checked
    // where lines are queued for certain: behind a stuck pipe, which
    // schedtrace filled (at once, the deadlock may come before its first
    // tick on a loaded machine).
    let after_sched = |err: String| match (err.find("SCHED "), err.find("fatal error")) {
        (Some(a), Some(b)) if a < b => Ok(()),
        _ => Err(format!("no SCHED line before the fatal error:\n{err}")),
    };
    let cases: [(&str, bool, &Check); 5] = [
        ("deadlock_last", false, &deadlock),
        ("deadlock_last_stuck", true, &deadlock),
        ("sigquit_last_stuck", true, &sigquit),
        ("throw_last", false, &throw),
        ("throw_last_stuck", true, &throw),
    ];
    for (case, stuck, want) in cases {
        let r = last_words(case, stuck).and_then(want);
        let r = if case == "deadlock_last_stuck" {
            r.and_then(after_sched)
        } else {
            r.map(drop)
        };
        let how = if stuck {
            "stderr stuck, then read"
        } else {
            "stderr a pipe"
        };
        match r {
            Ok(()) => println!("ok: {case}, {how}: the final report arrived whole"),
            Err(e) => {
                let line = format!("{case}, {how}: {e}");
                println!("FAILED: {line}");
                failures.push(line);
            }
        }
    }
}

/// The write end of a pipe whose read end is already closed.
fn widowed_pipe() -> OwnedFd {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe(2) to fill.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 succeeded: both fds are open and owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(r);
    w
}

/// A stream for the child under `fault`.
fn stream(fault: &str) -> Stdio {
    match fault {
        "pipe" => Stdio::from(widowed_pipe()),
        "full" => Stdio::from(
            std::fs::File::options()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        ),
        // Closed by the child itself, in `main`.
        "closed" => Stdio::null(),
        other => panic!("unknown fault {other}"),
    }
}

/// Runs `case` in a child under `fault` with `env`: its exit code, or
/// why it has none.
fn child(case: &str, fault: &str, env: &[(&str, &str)]) -> Result<i32, String> {
    let mut c = Command::new(std::env::current_exe().unwrap());
    // The runtime's own reports are what fails here: not turned off by the
    // caller's WEFT_DEBUG (the sanitizer scripts set longrun=0).
    c.env(CASE, case)
        .env(FAULT, fault)
        .env_remove("WEFT_DEBUG")
        .stdin(Stdio::null())
        .stdout(stream(fault))
        .stderr(stream(fault));
    for (k, v) in env {
        c.env(k, v);
    }
    let st = wait_bounded(&mut c.spawn().unwrap())?;
    st.code().ok_or_else(|| st.to_string())
}

/// Runs `case` under every fault; the failures, one line each.
fn check(case: &str, env: &[(&str, &str)], want: i32, failures: &mut Vec<String>) {
    for fault in ["pipe", "full", "closed"] {
        check_one(case, fault, env, want, failures);
    }
}

/// Runs `case` under `fault`; a failure, as a line.
fn check_one(case: &str, fault: &str, env: &[(&str, &str)], want: i32, failures: &mut Vec<String>) {
    let line = match child(case, fault, env) {
        Ok(code) if code == want => {
            println!("ok: {case}, stdout and stderr {fault}: exit code {code}");
            return;
        }
        Ok(code) => format!("exit code {code}"),
        Err(e) => e,
    };
    let line = format!("{case}, stdout and stderr {fault}: {line}, expected exit code {want}");
    println!("FAILED: {line}");
    failures.push(line);
}

fn main() {
    if let Ok(case) = std::env::var(CASE) {
        if std::env::var(FAULT).as_deref() == Ok("closed") {
            // SAFETY: nothing in this process uses fds 1 and 2 as owned
            // handles; std's stdout and stderr treat a closed fd as a sink.
            unsafe {
                libc::close(1);
                libc::close(2);
            }
        }
        run_case(&case);
        std::process::exit(DONE);
    }
    // `cargo test` passes harness flags; a filter argument selects nothing here.
    let mut failures = Vec::new();
    let f = &mut failures;
    check("std_mutex_across_sleep", &[("WEFT_MAXPROCS", "1")], DONE, f);
    check(
        "schedtrace",
        &[("WEFT_DEBUG", "schedtrace=5,scheddetail=1")],
        DONE,
        f,
    );
    check("goroutine_panic", &[("RUST_BACKTRACE", "1")], DONE, f);
    check("deadlock", &[], 2, f);
    check("sigquit_dump", &[], 2, f);
    check("own_fds_off_stdio", &[], DONE, f);
    let dir = std::env::temp_dir().join(format!("weft-faults-stdio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.json");
    let trace = trace.to_str().unwrap();
    for fault in ["pipe", "full", "closed"] {
        // The child removes the directory; each run gets it back.
        std::fs::create_dir_all(&dir).unwrap();
        check_one("trace_unwritable", fault, &[("WEFT_TRACE", trace)], DONE, f);
    }
    let _ = std::fs::remove_dir_all(&dir);
    check_stuck(f);
    check_last_words(f);
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
