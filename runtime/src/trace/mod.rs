//! The execution trace: what each M and P ran, when, and why goroutines
//! moved, as a file a person can look at (Go's `runtime/trace`).
//!
//! Owns: the on/off flag ([`ON`]), the trace session ([`start`], [`stop`],
//! `WEFT_TRACE`), the hooks the scheduler calls and the events they leave
//! in per-thread buffers (`buf.rs`), and turning those events into a
//! timeline (`timeline.rs`) written as Chrome/Perfetto trace-event JSON
//! (`json.rs`), a self-contained HTML page (`html.rs`, `page.html`) or a
//! static SVG picture (`svg.rs`). docs/watching.md shows the output and
//! docs/walkthrough.md reads it.
//!
//! The hooks, one line each where they are called:
//!
//! | hook | called from | records |
//! |---|---|---|
//! | [`go_start`], [`go_stop`] | `sched::worker::execute`, around the resume | a slice per goroutine run, on its M and its P, and why it ended (park with its wait reason, yield, spawn, requeue, exit) |
//! | [`go_create`] | `spawn::Builder::spawn_at` | a spawn arrow, parent to child's first run |
//! | [`go_unpark`] | `sched::ready` | an unpark arrow, waker to the goroutine's next run |
//! | [`steal`] | `sched::worker::try_steal` | a steal arrow, victim P to the thief |
//! | [`blocking`] | `blocking::blocking` and its exit | a mark and a slice for the call |
//! | [`retake`] | `sched::sysmon::retake_from` | a mark on the P sysmon took |
//! | [`timer_fire`] | `timer::run_due` | a slice while the callbacks run |
//! | [`boot`], [`run_returned`] | `sched::start`, `spawn::run` | `WEFT_TRACE`: start at boot, write when the first `run` returns |
//!
//! Run-queue lengths are read at each slice start (the P's queues).
//!
//! Cost: with tracing off, a hook is one relaxed load of a static flag
//! and a predictable branch; everything else is out of line. With it on,
//! an event is a time-stamp counter read ([`ticks`]) and a 32-byte write
//! into the calling thread's own buffer: no lock, no atomic
//! read-modify-write (`buf.rs`). Figures: docs/watching.md.
//!
//! Layering: below the scheduler. It knows G records, not Ms or Ps: the
//! hooks pass P ids in, and an M is known by its thread's name (`weft-mN`).
//!
//! Must never: block, lock or allocate on an event's path (but for a new
//! chunk every 4096 events and one registration per thread and session),
//! or change what the scheduler decides.

mod buf;
mod html;
mod json;
mod svg;
mod timeline;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::{check_trace_path, TraceFormat as Format};
use crate::coro::Resumed;
use crate::g::{self, GPtr, Switch, WaitReason};
use crate::loom::sync::{StdMutex, StdMutexGuard};

/// Whether a trace is being recorded. Every hook reads it first (relaxed:
/// an event lost or recorded at the very edge of `start`/`stop` is fine).
static ON: AtomicBool = AtomicBool::new(false);

/// The current session's number (0: none yet).
static SESSION: AtomicU64 = AtomicU64::new(0);

/// What a session needs at `stop`.
struct Session {
    id: u64,
    path: PathBuf,
    format: Format,
    /// Started by `WEFT_TRACE`: written when the first `run` returns.
    from_env: bool,
    started: u64,
    /// [`ticks`] when it started: with `started`, converts event times.
    started_ticks: u64,
}

static STATE: StdMutex<Option<Session>> = StdMutex::new(None);

/// Every thread's buffer of the current session (registered once per
/// thread and session).
static BUFFERS: StdMutex<Vec<Arc<buf::Shared>>> = StdMutex::new(Vec::new());

/// Names of named goroutines seen in this session.
static NAMES: StdMutex<Option<HashMap<u64, String>>> = StdMutex::new(None);

fn lock<T>(m: &StdMutex<T>) -> StdMutexGuard<'_, T> {
    m.lock()
}

/// Starts recording an execution trace, to be written to `path` by
/// [`stop`]. The extension picks the format: `.json` for Chrome/Perfetto
/// trace events (open it in ui.perfetto.dev or chrome://tracing), `.html`
/// for a self-contained timeline page (any browser, nothing fetched), or
/// `.svg` for a static picture.
///
/// Fails if a trace is already being recorded, or if `path` has another
/// extension or cannot be created (the file is created now, so a bad path
/// fails here and not at `stop`).
///
/// ```
/// let path = std::env::temp_dir().join("weft-doc-trace.json");
/// weft::trace::start(&path).unwrap();
/// weft::run(|| weft::go!(|| 1 + 1).join().unwrap());
/// weft::trace::stop().unwrap();
/// let text = std::fs::read_to_string(&path).unwrap();
/// assert!(text.starts_with("{\"traceEvents\":["));
/// assert!(weft::trace::start("trace.txt").is_err()); // unknown extension
/// ```
pub fn start(path: impl AsRef<Path>) -> io::Result<()> {
    start_session(path.as_ref(), false)
}

fn start_session(path: &Path, from_env: bool) -> io::Result<()> {
    let invalid = |why: String| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("weft::trace::start({}): {why}", path.display()),
        )
    };
    let format = check_trace_path(path).map_err(invalid)?;
    let mut st = lock(&STATE);
    if let Some(s) = &*st {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "weft::trace::start({}): a trace is already being recorded to {}; call weft::trace::stop first",
                path.display(),
                s.path.display()
            ),
        ));
    }
    std::fs::File::create(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("weft::trace::start: cannot create {}: {e}", path.display()),
        )
    })?;
    let id = SESSION.load(Ordering::Relaxed) + 1;
    *st = Some(Session {
        id,
        path: path.to_path_buf(),
        format,
        from_env,
        started: crate::clock::nanotime(),
        started_ticks: ticks(),
    });
    lock(&BUFFERS).clear();
    *lock(&NAMES) = Some(HashMap::new());
    SESSION.store(id, Ordering::SeqCst);
    ON.store(true, Ordering::SeqCst);
    Ok(())
}

/// Stops recording and writes the trace started by [`start`] (or by
/// `WEFT_TRACE`). Fails if no trace is being recorded or the file cannot
/// be written.
///
/// ```
/// // Nothing is being recorded:
/// let err = weft::trace::stop().unwrap_err();
/// assert!(err.to_string().contains("no trace is being recorded"));
/// ```
pub fn stop() -> io::Result<()> {
    let session = lock(&STATE).take().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "weft::trace::stop: no trace is being recorded (start one with weft::trace::start or WEFT_TRACE=PATH)",
        )
    })?;
    ON.store(false, Ordering::SeqCst);
    let end = crate::clock::nanotime();
    let to_nanos = tick_converter(session.started, session.started_ticks, end, ticks());
    let buffers = std::mem::take(&mut *lock(&BUFFERS));
    let names = lock(&NAMES).take().unwrap_or_default();
    let mut threads = Vec::new();
    let mut dropped = 0;
    for b in buffers.iter().filter(|b| b.session == session.id) {
        let mut events = Vec::new();
        dropped += b.collect(&mut events);
        for e in &mut events {
            e.ts = to_nanos(e.ts);
        }
        threads.push((b.thread.clone(), events));
    }
    drop(buffers);
    let tl = timeline::build(threads, names, session.started, end, dropped);
    let text = match session.format {
        Format::Json => json::write(&tl),
        Format::Html => html::write(&tl),
        Format::Svg => svg::write(&tl),
    };
    std::fs::write(&session.path, text).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "weft::trace::stop: cannot write {}: {e}",
                session.path.display()
            ),
        )
    })
}

/// `WEFT_TRACE`: starts the trace when the runtime starts (`sched::start`).
/// A path that cannot be created is a panic naming the variable, as every
/// malformed setting is.
pub(crate) fn boot(path: Option<&Path>) {
    if let Some(path) = path {
        if let Err(e) = start_session(path, true) {
            panic!("weft: environment variable WEFT_TRACE: {e}");
        }
    }
}

/// The first `run` returned: write a trace `WEFT_TRACE` started.
pub(crate) fn run_returned() {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    let from_env = lock(&STATE).as_ref().is_some_and(|s| s.from_env);
    if from_env {
        if let Err(e) = stop() {
            crate::stdio::report(format_args!("weft: WEFT_TRACE: {e}\n"));
        }
    }
}

/// What one event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// A goroutine starts running: `g`, `p` (or [`NO_P`]), `arg` = the
    /// P's queued goroutines (or `u64::MAX`).
    GoStart,
    /// It stopped: `aux` = a `STOP_*` code, `reason` for a park, `arg` =
    /// the child for a spawn.
    GoStop,
    /// `g` was spawned by goroutine `arg` (0: a plain thread).
    GoCreate,
    /// `g` was made runnable by goroutine `arg` (0: not a goroutine).
    GoUnpark,
    /// `g` was stolen from P `p`.
    Steal,
    /// `g` entered / left `blocking()`.
    BlockEnter,
    BlockExit,
    /// sysmon took P `p` from M `arg`; `aux` = 1 if it was in `blocking()`.
    Retake,
    /// Due timers' callbacks start / end running on this thread.
    TimerBegin,
    TimerEnd,
}

pub(crate) const STOP_PARK: u8 = 0;
pub(crate) const STOP_YIELD: u8 = 1;
pub(crate) const STOP_SPAWN: u8 = 2;
pub(crate) const STOP_REQUEUE: u8 = 3;
pub(crate) const STOP_EXIT: u8 = 4;

/// No P (a `p` field).
pub(crate) const NO_P: u16 = u16::MAX;

/// One record in a buffer (32 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    /// When: [`ticks`] while recorded; nanoseconds on the runtime's clock
    /// (`clock::nanotime`) once `stop` has converted it.
    pub ts: u64,
    pub g: u64,
    pub arg: u64,
    pub kind: Kind,
    pub aux: u8,
    pub reason: WaitReason,
    pub p: u16,
}

impl Event {
    fn new(kind: Kind, g: u64) -> Event {
        Event {
            ts: ticks(),
            g,
            arg: 0,
            kind,
            aux: 0,
            reason: WaitReason::None,
            p: NO_P,
        }
    }
}

/// The event clock: the CPU's time-stamp counter on x86_64 (Go's tracer
/// uses it too, `cputicks`), about 10 ns to read where the vDSO's
/// `clock_gettime` behind `Instant::now` costs 40-50 ns in a VM; `stop`
/// maps ticks to nanoseconds linearly between the session's two ends
/// ([`tick_converter`]). Elsewhere, the runtime's clock.
#[inline]
fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` reads a counter; it has no preconditions and
        // touches no memory.
        unsafe { std::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        crate::clock::nanotime()
    }
}

/// Maps [`ticks`] to `clock::nanotime` nanoseconds, given both clocks at
/// the session's start and end.
fn tick_converter(ns0: u64, t0: u64, ns1: u64, t1: u64) -> impl Fn(u64) -> u64 {
    let per_tick = if t1 > t0 {
        ns1.saturating_sub(ns0) as f64 / (t1 - t0) as f64
    } else {
        1.0
    };
    move |t| {
        let d = (t as i128 - t0 as i128) as f64 * per_tick;
        (ns0 as f64 + d).max(1.0) as u64
    }
}

thread_local! {
    static WRITER: RefCell<Option<buf::Writer>> = const { RefCell::new(None) };
}

/// Appends `ev` to this thread's buffer for the current session.
///
/// `#[inline(never)]`: called on goroutine stacks, which may move between
/// threads; the thread-local's address is computed afresh on every call.
#[inline(never)]
fn record(ev: Event) {
    let session = SESSION.load(Ordering::Relaxed);
    let _ = WRITER.try_with(|w| {
        let mut w = w.borrow_mut();
        let w = match &mut *w {
            Some(cur) if cur.shared.session == session => cur,
            slot => slot.insert(register(session)),
        };
        w.push(ev);
    });
}

/// A new buffer for this thread, registered for `stop` (once per thread
/// and session).
#[cold]
fn register(session: u64) -> buf::Writer {
    let t = std::thread::current();
    let name = match t.name() {
        Some(n) => n.to_string(),
        None => format!("thread {:?}", t.id()),
    };
    let w = buf::Writer::new(session, name);
    lock(&BUFFERS).push(w.shared.clone());
    w
}

/// Whether a trace is being recorded (one relaxed load).
#[inline(always)]
fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Goroutine `g` starts running on this M; `p` says on which P and how
/// many goroutines wait in its queues (read only while tracing).
#[inline(always)]
pub(crate) fn go_start(g: GPtr, p: impl FnOnce() -> Option<(usize, usize)>) {
    if on() {
        go_start_slow(g, p());
    }
}

#[cold]
#[inline(never)]
fn go_start_slow(g: GPtr, p: Option<(usize, usize)>) {
    let mut ev = Event::new(Kind::GoStart, g.id().as_u64());
    if let Some((id, queued)) = p {
        ev.p = id.min(NO_P as usize - 1) as u16;
        ev.arg = queued as u64;
    } else {
        ev.arg = u64::MAX;
    }
    if let Some(name) = g.name() {
        note_name(ev.g, name);
    }
    record(ev);
}

/// Goroutine `g` switched back to its M, saying why.
#[inline(always)]
pub(crate) fn go_stop(g: GPtr, how: &Resumed<Switch>) {
    if on() {
        go_stop_slow(g, how);
    }
}

#[cold]
#[inline(never)]
fn go_stop_slow(g: GPtr, how: &Resumed<Switch>) {
    let mut ev = Event::new(Kind::GoStop, g.id().as_u64());
    ev.aux = match how {
        Resumed::Switched(Switch::Park(_)) => {
            ev.reason = g.wait_reason();
            STOP_PARK
        }
        Resumed::Switched(Switch::Yield) => STOP_YIELD,
        Resumed::Switched(Switch::Spawn(child)) => {
            ev.arg = child.id().as_u64();
            STOP_SPAWN
        }
        Resumed::Switched(Switch::Requeue) => STOP_REQUEUE,
        Resumed::Finished(_) => STOP_EXIT,
    };
    record(ev);
}

/// A goroutine was spawned (before it is queued or run).
#[inline(always)]
pub(crate) fn go_create(child: GPtr) {
    if on() {
        go_create_slow(child);
    }
}

#[cold]
#[inline(never)]
fn go_create_slow(child: GPtr) {
    let mut ev = Event::new(Kind::GoCreate, child.id().as_u64());
    ev.arg = g::current().map_or(0, |p| p.id().as_u64());
    if let Some(name) = child.name() {
        note_name(ev.g, name);
    }
    record(ev);
}

/// A parked goroutine was made runnable (`sched::ready`).
#[inline(always)]
pub(crate) fn go_unpark(g: GPtr) {
    if on() {
        go_unpark_slow(g);
    }
}

#[cold]
#[inline(never)]
fn go_unpark_slow(g: GPtr) {
    let mut ev = Event::new(Kind::GoUnpark, g.id().as_u64());
    ev.arg = g::current().map_or(0, |w| w.id().as_u64());
    record(ev);
}

/// This M stole `g` (and perhaps more) from P `victim`.
#[inline(always)]
pub(crate) fn steal(victim: usize, g: GPtr) {
    if on() {
        steal_slow(victim, g);
    }
}

#[cold]
#[inline(never)]
fn steal_slow(victim: usize, g: GPtr) {
    let mut ev = Event::new(Kind::Steal, g.id().as_u64());
    ev.p = victim.min(NO_P as usize - 1) as u16;
    record(ev);
}

/// Goroutine `g` enters (`true`) or leaves a `blocking()` call.
#[inline(always)]
pub(crate) fn blocking(g: GPtr, enter: bool) {
    if on() {
        blocking_slow(g, enter);
    }
}

#[cold]
#[inline(never)]
fn blocking_slow(g: GPtr, enter: bool) {
    let kind = if enter {
        Kind::BlockEnter
    } else {
        Kind::BlockExit
    };
    record(Event::new(kind, g.id().as_u64()));
}

/// sysmon took P `p` from M `m` (inside `blocking()`, or running long).
#[inline(always)]
pub(crate) fn retake(p: usize, m: usize, in_blocking: bool) {
    if on() {
        retake_slow(p, m, in_blocking);
    }
}

#[cold]
#[inline(never)]
fn retake_slow(p: usize, m: usize, in_blocking: bool) {
    let mut ev = Event::new(Kind::Retake, 0);
    ev.p = p.min(NO_P as usize - 1) as u16;
    ev.arg = m as u64;
    ev.aux = u8::from(in_blocking);
    record(ev);
}

/// Due timers start firing on this thread; the span ends when the guard
/// drops.
#[inline(always)]
pub(crate) fn timer_fire() -> TimerSpan {
    if on() {
        record(Event::new(Kind::TimerBegin, 0));
        TimerSpan(true)
    } else {
        TimerSpan(false)
    }
}

/// See [`timer_fire`].
pub(crate) struct TimerSpan(bool);

impl Drop for TimerSpan {
    #[inline]
    fn drop(&mut self) {
        if self.0 {
            record(Event::new(Kind::TimerEnd, 0));
        }
    }
}

/// Remembers a named goroutine's name for the trace (named goroutines are
/// rare: each spawn of one already allocates). Called at every run of a
/// named goroutine; the last one noted on this thread (`main`, in a
/// ping-pong with an unnamed goroutine) is skipped without hashing.
fn note_name(g: u64, name: &str) {
    thread_local! {
        /// (session, last goroutine noted, every goroutine noted).
        static SEEN: RefCell<(u64, u64, std::collections::HashSet<u64>)> = RefCell::default();
    }
    let session = SESSION.load(Ordering::Relaxed);
    let new = SEEN
        .try_with(|s| {
            let mut s = s.borrow_mut();
            if s.0 != session {
                *s = (session, 0, Default::default());
            }
            if s.1 == g {
                return false;
            }
            s.1 = g;
            s.2.insert(g)
        })
        .unwrap_or(false);
    if new {
        if let Some(names) = lock(&NAMES).as_mut() {
            names.insert(g, name.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_map_linearly_onto_the_session() {
        let f = tick_converter(100, 1000, 300, 1200);
        assert_eq!((f(1000), f(1100), f(1200)), (100, 200, 300));
        assert_eq!(f(0), 1, "before the start: clamped, never 0");
        let a = ticks();
        let b = ticks();
        assert!(b >= a, "the event clock goes forward on one thread");
    }

    #[test]
    fn event_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Event>(), 32);
    }
}
