//! A goroutine's record at its end (`g::Life`), with real threads: the
//! handle, the last `Unparker` and the goroutine's M letting go at once;
//! and the result nobody takes, dropped by the goroutine itself, whose
//! `Drop` may park, lock or panic like any goroutine code (issue 26,
//! defects 1 and 3). The matrix in test.sh runs this file under both spawn
//! policies at maxprocs 1 and 2; two tests re-run this binary as a child
//! process (one to set `MALLOC_PERTURB_` before the allocator starts, one
//! to read what a panic prints).

use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use weft::runtime::park::{unparker, Unparker};

/// The env var that makes this binary run one test as a child process.
const CHILD: &str = "WEFT_LIFE_CHILD";

/// Re-runs this test binary with only `test` (in child mode) and `env`;
/// returns its output.
fn run_child(test: &str, env: &[(&str, &str)]) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .envs(env.iter().copied())
        .output()
        .expect("run the test binary as a child")
}

fn is_child(test: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|t| t == test)
}

/// Waits (polling) until `f` holds; a liveness bound, not a timing claim.
fn wait_until(what: &str, f: impl Fn() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(30), "timed out: {what}");
        if weft::current_id().is_some() {
            weft::time::sleep(Duration::from_millis(1));
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Other goroutines still run: one does `n` yields and is joined.
fn bystander_runs() {
    let h = weft::spawn(|| {
        for _ in 0..100 {
            weft::yield_now();
        }
        7
    });
    assert_eq!(h.join().unwrap(), 7);
}

// ---------------------------------------------------------------------------
// Defect 1: JoinHandle::drop against the last Unparker's drop

const MAGIC: u64 = 0x5eed_cafe_f00d_0001;

/// A result that checks, as it is dropped, that it is still the value its
/// goroutine returned, and counts its drops.
struct Canary {
    magic: u64,
    text: String,
    drops: Arc<AtomicUsize>,
}

impl Drop for Canary {
    fn drop(&mut self) {
        if self.magic != MAGIC || self.text != "the goroutine's result" {
            // Read from a freed record: make it loud, whatever the bytes.
            eprintln!("a corrupt result was dropped (magic {:#x})", self.magic);
            std::process::abort();
        }
        self.magic = 0;
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Spins until `f` holds, yielding the thread now and then (two cores,
/// shared).
fn spin_until(f: impl Fn() -> bool) {
    let mut n = 0u32;
    while !f() {
        n = n.wrapping_add(1);
        if n.is_multiple_of(1024) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Rounds of the race for `budget`: batches of finished goroutines, each
/// with one `Unparker` left; for each, the main thread drops the handle
/// while a plain thread drops the `Unparker`, the two released together
/// by a spinning rendezvous. Named goroutines, so a recycled record is
/// freed (a name stays with one goroutine) and, under `MALLOC_PERTURB_`,
/// overwritten at once. Returns (rounds, results dropped).
fn handle_vs_unparker_rounds(budget: Duration) -> (u64, usize) {
    const BATCH: usize = 500;
    let drops = Arc::new(AtomicUsize::new(0));
    let (utx, urx) = mpsc::channel::<Vec<Unparker>>();
    // Round `i` starts when the dropper has said `ready = i` and the main
    // thread then set `gate = i`.
    let ready = Arc::new(AtomicU64::new(0));
    let gate = Arc::new(AtomicU64::new(0));
    let dropper = {
        let (ready, gate) = (ready.clone(), gate.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            for batch in urx {
                for u in batch {
                    i += 1;
                    ready.store(i, Ordering::SeqCst);
                    spin_until(|| gate.load(Ordering::SeqCst) == i);
                    drop(u);
                }
            }
        })
    };
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < budget {
        let handles: Vec<_> = (0..BATCH)
            .map(|_| {
                let (tx, drops) = (tx.clone(), drops.clone());
                weft::Builder::new()
                    .name("life")
                    .spawn(move || {
                        tx.send(unparker()).unwrap();
                        Canary {
                            magic: MAGIC,
                            text: "the goroutine's result".to_string(),
                            drops,
                        }
                    })
                    .unwrap()
            })
            .collect();
        let batch: Vec<Unparker> = (0..BATCH).map(|_| rx.recv().unwrap()).collect();
        for h in &handles {
            while !h.is_finished() {
                std::thread::yield_now();
            }
        }
        utx.send(batch).unwrap();
        for h in handles {
            rounds += 1;
            spin_until(|| ready.load(Ordering::SeqCst) == rounds);
            gate.store(rounds, Ordering::SeqCst);
            drop(h);
        }
    }
    drop(utx);
    dropper.join().unwrap();
    (rounds, drops.load(Ordering::SeqCst))
}

/// Issue 26, defect 1: the handle of a finished goroutine let go of the
/// record first and read the result after, so the last `Unparker`,
/// dropped at that moment on another thread, could recycle (here: free)
/// the record under it. Run in a child process with `MALLOC_PERTURB_`,
/// which fills freed memory at once: the read then finds garbage (a
/// crash, or the canary's abort). Every result must be dropped exactly
/// once, intact.
#[test]
fn a_handle_dropped_as_the_last_unparker_goes_never_reads_a_freed_record() {
    const NAME: &str = "a_handle_dropped_as_the_last_unparker_goes_never_reads_a_freed_record";
    if is_child(NAME) {
        let secs = std::env::var("WEFT_LIFE_SECS").map_or(3.0, |s| s.parse().unwrap());
        let (rounds, drops) = handle_vs_unparker_rounds(Duration::from_secs_f64(secs));
        println!("rounds={rounds} drops={drops}");
        assert_eq!(drops as u64, rounds, "a result dropped twice, or never");
        return;
    }
    let out = run_child(NAME, &[("MALLOC_PERTURB_", "165")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // The harness prints the test's name on the same line, before it.
    let rounds = stdout.split_once("rounds=").map_or("", |(_, r)| r);
    let rounds = rounds.lines().next().unwrap_or("");
    eprintln!("handle vs last Unparker: rounds={rounds}");
}

// ---------------------------------------------------------------------------
// Defect 3: a detached goroutine's result is dropped by the goroutine

/// Detached goroutines, each waiting at a gate and then returning
/// `make(i)`: their handles are dropped before they end, so nobody will
/// take the results. Returns once the gate is open.
fn detached_results<R: Send + 'static>(
    n: usize,
    make: impl Fn(usize) -> R + Clone + Send + 'static,
) {
    let (open, gate) = weft::chan::<()>(0);
    for i in 0..n {
        let (gate, make) = (gate.clone(), make.clone());
        let h = weft::go!(move || {
            let _ = gate.recv(); // closed: returns
            make(i)
        });
        // Still at the gate (it cannot pass before `close` below): the
        // handle goes first, and the goroutine will drop its own result.
        assert!(!h.is_finished());
        drop(h);
    }
    open.close().unwrap();
}

/// A result whose `Drop` receives on a channel: it parks until a value
/// comes.
struct RecvOnDrop {
    rx: weft::Receiver<usize>,
    sum: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Drop for RecvOnDrop {
    fn drop(&mut self) {
        let v = self.rx.recv().expect("a value for every drop");
        self.sum.fetch_add(v, Ordering::SeqCst);
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Issue 26, defect 3: a detached goroutine's result was dropped by its M
/// after the switch, outside any goroutine, so a `Drop` that receives
/// aborted the process ("park called on an M outside any goroutine").
/// Now the goroutine drops it as its body ends, and parks like any
/// goroutine; other goroutines run meanwhile.
#[test]
fn a_detached_result_whose_drop_receives_parks_as_its_goroutine() {
    const N: usize = 16;
    let sum = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let (s, d) = (sum.clone(), drops.clone());
    weft::run(move || {
        let (tx, rx) = weft::chan::<usize>(0);
        let d2 = d.clone();
        detached_results(N, move |_| RecvOnDrop {
            rx: rx.clone(),
            sum: s.clone(),
            drops: d2.clone(),
        });
        // The results' drops wait for values; the rest runs on.
        bystander_runs();
        assert_eq!(d.load(Ordering::SeqCst), 0);
        for v in 1..=N {
            tx.send(v).unwrap(); // each send meets one parked drop
        }
        wait_until("every result dropped", || d.load(Ordering::SeqCst) == N);
        bystander_runs();
    });
    assert_eq!(drops.load(Ordering::SeqCst), N);
    assert_eq!(sum.load(Ordering::SeqCst), N * (N + 1) / 2);
}

/// A result whose `Drop` adds to a `weft::sync::Mutex` counter.
struct LockOnDrop {
    total: Arc<weft::sync::Mutex<usize>>,
    drops: Arc<AtomicUsize>,
}

impl Drop for LockOnDrop {
    fn drop(&mut self) {
        *self.total.lock() += 1;
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Defect 3 with a `weft::sync::Mutex`: the results' drops find the lock
/// held and park on it (they aborted the process before), and each adds
/// once when it is released.
#[test]
fn a_detached_result_whose_drop_locks_a_weft_mutex_parks_on_it() {
    const N: usize = 16;
    let total = Arc::new(weft::sync::Mutex::new(0usize));
    let drops = Arc::new(AtomicUsize::new(0));
    let (t, d) = (total.clone(), drops.clone());
    weft::run(move || {
        let held = t.lock();
        let (t2, d2) = (t.clone(), d.clone());
        detached_results(N, move |_| LockOnDrop {
            total: t2.clone(),
            drops: d2.clone(),
        });
        bystander_runs();
        assert_eq!(d.load(Ordering::SeqCst), 0, "a drop got past a held lock");
        drop(held);
        wait_until("every result dropped", || d.load(Ordering::SeqCst) == N);
        bystander_runs();
    });
    assert_eq!(drops.load(Ordering::SeqCst), N);
    assert_eq!(*total.lock(), N);
}

/// A result whose `Drop` panics, after counting.
struct PanicOnDrop(Arc<AtomicUsize>);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("expected: a result's drop panics");
    }
}

/// Defect 3 with a panicking `Drop`: it unwound through the M's exit path
/// and aborted the process ("panic in the scheduler"). Now it is a panic
/// of the goroutine, reported as such, and the runtime lives on. In a
/// child process, to read what it printed.
#[test]
fn a_detached_result_whose_drop_panics_is_a_goroutine_panic() {
    const NAME: &str = "a_detached_result_whose_drop_panics_is_a_goroutine_panic";
    const N: usize = 8;
    if is_child(NAME) {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        weft::run(move || {
            let d2 = d.clone();
            detached_results(N, move |_| PanicOnDrop(d2.clone()));
            wait_until("every result dropped", || d.load(Ordering::SeqCst) == N);
            bystander_runs();
        });
        // The runtime lives on: a goroutine spawned from a plain thread.
        assert_eq!(weft::spawn(|| 5).join().unwrap(), 5);
        assert_eq!(drops.load(Ordering::SeqCst), N);
        println!("child done");
        return;
    }
    let out = run_child(NAME, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("child done"),
        "the child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let reports = stderr
        .lines()
        .filter(|l| l.starts_with("goroutine ") && l.contains(" panicked at "))
        .count();
    let messages = stderr.matches("expected: a result's drop panics").count();
    assert_eq!(
        (reports, messages),
        (N, N),
        "each panic reported once, as a goroutine's:\n{stderr}"
    );
}

/// A `Drop` that receives while a panic unwinds through its goroutine (a
/// local, not the result): the goroutine blocks its thread instead of
/// switching (`park`'s rule while unwinding), the others run on, and the
/// panic ends the goroutine as ever: `join` returns it, and a detached
/// one's payload is dropped by the goroutine.
#[test]
fn a_drop_that_receives_while_its_goroutine_unwinds() {
    const N: usize = 4;
    let sum = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let (s, d) = (sum.clone(), drops.clone());
    weft::run(move || {
        let (tx, rx) = weft::chan::<usize>(0);
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let local = RecvOnDrop {
                    rx: rx.clone(),
                    sum: s.clone(),
                    drops: d.clone(),
                };
                let h = weft::go!(move || {
                    let _local = local;
                    panic!("expected: unwinds through a Drop that receives");
                });
                // Half joined, half detached.
                (i % 2 == 0).then_some(h)
            })
            .collect();
        bystander_runs();
        for v in 1..=N {
            tx.send(v).unwrap();
        }
        for h in handles.into_iter().flatten() {
            let err = h.join().unwrap_err();
            assert_eq!(
                err.message(),
                Some("expected: unwinds through a Drop that receives")
            );
        }
        wait_until("every local dropped", || d.load(Ordering::SeqCst) == N);
        bystander_runs();
    });
    assert_eq!(drops.load(Ordering::SeqCst), N);
    assert_eq!(sum.load(Ordering::SeqCst), N * (N + 1) / 2);
}
