//! `WEFT_DEBUG=longrun=MS` (issue 15 item 5): a goroutine that holds its
//! OS thread past the threshold without a scheduling point is reported
//! once, with its spawn site and what its thread is doing. Each test runs
//! its scenario in a child process (this binary again) and reads its
//! stderr.

use std::process::Command;
use std::time::{Duration, Instant};

use weft_runtime as weft;

const CHILD: &str = "WEFT_LONGRUN_TEST_CHILD";

/// Runs test `name` of this binary in a child with `WEFT_DEBUG=debug`;
/// returns its stderr.
fn child(name: &str, debug: &str) -> String {
    child_env(name, debug, &[])
}

/// [`child`], with more environment variables.
fn child_env(name: &str, debug: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("WEFT_DEBUG", debug)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "child {name} failed:\n{err}");
    err
}

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

fn reports(err: &str) -> usize {
    err.matches("has held its thread").count()
}

#[test]
fn a_thread_sleep_outside_blocking_is_reported_once() {
    if is_child() {
        weft::run(|| {
            weft::spawn(|| std::thread::sleep(Duration::from_millis(300)))
                .join()
                .unwrap()
        });
        return;
    }
    let err = child(
        "a_thread_sleep_outside_blocking_is_reported_once",
        "longrun=50",
    );
    assert_eq!(reports(&err), 1, "{err}");
    assert!(err.contains("blocked in the kernel"), "{err}");
    assert!(
        err.contains("runtime/tests/longrun.rs:"),
        "no spawn site:\n{err}"
    );
}

/// The report leaves out a runnable thread that was on a CPU less than a
/// quarter of the time (sched/longrun.rs: the OS's fault, not the
/// goroutine's), so the loop says how much of a CPU its thread had: below
/// 40 % (a machine loaded far past two CPU hogs on two cores) no report is
/// no failure.
#[test]
fn a_loop_without_scheduling_points_is_reported_as_running() {
    if is_child() {
        weft::run(|| {
            weft::spawn(|| {
                let cpu0 = thread_cpu_ns();
                let t = Instant::now();
                while t.elapsed() < Duration::from_millis(1000) {
                    std::hint::spin_loop();
                }
                let share = (thread_cpu_ns() - cpu0) * 100 / t.elapsed().as_nanos() as u64;
                eprintln!("spinner: on a CPU {share} % of the time");
            })
            .join()
            .unwrap()
        });
        return;
    }
    let err = child(
        "a_loop_without_scheduling_points_is_reported_as_running",
        "longrun=50",
    );
    let share: u64 = err
        .split("spinner: on a CPU ")
        .nth(1)
        .and_then(|s| s.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no CPU share from the child:\n{err}"));
    if share < 40 {
        assert!(reports(&err) <= 1, "{err}");
        return;
    }
    assert_eq!(reports(&err), 1, "{err}");
    assert!(err.contains("its thread is running"), "{err}");
}

/// Nanoseconds this thread has spent on a CPU.
fn thread_cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn a_loop_that_yields_and_blocking_calls_are_not_reported() {
    if is_child() {
        weft::run(|| {
            let a = weft::spawn(|| {
                let t = Instant::now();
                while t.elapsed() < Duration::from_millis(300) {
                    weft::yield_now();
                }
            });
            let b =
                weft::spawn(|| weft::blocking(|| std::thread::sleep(Duration::from_millis(300))));
            a.join().unwrap();
            b.join().unwrap();
        });
        return;
    }
    let err = child(
        "a_loop_that_yields_and_blocking_calls_are_not_reported",
        "longrun=50",
    );
    assert_eq!(reports(&err), 0, "{err}");
}

#[test]
fn longrun_0_turns_it_off() {
    if is_child() {
        weft::run(|| {
            weft::spawn(|| std::thread::sleep(Duration::from_millis(200)))
                .join()
                .unwrap()
        });
        return;
    }
    let err = child("longrun_0_turns_it_off", "longrun=0");
    assert_eq!(reports(&err), 0, "{err}");
}

/// The panic report's backtrace takes long to symbolise (the first one
/// reads the binary's debug info): that is the runtime reporting, not the
/// goroutine holding its thread (issue 26, defect 8).
#[test]
fn printing_a_panic_backtrace_is_not_a_long_run() {
    if is_child() {
        weft::run(|| {
            for _ in 0..3 {
                assert!(weft::spawn(|| panic!("boom")).join().is_err());
            }
        });
        return;
    }
    let err = child_env(
        "printing_a_panic_backtrace_is_not_a_long_run",
        "longrun=5",
        &[("RUST_BACKTRACE", "1")],
    );
    assert_eq!(err.matches("stack backtrace:").count(), 3, "{err}");
    assert_eq!(reports(&err), 0, "{err}");
}

/// The same for a panic hook the program installed before the runtime
/// started, which symbolises a backtrace itself: the whole hook runs as
/// a blocking section of its goroutine, which it still is there.
#[test]
fn a_program_hook_symbolising_a_backtrace_is_not_a_long_run() {
    if is_child() {
        std::panic::set_hook(Box::new(|_| {
            let bt = std::backtrace::Backtrace::force_capture().to_string();
            let id = weft::current_id().map(|id| id.as_u64());
            eprintln!("hook: goroutine {id:?}, {} frames", bt.lines().count());
        }));
        weft::run(|| {
            for _ in 0..3 {
                assert!(weft::spawn(|| panic!("boom")).join().is_err());
            }
        });
        return;
    }
    let err = child(
        "a_program_hook_symbolising_a_backtrace_is_not_a_long_run",
        "longrun=5",
    );
    assert_eq!(err.matches("hook: goroutine Some(").count(), 3, "{err}");
    assert_eq!(reports(&err), 0, "{err}");
}

/// sysmon hands its reports to a writer thread (it must never block on
/// stderr); one still queued when the process exits is written then. Here
/// a plain thread holds std's stderr lock past the exit, so the writer
/// cannot write the report before it.
#[test]
fn a_report_still_queued_at_exit_is_written() {
    if is_child() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _held = std::io::stderr().lock();
            tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(600));
        });
        rx.recv().unwrap();
        weft::run(|| {
            weft::spawn(|| std::thread::sleep(Duration::from_millis(300)))
                .join()
                .unwrap()
        });
        return;
    }
    let err = child("a_report_still_queued_at_exit_is_written", "longrun=50");
    assert_eq!(reports(&err), 1, "{err}");
}
