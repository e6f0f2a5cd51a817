//! From events to a timeline: rows, slices, arrows, marks and counters,
//! the one model every output format draws.
//!
//! Owns: [`build`] and the [`Timeline`] it makes. Rows: one per P, one
//! per M (a thread named `weft-mN`), one per other thread that left
//! events (sysmon, plain threads). A goroutine run is a slice on its M's
//! row and, when it held a P, on the P's row too. Arrows (spawn, unpark,
//! steal) go from where they happened — the P row when the thread held a
//! P then, else its own row — to the start of the goroutine's next run.
//!
//! Must never: trust events to be complete (a run may start before the
//! trace did, or still be going when it stopped).

use std::collections::HashMap;

use super::{Event, Kind, NO_P, STOP_EXIT, STOP_PARK, STOP_REQUEUE, STOP_SPAWN, STOP_YIELD};
use crate::g::WaitReason;

/// What a row stands for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum RowKind {
    P(usize),
    M(usize),
    /// Any other thread (sysmon first, then by name).
    Thread(u8, String),
}

#[derive(Clone, Debug)]
pub(super) struct Row {
    pub kind: RowKind,
    pub name: String,
}

/// Why a goroutine's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    Park(WaitReason),
    Yield,
    Spawn(u64),
    Requeue,
    Exit,
    /// Still running when the trace stopped.
    Running,
}

impl End {
    pub fn describe(self) -> String {
        match self {
            End::Park(r) => format!("park: {r}"),
            End::Yield => "yield".into(),
            End::Spawn(c) => format!("spawn G{c} (continuation queued)"),
            End::Requeue => "back from blocking() with no P: global queue".into(),
            End::Exit => "exit".into(),
            End::Running => "still running at the end of the trace".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum What {
    /// Goroutine `g` running; `m` and `p` say where.
    Run {
        g: u64,
        m: Option<usize>,
        p: Option<usize>,
        end: End,
    },
    /// Goroutine `g` inside `blocking()` (nested in its run, on the M row).
    Blocking { g: u64 },
    /// Due timers firing.
    Timer,
    /// Nothing ran here: the zero-length anchor of an arrow's start.
    Anchor(String),
}

#[derive(Clone, Debug)]
pub(super) struct Slice {
    pub row: usize,
    pub t0: u64,
    pub t1: u64,
    /// 0 for runs, timers and anchors; 1 nested inside a run.
    pub depth: u8,
    pub what: What,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FlowKind {
    Spawn,
    Unpark,
    Steal,
}

impl FlowKind {
    pub fn name(self) -> &'static str {
        match self {
            FlowKind::Spawn => "spawn",
            FlowKind::Unpark => "unpark",
            FlowKind::Steal => "steal",
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Flow {
    pub kind: FlowKind,
    pub g: u64,
    pub from: (usize, u64),
    pub to: (usize, u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MarkKind {
    Park,
    Blocking,
    Retake,
    Timer,
    Steal,
}

impl MarkKind {
    pub fn name(self) -> &'static str {
        match self {
            MarkKind::Park => "park",
            MarkKind::Blocking => "blocking",
            MarkKind::Retake => "retake",
            MarkKind::Timer => "timer",
            MarkKind::Steal => "steal",
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Mark {
    pub row: usize,
    pub t: u64,
    pub kind: MarkKind,
    pub label: String,
}

/// A P's queued goroutines (runnext, local queue, continuations) at `t`.
#[derive(Clone, Debug)]
pub(super) struct Counter {
    pub p: usize,
    pub t: u64,
    pub value: u64,
}

pub(super) struct Timeline {
    /// When the trace started and stopped (the runtime's clock, ns).
    pub t0: u64,
    pub t1: u64,
    pub rows: Vec<Row>,
    /// Sorted by row, then start.
    pub slices: Vec<Slice>,
    pub flows: Vec<Flow>,
    pub marks: Vec<Mark>,
    pub counters: Vec<Counter>,
    pub names: HashMap<u64, String>,
    /// Events recorded, and events lost to full buffers.
    pub events: usize,
    pub dropped: u64,
}

impl Timeline {
    /// "G7" or "G7 main".
    pub fn goroutine(&self, g: u64) -> String {
        match self.names.get(&g) {
            Some(n) => format!("G{g} {n}"),
            None => format!("G{g}"),
        }
    }

    /// A slice's title.
    pub fn title(&self, s: &Slice) -> String {
        match &s.what {
            What::Run { g, .. } => self.goroutine(*g),
            What::Blocking { .. } => "blocking call".into(),
            What::Timer => "timers".into(),
            What::Anchor(label) => label.clone(),
        }
    }

    /// Goroutine runs (each is a slice on its M's row, and perhaps its P's).
    pub fn runs(&self) -> usize {
        self.slices
            .iter()
            .filter(|s| {
                matches!(s.what, What::Run { .. }) && matches!(self.rows[s.row].kind, RowKind::M(_))
            })
            .count()
    }
}

/// The M number in a thread name `weft-mN`.
fn m_of(thread: &str) -> Option<usize> {
    thread.strip_prefix("weft-m")?.parse().ok()
}

/// Builds the timeline from each thread's events (in the order recorded).
pub(super) fn build(
    threads: Vec<(String, Vec<Event>)>,
    names: HashMap<u64, String>,
    t0: u64,
    t1: u64,
    dropped: u64,
) -> Timeline {
    let events = threads.iter().map(|t| t.1.len()).sum();
    let mut b = Builder {
        rows: Vec::new(),
        row_of: HashMap::new(),
        slices: Vec::new(),
        marks: Vec::new(),
        counters: Vec::new(),
        pending: Vec::new(),
        starts: HashMap::new(),
    };
    // Rows first, in display order: Ps, Ms, sysmon, other threads.
    let mut kinds: Vec<RowKind> = Vec::new();
    for (name, events) in &threads {
        kinds.push(match m_of(name) {
            Some(m) => RowKind::M(m),
            None if name == "weft-sysmon" => RowKind::Thread(0, name.clone()),
            None => RowKind::Thread(1, name.clone()),
        });
        for e in events {
            if e.p != NO_P && matches!(e.kind, Kind::GoStart | Kind::Steal | Kind::Retake) {
                kinds.push(RowKind::P(e.p as usize));
            }
        }
    }
    kinds.sort();
    kinds.dedup();
    for k in kinds {
        b.row(k);
    }
    for (name, events) in &threads {
        let row = b.row_of[&match m_of(name) {
            Some(m) => RowKind::M(m),
            None if name == "weft-sysmon" => RowKind::Thread(0, name.clone()),
            None => RowKind::Thread(1, name.clone()),
        }];
        b.thread(row, m_of(name), events, t0, t1);
    }
    let flows = b.resolve_flows();
    let mut tl = Timeline {
        t0,
        t1,
        rows: b.rows,
        slices: b.slices,
        flows,
        marks: b.marks,
        counters: b.counters,
        names,
        events,
        dropped,
    };
    anchor_flows(&mut tl);
    tl.slices.sort_by_key(|s| (s.row, s.t0, s.depth));
    tl.marks.sort_by_key(|m| (m.t, m.row));
    tl
}

/// An arrow whose goroutine has not started yet.
struct Pending {
    kind: FlowKind,
    g: u64,
    from: (usize, u64),
    /// For a steal: the thief's M row (the goroutine starts there next).
    on_row: Option<usize>,
}

struct Builder {
    rows: Vec<Row>,
    row_of: HashMap<RowKind, usize>,
    slices: Vec<Slice>,
    marks: Vec<Mark>,
    counters: Vec<Counter>,
    pending: Vec<Pending>,
    /// Every run's start, by goroutine: (t, M row, P row if any).
    starts: HashMap<u64, Vec<(u64, usize, Option<usize>)>>,
}

impl Builder {
    fn row(&mut self, kind: RowKind) -> usize {
        if let Some(&r) = self.row_of.get(&kind) {
            return r;
        }
        let name = match &kind {
            RowKind::P(p) => format!("P{p}"),
            RowKind::M(m) => format!("M{m}"),
            RowKind::Thread(_, n) => n.strip_prefix("weft-").unwrap_or(n).to_string(),
        };
        self.rows.push(Row {
            kind: kind.clone(),
            name,
        });
        self.row_of.insert(kind, self.rows.len() - 1);
        self.rows.len() - 1
    }

    fn p_row(&mut self, p: u16) -> Option<usize> {
        (p != NO_P).then(|| self.row(RowKind::P(p as usize)))
    }

    /// One thread's events, in order.
    fn thread(&mut self, row: usize, m: Option<usize>, events: &[Event], t0: u64, t1: u64) {
        // The run in progress: (g, start, P row, P id).
        let mut run: Option<(u64, u64, Option<usize>, Option<usize>)> = None;
        let mut blocking: Option<(u64, u64)> = None;
        let mut timer: Option<u64> = None;
        for e in events {
            match e.kind {
                Kind::GoStart => {
                    if let Some((g, s, prow, p)) = run.take() {
                        self.close_run(row, m, g, s, e.ts, prow, p, End::Running);
                    }
                    let prow = self.p_row(e.p);
                    let p = (e.p != NO_P).then_some(e.p as usize);
                    run = Some((e.g, e.ts, prow, p));
                    self.starts.entry(e.g).or_default().push((e.ts, row, prow));
                    if let (Some(p), true) = (p, e.arg != u64::MAX) {
                        self.counters.push(Counter {
                            p,
                            t: e.ts,
                            value: e.arg,
                        });
                    }
                }
                Kind::GoStop => {
                    let (g, s, prow, p) = match run.take() {
                        Some(r) if r.0 == e.g => r,
                        // The run began before the trace did.
                        _ => (e.g, t0.min(e.ts), None, None),
                    };
                    let end = match e.aux {
                        STOP_PARK => End::Park(e.reason),
                        STOP_YIELD => End::Yield,
                        STOP_SPAWN => End::Spawn(e.arg),
                        STOP_REQUEUE => End::Requeue,
                        STOP_EXIT => End::Exit,
                        _ => End::Running,
                    };
                    if let End::Park(r) = end {
                        self.marks.push(Mark {
                            row: prow.unwrap_or(row),
                            t: e.ts,
                            kind: MarkKind::Park,
                            label: format!("G{g} parks: {r}"),
                        });
                    }
                    self.close_run(row, m, g, s, e.ts, prow, p, end);
                }
                Kind::GoCreate | Kind::GoUnpark => {
                    let from_row = match (&run, timer) {
                        (Some((_, _, Some(prow), _)), _) => *prow,
                        _ => row,
                    };
                    self.pending.push(Pending {
                        kind: if e.kind == Kind::GoCreate {
                            FlowKind::Spawn
                        } else {
                            FlowKind::Unpark
                        },
                        g: e.g,
                        from: (from_row, e.ts),
                        on_row: None,
                    });
                }
                Kind::Steal => {
                    let Some(victim) = self.p_row(e.p) else {
                        continue;
                    };
                    self.marks.push(Mark {
                        row: victim,
                        t: e.ts,
                        kind: MarkKind::Steal,
                        label: format!("G{} stolen from P{} by M{}", e.g, e.p, m.unwrap_or(0)),
                    });
                    self.pending.push(Pending {
                        kind: FlowKind::Steal,
                        g: e.g,
                        from: (victim, e.ts),
                        on_row: Some(row),
                    });
                }
                Kind::BlockEnter => {
                    blocking = Some((e.g, e.ts));
                    self.marks.push(Mark {
                        row,
                        t: e.ts,
                        kind: MarkKind::Blocking,
                        label: format!("G{} enters a blocking call", e.g),
                    });
                }
                Kind::BlockExit => {
                    let (g, s) = blocking.take().unwrap_or((e.g, t0.min(e.ts)));
                    self.slices.push(Slice {
                        row,
                        t0: s,
                        t1: e.ts,
                        depth: 1,
                        what: What::Blocking { g },
                    });
                }
                Kind::Retake => {
                    let why = if e.aux == 1 {
                        "inside a blocking call"
                    } else {
                        "running for 10 ms without a scheduling point"
                    };
                    let label = format!("sysmon retakes P{} from M{} ({why})", e.p, e.arg);
                    if let Some(p) = self.p_row(e.p) {
                        self.marks.push(Mark {
                            row: p,
                            t: e.ts,
                            kind: MarkKind::Retake,
                            label: label.clone(),
                        });
                    }
                    self.marks.push(Mark {
                        row,
                        t: e.ts,
                        kind: MarkKind::Retake,
                        label,
                    });
                }
                Kind::TimerBegin => {
                    timer = Some(e.ts);
                    self.marks.push(Mark {
                        row,
                        t: e.ts,
                        kind: MarkKind::Timer,
                        label: "timers fire".into(),
                    });
                }
                Kind::TimerEnd => {
                    let s = timer.take().unwrap_or(t0.min(e.ts));
                    self.slices.push(Slice {
                        row,
                        t0: s,
                        t1: e.ts,
                        depth: 0,
                        what: What::Timer,
                    });
                }
            }
        }
        if let Some((g, s, prow, p)) = run {
            self.close_run(row, m, g, s, t1, prow, p, End::Running);
        }
        if let Some((g, s)) = blocking {
            self.slices.push(Slice {
                row,
                t0: s,
                t1,
                depth: 1,
                what: What::Blocking { g },
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn close_run(
        &mut self,
        row: usize,
        m: Option<usize>,
        g: u64,
        t0: u64,
        t1: u64,
        prow: Option<usize>,
        p: Option<usize>,
        end: End,
    ) {
        let what = What::Run { g, m, p, end };
        for r in std::iter::once(row).chain(prow) {
            self.slices.push(Slice {
                row: r,
                t0,
                t1,
                depth: 0,
                what: what.clone(),
            });
        }
    }

    /// Each arrow ends at the start of its goroutine's next run (after the
    /// arrow's own start; a steal's on the thief's row).
    fn resolve_flows(&mut self) -> Vec<Flow> {
        for v in self.starts.values_mut() {
            v.sort_unstable_by_key(|s| s.0);
        }
        let mut flows = Vec::new();
        for p in &self.pending {
            let Some(starts) = self.starts.get(&p.g) else {
                continue;
            };
            let i = starts.partition_point(|s| s.0 < p.from.1);
            let next = starts[i..]
                .iter()
                .find(|s| p.on_row.is_none_or(|r| s.1 == r));
            if let Some(&(t, mrow, prow)) = next {
                flows.push(Flow {
                    kind: p.kind,
                    g: p.g,
                    from: p.from,
                    to: (prow.unwrap_or(mrow), t),
                });
            }
        }
        flows
    }
}

/// Gives every arrow's start a slice to hang on (Chrome's flow events bind
/// to the enclosing slice): where nothing ran at that moment, a
/// zero-length anchor saying what happened.
fn anchor_flows(tl: &mut Timeline) {
    let mut by_row: HashMap<usize, Vec<(u64, u64)>> = HashMap::new();
    for s in tl.slices.iter().filter(|s| s.depth == 0) {
        by_row.entry(s.row).or_default().push((s.t0, s.t1));
    }
    for v in by_row.values_mut() {
        v.sort_unstable();
    }
    let mut anchors = Vec::new();
    for f in &tl.flows {
        let (row, t) = f.from;
        let inside = by_row.get(&row).is_some_and(|v| {
            let i = v.partition_point(|s| s.0 <= t);
            i > 0 && v[i - 1].1 >= t
        });
        if !inside {
            anchors.push(Slice {
                row,
                t0: t,
                t1: t,
                depth: 0,
                what: What::Anchor(format!("{} G{}", f.kind.name(), f.g)),
            });
        }
    }
    tl.slices.extend(anchors);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: u64, kind: Kind, g: u64, p: u16, arg: u64, aux: u8) -> Event {
        Event {
            ts,
            g,
            arg,
            kind,
            aux,
            reason: WaitReason::ChanReceive,
            p,
        }
    }

    #[test]
    fn runs_arrows_and_marks() {
        let m1 = vec![
            ev(10, Kind::GoStart, 1, 0, 0, 0),
            ev(12, Kind::GoCreate, 2, NO_P, 1, 0),
            ev(15, Kind::GoStop, 1, NO_P, 0, STOP_PARK),
            ev(16, Kind::GoStart, 2, 0, 1, 0),
            ev(18, Kind::GoUnpark, 1, NO_P, 2, 0),
            ev(20, Kind::GoStop, 2, NO_P, 0, STOP_EXIT),
        ];
        let m2 = vec![
            ev(21, Kind::Steal, 1, 0, 1, 0),
            ev(22, Kind::GoStart, 1, 1, 0, 0),
        ];
        let tl = build(
            vec![("weft-m1".into(), m1), ("weft-m2".into(), m2)],
            HashMap::from([(1, "main".to_string())]),
            0,
            30,
            0,
        );
        let names: Vec<_> = tl.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["P0", "P1", "M1", "M2"]);
        // Three runs, each on its M row and its P row.
        assert_eq!(tl.runs(), 3);
        assert_eq!(
            tl.slices
                .iter()
                .filter(|s| matches!(s.what, What::Run { .. }))
                .count(),
            6
        );
        let kinds: Vec<_> = tl.flows.iter().map(|f| (f.kind, f.g)).collect();
        assert_eq!(
            kinds,
            [
                (FlowKind::Spawn, 2),
                (FlowKind::Unpark, 1),
                (FlowKind::Steal, 1)
            ]
        );
        // The unpark ends where G1 runs next: P1, at 22.
        assert_eq!(tl.flows[1].to, (1, 22));
        // G1 still runs at the end of the trace.
        assert!(tl.slices.iter().any(|s| s.t1 == 30
            && matches!(
                s.what,
                What::Run {
                    g: 1,
                    end: End::Running,
                    ..
                }
            )));
        assert!(tl.marks.iter().any(|m| m.kind == MarkKind::Park));
        assert_eq!(tl.goroutine(1), "G1 main");
    }
}
