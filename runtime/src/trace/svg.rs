//! The timeline as a static SVG picture: the whole trace at one zoom, the
//! same rows, colours, arrows and marks as the HTML page draws. For
//! documents (docs/walkthrough.md's pictures are these) and for a quick
//! look without a browser script.
//!
//! Owns: the picture's layout. Slices narrower than a pixel merge into the
//! pixel column already drawn, so a trace of any size makes a picture of
//! bounded size.
//!
//! Must never: reference anything outside the file (no fonts, no links).

use std::fmt::Write as _;

use super::timeline::{FlowKind, MarkKind, RowKind, Timeline, What};

const WIDTH: f64 = 1200.0;
const GUTTER: f64 = 64.0;
const TOP: f64 = 44.0;
const ROW: f64 = 22.0;
const QROW: f64 = 14.0;

/// The colour of goroutine `g` (the page's script uses the same rule).
pub(super) fn goroutine_color(g: u64) -> String {
    format!("hsl({},55%,62%)", (g * 47) % 360)
}

fn flow_color(k: FlowKind) -> &'static str {
    match k {
        FlowKind::Spawn => "#2a9d2a",
        FlowKind::Unpark => "#1f6fd1",
        FlowKind::Steal => "#d13b1f",
    }
}

fn mark_color(k: MarkKind) -> &'static str {
    match k {
        MarkKind::Park => "#7b2cbf",
        MarkKind::Blocking => "#8d5524",
        MarkKind::Retake | MarkKind::Steal => "#d13b1f",
        MarkKind::Timer => "#e07b00",
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// "1.5 ms", "250 µs".
fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The picture for `tl`.
pub(super) fn write(tl: &Timeline) -> String {
    let span = tl.t1.saturating_sub(tl.t0).max(1) as f64;
    let x = |t: u64| GUTTER + (t.saturating_sub(tl.t0) as f64) * (WIDTH - GUTTER - 8.0) / span;
    let row_y = |r: usize| TOP + r as f64 * ROW;
    let ps: Vec<usize> = tl
        .rows
        .iter()
        .filter_map(|r| match r.kind {
            RowKind::P(p) => Some(p),
            _ => None,
        })
        .collect();
    let q_top = TOP + tl.rows.len() as f64 * ROW;
    let height = q_top + ps.len() as f64 * QROW + 40.0;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    let _ = writeln!(
        o,
        "<!-- weft trace: {} events, {} dropped -->",
        tl.events, tl.dropped
    );
    o.push_str("<defs>");
    for k in [FlowKind::Spawn, FlowKind::Unpark, FlowKind::Steal] {
        let _ = write!(
            o,
            "<marker id=\"a-{}\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"{}\"/></marker>",
            k.name(),
            flow_color(k)
        );
    }
    o.push_str("</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");
    let _ = writeln!(
        o,
        "<text x=\"8\" y=\"16\" font-size=\"13\" font-weight=\"bold\">weft trace: {} goroutine runs, {} arrows, {}</text>",
        tl.runs(),
        tl.flows.len(),
        human(span)
    );
    // Axis.
    let mut step = 10f64.powf((span / 8.0).log10().floor());
    if span / step > 16.0 {
        step *= 5.0;
    } else if span / step > 8.0 {
        step *= 2.0;
    }
    let mut t = 0.0;
    while t <= span {
        let xt = GUTTER + t * (WIDTH - GUTTER - 8.0) / span;
        let _ = writeln!(
            o,
            "<line x1=\"{xt:.1}\" y1=\"{:.0}\" x2=\"{xt:.1}\" y2=\"{:.0}\" stroke=\"#e6e6e6\"/><text x=\"{:.1}\" y=\"{:.0}\" fill=\"#555\">{}</text>",
            TOP - 8.0,
            q_top + ps.len() as f64 * QROW,
            xt + 2.0,
            TOP - 10.0,
            human(t)
        );
        t += step;
    }
    // Rows.
    for (i, r) in tl.rows.iter().enumerate() {
        let (bg, fg) = match r.kind {
            RowKind::P(_) => ("#f3f6fb", "#1f4e8c"),
            RowKind::M(_) => ("#f7f7f2", "#4d5a1e"),
            RowKind::Thread(..) => ("#f4f4f4", "#555"),
        };
        let y = row_y(i);
        let _ = writeln!(
            o,
            "<rect x=\"{GUTTER}\" y=\"{y:.0}\" width=\"{:.0}\" height=\"{:.0}\" fill=\"{bg}\"/><text x=\"6\" y=\"{:.0}\" fill=\"{fg}\" font-size=\"12\">{}</text>",
            WIDTH - GUTTER - 8.0,
            ROW - 1.0,
            y + ROW / 2.0 + 4.0,
            xml(&r.name)
        );
    }
    // Slices (sorted by row, then start), merged below a pixel.
    let mut last: Option<(usize, u8, i64)> = None;
    for s in &tl.slices {
        let (x0, x1) = (x(s.t0), x(s.t1));
        let y = row_y(s.row);
        if let What::Anchor(_) = s.what {
            let _ = writeln!(
                o,
                "<rect x=\"{x0:.1}\" y=\"{:.0}\" width=\"1\" height=\"{:.0}\" fill=\"#333\"/>",
                y + 2.0,
                ROW - 4.0
            );
            continue;
        }
        let (top, h) = if s.depth == 1 {
            (y + ROW / 2.0, ROW / 2.0 - 2.0)
        } else {
            (y + 2.0, ROW - 5.0)
        };
        let fill = match &s.what {
            What::Run { g, .. } => goroutine_color(*g),
            What::Blocking { .. } => "#9a9a9a".into(),
            _ => "#f0a23a".into(),
        };
        if x1 - x0 < 1.0 {
            let px = x0.floor() as i64;
            if last == Some((s.row, s.depth, px)) {
                continue;
            }
            last = Some((s.row, s.depth, px));
            let _ = writeln!(
                o,
                "<rect x=\"{px}\" y=\"{top:.1}\" width=\"1\" height=\"{h:.1}\" fill=\"{fill}\"/>"
            );
            continue;
        }
        let _ = write!(
            o,
            "<rect x=\"{x0:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{fill}\" stroke=\"rgba(0,0,0,.25)\" stroke-width=\"0.5\"><title>{}</title></rect>",
            x1 - x0,
            xml(&tl.title(s))
        );
        if x1 - x0 > 26.0 && s.depth == 0 {
            let _ = write!(
                o,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>",
                x0 + 2.0,
                top + h / 2.0 + 3.5,
                xml(&fit(&tl.title(s), x1 - x0))
            );
        }
        o.push('\n');
    }
    // Run-queue rows.
    let qmax = tl
        .counters
        .iter()
        .map(|c| c.value)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for (i, p) in ps.iter().enumerate() {
        let y = q_top + i as f64 * QROW;
        let base = y + QROW - 2.0;
        let mut d = format!("M{GUTTER},{base:.1}");
        let mut prev = base;
        for c in tl.counters.iter().filter(|c| c.p == *p) {
            let xc = x(c.t);
            let yv = base - (QROW - 4.0) * c.value as f64 / qmax;
            let _ = write!(d, " L{xc:.1},{prev:.1} L{xc:.1},{yv:.1}");
            prev = yv;
        }
        let _ = write!(
            d,
            " L{:.1},{prev:.1} L{:.1},{base:.1} Z",
            WIDTH - 8.0,
            WIDTH - 8.0
        );
        let _ = writeln!(
            o,
            "<text x=\"6\" y=\"{:.0}\" fill=\"#5a7fb0\" font-size=\"10\">P{p} queue</text><path d=\"{d}\" fill=\"rgba(90,127,176,.25)\" stroke=\"#5a7fb0\" stroke-width=\"0.7\"/>",
            y + QROW / 2.0 + 3.0
        );
    }
    // Arrows.
    for f in &tl.flows {
        let (x0, y0) = (x(f.from.1), row_y(f.from.0) + ROW / 2.0);
        let (x1, y1) = (x(f.to.1), row_y(f.to.0) + ROW / 2.0);
        let _ = writeln!(
            o,
            "<path d=\"M{x0:.1},{y0:.1} C{:.1},{y0:.1} {:.1},{y1:.1} {x1:.1},{y1:.1}\" fill=\"none\" stroke=\"{}\" stroke-width=\"0.8\" marker-end=\"url(#a-{})\"/>",
            x0 + 10.0,
            x1 - 10.0,
            flow_color(f.kind),
            f.kind.name()
        );
    }
    // Marks, one per pixel and row.
    let mut last: Option<(usize, i64)> = None;
    for m in &tl.marks {
        let xm = x(m.t);
        if last == Some((m.row, xm as i64)) {
            continue;
        }
        last = Some((m.row, xm as i64));
        let y = row_y(m.row);
        let _ = writeln!(
            o,
            "<path d=\"M{:.1},{y:.1} L{:.1},{y:.1} L{xm:.1},{:.1} Z\" fill=\"{}\"><title>{}</title></path>",
            xm - 3.0,
            xm + 3.0,
            y + 5.0,
            mark_color(m.kind),
            xml(&m.label)
        );
    }
    // Legend.
    let ly = height - 14.0;
    let mut lx = GUTTER;
    for (label, color) in [
        ("spawn", flow_color(FlowKind::Spawn)),
        ("unpark", flow_color(FlowKind::Unpark)),
        ("steal", flow_color(FlowKind::Steal)),
        ("park mark", mark_color(MarkKind::Park)),
        ("blocking call", "#9a9a9a"),
        ("timers", "#f0a23a"),
    ] {
        let _ = write!(
            o,
            "<rect x=\"{lx:.0}\" y=\"{:.0}\" width=\"14\" height=\"4\" fill=\"{color}\"/><text x=\"{:.0}\" y=\"{:.0}\" fill=\"#444\">{label}</text>",
            ly - 4.0,
            lx + 18.0,
            ly + 1.0
        );
        lx += 30.0 + 7.0 * label.len() as f64;
    }
    o.push_str("\n</svg>\n");
    o
}

/// `s` cut to fit `width` pixels of 10-pixel text.
fn fit(s: &str, width: f64) -> String {
    let n = ((width - 4.0) / 6.0).max(0.0) as usize;
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n.saturating_sub(1)).chain(['…']).collect()
    }
}
