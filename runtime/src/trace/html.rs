//! The timeline as one self-contained HTML page: `page.html` (canvas,
//! script and styles inline, nothing fetched) with the timeline embedded
//! as JSON.
//!
//! Owns: the embedded data's layout, which `page.html`'s script reads:
//!
//! ```text
//! rows:     [name, "P" | "M" | "T", number]
//! slices:   [row, start, duration, kind (0 run, 1 blocking, 2 timers, 3 anchor),
//!            goroutine, M or -1, P or -1, string (run: how it ended; anchor: label)]
//! flows:    [kind (0 spawn, 1 unpark, 2 steal), from row, from t, to row, to t, goroutine]
//! marks:    [row, t, kind (0 park, 1 blocking, 2 retake, 3 timers, 4 steal), string]
//! counters: [P, t, goroutines queued]
//! ```
//!
//! Times are nanoseconds from the trace's start. The page writes how many
//! slices it drew into `#rendered`, the title and `body[data-rendered]`
//! (what the browser test reads).
//!
//! Must never: reference anything outside the page.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::json::esc;
use super::timeline::{FlowKind, MarkKind, RowKind, Timeline, What};

const PAGE: &str = include_str!("page.html");
const SLOT: &str = "/*WEFT-TRACE-DATA*/";

/// The page for `tl`.
pub(super) fn write(tl: &Timeline) -> String {
    let data = data(tl);
    let mut out = String::with_capacity(PAGE.len() + data.len());
    let (head, tail) = PAGE.split_once(SLOT).expect("page.html has the data slot");
    out.push_str(head);
    out.push_str(&data);
    out.push_str(tail);
    out
}

/// Interned strings.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Strings {
    fn id(&mut self, s: String) -> usize {
        if let Some(&i) = self.index.get(&s) {
            return i;
        }
        self.list.push(s.clone());
        self.index.insert(s, self.list.len() - 1);
        self.list.len() - 1
    }
}

fn data(tl: &Timeline) -> String {
    let rel = |t: u64| t.saturating_sub(tl.t0);
    let mut strings = Strings::default();
    strings.id(String::new());
    let mut o = String::with_capacity(tl.slices.len() * 40 + 1024);
    let _ = write!(
        o,
        "{{\"title\":\"weft trace: {} goroutine runs on {} Ps\",\"t1\":{},\"dropped\":{},\"rows\":[",
        tl.runs(),
        tl.rows
            .iter()
            .filter(|r| matches!(r.kind, RowKind::P(_)))
            .count(),
        rel(tl.t1),
        tl.dropped
    );
    for (i, r) in tl.rows.iter().enumerate() {
        let (kind, n) = match &r.kind {
            RowKind::P(p) => ("P", *p as i64),
            RowKind::M(m) => ("M", *m as i64),
            RowKind::Thread(..) => ("T", -1),
        };
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(o, "{sep}[\"{}\",\"{kind}\",{n}]", esc(&r.name));
    }
    o.push_str("],\"slices\":[");
    for (i, s) in tl.slices.iter().enumerate() {
        let (kind, g, m, p, text) = match &s.what {
            What::Run { g, m, p, end } => (
                0,
                *g,
                m.map_or(-1, |m| m as i64),
                p.map_or(-1, |p| p as i64),
                strings.id(end.describe()),
            ),
            What::Blocking { g } => (1, *g, -1, -1, 0),
            What::Timer => (2, 0, -1, -1, 0),
            What::Anchor(label) => (3, 0, -1, -1, strings.id(label.clone())),
        };
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(
            o,
            "{sep}[{},{},{},{kind},{g},{m},{p},{text}]",
            s.row,
            rel(s.t0),
            s.t1.saturating_sub(s.t0)
        );
    }
    o.push_str("],\"flows\":[");
    for (i, f) in tl.flows.iter().enumerate() {
        let kind = match f.kind {
            FlowKind::Spawn => 0,
            FlowKind::Unpark => 1,
            FlowKind::Steal => 2,
        };
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(
            o,
            "{sep}[{kind},{},{},{},{},{}]",
            f.from.0,
            rel(f.from.1),
            f.to.0,
            rel(f.to.1),
            f.g
        );
    }
    o.push_str("],\"marks\":[");
    for (i, m) in tl.marks.iter().enumerate() {
        let kind = match m.kind {
            MarkKind::Park => 0,
            MarkKind::Blocking => 1,
            MarkKind::Retake => 2,
            MarkKind::Timer => 3,
            MarkKind::Steal => 4,
        };
        let sep = if i == 0 { "" } else { "," };
        let text = strings.id(m.label.clone());
        let _ = write!(o, "{sep}[{},{},{kind},{text}]", m.row, rel(m.t));
    }
    o.push_str("],\"counters\":[");
    for (i, c) in tl.counters.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(o, "{sep}[{},{},{}]", c.p, rel(c.t), c.value);
    }
    o.push_str("],\"names\":{");
    let mut names: Vec<_> = tl.names.iter().collect();
    names.sort();
    for (i, (g, n)) in names.into_iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(o, "{sep}\"{g}\":\"{}\"", esc(n));
    }
    o.push_str("},\"strings\":[");
    for (i, s) in strings.list.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(o, "{sep}\"{}\"", esc(s));
    }
    o.push_str("]}");
    o
}
