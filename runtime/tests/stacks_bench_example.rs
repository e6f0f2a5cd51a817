//! Runs `examples/stacks_bench.rs` small, so the example keeps working.

use std::process::Command;

#[test]
fn stacks_bench_example_runs() {
    // Cargo builds a package's examples before its integration tests, next
    // to them: target/<profile>/examples/.
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let bin = examples.join("stacks_bench");
    if !bin.exists() {
        eprintln!("{} not built; skipping", bin.display());
        return;
    }
    let out = Command::new(&bin).arg("10000").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("10000 parked goroutines: "), "{stdout}");
    assert!(stdout.contains("bytes per parked goroutine"), "{stdout}");
    assert!(stdout.contains("ns per goroutine"), "{stdout}");
}
