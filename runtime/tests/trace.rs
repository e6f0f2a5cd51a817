//! The execution trace (`weft::trace`, `WEFT_TRACE`): a program's trace
//! holds what it did — every goroutine's runs, the arrows between them,
//! the park reasons, blocking calls, timers and run-queue counters — in
//! well-formed Chrome trace-event JSON whose flows bind to slices; the
//! page and the picture are self-contained; and misuse is a clear error.
//!
//! The trace is process-wide, so the tests here take turns (`SERIAL`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-trace-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A small program that does one of everything the trace shows: spawns,
/// a ping-pong over an unbuffered channel (parks and unparks), a blocking
/// call, a sleep (a timer) and a burst of goroutines two Ps can share.
/// Returns how many goroutines it spawned, main included.
fn program() -> usize {
    const ROUNDS: u32 = 200;
    const BURST: usize = 200;
    weft::run(|| {
        let (ping, ping_rx) = weft::chan::<u32>(0);
        let (pong, pong_rx) = weft::chan::<u32>(0);
        let echo = weft::Builder::new()
            .name("echo")
            .spawn(move || {
                for v in &ping_rx {
                    pong.send(v + 1).unwrap();
                }
            })
            .unwrap();
        for i in 0..ROUNDS {
            ping.send(i).unwrap();
            assert_eq!(pong_rx.recv().unwrap(), i + 1);
        }
        drop(ping);
        echo.join().unwrap();
        weft::blocking(|| std::thread::sleep(Duration::from_millis(3)));
        weft::time::sleep(Duration::from_millis(2));
        let hs: Vec<_> = (0..BURST)
            .map(|i| {
                weft::go!(move || {
                    let mut x = i as u64;
                    for _ in 0..2000 {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                    x
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
    2 + BURST
}

fn events(path: &PathBuf) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "the trace is not JSON: {e}; it begins {:?}",
            &text[..text.len().min(200)]
        )
    });
    v["traceEvents"].as_array().expect("traceEvents").clone()
}

fn key(e: &Value) -> (u64, u64) {
    (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap_or(0))
}

#[test]
fn json_trace_holds_runs_arrows_marks_and_counters() {
    let _s = serial();
    let path = tmp("program.json");
    let before = weft::stats();
    weft::trace::start(&path).unwrap();
    let spawned = program();
    weft::trace::stop().unwrap();
    let after = weft::stats();
    let ev = events(&path);

    // Rows: a process for Ps and one for Ms, a named thread per row.
    let threads: HashMap<(u64, u64), String> = ev
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| (key(e), e["args"]["name"].as_str().unwrap().to_string()))
        .collect();
    assert!(threads.values().any(|n| n == "P0"), "{threads:?}");
    assert!(threads.values().any(|n| n.starts_with('M')), "{threads:?}");

    // A slice per goroutine run, named by id and name, on M rows (pid 2)
    // and P rows (pid 1); every goroutine the program spawned ran.
    let slices: Vec<&Value> = ev.iter().filter(|e| e["ph"] == "X").collect();
    let runs: Vec<&&Value> = slices.iter().filter(|e| e["cat"] == "goroutine").collect();
    let ran: HashSet<u64> = runs
        .iter()
        .map(|e| e["args"]["goroutine"].as_u64().unwrap())
        .collect();
    assert_eq!(ran.len(), spawned, "goroutines seen running");
    assert!(runs
        .iter()
        .any(|e| e["name"] == "G1 main" || e["name"].as_str().unwrap().ends_with(" main")));
    assert!(runs
        .iter()
        .any(|e| e["name"].as_str().unwrap().ends_with(" echo")));
    for e in &runs {
        let g = e["args"]["goroutine"].as_u64().unwrap();
        assert!(e["name"].as_str().unwrap().starts_with(&format!("G{g}")));
        assert!(
            threads.contains_key(&key(e)),
            "a slice on an unnamed row: {e}"
        );
        assert!(e["dur"].as_f64().unwrap() >= 0.0);
    }
    assert!(runs.iter().any(|e| e["pid"] == 1) && runs.iter().any(|e| e["pid"] == 2));

    // Marks: parks with their wait reason, the blocking call, the timer.
    let instants: Vec<&Value> = ev.iter().filter(|e| e["ph"] == "i").collect();
    let named = |s: &str| {
        instants
            .iter()
            .filter(|e| e["name"].as_str().unwrap().contains(s))
            .count()
    };
    let parks: HashSet<&str> = instants
        .iter()
        .filter_map(|e| e["name"].as_str()?.split_once("parks: ").map(|(_, r)| r))
        .collect();
    // Which side of the ping-pong parks depends on the schedule (with one
    // P both sides park on send, every round); the sleep parks in every
    // schedule.
    assert!(
        parks.contains("chan send") || parks.contains("chan receive"),
        "no park on a channel: {parks:?}"
    );
    assert!(parks.contains("sleep"), "{parks:?}");
    assert!(named("enters a blocking call") >= 1);
    assert!(named("timers fire") >= 1);
    assert!(slices.iter().any(|e| e["cat"] == "blocking"));
    assert!(slices.iter().any(|e| e["cat"] == "timer"));

    // Arrows: `s`/`f` pairs, each `s` inside a slice of its row, each `f`
    // at the start of a slice of its row.
    let mut starts: HashMap<u64, &Value> = HashMap::new();
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for e in ev.iter().filter(|e| e["ph"] == "s") {
        starts.insert(e["id"].as_u64().unwrap(), e);
        *kinds
            .entry(e["cat"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let finishes: Vec<&Value> = ev.iter().filter(|e| e["ph"] == "f").collect();
    assert_eq!(finishes.len(), starts.len());
    let within = |e: &Value, exact_start: bool| {
        let ts = e["ts"].as_f64().unwrap();
        slices.iter().any(|s| {
            let t0 = s["ts"].as_f64().unwrap();
            let t1 = t0 + s["dur"].as_f64().unwrap();
            key(s) == key(e)
                && if exact_start {
                    (t0 - ts).abs() < 1e-6
                } else {
                    t0 <= ts && ts <= t1
                }
        })
    };
    for f in &finishes {
        assert_eq!(f["bp"], "e");
        let s = starts[&f["id"].as_u64().unwrap()];
        assert_eq!(s["cat"], f["cat"]);
        assert!(s["ts"].as_f64().unwrap() <= f["ts"].as_f64().unwrap());
        assert!(within(f, true), "an `f` not at a slice's start: {f}");
        assert!(within(s, false), "an `s` outside any slice: {s}");
    }
    // Every goroutine but main was spawned inside the trace; ping-pong
    // unparks at least once per round.
    assert!(
        kinds.get("spawn").copied().unwrap_or(0) >= spawned - 1,
        "{kinds:?}"
    );
    assert!(
        kinds.get("unpark").copied().unwrap_or(0) >= 200,
        "{kinds:?}"
    );
    // Steals: one mark per steal the scheduler counted meanwhile.
    let steals = instants.iter().filter(|e| e["cat"] == "steal").count() as u64;
    assert_eq!(
        steals,
        after.steals - before.steals,
        "steal marks vs stats()"
    );
    assert_eq!(kinds.get("steal").copied().unwrap_or(0) as u64, steals);

    // Run-queue counters for the Ps.
    assert!(ev
        .iter()
        .any(|e| e["ph"] == "C" && e["name"].as_str().unwrap().starts_with("run queue P")));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn page_and_picture_are_self_contained() {
    let _s = serial();
    for name in ["program.html", "program.svg"] {
        let path = tmp(name);
        weft::trace::start(&path).unwrap();
        program();
        weft::trace::stop().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for outside in ["http:", "https:", "<link", "src=", "@import", "url(http"] {
            let allowed = outside == "http:"
                && text.matches("http:").count()
                    == text.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
            assert!(
                allowed || !text.contains(outside),
                "{name} refers outside itself ({outside})"
            );
        }
        if name.ends_with(".html") {
            assert!(text.contains("<canvas"));
            let data = text
                .split("<script type=\"application/json\" id=\"trace-data\">")
                .nth(1)
                .and_then(|t| t.split("</script>").next())
                .expect("embedded data");
            let v: Value = serde_json::from_str(data).expect("embedded data is JSON");
            assert!(v["slices"].as_array().unwrap().len() > 100);
            assert!(v["names"]
                .as_object()
                .unwrap()
                .values()
                .any(|n| n == "echo"));
        } else {
            assert!(text.starts_with("<svg"));
            assert!(text.trim_end().ends_with("</svg>"));
            assert!(text.matches("<rect").count() > 50);
        }
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn misuse_is_a_clear_error() {
    let _s = serial();
    let e = weft::trace::stop().unwrap_err();
    assert!(e.to_string().contains("no trace is being recorded"), "{e}");
    let e = weft::trace::start(tmp("trace.txt")).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains(".json"), "{e}");
    let e = weft::trace::start("/no/such/dir/t.json").unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let a = tmp("a.json");
    weft::trace::start(&a).unwrap();
    let e = weft::trace::start(tmp("b.json")).unwrap_err();
    assert!(e.to_string().contains("already being recorded"), "{e}");
    weft::trace::stop().unwrap();
    // An empty trace is still a valid one.
    assert!(events(&a).iter().all(|e| e["ph"] == "M"));
    let _ = std::fs::remove_file(&a);
}

/// In a child process: `WEFT_TRACE` is read at start and the file is
/// written when the first `run` returns.
#[test]
fn weft_trace_env_writes_when_the_first_run_returns() {
    if let Ok(path) = std::env::var("WEFT_TRACE_TEST_CHILD") {
        weft::run(|| {
            let h = weft::go!(|| 6 * 7);
            assert_eq!(h.join().unwrap(), 42);
        });
        // Written already, before this process ends.
        assert!(std::fs::metadata(&path).unwrap().len() > 100);
        weft::run(|| ()); // a second run does not write again
        return;
    }
    let path = tmp("env.json");
    let child = |value: &str| {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "weft_trace_env_writes_when_the_first_run_returns",
                "--exact",
                "--nocapture",
            ])
            .env("WEFT_TRACE", value)
            .env("WEFT_TRACE_TEST_CHILD", value)
            .output()
            .unwrap()
    };
    let out = child(path.to_str().unwrap());
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ev = events(&path);
    assert!(ev
        .iter()
        .any(|e| e["ph"] == "X" && e["name"].as_str().unwrap().ends_with(" main")));
    let _ = std::fs::remove_file(&path);

    // A malformed value names the variable and what it expects.
    let out = child("trace-without-extension");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WEFT_TRACE") && err.contains(".json"),
        "stderr: {err}"
    );
}
