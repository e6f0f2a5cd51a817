//! The chart: a hand-written SVG (`target/sched-bench/report.svg`).
//!
//! One group per row, one bar per runtime. Rows have different units (ns,
//! ms, KB), so each group is normalised to its Go figure (Go = 1; to weft's
//! when Go is missing) and the y axis is logarithmic: a bar half as tall
//! above the 1-line is not "half as fast". The figure itself is written
//! above each bar. Cells without a figure get no bar and a small mark
//! ("n/a", "missing", "failed") at the axis.

use std::fmt::Write as _;

use crate::report::{fmt_num, Report};
use crate::runners::Runtime;

const COLORS: [&str; 5] = ["#1f77b4", "#6baed6", "#2ca02c", "#ff7f0e", "#7f7f7f"];
const BAR: f64 = 16.0;
const GAP: f64 = 26.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 70.0;
const PLOT_H: f64 = 320.0;
const BOTTOM: f64 = 130.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders the report as an SVG document.
pub fn render(report: &Report) -> String {
    // Each group's baseline and the normalised values.
    let mut groups = Vec::new();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for r in &report.rows {
        let base = r
            .value(Runtime::Go)
            .map(|v| (v, "Go"))
            .or_else(|| r.value(Runtime::WeftContinuation).map(|v| (v, "weft")))
            .or_else(|| r.cells.iter().find_map(|c| c.value).map(|v| (v, "first")));
        let bars: Vec<(Option<f64>, String)> = r
            .cells
            .iter()
            .map(|c| match (c.value, base) {
                (Some(v), Some((b, _))) if b > 0.0 && v > 0.0 => {
                    let x = v / b;
                    lo = lo.min(x);
                    hi = hi.max(x);
                    (Some(x), fmt_num(v))
                }
                _ => (None, c.short()),
            })
            .collect();
        groups.push((r, base.map(|b| b.1), bars));
    }
    if !lo.is_finite() {
        (lo, hi) = (1.0, 1.0);
    }
    let lo_dec = lo.min(1.0).log10().floor() as i32;
    let hi_dec = (hi.max(1.0).log10().ceil() as i32).max(lo_dec + 1);
    let y = |x: f64| -> f64 {
        let t = (x.log10() - lo_dec as f64) / (hi_dec - lo_dec) as f64;
        TOP + PLOT_H * (1.0 - t)
    };
    let group_w = BAR * Runtime::ALL.len() as f64 + GAP;
    let width = LEFT + group_w * groups.len() as f64 + 20.0;
    let height = TOP + PLOT_H + BOTTOM;

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"10\">"
    );
    let _ = writeln!(
        s,
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{LEFT}\" y=\"20\" \
         font-size=\"14\" font-weight=\"bold\">weft vs Go, tokio and OS threads — relative to Go \
         (= 1), log scale, lower is better</text>"
    );
    let _ = writeln!(
        s,
        "<text x=\"{LEFT}\" y=\"36\" fill=\"#555\">{} | {} cores | maxprocs {} | figures above \
         bars in each row's unit</text>",
        esc(&report.machine.cpu),
        report.machine.cores,
        report.procs
    );
    // Legend.
    for (i, rt) in Runtime::ALL.iter().enumerate() {
        let x = LEFT + i as f64 * 110.0;
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"46\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" \
             y=\"55\">{}</text>",
            COLORS[i],
            x + 14.0,
            esc(rt.label())
        );
    }
    // Decade grid lines.
    for d in lo_dec..=hi_dec {
        let v = 10f64.powi(d);
        let yy = y(v);
        let stroke = if d == 0 { "#000" } else { "#ddd" };
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"{stroke}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}×</text>",
            width - 20.0,
            LEFT - 6.0,
            yy + 3.0,
            if d >= 0 {
                format!("{}", 10u64.pow(d as u32))
            } else {
                format!("{v}")
            }
        );
    }
    let floor = y(10f64.powi(lo_dec));
    for (gi, (r, base, bars)) in groups.iter().enumerate() {
        let gx = LEFT + GAP / 2.0 + gi as f64 * group_w;
        for (bi, (val, label)) in bars.iter().enumerate() {
            let x = gx + bi as f64 * BAR;
            match val {
                Some(v) => {
                    let top = y(*v);
                    let _ = writeln!(
                        s,
                        "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" \
                         fill=\"{}\"><title>{}: {} {}</title></rect>",
                        BAR - 2.0,
                        (floor - top).max(0.5),
                        COLORS[bi],
                        esc(Runtime::ALL[bi].label()),
                        esc(label),
                        esc(r.row.kind.unit())
                    );
                    let (tx, ty) = (x + BAR / 2.0 + 2.0, top - 3.0);
                    let _ = writeln!(
                        s,
                        "<text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"8\" \
                         transform=\"rotate(-90 {tx:.1} {ty:.1})\">{}</text>",
                        esc(label)
                    );
                }
                None => {
                    let (tx, ty) = (x + BAR / 2.0 + 2.0, floor - 3.0);
                    let _ = writeln!(
                        s,
                        "<text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"8\" fill=\"#999\" \
                         transform=\"rotate(-90 {tx:.1} {ty:.1})\">{}</text>",
                        esc(label)
                    );
                }
            }
        }
        let (tx, ty) = (gx + 4.0, floor + 12.0);
        let title = match base {
            Some("Go") | None => r.row.title(),
            Some(b) => format!("{} (vs {b})", r.row.title()),
        };
        let _ = writeln!(
            s,
            "<text x=\"{tx:.1}\" y=\"{ty:.1}\" transform=\"rotate(30 {tx:.1} {ty:.1})\">{}</text>",
            esc(&title)
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"8\" fill=\"#555\" \
             transform=\"rotate(30 {:.1} {:.1})\">{}</text>",
            tx - 8.0,
            ty + 10.0,
            tx - 8.0,
            ty + 10.0,
            esc(r.row.kind.unit())
        );
    }
    s.push_str("</svg>\n");
    s
}
