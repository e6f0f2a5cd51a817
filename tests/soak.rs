//! A seeded soak test: rounds of a random mix of spawns, channel
//! operations (send, recv, their `try_` and `_timeout` forms, `select!`
//! over several channels and timers), sync (`Mutex`, `WaitGroup`,
//! `Semaphore`), timers (`sleep`, `after`, `Timer`), `blocking` calls,
//! producers on plain threads and planned panics — counting every message,
//! wake-up, goroutine and panic:
//!
//! - every message id is sent exactly once and received exactly once;
//! - every spawned goroutine is joined, or (detached) counted out through a
//!   `WaitGroup`; every mutex increment is there at the end;
//! - every planned panic reaches the panic hook once and its `join` once;
//! - a `recv_timeout`/`send_timeout` never times out before its deadline,
//!   and a round never hangs (a watchdog thread prints the seed and a
//!   goroutine dump, then aborts).
//!
//! Run it as CI does (`test.sh` runs it for a few seconds under every
//! `WEFT_SPAWN` × `WEFT_MAXPROCS`), or for longer:
//!
//! ```text
//! WEFT_SOAK_SECS=600 WEFT_SPAWN=child WEFT_MAXPROCS=1 cargo test --release -p weft --test soak
//! ```
//!
//! Each round has its own seed, printed when the round fails;
//! `WEFT_SOAK_SEED=<seed>` starts the run with that round (the operations
//! each goroutine picks are the same; the interleaving is the machine's).

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use weft::sync::{Mutex, Semaphore, WaitGroup};
use weft::time::{after, sleep, Timer};
use weft::{chan, select, Receiver, RecvTimeoutError, SendTimeoutError, Sender, TrySendError};

/// splitmix64: small, deterministic, good enough to pick operations.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn micros(&mut self, max: u64) -> Duration {
        Duration::from_micros(self.below(max + 1))
    }

    /// A generator for another party, derived from this one.
    fn fork(&mut self) -> Rng {
        Rng(self.next())
    }
}

/// The payload of every planned panic: the hook counts these and keeps
/// them off stderr.
const PLANNED: &str = "soak: planned panic";

static HOOK_PANICS: AtomicU64 = AtomicU64::new(0);

/// Wraps the runtime's panic hook (installed when it starts) so planned
/// panics are counted and not printed; every other panic prints as usual.
fn install_hook() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        weft::spawn(|| ()).join().unwrap(); // the runtime installs its hook
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() == Some(&PLANNED) {
                HOOK_PANICS.fetch_add(1, SeqCst);
            } else {
                prev(info);
            }
        }));
    });
}

/// What one round counts.
struct Tally {
    /// Per message id: how many times it was sent, and received.
    sent: Vec<AtomicU8>,
    seen: Vec<AtomicU8>,
    /// Ids received that nobody sent (out of range).
    bogus: AtomicU64,
    counter: Mutex<u64>,
    increments: AtomicU64,
    planned_panics: AtomicU64,
    join_errors: AtomicU64,
    detached: WaitGroup,
    detached_spawned: AtomicU64,
    detached_done: AtomicU64,
    /// At most two goroutines inside the semaphore's section at once.
    sem: Semaphore,
    in_sem: AtomicU64,
    sem_overrun: AtomicBool,
    early_timeouts: AtomicU64,
    ops: AtomicU64,
}

impl Tally {
    fn new(ids: usize) -> Tally {
        Tally {
            sent: (0..ids).map(|_| AtomicU8::new(0)).collect(),
            seen: (0..ids).map(|_| AtomicU8::new(0)).collect(),
            bogus: AtomicU64::new(0),
            counter: Mutex::new(0),
            increments: AtomicU64::new(0),
            planned_panics: AtomicU64::new(0),
            join_errors: AtomicU64::new(0),
            detached: WaitGroup::new(),
            detached_spawned: AtomicU64::new(0),
            detached_done: AtomicU64::new(0),
            sem: Semaphore::new(2),
            in_sem: AtomicU64::new(0),
            sem_overrun: AtomicBool::new(false),
            early_timeouts: AtomicU64::new(0),
            ops: AtomicU64::new(0),
        }
    }

    fn received(&self, v: u64) {
        match self.seen.get(v as usize) {
            Some(c) => {
                c.fetch_add(1, SeqCst);
            }
            None => {
                self.bogus.fetch_add(1, SeqCst);
            }
        }
    }
}

/// One of the side operations any goroutine mixes in between messages.
fn side_op(rng: &mut Rng, t: &Arc<Tally>, on_goroutine: bool) {
    t.ops.fetch_add(1, SeqCst);
    match rng.pick(10) {
        0 => weft::yield_now(),
        1 => sleep(rng.micros(300)),
        2 => {
            let d = rng.micros(200);
            weft::blocking(move || std::thread::sleep(d));
        }
        3 => {
            *t.counter.lock() += 1;
            t.increments.fetch_add(1, SeqCst);
        }
        4 => {
            // A planned panic, joined.
            t.planned_panics.fetch_add(1, SeqCst);
            let h = weft::spawn(|| -> u32 { std::panic::panic_any(PLANNED) });
            if h.join().is_err() {
                t.join_errors.fetch_add(1, SeqCst);
            }
        }
        5 => {
            // A receive that must time out, never early.
            let (_tx, rx) = chan::<u64>(rng.pick(2));
            let d = rng.micros(300);
            let t0 = Instant::now();
            match rx.recv_timeout(d) {
                Err(RecvTimeoutError::Timeout) if t0.elapsed() >= d => {}
                Err(RecvTimeoutError::Timeout) => {
                    t.early_timeouts.fetch_add(1, SeqCst);
                }
                other => panic!("recv_timeout on an empty channel: {other:?}"),
            }
        }
        6 => {
            // A timer stopped before it fires, or left to fire unread.
            let tm = Timer::new(rng.micros(500));
            if rng.chance(50) {
                tm.stop();
            }
        }
        7 => {
            // A detached goroutine, accounted for through the WaitGroup.
            t.detached.add(1);
            t.detached_spawned.fetch_add(1, SeqCst);
            let t2 = t.clone();
            let d = rng.micros(200);
            drop(weft::spawn(move || {
                sleep(d);
                t2.detached_done.fetch_add(1, SeqCst);
                t2.detached.done();
            }));
        }
        8 => {
            t.sem.acquire(1);
            if t.in_sem.fetch_add(1, SeqCst) >= 2 {
                t.sem_overrun.store(true, SeqCst);
            }
            if on_goroutine {
                weft::yield_now();
            }
            t.in_sem.fetch_sub(1, SeqCst);
            t.sem.release(1);
        }
        _ => {
            // select! on a timer alone.
            select! {
                recv(after(rng.micros(100))) -> v => assert!(v.is_ok()),
            }
        }
    }
}

/// Sends every id in `ids`, each exactly once, through a random mix of
/// operations; hands a slice of them to a child goroutine now and then.
fn produce(mut rng: Rng, txs: Vec<Sender<u64>>, ids: std::ops::Range<u64>, t: Arc<Tally>) {
    let on_goroutine = weft::current_id().is_some();
    let mut children = Vec::new();
    let mut next = ids.start;
    while next < ids.end {
        if rng.chance(10) {
            side_op(&mut rng, &t, on_goroutine);
        }
        if on_goroutine && rng.chance(3) && ids.end - next > 4 {
            // A child sends the next few ids; joined below.
            let k = 1 + rng.below((ids.end - next) / 2);
            let (r, tx, tt) = (rng.fork(), txs.clone(), t.clone());
            children.push(weft::spawn(move || produce(r, tx, next..next + k, tt)));
            next += k;
            continue;
        }
        let v = next;
        next += 1;
        let a = &txs[rng.pick(txs.len())];
        let b = &txs[rng.pick(txs.len())];
        match rng.pick(5) {
            0 => a.send(v).unwrap(),
            1 => {
                let d = rng.micros(300);
                let t0 = Instant::now();
                match a.send_timeout(v, d) {
                    Ok(()) => {}
                    Err(SendTimeoutError::Timeout(v)) => {
                        if t0.elapsed() < d {
                            t.early_timeouts.fetch_add(1, SeqCst);
                        }
                        a.send(v).unwrap();
                    }
                    Err(e) => panic!("send_timeout on an open channel: {e:?}"),
                }
            }
            2 => match a.try_send(v) {
                Ok(()) => {}
                Err(TrySendError::Full(v)) => b.send(v).unwrap(),
                Err(e) => panic!("try_send on an open channel: {e:?}"),
            },
            3 => select! {
                send(a, v) -> r => r.unwrap(),
                send(b, v) -> r => r.unwrap(),
            },
            _ => {
                let sent = select! {
                    send(a, v) -> r => { r.unwrap(); true },
                    recv(after(rng.micros(200))) -> _ => false,
                };
                if !sent {
                    b.send(v).unwrap();
                }
            }
        }
        t.sent[v as usize].fetch_add(1, SeqCst);
    }
    for h in children {
        h.join().unwrap();
    }
}

/// Receives until every channel is closed and drained.
fn consume(mut rng: Rng, rxs: Vec<Receiver<u64>>, t: Arc<Tally>) {
    let mut open: Vec<usize> = (0..rxs.len()).collect();
    let close = |open: &mut Vec<usize>, i: usize| open.retain(|&j| j != i);
    while !open.is_empty() {
        if rng.chance(5) {
            side_op(&mut rng, &t, true);
        }
        let i = open[rng.pick(open.len())];
        let j = open[rng.pick(open.len())];
        // Blocking forever on some of the channels could deadlock with a
        // producer blocked on another: block on all open channels at once,
        // or on one with a timeout.
        match rng.pick(6) {
            0 if open.len() == 1 => match rxs[i].recv() {
                Ok(v) => t.received(v),
                Err(_) => close(&mut open, i),
            },
            0 | 1 => {
                let d = rng.micros(300);
                let t0 = Instant::now();
                match rxs[i].recv_timeout(d) {
                    Ok(v) => t.received(v),
                    Err(RecvTimeoutError::Timeout) => {
                        if t0.elapsed() < d {
                            t.early_timeouts.fetch_add(1, SeqCst);
                        }
                    }
                    Err(RecvTimeoutError::Closed) => close(&mut open, i),
                }
            }
            2 => match rxs[i].try_recv() {
                Ok(v) => t.received(v),
                Err(weft::TryRecvError::Empty) => weft::yield_now(),
                Err(weft::TryRecvError::Closed) => close(&mut open, i),
            },
            3 => select! {
                recv(rxs[i]) -> r => match r {
                    Ok(v) => t.received(v),
                    Err(_) => close(&mut open, i),
                },
                recv(rxs[j]) -> r => match r {
                    Ok(v) => t.received(v),
                    Err(_) => close(&mut open, j),
                },
                recv(after(rng.micros(300))) -> _ => {},
            },
            4 => select! {
                recv(rxs[i]) -> r => match r {
                    Ok(v) => t.received(v),
                    Err(_) => close(&mut open, i),
                },
                recv(after(rng.micros(300))) -> _ => {},
            },
            _ => {
                // Every open channel at once (Go's reflect.Select).
                let mut sel = weft::Select::new();
                for &k in &open {
                    sel.recv(&rxs[k]);
                }
                let op = sel.select();
                let k = open[op.index()];
                match op.recv(&rxs[k]) {
                    Ok(v) => t.received(v),
                    Err(_) => close(&mut open, k),
                }
            }
        }
    }
}

/// One round: producers and consumers over a few channels, then the
/// checks. Returns a description of what went wrong, if anything.
fn round(seed: u64) -> Result<u64, String> {
    let mut rng = Rng(seed);
    let nchan = 1 + rng.pick(4);
    let nprod = 1 + rng.pick(6);
    let ncons = 1 + rng.pick(4);
    let per: Vec<u64> = (0..nprod).map(|_| rng.below(150)).collect();
    let ids: u64 = per.iter().sum();
    let t = Arc::new(Tally::new(ids as usize));
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..nchan)
        .map(|_| chan::<u64>([0, 0, 1, 2, 8][rng.pick(5)]))
        .unzip();

    let consumers: Vec<_> = (0..ncons)
        .map(|_| {
            let (r, rx, tt) = (rng.fork(), rxs.clone(), t.clone());
            weft::spawn(move || consume(r, rx, tt))
        })
        .collect();
    drop(rxs);
    let mut start = 0;
    let mut producers = Vec::new();
    let mut threads = Vec::new();
    for n in per {
        let (r, tx, tt) = (rng.fork(), txs.clone(), t.clone());
        let range = start..start + n;
        start += n;
        if rng.chance(20) {
            // A producer on a plain OS thread: channels work across both.
            threads.push(std::thread::spawn(move || produce(r, tx, range, tt)));
        } else {
            producers.push(weft::spawn(move || produce(r, tx, range, tt)));
        }
    }
    for h in producers {
        h.join().map_err(|e| format!("a producer panicked: {e}"))?;
    }
    for th in threads {
        th.join()
            .map_err(|_| "a producer thread panicked".to_string())?;
    }
    drop(txs); // closes every channel: the consumers drain and stop
    for h in consumers {
        h.join().map_err(|e| format!("a consumer panicked: {e}"))?;
    }
    t.detached.wait();

    let mut errs = Vec::new();
    for (id, (s, r)) in t.sent.iter().zip(&t.seen).enumerate() {
        let (s, r) = (s.load(SeqCst), r.load(SeqCst));
        if s != 1 || r != 1 {
            errs.push(format!("message {id}: sent {s} times, received {r} times"));
        }
    }
    let bogus = t.bogus.load(SeqCst);
    if bogus != 0 {
        errs.push(format!("{bogus} values received that were never sent"));
    }
    let (count, incs) = (*t.counter.lock(), t.increments.load(SeqCst));
    if count != incs {
        errs.push(format!("mutex counter {count}, {incs} increments made"));
    }
    let (planned, joined) = (t.planned_panics.load(SeqCst), t.join_errors.load(SeqCst));
    if planned != joined {
        errs.push(format!("{planned} planned panics, {joined} joins saw one"));
    }
    let (spawned, done) = (
        t.detached_spawned.load(SeqCst),
        t.detached_done.load(SeqCst),
    );
    if spawned != done {
        errs.push(format!(
            "{spawned} detached goroutines, {done} finished after WaitGroup::wait"
        ));
    }
    if t.sem_overrun.load(SeqCst) {
        errs.push("more than 2 holders inside a Semaphore(2)".into());
    }
    let early = t.early_timeouts.load(SeqCst);
    if early != 0 {
        errs.push(format!("{early} timeouts before their deadline"));
    }
    if errs.is_empty() {
        Ok(planned)
    } else {
        if errs.len() > 20 {
            let more = errs.len() - 20;
            errs.truncate(20);
            errs.push(format!("... and {more} more"));
        }
        Err(errs.join("\n"))
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={v:?}: not a number: {e}")))
}

/// What every failure message names: the configuration and the seed.
fn config(seed: u64) -> String {
    format!(
        "WEFT_SOAK_SEED={seed:#x} WEFT_SPAWN={} WEFT_MAXPROCS={}",
        std::env::var("WEFT_SPAWN").unwrap_or_else(|_| "(default)".into()),
        weft::maxprocs()
    )
}

/// Aborts the process with the seed and a goroutine dump if one round
/// runs longer than `limit` (a lost wake-up hangs; it must not hang CI).
fn watchdog(current: Arc<(AtomicU64, AtomicU64)>, limit: Duration) {
    std::thread::spawn(move || {
        let mut last = (u64::MAX, Instant::now());
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let (round, seed) = (current.0.load(SeqCst), current.1.load(SeqCst));
            if round != last.0 {
                last = (round, Instant::now());
            } else if last.1.elapsed() > limit {
                let dump = weft::dump_goroutines();
                // Straight to stderr: the test harness captures eprintln!.
                let _ = writeln!(
                    std::io::stderr(),
                    "soak: round {round} hung for {limit:?}: replay with {}\n{dump}",
                    config(seed)
                );
                std::process::abort();
            }
        }
    });
}

#[test]
fn soak() {
    install_hook();
    let secs = env_u64("WEFT_SOAK_SECS").unwrap_or(3);
    let mut seed = env_u64("WEFT_SOAK_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
    });
    println!("soak: {} for {secs} s", config(seed));
    let current = Arc::new((AtomicU64::new(0), AtomicU64::new(seed)));
    watchdog(current.clone(), Duration::from_secs(120));
    let hooks_before = HOOK_PANICS.load(SeqCst);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (mut rounds, mut planned) = (0u64, 0u64);
    loop {
        current.1.store(seed, SeqCst);
        current.0.store(rounds, SeqCst);
        let res = weft::spawn(move || round(seed))
            .join()
            .unwrap_or_else(|e| Err(format!("the round panicked: {e}")));
        match res {
            Ok(p) => planned += p,
            Err(e) => panic!(
                "soak round {rounds} failed; replay with {}:\n{e}",
                config(seed)
            ),
        }
        rounds += 1;
        seed = Rng(seed).next();
        if Instant::now() >= deadline {
            break;
        }
    }
    let hooks = HOOK_PANICS.load(SeqCst) - hooks_before;
    assert_eq!(
        hooks,
        planned,
        "the panic hook saw {hooks} planned panics, {planned} were made ({})",
        config(seed)
    );
    println!("soak: {rounds} rounds, {planned} planned panics, all accounted for");
}
