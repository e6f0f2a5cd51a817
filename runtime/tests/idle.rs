//! An idle runtime burns no CPU: idle Ms sleep, they do not poll. Its own
//! test binary, so no other test's work is counted.

use std::time::Duration;

/// User + system CPU time of this process, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn idle_runtime_uses_under_5_percent_of_a_cpu() {
    // Wake every M, then leave the runtime with nothing to do.
    let hs: Vec<_> = (0..1000).map(|i| weft_runtime::spawn(move || i)).collect();
    for h in hs {
        h.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    let hz = 100; // USER_HZ on Linux
    let before = cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks() - before;
    // 5 % of one CPU over one second is 5 ticks.
    assert!(used * 100 < 5 * hz, "idle runtime used {used} ticks in 1 s");

    // With a goroutine asleep on a timer 1.5 s away, the M holding the timer
    // role sleeps until the deadline: it does not poll.
    let sleeper = weft_runtime::spawn(|| weft_runtime::time::sleep(Duration::from_millis(1500)));
    std::thread::sleep(Duration::from_millis(100));
    let before = cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks() - before;
    assert!(
        used * 100 < 5 * hz,
        "runtime with a pending timer used {used} ticks in 1 s"
    );
    sleeper.join().unwrap();
}
