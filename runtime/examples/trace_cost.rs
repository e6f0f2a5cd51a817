//! What tracing costs while it records: a ping-pong over unbuffered
//! channels and a spawn-and-join loop, timed with the trace off and on
//! (`weft::trace::start` before the work, `stop` after the clock stops, so
//! writing the file is not counted), in alternating rounds; prints the
//! medians and the cost per recorded event.
//! `cargo run --release -p weft-runtime --example trace_cost`
//! (the trace-off overhead against a build without the hooks is measured
//! with sched-bench: docs/watching.md, "The execution trace").
use std::time::Instant;

const ROUNDS: u32 = 50_000;
const SPAWNS: u64 = 50_000;
const REPEAT: usize = 5;

fn pingpong() {
    let (ping, ping_rx) = weft::chan::<u32>(0);
    let (pong, pong_rx) = weft::chan::<u32>(0);
    let echo = weft::go!(move || {
        for v in &ping_rx {
            pong.send(v + 1).unwrap();
        }
    });
    for i in 0..ROUNDS {
        ping.send(i).unwrap();
        assert_eq!(pong_rx.recv().unwrap(), i + 1);
    }
    drop(ping);
    echo.join().unwrap();
}

fn spawn_join() {
    let hs: Vec<_> = (0..SPAWNS).map(|i| weft::go!(move || i)).collect();
    let s: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(s, SPAWNS * (SPAWNS - 1) / 2);
}

/// Runs `work` once, traced to `path` when there is one; returns the
/// seconds it took and the events recorded.
fn once(work: fn(), path: Option<&std::path::Path>) -> (f64, u64) {
    if let Some(p) = path {
        weft::trace::start(p).unwrap();
    }
    let t = Instant::now();
    work();
    let secs = t.elapsed().as_secs_f64();
    let Some(p) = path else {
        return (secs, 0);
    };
    weft::trace::stop().unwrap();
    let text = std::fs::read_to_string(p).unwrap();
    let events = text
        .rsplit_once("\"events\":")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("the trace's event count");
    let _ = std::fs::remove_file(p);
    (secs, events)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let path = std::env::temp_dir().join(format!("weft-trace-cost-{}.json", std::process::id()));
    weft::run(move || {
        for (name, work, n) in [
            ("ping-pong round trip", pingpong as fn(), ROUNDS as f64),
            ("spawn+join", spawn_join as fn(), SPAWNS as f64),
        ] {
            let (mut off, mut on, mut per_event) = (Vec::new(), Vec::new(), Vec::new());
            let mut events = 0;
            for _ in 0..REPEAT {
                let (t_off, _) = once(work, None);
                let (t_on, ev) = once(work, Some(&path));
                off.push(t_off * 1e9 / n);
                on.push(t_on * 1e9 / n);
                per_event.push((t_on - t_off) * 1e9 / ev as f64);
                events = ev;
            }
            println!(
                "{name}: trace off {:.0} ns, on {:.0} ns; {:.1} events each; {:.1} ns per event (medians of {REPEAT})",
                median(off),
                median(on),
                events as f64 / n,
                median(per_event)
            );
        }
    });
}
