//! The child-process harness shared by the deadlock-report tests
//! (runtime/tests/deadlock.rs and tests/deadlock_chan.rs): the detector only
//! fires when every thread of a process is accounted for, which is never
//! true inside the test harness, so each case runs as a child of the test
//! binary itself, chosen by [`CASE`].

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming the case a child runs.
pub const CASE: &str = "WEFT_DEADLOCK_CASE";

/// Go's first line of the report.
pub const REPORT: &str = "fatal error: all goroutines are asleep - deadlock!";

/// A finished child.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// In a child, runs its case and returns `true`; in the parent, `false`.
pub fn run_child(run_case: fn(&str)) -> bool {
    match std::env::var(CASE) {
        Ok(name) => {
            run_case(&name);
            true
        }
        Err(_) => false,
    }
}

/// A liveness bound: a child that neither reports nor finishes within it
/// hangs, and is killed (its output so far is shown) rather than hanging
/// the test and CI.
const BOUND: Duration = Duration::from_secs(60);

fn child(name: &str) -> Outcome {
    let t = Instant::now();
    let mut c = Command::new(std::env::current_exe().unwrap())
        .env(CASE, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes on threads so a chatty child cannot block on a full
    // pipe while we wait for it.
    let mut out = c.stdout.take().unwrap();
    let mut err = c.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(st) = c.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > BOUND {
            let _ = c.kill();
            let _ = c.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
            panic!("{name}: child still running after {BOUND:?}; killed. stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// Runs case `name` and checks it printed the report (with every string of
/// `wants` in it) and exited 2, as Go does.
pub fn check_reported(name: &str, wants: &[&str]) -> Outcome {
    let o = child(name);
    assert_eq!(o.code, Some(2), "{name}: exit {:?}\n{}", o.code, o.stderr);
    assert!(
        o.stderr.starts_with(REPORT),
        "{name}: stderr:\n{}",
        o.stderr
    );
    for w in wants {
        assert!(
            o.stderr.contains(w),
            "{name}: missing {w:?} in:\n{}",
            o.stderr
        );
    }
    println!("ok: {name} reported");
    o
}

/// Runs case `name` and checks it finished normally (printing "finished")
/// with no report.
pub fn check_not_reported(name: &str) {
    let o = child(name);
    assert_eq!(o.code, Some(0), "{name}: exit {:?}\n{}", o.code, o.stderr);
    assert!(
        !o.stderr.contains(REPORT),
        "{name}: false report:\n{}",
        o.stderr
    );
    assert!(o.stdout.contains("finished"), "{name}: {}", o.stdout);
    println!("ok: {name} not reported");
}
