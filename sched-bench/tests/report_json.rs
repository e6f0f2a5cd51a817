//! Runs the report binary with `--quick --json` and checks that every row
//! came back well formed: a status from the known set, and a finite,
//! positive figure exactly when the status is "ok". Go, tokio and thread
//! cells must be measured (or be a documented n/a); a weft cell may be
//! "failed" with its reason. No timing assertions; no network
//! (`--no-install`: Go cells may be "missing").

use std::process::Command;

use serde_json::Value;

const ROWS: [&str; 28] = [
    "spawn",
    "spawn-join",
    "yield-p1",
    "yield-p2",
    "pingpong-p1",
    "pingpong-p2",
    "buffered",
    "select",
    "skynet",
    "skynet-join",
    "ring",
    "fib",
    "fib-join",
    "memory",
    "mutex",
    "timers",
    "echo-100",
    "echo-100-p99_us",
    "echo-100-threads",
    "echo-100-kb_per_conn",
    "echo-1000",
    "echo-1000-p99_us",
    "echo-1000-threads",
    "echo-1000-kb_per_conn",
    "echo-10000",
    "echo-10000-p99_us",
    "echo-10000-threads",
    "echo-10000-kb_per_conn",
];
const RUNTIMES: [&str; 5] = ["weft-continuation", "weft-child", "go", "tokio", "threads"];

#[test]
fn quick_json_report_is_well_formed() {
    let out_dir = std::env::temp_dir().join(format!("sched-bench-test-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_sched-bench"))
        .args(["--quick", "--json", "--no-install", "--out"])
        .arg(&out_dir)
        .output()
        .expect("run sched-bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sched-bench failed:\n{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });

    assert!(doc["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(doc["machine"]["cpu"].is_string());
    let go_available = doc["go"]["available"].as_bool().unwrap();
    let rows = doc["workloads"].as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ROWS);

    for row in rows {
        let id = row["id"].as_str().unwrap();
        assert!(row["unit"].as_str().is_some_and(|u| !u.is_empty()), "{id}");
        // Every row says what each runtime runs, and where threads do not
        // run it, the program says so too.
        for who in ["weft", "go", "tokio", "threads"] {
            let p = row["programs"][who].as_str();
            assert!(p.is_some_and(|p| !p.is_empty()), "{id}: programs.{who}");
        }
        if row["results"]["threads"]["status"] == "not-applicable" && !id.starts_with("yield") {
            assert_eq!(row["programs"]["threads"], "n/a", "{id}");
        }
        // The spawn+join rows say so in their title.
        assert_eq!(
            id.ends_with("-join"),
            row["title"].as_str().unwrap().contains("(spawn+join)"),
            "{id}"
        );
        // The child-stealing check is there whenever both figures are.
        let both = row["results"]["weft-child"]["status"] == "ok"
            && row["results"]["go"]["status"] == "ok";
        assert_eq!(row["child_within_limit"].is_boolean(), both, "{id}");
        assert_eq!(row["ratio_child_go"].is_number(), both, "{id}");
        for rt in RUNTIMES {
            let cell = &row["results"][rt];
            let status = cell["status"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}/{rt}"));
            let value = &cell["value"];
            match status {
                "ok" => {
                    let v = value
                        .as_f64()
                        .unwrap_or_else(|| panic!("{id}/{rt}: no value"));
                    // Memory per connection may round to nothing at --quick's
                    // ten connections; every other figure is positive.
                    let positive = v > 0.0 || (id.ends_with("kb_per_conn") && v == 0.0);
                    assert!(v.is_finite() && positive, "{id}/{rt}: {v}");
                    assert!(!cell["runs"].as_array().unwrap().is_empty(), "{id}/{rt}");
                    assert!(cell["size"].as_u64().unwrap() > 0, "{id}/{rt}");
                }
                "not-applicable" => {
                    assert_eq!(rt, "threads", "{id}: only OS threads skip rows");
                    assert!(cell["reason"].as_str().unwrap().starts_with("n/a"));
                    assert!(value.is_null());
                }
                "missing" => {
                    assert_eq!(rt, "go", "{id}");
                    assert!(!go_available);
                }
                // A weft failure is a well-formed result (the cell says
                // why, and the runtime's own tests own the bug); a failure
                // of a reference implementation is this crate's bug.
                "failed" if rt.starts_with("weft") => {
                    let why = cell["reason"].as_str().unwrap();
                    assert!(!why.is_empty(), "{id}/{rt}");
                    eprintln!("note: {id}/{rt} failed: {why}");
                }
                "failed" => panic!("{id}/{rt} failed: {}", cell["reason"]),
                other => panic!("{id}/{rt}: unknown status {other}"),
            }
        }
        // Everything that is not weft's or a documented n/a was run.
        assert_eq!(row["results"]["tokio"]["status"], "ok", "{id}");
        if go_available {
            assert_eq!(row["results"]["go"]["status"], "ok", "{id}");
        }
    }

    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("| workload |"));
    assert!(md.contains("programs, skynet: weft:"));
    let svg = std::fs::read_to_string(out_dir.join("report.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let _ = std::fs::remove_dir_all(&out_dir);
}
