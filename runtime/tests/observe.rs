//! Goroutine dumps and schedtrace: what they print agrees with the runtime.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft_runtime::park::{park, unparker, Unparker};
use weft_runtime::{self as weft, WaitReason};

/// Parks the calling goroutine with `reason` until `release` is called.
struct Gate {
    st: Mutex<(bool, Vec<Unparker>)>,
}

impl Gate {
    fn wait(&self, reason: WaitReason) {
        let mut st = self.st.lock().unwrap();
        while !st.0 {
            st.1.push(unparker());
            let mut g = Some(st);
            park(reason, move || drop(g.take()));
            st = self.st.lock().unwrap();
        }
    }

    fn release(&self) {
        let mut st = self.st.lock().unwrap();
        st.0 = true;
        let ws = std::mem::take(&mut st.1);
        drop(st);
        ws.into_iter().for_each(|w| w.unpark());
    }
}

#[test]
fn dump_lists_each_live_goroutine_once_with_its_wait_reason() {
    let gate = Arc::new(Gate {
        st: Mutex::new((false, Vec::new())),
    });
    let reasons = [
        WaitReason::ChanReceive,
        WaitReason::SyncMutexLock,
        WaitReason::Sleep,
    ];
    let hs: Vec<_> = (0..30)
        .map(|i| {
            let g = gate.clone();
            let r = reasons[i % 3];
            let h = weft::Builder::new()
                .name(format!("gated-{i}"))
                .spawn(move || g.wait(r))
                .unwrap();
            (h, r)
        })
        .collect();
    // Wait until all 30 are parked.
    let want: HashMap<u64, &str> = hs
        .iter()
        .map(|(h, r)| (h.id().as_u64(), r.as_str()))
        .collect();
    let mut seen: HashMap<u64, Vec<String>> = HashMap::new();
    for _ in 0..1000 {
        seen.clear();
        let dump = weft::dump_goroutines();
        for line in dump.lines() {
            let Some(rest) = line.strip_prefix("goroutine ") else {
                continue;
            };
            let (id, state) = rest.split_once(" [").unwrap();
            let state = state.trim_end_matches("]:").to_string();
            seen.entry(id.parse().unwrap()).or_default().push(state);
        }
        if want
            .iter()
            .all(|(id, r)| seen.get(id).is_some_and(|s| s == &vec![r.to_string()]))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    for (id, r) in &want {
        assert_eq!(seen.get(id), Some(&vec![r.to_string()]), "goroutine {id}");
    }
    gate.release();
    for (h, _) in hs {
        h.join().unwrap();
    }
    // `join` returns once the result is published; the goroutine leaves the
    // registry a moment later, when its M sees the coroutine finish.
    let listed = |dump: &str| {
        want.keys()
            .filter(|id| dump.contains(&format!("goroutine {id} [")))
            .copied()
            .collect::<Vec<_>>()
    };
    let mut left = listed(&weft::dump_goroutines());
    for _ in 0..1000 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
        left = listed(&weft::dump_goroutines());
    }
    assert!(
        left.is_empty(),
        "finished goroutines still listed: {left:?}"
    );
}

const ROLE: &str = "WEFT_OBSERVE_CHILD";

#[test]
fn schedtrace_child() {
    if std::env::var(ROLE).is_err() {
        return;
    }
    let hs: Vec<_> = (0..1000).map(|i| weft::spawn(move || i)).collect();
    for h in hs {
        h.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let s = weft::stats();
    let ticks: Vec<String> = s.procs.iter().map(|p| p.schedticks.to_string()).collect();
    println!(
        "STATS maxprocs={} threads={} ticks={}",
        s.maxprocs,
        s.threads,
        ticks.join(",")
    );
    std::thread::sleep(Duration::from_millis(350));
}

/// `key=value` fields of a SCHED line, and its two bracketed lists.
fn parse_sched(line: &str) -> (HashMap<String, String>, Vec<u64>, Vec<u64>) {
    let (head, rest) = line.split_once(": ").unwrap();
    assert!(head.starts_with("SCHED ") && head.ends_with("ms"), "{line}");
    let lists: Vec<Vec<u64>> = rest
        .split('[')
        .skip(1)
        .map(|s| {
            let inner = s.split(']').next().unwrap();
            inner
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect()
        })
        .collect();
    let fields = rest
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (fields, lists[0].clone(), lists[1].clone())
}

#[test]
fn schedtrace_lines_parse_and_agree_with_stats() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "schedtrace_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, "1")
        .env("WEFT_DEBUG", "schedtrace=100")
        .env("WEFT_MAXPROCS", "2")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stats = stdout
        .lines()
        .find_map(|l| l.find("STATS ").map(|i| &l[i..]))
        .unwrap_or_else(|| panic!("child printed no stats:\n{stdout}\n{stderr}"));
    let f: HashMap<&str, &str> = stats[6..]
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let stat_ticks: Vec<u64> = f["ticks"].split(',').map(|n| n.parse().unwrap()).collect();
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("SCHED ")).collect();
    assert!(
        lines.len() >= 4,
        "expected several SCHED lines, got:\n{stderr}"
    );
    let last = parse_sched(lines.last().unwrap());
    assert_eq!(last.0["gomaxprocs"], "2");
    assert_eq!(last.0["gomaxprocs"], f["maxprocs"]);
    assert_eq!(last.1.len(), 2, "one run queue per P");
    assert_eq!(last.2.len(), 2, "one schedtick count per P");
    // Idle at the end: every P idle, threads = Ms + sysmon.
    assert_eq!(last.0["idleprocs"], "2");
    let threads: usize = last.0["threads"].parse().unwrap();
    assert_eq!(threads, f["threads"].parse::<usize>().unwrap() + 1);
    for (a, b) in last.2.iter().zip(&stat_ticks) {
        assert!(a >= b, "schedticks went backwards: {a} < {b}");
    }
    for l in &lines {
        parse_sched(l);
    }
}
