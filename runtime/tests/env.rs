//! Malformed environment variables: a clear error naming the variable, in a
//! child process (the environment is read once, at start).

use std::process::Command;

const ROLE: &str = "WEFT_TEST_CHILD_ROLE";

/// In the child: start the runtime and report what it saw.
#[test]
fn child_role() {
    if std::env::var(ROLE).is_err() {
        return;
    }
    let n = weft_runtime::spawn(weft_runtime::maxprocs).join().unwrap();
    println!("maxprocs={n}");
}

fn run_child(var: &str, value: &str) -> (bool, String, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
        .env(ROLE, "1")
        .env_remove("WEFT_MAXPROCS")
        .env_remove("GOMAXPROCS")
        .env_remove("WEFT_SPAWN")
        .env(var, value)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_weft_maxprocs_is_a_clear_error() {
    let (ok, _, stdout) = run_child("WEFT_MAXPROCS", "two");
    assert!(!ok);
    assert!(stdout.contains("WEFT_MAXPROCS"), "{stdout}");
    assert!(stdout.contains("\"two\""), "{stdout}");
}

#[test]
fn zero_maxprocs_is_a_clear_error() {
    let (ok, _, stdout) = run_child("WEFT_MAXPROCS", "0");
    assert!(!ok);
    assert!(stdout.contains("WEFT_MAXPROCS"), "{stdout}");
}

#[test]
fn malformed_spawn_policy_and_stack_size_are_clear_errors() {
    let (ok, _, stdout) = run_child("WEFT_SPAWN", "sideways");
    assert!(!ok);
    assert!(
        stdout.contains("WEFT_SPAWN") && stdout.contains("continuation"),
        "{stdout}"
    );
    let (ok, _, stdout) = run_child("WEFT_STACK_SIZE", "12parsecs");
    assert!(!ok);
    assert!(stdout.contains("WEFT_STACK_SIZE"), "{stdout}");
    let (ok, _, stdout) = run_child("WEFT_DEBUG", "schedtrace=soon");
    assert!(!ok);
    assert!(stdout.contains("WEFT_DEBUG"), "{stdout}");
}

#[test]
fn well_formed_values_are_used() {
    let (ok, stdout, stderr) = run_child("WEFT_MAXPROCS", "3");
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("maxprocs=3"), "{stdout}");
    let (ok, stdout, stderr) = run_child("GOMAXPROCS", "1");
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("maxprocs=1"), "{stdout}");
}
