//! The report's data and its three renderings: the terminal table, the
//! markdown file and the JSON document.
//!
//! Owns: [`Report`] (the machine, the settings and every cell), the ratio
//! and goal arithmetic, and number formatting. Knows nothing about how
//! figures were measured (`runners`) or drawn (`svg`).
//!
//! A cell is a figure only when a run produced one; otherwise it carries
//! its status ("n/a: ...", "missing",
//! "failed: ...") and that is what every rendering prints.

use std::fmt::Write as _;

use crate::go::GoStatus;
use crate::runners::Runtime;
use crate::workloads::{Goal, Metric, Row, CHILD_LIMIT};

/// Where a cell stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Measured: the cell's `value` is the median of `runs`.
    Ok,
    /// Every run failed; the reason of the last one.
    Failed(String),
    /// Not run on this runtime, and why.
    NotApplicable(String),
    /// Go is not installed.
    Missing,
}

impl Status {
    /// The status word used in JSON.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed(_) => "failed",
            Status::NotApplicable(_) => "not-applicable",
            Status::Missing => "missing",
        }
    }
}

/// One runtime's result on one row.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The runtime.
    pub rt: Runtime,
    /// Where it stands.
    pub status: Status,
    /// The median figure, in the row's unit.
    pub value: Option<f64>,
    /// Every run's figure.
    pub runs: Vec<f64>,
    /// Every run's other metrics (the echo rows'), in run order.
    pub metric_runs: Vec<(Metric, f64)>,
    /// The size it ran at.
    pub size: Option<u64>,
    /// Why the size or method differs from the other runtimes'.
    pub note: Option<String>,
}

/// One row's results.
#[derive(Clone, Debug)]
pub struct RowResult {
    /// The row.
    pub row: Row,
    /// One cell per runtime, in `Runtime::ALL` order.
    pub cells: Vec<Cell>,
}

impl RowResult {
    /// The figure of `rt`, if measured.
    pub fn value(&self, rt: Runtime) -> Option<f64> {
        self.cells.iter().find(|c| c.rt == rt).and_then(|c| c.value)
    }

    /// `rt`'s figure divided by `base`'s.
    pub fn ratio(&self, rt: Runtime, base: Runtime) -> Option<f64> {
        match (self.value(rt), self.value(base)) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        }
    }

    /// Whether weft (default spawn policy) meets the row's goal:
    /// `None` when the row has no goal or a figure is missing.
    pub fn goal_met(&self) -> Option<bool> {
        let weft = Runtime::WeftContinuation;
        match self.row.goal()? {
            Goal::RatioToGo(r) => Some(self.ratio(weft, Runtime::Go)? <= r),
            Goal::AtMost(v) => Some(self.value(weft)? <= v),
            Goal::AtLeastGo => Some(self.value(weft)? >= self.value(Runtime::Go)?),
            Goal::GoPlus(v) => Some(self.value(weft)? <= self.value(Runtime::Go)? + v),
        }
    }

    /// Whether weft under child stealing is within [`CHILD_LIMIT`] × Go
    /// (on every row): `None` when a figure is missing.
    /// On a throughput row (round trips/s) "worse" is smaller: there Go's
    /// figure may be at most [`CHILD_LIMIT`] × weft's.
    pub fn child_within_limit(&self) -> Option<bool> {
        if self.row.higher_is_better() {
            return Some(self.ratio(Runtime::Go, Runtime::WeftChild)? <= CHILD_LIMIT);
        }
        Some(self.ratio(Runtime::WeftChild, Runtime::Go)? <= CHILD_LIMIT)
    }
}

/// The machine the report ran on.
#[derive(Clone, Debug)]
pub struct Machine {
    /// From /proc/cpuinfo.
    pub cpu: String,
    /// CPUs available to the process.
    pub cores: usize,
    /// `uname -r`.
    pub kernel: String,
}

impl Machine {
    /// Reads /proc/cpuinfo and `uname -r`.
    pub fn detect() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::process::Command::new("uname")
            .arg("-r")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpu,
            cores: crate::runners::num_cpus(),
            kernel,
        }
    }
}

/// Everything a run of the report produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// maxprocs of the rows without a fixed one.
    pub procs: usize,
    /// Runs per cell (the median is reported).
    pub runs: usize,
    /// `--quick`.
    pub quick: bool,
    /// Go's availability.
    pub go: GoStatus,
    /// The rows, in order.
    pub rows: Vec<RowResult>,
    /// Wall time of the whole report, seconds.
    pub seconds: f64,
}

/// Formats a figure: 2 decimals below 10, 1 below 100, else a whole number
/// with thousands separators.
pub fn fmt_num(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        let s = format!("{:.0}", v);
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    match r {
        None => "–".into(),
        Some(r) if r < 0.01 => format!("{r:.4}"),
        Some(r) if r < 0.1 => format!("{r:.3}"),
        Some(r) => format!("{r:.2}"),
    }
}

fn fmt_size(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

impl Cell {
    /// The cell of the derived row showing `metric` of this cell's runs.
    pub fn metric_cell(&self, metric: Metric) -> Cell {
        let runs: Vec<f64> = self
            .metric_runs
            .iter()
            .filter(|(m, _)| *m == metric)
            .map(|(_, v)| *v)
            .collect();
        Cell {
            rt: self.rt,
            status: self.status.clone(),
            value: if self.status == Status::Ok {
                crate::runners::median(&runs)
            } else {
                None
            },
            runs,
            metric_runs: Vec::new(),
            size: self.size,
            note: self.note.clone(),
        }
    }

    /// The short text of the cell: the figure, or its status.
    pub fn short(&self) -> String {
        match (&self.status, self.value) {
            (Status::Ok, Some(v)) => {
                if self.note.is_some() {
                    format!("{}*", fmt_num(v))
                } else {
                    fmt_num(v)
                }
            }
            (Status::Failed(_), _) => "FAILED".into(),
            (Status::NotApplicable(_), _) => "n/a".into(),
            (Status::Missing, _) => "missing".into(),
            (Status::Ok, None) => "?".into(),
        }
    }
}

impl Report {
    fn header_lines(&self) -> Vec<String> {
        vec![
            format!(
                "CPU: {} | cores: {} | kernel: {} | maxprocs: {} (yield and ping-pong also at 1)",
                self.machine.cpu, self.machine.cores, self.machine.kernel, self.procs
            ),
            format!(
                "median of {} run(s) per cell (memory, echo: 1), each in a fresh process{} | Go: {} ({})",
                self.runs,
                if self.quick { " | --quick sizes" } else { "" },
                self.go.version.as_deref().unwrap_or("missing"),
                self.go.note
            ),
            format!("report took {:.0} s", self.seconds),
        ]
    }

    fn table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut head = vec!["workload".to_string(), "size".into(), "unit".into()];
        head.extend(Runtime::ALL.iter().map(|r| r.label().to_string()));
        head.extend([
            "weft/Go cont|child".into(),
            "weft/threads".into(),
            "goal".into(),
            format!("child ≤ {CHILD_LIMIT}× Go"),
        ]);
        let mut rows = Vec::new();
        for r in &self.rows {
            let size = r
                .cells
                .iter()
                .find(|c| c.rt == Runtime::Go || c.rt.is_weft())
                .and_then(|c| c.size)
                .or_else(|| r.cells.iter().find_map(|c| c.size));
            let mut line = vec![
                r.row.title(),
                size.map_or_else(|| "–".into(), fmt_size),
                r.row.unit().to_string(),
            ];
            line.extend(r.cells.iter().map(Cell::short));
            line.push(format!(
                "{} | {}",
                fmt_ratio(r.ratio(Runtime::WeftContinuation, Runtime::Go)),
                fmt_ratio(r.ratio(Runtime::WeftChild, Runtime::Go))
            ));
            line.push(fmt_ratio(
                r.ratio(Runtime::WeftContinuation, Runtime::Threads),
            ));
            line.push(match (r.row.goal(), r.goal_met()) {
                (None, _) => "–".into(),
                (Some(g), Some(true)) => format!("{g}: met"),
                (Some(g), Some(false)) => format!("{g}: NOT met"),
                (Some(g), None) => format!("{g}: unknown"),
            });
            line.push(met_word(r.child_within_limit()).into());
            rows.push(line);
        }
        (head, rows)
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec![
            "weft (cont) = continuation stealing, the default spawn policy; weft (child) = Go's \
             child stealing. Ratios < 1 mean weft is faster (or smaller), except for round \
             trips/s, where > 1 is faster."
                .to_string(),
            "TCP echo: a server with N connections and, in a child process of the same program \
             on the same runtime, N clients (10,000 connections in one process would need \
             20,000+ descriptors); a goroutine (task, thread) per connection on each side, \
             TCP_NODELAY, the kernel's largest listen backlog. All N connect, then each makes \
             100 round trips of 64 bytes. p99 is the clients'; peak OS threads is the larger \
             process's (all of its threads); memory per idle connection is both processes' \
             (RSS with all N connected and idle - RSS before) / N."
                .to_string(),
            "Every row runs the same program on every runtime, written as Go writes it \
             (\"programs\" below); rows marked (spawn+join) join handles, and Go's side of \
             them is Go's future, a channel of capacity 1 per goroutine received once. \
             tokio's smallest channel (capacity 1) stands in for unbuffered ones. The goal \
             column is the target weft's default policy must reach on that row; the last \
             column checks that child stealing is no worse than 1.2× Go on every row. \
             * the figure was taken at another size or differently; see below."
                .to_string(),
        ];
        for r in self.rows.iter().filter(|r| r.row.metric == Metric::Main) {
            notes.push(format!(
                "programs, {}: {}",
                r.row.id(),
                r.row.kind.programs()
            ));
        }
        for r in self.rows.iter().filter(|r| r.row.metric == Metric::Main) {
            for c in &r.cells {
                let what = match (&c.status, &c.note) {
                    (Status::Ok, Some(n)) => format!(
                        "{}{}",
                        n,
                        c.size
                            .map(|s| format!(" (size {})", fmt_size(s)))
                            .unwrap_or_default()
                    ),
                    (Status::Failed(e), _) => format!("FAILED: {e}"),
                    (Status::NotApplicable(why), _) => why.clone(),
                    _ => continue,
                };
                notes.push(format!("{} / {}: {}", r.row.id(), c.rt.label(), what));
            }
        }
        if self.go.bin.is_none() {
            notes.push(format!("Go missing: {}", self.go.note));
        }
        notes
    }

    /// The terminal table.
    pub fn to_text(&self) -> String {
        let (head, rows) = self.table();
        let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let mut s = String::new();
            for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = w - c.chars().count();
                if i < 3 || i + 2 >= cells.len() {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                }
                s.push_str("  ");
            }
            s.trim_end().to_string()
        };
        let mut out = String::from("weft scheduler comparison\n");
        for h in self.header_lines() {
            out.push_str(&h);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&line(&head));
        out.push('\n');
        let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for r in &rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out.push('\n');
        for n in self.notes() {
            out.push_str("- ");
            out.push_str(&n);
            out.push('\n');
        }
        out
    }

    /// The markdown file (`target/sched-bench/report.md`).
    pub fn to_markdown(&self) -> String {
        let (head, rows) = self.table();
        let mut out = String::from("# weft scheduler comparison\n\n");
        for h in self.header_lines() {
            let _ = writeln!(out, "- {h}");
        }
        out.push('\n');
        let esc = |s: &str| s.replace('|', "\\|");
        let _ = writeln!(
            out,
            "| {} |",
            head.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | ")
        );
        let _ = writeln!(
            out,
            "|{}",
            head.iter()
                .enumerate()
                .map(|(i, _)| if (3..head.len() - 2).contains(&i) {
                    "---:|"
                } else {
                    "---|"
                })
                .collect::<String>()
        );
        for r in &rows {
            let _ = writeln!(
                out,
                "| {} |",
                r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
            );
        }
        out.push('\n');
        for n in self.notes() {
            let _ = writeln!(out, "- {n}");
        }
        out.push_str("\n![chart](report.svg)\n");
        out
    }

    /// The JSON document (`--json`).
    pub fn to_json(&self) -> String {
        let mut o = String::from("{\n");
        let _ = writeln!(
            o,
            "  \"machine\": {{\"cpu\": {}, \"cores\": {}, \"kernel\": {}}},",
            json_str(&self.machine.cpu),
            self.machine.cores,
            json_str(&self.machine.kernel)
        );
        let _ = writeln!(
            o,
            "  \"maxprocs\": {}, \"runs\": {}, \"quick\": {}, \"seconds\": {:.1},",
            self.procs, self.runs, self.quick, self.seconds
        );
        let _ = writeln!(
            o,
            "  \"go\": {{\"available\": {}, \"version\": {}, \"note\": {}}},",
            self.go.bin.is_some(),
            self.go.version.as_deref().map_or("null".into(), json_str),
            json_str(&self.go.note)
        );
        o.push_str("  \"workloads\": [\n");
        for (i, r) in self.rows.iter().enumerate() {
            let _ = write!(
                o,
                "    {{\"id\": {}, \"workload\": {}, \"title\": {}, \"unit\": {}, \"size_counts\": {}, \"procs\": {}, \
                 \"goal\": {}, \"goal_met\": {}, \"ratio_weft_go\": {}, \"ratio_weft_threads\": {}, \
                 \"ratio_child_go\": {}, \"child_within_limit\": {}, \"programs\": {}, \
                 \"results\": {{",
                json_str(&r.row.id()),
                json_str(r.row.kind.name()),
                json_str(&r.row.title()),
                json_str(r.row.unit()),
                json_str(r.row.kind.size_meaning()),
                r.row.procs.unwrap_or(self.procs),
                r.row
                    .goal()
                    .map_or("null".into(), |g| json_str(&g.to_string())),
                r.goal_met().map_or("null".into(), |b| b.to_string()),
                json_num(r.ratio(Runtime::WeftContinuation, Runtime::Go)),
                json_num(r.ratio(Runtime::WeftContinuation, Runtime::Threads)),
                json_num(r.ratio(Runtime::WeftChild, Runtime::Go)),
                r.child_within_limit()
                    .map_or("null".into(), |b| b.to_string()),
                programs_json(r.row.kind.programs()),
            );
            for (j, c) in r.cells.iter().enumerate() {
                let reason = match &c.status {
                    Status::Failed(s) | Status::NotApplicable(s) => Some(s.as_str()),
                    Status::Missing => Some(self.go.note.as_str()),
                    Status::Ok => None,
                };
                let _ = write!(
                    o,
                    "{}{}: {{\"status\": {}, \"value\": {}, \"runs\": [{}], \"size\": {}, \
                     \"note\": {}, \"reason\": {}}}",
                    if j == 0 { "" } else { ", " },
                    json_str(c.rt.name()),
                    json_str(c.status.word()),
                    json_num(c.value),
                    c.runs
                        .iter()
                        .map(|v| json_num(Some(*v)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    c.size.map_or("null".into(), |s| s.to_string()),
                    c.note.as_deref().map_or("null".into(), json_str),
                    reason.map_or("null".into(), json_str),
                );
            }
            let _ = writeln!(o, "}}}}{}", if i + 1 < self.rows.len() { "," } else { "" });
        }
        o.push_str("  ]\n}\n");
        o
    }
}

fn met_word(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "–",
    }
}

fn json_num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.3}"),
        _ => "null".into(),
    }
}

/// `{"weft": .., "go": .., "tokio": .., "threads": ..}`.
fn programs_json(p: crate::workloads::Programs) -> String {
    format!(
        "{{\"weft\": {}, \"go\": {}, \"tokio\": {}, \"threads\": {}}}",
        json_str(p.weft),
        json_str(p.go),
        json_str(p.tokio),
        json_str(p.threads)
    )
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(fmt_num(1.234), "1.23");
        assert_eq!(fmt_num(52.34), "52.3");
        assert_eq!(fmt_num(48600.0), "48,600");
        assert_eq!(fmt_num(170.4), "170");
        assert_eq!(fmt_size(1_000_000), "1M");
        assert_eq!(fmt_size(27), "27");
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json_str("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
    }
}
