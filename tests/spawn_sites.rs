//! A goroutine's spawn site (the dump's `created by`, the long-run report's
//! `created at`) is the user's call, not a line inside weft: every API that
//! spawns on its caller's behalf is `#[track_caller]`, or records its
//! caller when the spawn comes later (issue 26, defect 8). Each test starts
//! goroutines through one API; each goroutine reads its own `created by`
//! line from `weft::dump_goroutines()` and the test checks that it names
//! this file at the line of the call.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft::{chan, context, errgroup, patterns, Receiver, Sender};

/// The calling goroutine's `created by` site, from a dump.
fn my_site() -> String {
    let id = weft::current_id().expect("called in a goroutine");
    let dump = weft::dump_goroutines();
    let head = format!("goroutine {id} [");
    let block = dump
        .split("\n\n")
        .find(|b| b.starts_with(&head))
        .unwrap_or_else(|| panic!("no block for goroutine {id} in:\n{dump}"));
    let line = block.lines().last().unwrap();
    line.strip_prefix("created by ")
        .unwrap_or_else(|| panic!("no site in {block:?}"))
        .to_owned()
}

/// `this file:line:`, what a site at `line` of this file starts with.
fn here(line: u32) -> String {
    format!("tests/spawn_sites.rs:{line}:")
}

fn check(what: &str, site: &str, line: u32) {
    assert!(
        site.starts_with(&here(line)),
        "{what}: created by {site}, not at {}",
        here(line)
    );
}

/// A goroutine body that sends its site on `tx`.
fn send_site(tx: Sender<String>) -> impl FnOnce() + Send + 'static {
    move || report_site(tx)
}

/// Sends the calling goroutine's site on `tx`.
fn report_site(tx: Sender<String>) {
    tx.send(my_site()).unwrap()
}

#[test]
fn spawn_go_and_builder_name_the_call() {
    let (tx, rx) = chan(3);
    let line = line!() + 1;
    weft::spawn(send_site(tx.clone()));
    check("weft::spawn", &rx.recv().unwrap(), line);
    let line = line!() + 1;
    weft::go!(report_site(tx.clone()));
    check("weft::go!(f(args))", &rx.recv().unwrap(), line);
    let (t, line) = (tx.clone(), line!());
    weft::go!(move || report_site(t));
    check("weft::go!(closure)", &rx.recv().unwrap(), line + 1);
    let line = line!() + 1;
    let b = weft::Builder::new().spawn(send_site(tx.clone()));
    b.unwrap().join().unwrap();
    check("Builder::spawn", &rx.recv().unwrap(), line);
    let line = line!() + 1;
    let site = weft::run(my_site);
    check("weft::run", &site, line);
    let line = line!() + 1;
    let site = weft::scope(|s| s.go(my_site).join().unwrap());
    check("Scope::go", &site, line);
}

#[test]
fn errgroup_goroutines_name_the_go_call() {
    let sites = Arc::new(Mutex::new(Vec::new()));
    let s = |sites: &Arc<Mutex<Vec<String>>>| {
        let sites = sites.clone();
        move || -> Result<(), ()> {
            sites.lock().unwrap().push(my_site());
            Ok(())
        }
    };
    let mut g = errgroup::Group::<()>::new();
    g.set_limit(1);
    let go_line = line!() + 1;
    g.go(s(&sites));
    g.wait().unwrap();
    let try_line = line!() + 1;
    assert!(g.try_go(s(&sites)));
    g.wait().unwrap();
    let (g, _ctx) = errgroup::Group::<()>::with_context(&context::background());
    let ctx_line = line!() + 1;
    g.go(s(&sites));
    g.wait().unwrap();
    let sites = sites.lock().unwrap();
    check("Group::go", &sites[0], go_line);
    check("Group::try_go", &sites[1], try_line);
    check("Group::go (with_context)", &sites[2], ctx_line);
}

#[test]
fn context_after_func_names_the_after_func_call() {
    let (ctx, cancel) = context::with_cancel(&context::background());
    let (tx, rx) = chan(1);
    let line = line!() + 1;
    let _stop = context::after_func(&ctx, send_site(tx));
    cancel.cancel();
    check("context::after_func", &rx.recv().unwrap(), line);
}

#[test]
fn time_after_func_names_the_after_func_call() {
    let (tx, rx) = chan(1);
    let f = move || tx.send(my_site()).unwrap();
    let line = line!() + 1;
    let _t = weft::time::after_func(Duration::from_millis(1), f);
    check("time::after_func", &rx.recv().unwrap(), line);
}

/// Whether the dump has a goroutine created at `line` of this file.
fn spawned_at(line: u32) -> bool {
    weft::dump_goroutines().contains(&format!("created by {}", here(line)))
}

/// The stages of `weft::patterns`: each starts a goroutine that waits (for
/// input, or to send); the dump must show it created at the stage's call.
#[test]
fn pattern_stages_name_the_call() {
    let (done_tx, done) = chan::<()>(0);
    // Inputs that stay open (their senders kept), so every stage waits.
    let senders = std::cell::RefCell::new(Vec::new());
    let input = || {
        let (tx, rx) = chan::<u32>(0);
        senders.borrow_mut().push(tx);
        rx
    };
    let mut lines = Vec::new();
    let mut keep = Vec::new();

    lines.push(("generator", line!() + 1));
    keep.push(patterns::generator(&done, 0..10u32));
    lines.push(("repeat", line!() + 1));
    keep.push(patterns::repeat(&done, vec![1u32]));
    lines.push(("repeat_fn", line!() + 1));
    keep.push(patterns::repeat_fn(&done, || 1u32));
    lines.push(("take", line!() + 1));
    keep.push(patterns::take(&done, input(), 1));
    lines.push(("or", line!() + 1));
    let or = patterns::or(vec![input(), input()]);
    lines.push(("or_done", line!() + 1));
    keep.push(patterns::or_done(&done, input()));
    let (_streams_tx, streams) = chan::<Receiver<u32>>(0);
    lines.push(("bridge", line!() + 1));
    keep.push(patterns::bridge(&done, streams));
    lines.push(("fan_in", line!() + 1));
    keep.push(patterns::fan_in(&done, vec![input(), input()]));
    lines.push(("tee", line!() + 1));
    let (a, b) = patterns::tee(&done, input());
    let ward = |done: Receiver<()>, _: Duration| {
        let (_tx, beats) = chan::<()>(0);
        weft::go!(move || for _ in &done {});
        beats
    };
    // A closure cannot be `#[track_caller]`: the steward's goroutine is
    // named after the `steward` call, not the call of what it returns.
    lines.push(("steward", line!() + 1));
    let start = patterns::steward(Duration::from_secs(60), ward);
    let beats = start(done.clone(), Duration::from_secs(60));

    for (what, line) in &lines {
        assert!(
            spawned_at(*line),
            "patterns::{what}: no goroutine created at {} in:\n{}",
            here(*line),
            weft::dump_goroutines()
        );
    }
    drop((keep, or, a, b, beats, done_tx, senders));
}

/// The line of the `#[weft::main]` below.
const MAIN_LIKE_LINE: u32 = line!() + 1;
#[weft::main]
fn main_like() -> String {
    my_site()
}

/// `#[weft::main]`'s goroutine is created at the attribute.
#[test]
fn weft_main_names_the_attribute() {
    check("#[weft::main]", &main_like(), MAIN_LIKE_LINE);
}
