//! `sched-bench`: weft against Go, tokio and OS threads, side by side.
//!
//! `cargo run --release -p sched-bench` measures every workload of
//! `workloads` on every runtime of `runners`, each run in its own process,
//! prints a table of medians with ratios to Go and to OS threads, and writes
//! `target/sched-bench/report.md` and `report.svg`. Progress goes to stderr.
//!
//! The modules, one concern each: `workloads` (what is measured, per
//! runtime), `runners` (the worker process and running it), `go` (finding,
//! installing and building the Go programs), `report` (table, markdown,
//! JSON), `svg` (the chart).

mod go;
mod report;
mod runners;
mod svg;
mod workloads;

use std::io::Write as _;
use std::time::{Duration, Instant};

use report::{Cell, Machine, Report, RowResult, Status};
use runners::{Job, Runtime};
use workloads::{Kind, Metric, Plan, Row, Scale};

const USAGE: &str = "\
usage: sched-bench [--quick] [--only NAME[,NAME...]] [--json] [--runs N] [--timeout SECS] [--no-install]

  --quick        small sizes, one run each: the whole report in seconds
  --only NAME    only these rows: a workload (spawn, spawn-join, yield, pingpong, buffered,
                 select, skynet, skynet-join, ring, fib, fib-join, memory, mutex, timers,
                 echo) or a row id (yield-p1, echo-1000)
  --json         print the results as JSON on stdout instead of the table
  --runs N       runs per cell; the median is reported (default 5, --quick 1)
  --timeout S    kill a run after S seconds (default 60, --quick 20)
  --no-install   do not try to install Go when it is missing
  --out DIR      write report.md and report.svg there (default target/sched-bench)

Writes target/sched-bench/report.md and target/sched-bench/report.svg.";

struct Options {
    scale: Scale,
    only: Vec<String>,
    json: bool,
    runs: Option<usize>,
    timeout: Option<u64>,
    install_go: bool,
    out: Option<std::path::PathBuf>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        scale: Scale::Full,
        only: Vec::new(),
        json: false,
        runs: None,
        timeout: None,
        install_go: true,
        out: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--quick" => o.scale = Scale::Quick,
            "--json" => o.json = true,
            "--no-install" => o.install_go = false,
            "--out" => o.out = Some(value("--out")?.into()),
            "--only" => o.only.extend(
                value("--only")?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            ),
            "--runs" => {
                let v = value("--runs")?;
                o.runs = Some(
                    v.parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("--runs: bad count `{v}`"))?,
                )
            }
            "--timeout" => {
                let v = value("--timeout")?;
                o.timeout = Some(v.parse().map_err(|_| format!("--timeout: bad `{v}`"))?)
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(o)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--worker") {
        std::process::exit(runners::worker_main(&args[1..]));
    }
    let opts = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("sched-bench: {e}\n");
            }
            eprintln!("{USAGE}");
            std::process::exit(if e.is_empty() { 0 } else { 2 });
        }
    };
    let rows: Vec<Row> = Row::all()
        .into_iter()
        .filter(|r| {
            opts.only.is_empty() || opts.only.iter().any(|n| *n == r.id() || n == r.kind.name())
        })
        .collect();
    if rows.is_empty() {
        eprintln!("sched-bench: --only matched no workload\n\n{USAGE}");
        std::process::exit(2);
    }
    let report = run_report(&opts, &rows);
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| go::target_dir().join("sched-bench"));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join("report.md"), report.to_markdown()))
        .and_then(|_| std::fs::write(dir.join("report.svg"), svg::render(&report)));
    match written {
        Ok(()) => eprintln!("wrote {} and report.svg", dir.join("report.md").display()),
        Err(e) => eprintln!("sched-bench: cannot write {}: {e}", dir.display()),
    }
    let out = if opts.json {
        report.to_json()
    } else {
        report.to_text()
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
}

fn run_report(opts: &Options, rows: &[Row]) -> Report {
    let started = Instant::now();
    let progress = |msg: &str| eprintln!("[{:>5.1}s] {msg}", started.elapsed().as_secs_f64());
    let quick = opts.scale == Scale::Quick;
    // Five: on a shared machine some cells (select, the token ring) are
    // bimodal from run to run, and a median of three often lands on the
    // slow mode of one side only.
    let runs = opts.runs.unwrap_or(if quick { 1 } else { 5 });
    let timeout = Duration::from_secs(opts.timeout.unwrap_or(if quick { 20 } else { 60 }));
    let procs = runners::num_cpus();
    let machine = Machine::detect();
    let go = go::prepare(opts.install_go, &progress);
    progress(&format!(
        "Go: {}",
        go.version.as_deref().unwrap_or(go.note.as_str())
    ));

    let mut results = Vec::new();
    for (ri, &row) in rows.iter().enumerate() {
        let row_procs = row.procs.unwrap_or(procs);
        let mut cells: Vec<Cell> = Runtime::ALL
            .iter()
            .map(|&rt| {
                let plan = workloads::plan(rt, row, opts.scale);
                let (status, size, note) = match plan {
                    Plan::Skip { reason } => (Status::NotApplicable(reason), None, None),
                    Plan::Run { .. } if rt == Runtime::Go && go.bin.is_none() => {
                        (Status::Missing, None, None)
                    }
                    Plan::Run { size, note } => (Status::Ok, Some(size), note),
                };
                Cell {
                    rt,
                    status,
                    value: None,
                    runs: Vec::new(),
                    metric_runs: Vec::new(),
                    size,
                    note,
                }
            })
            .collect();
        let row_runs = row.kind.runs(runs, opts.runs.is_some());
        for run in 0..row_runs {
            for cell in cells.iter_mut().filter(|c| c.status == Status::Ok) {
                let Some(size) = cell.size else { continue };
                let job = Job {
                    rt: cell.rt,
                    kind: row.kind,
                    size,
                    procs: row_procs,
                    go_bin: go.bin.as_deref(),
                    timeout: row.kind.timeout(timeout),
                };
                let res = runners::run_once(&job);
                progress(&format!(
                    "[{}/{}] {} {} run {}/{}: {}",
                    ri + 1,
                    rows.len(),
                    row.id(),
                    cell.rt.name(),
                    run + 1,
                    row_runs,
                    match &res {
                        Ok(m) => format!("{} {}", report::fmt_num(m.value), row.unit()),
                        Err(e) => e.clone(),
                    }
                ));
                match res {
                    Ok(m) => {
                        cell.runs.push(m.value);
                        cell.metric_runs.extend(m.metrics);
                    }
                    // A failed run is not retried: the cell says why.
                    Err(e) => cell.status = Status::Failed(e),
                }
            }
        }
        for cell in &mut cells {
            if cell.status == Status::Ok {
                cell.value = runners::median(&cell.runs);
            }
        }
        let derived: Vec<RowResult> = if row.kind == Kind::Echo {
            Metric::ECHO
                .iter()
                .map(|&metric| RowResult {
                    row: row.with_metric(metric, row_procs),
                    cells: cells.iter().map(|c| c.metric_cell(metric)).collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        results.push(RowResult { row, cells });
        results.extend(derived);
    }
    Report {
        machine,
        procs,
        runs,
        quick,
        go,
        rows: results,
        seconds: started.elapsed().as_secs_f64(),
    }
}
