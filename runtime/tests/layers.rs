//! The runtime's modules import downward only, so a reader (and a unit
//! test) can start at the bottom: this test reads `runtime/src`, builds the
//! graph of `crate::MODULE` references between top-level modules, and
//! checks it.
//!
//! The layers (docs/HACKING.md):
//!
//! ```text
//! base:       clock, config, stdio          (and `throw` in lib.rs)
//! records:    g, coro, stack
//! scheduler:  sched
//! blocking:   park, waitq, timer, netpoll, blocking
//! library:    sync, spawn, time, net, dump, deadlock, stats
//! ```
//!
//! Two edges point up, on purpose: the scheduler polls the timers and the
//! network when it looks for work (`sched` → `timer`, `sched` → `netpoll`,
//! as Go's `findRunnable` calls `checkTimers` and `netpoll`), and both
//! ready goroutines through the scheduler. Every other cycle is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Edges allowed to close a cycle.
const BACK_EDGES: [(&str, &str); 2] = [("sched", "timer"), ("sched", "netpoll")];

/// Modules that must never reach the scheduler, directly or not.
const BELOW_SCHED: [&str; 6] = ["clock", "config", "stdio", "g", "coro", "stack"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`sched/worker.rs` → `sched`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let m = first.trim_end_matches(".rs").to_string();
    (m != "lib").then_some(m)
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Some(from) = module_of(&src, f) else {
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        let deps = g.entry(from.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name != from && modules.contains(&name) {
                    deps.insert(name);
                }
            }
        }
    }
    g
}

fn reaches(g: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(m) = stack.pop() {
        if m == to {
            return true;
        }
        if seen.insert(m.clone()) {
            stack.extend(g.get(&m).into_iter().flatten().cloned());
        }
    }
    false
}

#[test]
fn modules_form_no_cycle_but_the_scheduler_polling_timers_and_netpoll() {
    let mut g = graph();
    assert!(
        g.contains_key("sched") && g.contains_key("g"),
        "read the wrong tree: {g:?}"
    );
    for (a, b) in BACK_EDGES {
        if let Some(d) = g.get_mut(a) {
            d.remove(b);
        }
    }
    for (m, deps) in &g {
        for d in deps {
            assert!(
                !reaches(&g, d, m),
                "cycle: `{m}` uses `crate::{d}`, and `{d}` reaches `{m}` again; \
                 the graph (without the allowed back edges) is {g:#?}"
            );
        }
    }
}

#[test]
fn the_bottom_layers_never_reach_the_scheduler() {
    let g = graph();
    for m in BELOW_SCHED {
        assert!(
            !reaches(&g, m, "sched"),
            "`{m}` reaches `sched`; the graph is {g:#?}"
        );
    }
}
