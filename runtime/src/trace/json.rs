//! The timeline as Chrome/Perfetto trace-event JSON (the "JSON Object
//! Format": `{"traceEvents": [...]}`), which ui.perfetto.dev and
//! chrome://tracing open.
//!
//! Owns: the mapping of rows to processes and threads — pid 1 holds a
//! thread per P (`tid` = P number), pid 2 a thread per M (`tid` = M
//! number), pid 3 the other threads (sysmon, plain threads) — and of the
//! timeline to events: `X` slices, `s`/`f` flow pairs (the `f` binds to
//! the slice it starts, `"bp":"e"`), `i` instants, `C` counters and `M`
//! metadata. Times are microseconds from the trace's start.
//!
//! Must never: emit text that is not JSON (every string is escaped).

use std::fmt::Write as _;

use super::timeline::{RowKind, Timeline, What};

/// The JSON text for `tl`.
pub(super) fn write(tl: &Timeline) -> String {
    let mut w = Writer {
        out: String::with_capacity(64 + tl.slices.len() * 160),
        first: true,
    };
    w.out.push_str("{\"traceEvents\":[");
    let ids: Vec<(u32, usize)> = tl.rows.iter().map(|r| pid_tid(&r.kind, tl)).collect();
    for (pid, name) in [
        (1, "weft Ps (processors)"),
        (2, "weft Ms (OS threads)"),
        (3, "other threads"),
    ] {
        w.event(format_args!(
            "\"ph\":\"M\",\"pid\":{pid},\"name\":\"process_name\",\"args\":{{\"name\":\"{name}\"}}"
        ));
        w.event(format_args!(
            "\"ph\":\"M\",\"pid\":{pid},\"name\":\"process_sort_index\",\"args\":{{\"sort_index\":{pid}}}"
        ));
    }
    for (row, &(pid, tid)) in tl.rows.iter().zip(&ids) {
        let name = esc(&row.name);
        w.event(format_args!(
            "\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"name\":\"thread_name\",\"args\":{{\"name\":\"{name}\"}}"
        ));
        w.event(format_args!(
            "\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"name\":\"thread_sort_index\",\"args\":{{\"sort_index\":{tid}}}"
        ));
    }
    let us = |t: u64| t.saturating_sub(tl.t0) as f64 / 1000.0;
    for s in &tl.slices {
        let (pid, tid) = ids[s.row];
        let (cat, args) = match &s.what {
            What::Run { g, m, p, end } => {
                let mut a = format!("\"goroutine\":{g}");
                if let Some(n) = tl.names.get(g) {
                    let _ = write!(a, ",\"name\":\"{}\"", esc(n));
                }
                if let Some(m) = m {
                    let _ = write!(a, ",\"M\":{m}");
                }
                if let Some(p) = p {
                    let _ = write!(a, ",\"P\":{p}");
                }
                let _ = write!(a, ",\"ended\":\"{}\"", esc(&end.describe()));
                ("goroutine", a)
            }
            What::Blocking { g } => ("blocking", format!("\"goroutine\":{g}")),
            What::Timer => ("timer", String::new()),
            What::Anchor(_) => ("anchor", String::new()),
        };
        w.event(format_args!(
            "\"ph\":\"X\",\"pid\":{pid},\"tid\":{tid},\"ts\":{:.3},\"dur\":{:.3},\"name\":\"{}\",\"cat\":\"{cat}\",\"args\":{{{args}}}",
            us(s.t0),
            (s.t1.saturating_sub(s.t0)) as f64 / 1000.0,
            esc(&tl.title(s)),
        ));
    }
    for (id, f) in tl.flows.iter().enumerate() {
        let name = f.kind.name();
        let (pid, tid) = ids[f.from.0];
        w.event(format_args!(
            "\"ph\":\"s\",\"pid\":{pid},\"tid\":{tid},\"ts\":{:.3},\"id\":{id},\"name\":\"{name}\",\"cat\":\"{name}\"",
            us(f.from.1)
        ));
        let (pid, tid) = ids[f.to.0];
        w.event(format_args!(
            "\"ph\":\"f\",\"bp\":\"e\",\"pid\":{pid},\"tid\":{tid},\"ts\":{:.3},\"id\":{id},\"name\":\"{name}\",\"cat\":\"{name}\"",
            us(f.to.1)
        ));
    }
    for m in &tl.marks {
        let (pid, tid) = ids[m.row];
        w.event(format_args!(
            "\"ph\":\"i\",\"s\":\"t\",\"pid\":{pid},\"tid\":{tid},\"ts\":{:.3},\"name\":\"{}\",\"cat\":\"{}\"",
            us(m.t),
            esc(&m.label),
            m.kind.name()
        ));
    }
    for c in &tl.counters {
        w.event(format_args!(
            "\"ph\":\"C\",\"pid\":1,\"ts\":{:.3},\"name\":\"run queue P{}\",\"args\":{{\"goroutines\":{}}}",
            us(c.t),
            c.p,
            c.value
        ));
    }
    let _ = write!(
        w.out,
        "],\"displayTimeUnit\":\"ns\",\"otherData\":{{\"producer\":\"weft\",\"goroutine_runs\":{},\"events\":{},\"dropped_events\":{}}}}}",
        tl.runs(),
        tl.events,
        tl.dropped
    );
    w.out
}

struct Writer {
    out: String,
    first: bool,
}

impl Writer {
    fn event(&mut self, body: std::fmt::Arguments<'_>) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('{');
        let _ = self.out.write_fmt(body);
        self.out.push('}');
    }
}

/// The (pid, tid) of a row (see the module comment).
fn pid_tid(kind: &RowKind, tl: &Timeline) -> (u32, usize) {
    match kind {
        RowKind::P(p) => (1, *p),
        RowKind::M(m) => (2, *m),
        RowKind::Thread(..) => {
            let i = tl
                .rows
                .iter()
                .filter(|r| matches!(r.kind, RowKind::Thread(..)))
                .position(|r| &r.kind == kind)
                .unwrap_or(0);
            (3, i + 1)
        }
    }
}

/// `s` escaped for a JSON string (without the quotes).
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // `<` too, so the text can sit inside an HTML <script>.
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            esc("a\"b\\c\n</script>"),
            "a\\\"b\\\\c\\n\\u003c/script\\u003e"
        );
    }
}
