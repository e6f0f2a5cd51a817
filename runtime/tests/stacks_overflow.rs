//! Stack overflow in a goroutine is reported as such, in a child process:
//! this binary re-runs itself with `WEFT_STACKS_CHILD` naming the role.

use std::hint::black_box;
use std::process::{Command, Output};

use weft_runtime as weft;

const ROLE: &str = "WEFT_STACKS_CHILD";

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 32]);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1).wrapping_add(frame[(depth % 32) as usize])
}

/// The child's side: does nothing unless `WEFT_STACKS_CHILD` is set.
#[test]
fn child_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let n = match role.as_str() {
        "default" => weft::spawn(|| recurse(0)).join().unwrap(),
        "small" => weft::Builder::new()
            .name("tiny")
            .stack_size(32 * 1024)
            .spawn(|| recurse(0))
            .unwrap()
            .join()
            .unwrap(),
        "wild" => weft::spawn(|| {
            // SAFETY: a fresh inaccessible page, mapped only to fault on it:
            // this child exists to fault outside any guard page and show the
            // fault is not mistaken for an overflow.
            unsafe {
                let p = libc::mmap(
                    std::ptr::null_mut(),
                    4096,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                assert_ne!(p, libc::MAP_FAILED);
                std::ptr::write_volatile(p.cast::<u8>(), 1);
            }
            0
        })
        .join()
        .unwrap(),
        other => panic!("unknown role {other}"),
    };
    println!("child survived: {n}");
}

fn run_child(role: &str) -> (Output, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child_role", "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env_remove("WEFT_STACK_SIZE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

#[test]
fn unbounded_recursion_is_reported_as_an_overflow() {
    let (out, stderr) = run_child("default");
    assert!(!out.status.success(), "child exited successfully: {stderr}");
    assert!(stderr.contains("overflowed its stack"), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("of {} bytes", weft::DEFAULT_STACK_SIZE)),
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains("raise WEFT_STACK_SIZE or Builder::stack_size"),
        "stderr: {stderr}"
    );
}

#[test]
fn overflow_of_a_small_named_stack_names_the_goroutine_and_size() {
    let (out, stderr) = run_child("small");
    assert!(!out.status.success(), "child exited successfully: {stderr}");
    assert!(stderr.contains("overflowed its stack"), "stderr: {stderr}");
    assert!(stderr.contains("[tiny]"), "stderr: {stderr}");
    assert!(stderr.contains("of 32768 bytes"), "stderr: {stderr}");
}

#[test]
fn other_faults_are_not_called_overflows() {
    let (out, stderr) = run_child("wild");
    assert!(!out.status.success(), "child exited successfully: {stderr}");
    assert!(!stderr.contains("overflowed its stack"), "stderr: {stderr}");
    // Under ASan the fault goes on to ASan's own handler, which reports it and exits 1.
    #[cfg(weft_asan)]
    assert!(
        stderr.contains("AddressSanitizer: SEGV"),
        "stderr: {stderr}"
    );
    #[cfg(all(unix, not(weft_asan)))]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(libc::SIGSEGV), "stderr: {stderr}");
    }
}
