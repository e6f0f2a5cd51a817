//! Port of Go's `src/runtime/proc_test.go`.
//!
//! Ported: TestStopTheWorldDeadlock (without its `runtime.GC()` loop),
//! TestYieldProgress, TestGoroutineParallelism, TestGoroutineParallelism2
//! (its netpoll variants with a `weft::net` listener), TestTimerFairness,
//! TestTimerFairness2 (Go's empty `syscall.Read` is a `weft::blocking`
//! call), TestPreemption, TestNumGoroutine (Go's `runtime.Stack` is
//! `weft::dump_goroutines()`), TestPingPongHog, TestPreemptionAfterSyscall
//! (Go's `Entersyscall`/spin/`Exitsyscall` is a spin inside
//! `weft::blocking`), TestBigGOMAXPROCS.
//!
//! weft cannot preempt Rust code: where Go preempts a goroutine at a
//! function call, sysmon hands the hog's P (and the queue behind it) to
//! another M after 10 ms (docs/scheduler.md), so TestPreemption and
//! TestGoroutineParallelism exercise that instead.
//!
//! The `LockOSThread` tests (TestYieldLockedProgress, TestYieldLocked,
//! TestBlockLocked, TestLockOSThread*) are in `runtime_lockosthread`.
//!
//! Not ported: TestPreemptionGC, TestGCFairness, TestGCFairness2,
//! TestPreemptSplitBig (they need a GC or Go's stack-split checks),
//! TestAsyncPreempt (asynchronous preemption of a loop without calls: weft
//! does not preempt), TestSchedLocalQueue, TestSchedLocalQueueSteal,
//! TestSchedLocalQueueEmpty, TestStealOrder, TestGetgThreadSwitch,
//! TestNetpollBreak (Go's internal run queue, `getg` and netpoll calls,
//! exported only to its own tests),
//! TestTraceSTW, TestTraceGCSTW, TestMexitSTW (Go's execution-trace format
//! and stop-the-world; weft has neither). The benchmarks belong in
//! sched-bench.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::time::{after, sleep};
use weft::{chan, select, Receiver};

use crate::common::{self, ms, spin, MaxProcs};

fn perpetuum_mobile(stop: Receiver<bool>) {
    select! {
        recv(stop) -> _ => {}
        default => {
            weft::go!(perpetuum_mobile(stop.clone()));
        }
    }
}

/// Go skips it in `-short`; the `runtime.GC()` half has no counterpart.
#[test]
fn stop_the_world_deadlock() {
    common::run_alone(|| {
        let _restore = MaxProcs::set(3);
        let (compl, compl_rx) = chan::<bool>(2);
        weft::go!(move || {
            for _ in 0..1000 {
                weft::set_maxprocs(3);
            }
            compl.send(true).unwrap();
        });
        let (stop_tx, stop) = chan::<bool>(1);
        weft::go!(perpetuum_mobile(stop));
        compl_rx.recv().unwrap();
        stop_tx.send(true).unwrap();
    });
}

#[test]
fn yield_progress() {
    test_yield_progress(false);
}

/// Go's `testYieldProgress`, shared with TestYieldLockedProgress
/// (`runtime_lockosthread`).
pub fn test_yield_progress(locked: bool) {
    common::run(move || {
        let (c, c_rx) = chan::<bool>(0);
        let (cack, cack_rx) = chan::<bool>(0);
        weft::go!(move || {
            if locked {
                weft::lock_os_thread();
            }
            loop {
                select! {
                    recv(c_rx) -> _ => {
                        cack.send(true).unwrap();
                        return;
                    }
                    default => weft::yield_now(),
                }
            }
        });
        sleep(ms(10));
        c.send(true).unwrap();
        cack_rx.recv().unwrap();
    });
}

/// Three times: spins (no scheduling point) until `x` is `expected(i)`,
/// then advances it — only possible if the other goroutines of the round
/// run at the same time.
fn take_turns(x: &AtomicU32, expected: impl Fn(u32) -> u32) {
    for i in 0..3 {
        let e = expected(i);
        while x.load(Ordering::SeqCst) != e {
            std::hint::spin_loop();
        }
        x.store(e + 1, Ordering::SeqCst);
    }
}

/// All P goroutines are scheduled at the same time: each spins until the
/// others advance a shared counter.
#[test]
fn goroutine_parallelism() {
    const P: u32 = 4;
    const N: u32 = 10;
    common::run_alone(|| {
        let _procs = MaxProcs::set(P as usize);
        for _ in 0..N {
            let (done, done_rx) = chan::<bool>(0);
            let x = Arc::new(AtomicU32::new(0));
            for p in 0..P {
                let (x, done) = (x.clone(), done.clone());
                weft::go!(move || {
                    take_turns(&x, |i| P * i + p);
                    done.send(true).unwrap();
                });
            }
            for _ in 0..P {
                done_rx.recv().unwrap();
            }
        }
    });
}

/// Go's `testGoroutineParallelism2`: as [`goroutine_parallelism`], with
/// the goroutines spawned nested; with `load`, Ms that just went idle must
/// wake for them; with `netpoll`, a listening socket keeps the netpoller
/// active (it affects how idle Ms wait).
fn goroutine_parallelism2_(load: bool, netpoll: bool) {
    const P: u32 = 4;
    const N: u32 = 10;
    common::run_alone(move || {
        let _procs = MaxProcs::set(P as usize);
        let mut listeners = Vec::new(); // Go: `defer ln.Close()` in the loop
        for _ in 0..N {
            if load {
                // Create P goroutines and wait until they all run. When we
                // run the actual test below, worker threads running the
                // goroutines will start parking.
                let (done, done_rx) = chan::<bool>(0);
                let x = Arc::new(AtomicU32::new(0));
                for _ in 0..P {
                    let (x, done) = (x.clone(), done.clone());
                    weft::go!(move || {
                        if x.fetch_add(1, Ordering::SeqCst) + 1 == P {
                            done.send(true).unwrap();
                            return;
                        }
                        while x.load(Ordering::SeqCst) != P {
                            std::hint::spin_loop();
                        }
                    });
                }
                done_rx.recv().unwrap();
            }
            if netpoll {
                // Enable netpoller, affects scheduler behavior.
                if let Ok(ln) = weft::net::TcpListener::bind("127.0.0.1:0") {
                    listeners.push(ln);
                }
            }

            let (done, done_rx) = chan::<bool>(0);
            let x = Arc::new(AtomicU32::new(0));
            // Spawn P goroutines in a nested fashion just to differ from
            // goroutine_parallelism.
            for p in 0..P / 2 {
                let (x, done) = (x.clone(), done.clone());
                weft::go!(move || {
                    for p2 in 0..2 {
                        let (x, done) = (x.clone(), done.clone());
                        weft::go!(move || {
                            take_turns(&x, |i| P * i + p * 2 + p2);
                            done.send(true).unwrap();
                        });
                    }
                });
            }
            for _ in 0..P {
                done_rx.recv().unwrap();
            }
        }
    });
}

/// Go runs (load, netpoll) = (true, false), (false, true), (true, true).
#[test]
fn goroutine_parallelism2() {
    goroutine_parallelism2_(true, false);
    goroutine_parallelism2_(false, true);
    goroutine_parallelism2_(true, true);
}

/// A timer fires even while two goroutines keep a channel busy.
#[test]
fn timer_fairness() {
    common::run(|| {
        let (done_tx, done) = chan::<bool>(0);
        let (c_tx, c) = chan::<bool>(0);
        for _ in 0..2 {
            let (c_tx, done) = (c_tx.clone(), done.clone());
            weft::go!(move || loop {
                select! {
                    send(c_tx, true) -> _ => {}
                    recv(done) -> _ => return,
                }
            });
        }
        let timer = after(ms(20));
        loop {
            select! {
                recv(c) -> _ => {}
                recv(timer) -> _ => {
                    done_tx.close().unwrap();
                    return;
                }
            }
        }
    });
}

/// As `timer_fairness`, with a system call (a `blocking` call) in the loop.
#[test]
fn timer_fairness2() {
    common::run(|| {
        let (done_tx, done) = chan::<bool>(0);
        let (c_tx, c) = chan::<bool>(0);
        for _ in 0..2 {
            let (c_tx, c, done_tx) = (c_tx.clone(), c.clone(), done_tx.clone());
            weft::go!(move || {
                let timer = after(ms(20));
                loop {
                    weft::blocking(std::thread::yield_now); // Go: syscall.Read(0, buf[0:0])
                    select! {
                        send(c_tx, true) -> _ => {}
                        recv(c) -> _ => {}
                        recv(timer) -> _ => {
                            done_tx.send(true).unwrap();
                            return;
                        }
                    }
                }
            });
        }
        done.recv().unwrap();
        done.recv().unwrap();
    });
}

/// Go's `preempt`: a function call a goroutine makes in its spin loop.
#[inline(never)]
fn preempt() -> i64 {
    let a = std::hint::black_box([0i64; 128]);
    a.iter().sum()
}

/// Goroutines spinning in turn on an atomic make progress. Go preempts them
/// at function calls; weft's sysmon moves the spinning goroutine's queue to
/// another M.
#[test]
fn preemption() {
    common::run(|| {
        const N: u32 = 5;
        let (c, c_rx) = chan::<bool>(0);
        let x = Arc::new(AtomicU32::new(0));
        for g in 0..2 {
            let (c, x) = (c.clone(), x.clone());
            weft::go!(move || {
                for _ in 0..N {
                    while x.load(Ordering::SeqCst) != g {
                        preempt();
                    }
                    x.store(1 - g, Ordering::SeqCst);
                }
                c.send(true).unwrap();
            });
        }
        c_rx.recv().unwrap();
        c_rx.recv().unwrap();
    });
}

/// Go's testprog `NumGoroutine` prints `runtime.NumGoroutine()` at the
/// start of a program: 1. Then NumGoroutine and the goroutine dump agree.
#[test]
fn num_goroutine() {
    const CASE: &str = "num_goroutine";
    if common::is_child(CASE) {
        println!("NumGoroutine={}", common::run(weft::num_goroutine));
        return;
    }
    let out = common::child("runtime_proc::num_goroutine", CASE, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("NumGoroutine=1\n"),
        "want NumGoroutine=1, got {stdout:?}"
    );

    common::run_alone(|| {
        // Try up to 10 times for a match before giving up. This is a
        // fundamentally racy check but it's important to notice if
        // NumGoroutine and the dump are _always_ out of sync.
        for i in 0.. {
            // Give goroutines about to exit a chance to exit.
            weft::yield_now();
            let n = weft::num_goroutine();
            let dump = weft::dump_goroutines();
            let nstk = dump.lines().filter(|l| l.starts_with("goroutine ")).count();
            if n == nstk {
                break;
            }
            assert!(
                i < 10,
                "NumGoroutine={n}, but found {nstk} goroutines in stack dump: {dump}"
            );
        }
    });
}

/// Two pairs of goroutines ping-pong at GOMAXPROCS 1, one pair doing
/// 1,000x more work per turn. Both pairs should hand off the P within a
/// time slice to their buddy, so their counts stay within a factor of 20
/// (if the scheduler isn't working right, the gap is ~1000x).
///
/// Issue 20 measured 1,006 here; at dc2bec5 this port saw 70–1,036. Since
/// main's 7c10505 and 0859293 (a slice that runs out rotates the P's queue;
/// runnext hand-offs) it passes: 0.66–2.8 under both spawn policies.
///
/// The slice is wall-clock time that sysmon watches: on a machine loaded
/// far past two CPU hogs (load average 66) sysmon once did not get to end
/// a slice inside the 100 ms (54,000,000/1,000). So, as Go's timing tests
/// do, a failed measurement is taken again, up to three times: a scheduler
/// that lets a pair keep the P fails every one.
#[test]
fn ping_pong_hog() {
    const FACTOR: u64 = 20;
    const ATTEMPTS: usize = 3;
    let mut got = Vec::new();
    for _ in 0..ATTEMPTS {
        let (hog, light) = ping_pong_hog_once();
        eprintln!(
            "ping_pong_hog: hogCount/lightCount = {hog}/{light} = {:.3}",
            hog as f64 / light.max(1) as f64
        );
        // Within a factor of 20: both pairs handed off the P within a
        // time slice to their buddy.
        if hog / FACTOR <= light && light / FACTOR <= hog {
            return;
        }
        got.push(format!("{hog}/{light}"));
    }
    panic!(
        "want hogCount/lightCount in [{}, {FACTOR}] in one of {ATTEMPTS} tries; got {got:?}",
        1.0 / FACTOR as f64
    );
}

/// One measurement of [`ping_pong_hog`]: the two pairs' counts after
/// 100 ms.
fn ping_pong_hog_once() -> (u64, u64) {
    common::run_alone(|| {
        let _procs = MaxProcs::set(1);
        let (done_tx, done) = chan::<bool>(0);
        let hog_count = Arc::new(AtomicU64::new(0));
        let light_count = Arc::new(AtomicU64::new(0));
        let (hog_tx, hog_rx) = chan::<bool>(0);
        let (light_tx, light_rx) = chan::<bool>(0);
        let run =
            |limit: u64, counter: Arc<AtomicU64>, wake: (weft::Sender<bool>, Receiver<bool>)| {
                let done = done.clone();
                weft::go!(move || loop {
                    select! {
                        recv(done) -> _ => return,
                        recv(wake.1) -> _ => {
                            let mut n = counter.load(Ordering::Relaxed);
                            for _ in 0..limit {
                                n = std::hint::black_box(n + 1);
                            }
                            counter.store(n, Ordering::Relaxed);
                            wake.0.send(true).unwrap();
                        }
                    }
                });
            };
        // Start two co-scheduled hog goroutines.
        for _ in 0..2 {
            run(
                1_000_000,
                hog_count.clone(),
                (hog_tx.clone(), hog_rx.clone()),
            );
        }
        // Start two co-scheduled light goroutines.
        for _ in 0..2 {
            run(
                1_000,
                light_count.clone(),
                (light_tx.clone(), light_rx.clone()),
            );
        }
        // Start goroutine pairs and wait for a few preemption rounds.
        hog_tx.send(true).unwrap();
        light_tx.send(true).unwrap();
        sleep(ms(100));
        done_tx.close().unwrap();
        hog_rx.recv().unwrap();
        light_rx.recv().unwrap();
        (
            hog_count.load(Ordering::Relaxed),
            light_count.load(Ordering::Relaxed),
        )
    })
}

/// Go's `fakeSyscall`: a system call of `duration` (here a spin inside
/// `weft::blocking`, Go's entersyscall/exitsyscall).
fn fake_syscall(duration: Duration) {
    weft::blocking(|| spin(duration));
}

/// Goroutines calling short system calls in a loop must not keep the rest
/// from running: 8 of them at GOMAXPROCS 2 must all get started, and then
/// all stop, within 5 s. (Issue 20 saw this take 5–6.5 s with 1 µs calls
/// and 27–108 s with 10 µs ones, and CI once 8 s with 10 µs ones: a loop of
/// calls each too short for sysmon's retake kept its P until the OS
/// happened to deschedule it mid-call. Now leaving `blocking()` honours
/// sysmon's rotation request after a 10 ms slice, as Go's exitsyscall
/// honours a preemption: worst 0.02–0.3 s per round, loaded or not.)
fn test_preemption_after_syscall(syscall_duration: Duration) -> Vec<Duration> {
    common::run_alone(move || {
        let _procs = MaxProcs::set(2);
        const ITERATIONS: usize = 10;
        const NROUTINES: usize = 8;
        let mut took = Vec::new();
        for _ in 0..ITERATIONS {
            let (c, c_rx) = chan::<bool>(NROUTINES);
            let stop = Arc::new(AtomicU32::new(0));
            let start = Instant::now();
            for _ in 0..NROUTINES {
                let (c, stop) = (c.clone(), stop.clone());
                weft::go!(move || {
                    c.send(true).unwrap();
                    while stop.load(Ordering::SeqCst) == 0 {
                        fake_syscall(syscall_duration);
                    }
                    c.send(true).unwrap();
                });
            }
            // wait until all goroutines have started.
            for _ in 0..NROUTINES {
                c_rx.recv().unwrap();
            }
            stop.store(1, Ordering::SeqCst);
            // wait until all goroutines have finished.
            for _ in 0..NROUTINES {
                c_rx.recv().unwrap();
            }
            took.push(start.elapsed());
        }
        took
    })
}

/// Go's TestPreemptionAfterSyscall: 10 rounds at each of 10 µs, 100 µs and
/// 1 ms calls; about 2 s, so it runs once, not in the matrix.
#[test]
fn slow_preemption_after_syscall() {
    const MAX_DURATION: Duration = Duration::from_secs(5);
    for us in [10, 100, 1000] {
        let d = Duration::from_micros(us);
        let took = test_preemption_after_syscall(d);
        let worst = took.iter().max().copied().unwrap_or_default();
        eprintln!("slow_preemption_after_syscall/{d:?}: worst {worst:?} of {took:?}");
        assert!(
            worst <= MAX_DURATION,
            "{d:?}: timeout exceeded: {worst:?} ({MAX_DURATION:?})"
        );
    }
}

/// Setting GOMAXPROCS to a large value doesn't cause a crash at start.
#[test]
fn big_gomaxprocs() {
    const CASE: &str = "big_gomaxprocs";
    if common::is_child(CASE) {
        let n = common::run(|| {
            let h = weft::go!(move || weft::maxprocs());
            h.join().unwrap()
        });
        println!("maxprocs={n}");
        return;
    }
    let out = common::child(
        "runtime_proc::big_gomaxprocs",
        CASE,
        &[("WEFT_MAXPROCS", "1024")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("maxprocs=1024\n"),
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
}
