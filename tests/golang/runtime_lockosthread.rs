//! Port of Go's `LockOSThread` tests: from `src/runtime/proc_test.go`
//! TestYieldLockedProgress, TestYieldLocked, TestBlockLocked,
//! TestLockOSThreadNesting, TestLockOSThreadExit,
//! TestLockOSThreadAvoidsStatePropagation,
//! TestLockOSThreadTemplateThreadRace and TestLockOSThreadVgetrandom, with
//! the test programs they run (`src/runtime/testdata/testprog/lockosthread.go`,
//! `lockosthread_linux.go`, `syscalls_linux.go`).
//!
//! What differs:
//!
//! - Go's "main thread" (where `init` runs) is, here, the thread that runs
//!   the main goroutine: `weft::run`'s caller is not an M. Go's testprog
//!   locks the main goroutine in `init`; here the main goroutine locks
//!   first thing.
//! - TestLockOSThreadNesting reads Go's internal `LockOSCounts`; weft has
//!   no such call, so the port checks what the counts decide: with one
//!   lock left the goroutine stays on its thread across parks and yields,
//!   and with none left it exits without taking its thread along.
//! - TestLockOSThreadExit's `LockOSThreadMain` and
//!   TestLockOSThreadAvoidsStatePropagation run as a child process with
//!   `WEFT_MAXPROCS=1` (Go: `GOMAXPROCS=1`); `LockOSThreadAlt` runs in
//!   this process. Go's checks unchanged (`gettid`, `/proc/self/task`,
//!   `unshare(CLONE_FS)` + `chdir`); the state-propagation test also checks
//!   a `thread_local!` set on the tainted thread, and the exit test also
//!   waits for the main thread to be gone.
//! - TestLockOSThreadTemplateThreadRace: weft has no stop-the-world and no
//!   template thread; Go's `ReadMemStats` loop is a `weft::stats()` loop
//!   (it reads every P and M), racing the same two `lock_os_thread` calls
//!   with work in the local queue. In-process, alone at maxprocs 4 (Go's
//!   program sets `GOMAXPROCS(4)`): 5 rounds (Go's `-short`), and
//!   `slow_lock_os_thread_template_thread_race` 100 (Go's).
//! - TestLockOSThreadVgetrandom guards a bug in Go's own per-M cache of
//!   vDSO `getrandom` state, freed when a locked M exits; weft keeps no
//!   such state (glibc keeps its own, per thread). What carries over is
//!   the stress: many goroutines call `getrandom`, spin and exit locked,
//!   each taking its thread along. Sizes cut (200 goroutines, 20 at a time,
//!   10^5 spins; Go: 1,000, 100, 10^7).
//!
//! TestLockOSThreadAvoidsStatePropagation found a weft bug, since fixed: a
//! new M cloned from a locked thread inherited its state (see the test).

use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::chan;
use weft::sync::WaitGroup;
use weft::time::sleep;

use crate::common::{self, ms, us, MaxProcs};

/// The kernel's id of the calling thread. A syscall, not a thread-local
/// read, so it is right after any switch.
fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Go's testprog `tidExists`: whether thread `tid` of this process is
/// alive (a zombie is not).
fn tid_exists(tid: i32) -> bool {
    let path = format!("/proc/self/task/{tid}/status");
    let status = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => {
            return false
        }
        Err(e) => panic!("{path}: {e}"),
    };
    let state = status
        .lines()
        .find_map(|l| l.strip_prefix("State:"))
        .unwrap_or_else(|| panic!("unexpected status file format: {path}:\n{status}"));
    !state.contains('Z')
}

/// Waits (up to 10 s, a liveness bound) for thread `tid` to exit.
fn wait_gone(tid: i32, what: &str) {
    let t = Instant::now();
    while tid_exists(tid) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{what}: thread {tid} still running"
        );
        sleep(ms(1));
    }
}

#[test]
fn yield_locked_progress() {
    crate::runtime_proc::test_yield_progress(true);
}

/// Locks the calling goroutine and runs `step` `n` times, checking after
/// each that the goroutine is still on its thread.
fn locked_steps(n: usize, mut step: impl FnMut()) {
    weft::lock_os_thread();
    let me = gettid();
    for i in 0..n {
        step();
        assert_eq!(gettid(), me, "locked goroutine moved at step {i}");
    }
}

/// Also checks that the goroutine stays on its thread.
#[test]
fn yield_locked() {
    const N: usize = 10;
    common::run(|| {
        let (c, c_rx) = chan::<bool>(0);
        weft::go!(move || {
            locked_steps(N, || {
                weft::yield_now();
                sleep(ms(1));
            });
            c.send(true).unwrap();
            // weft::unlock_os_thread() is deliberately omitted
        });
        c_rx.recv().unwrap();
    });
}

/// Also checks that the goroutine stays on its thread.
#[test]
fn block_locked() {
    const N: usize = 10;
    common::run(|| {
        let (c, c_rx) = chan::<bool>(0);
        weft::go!(move || {
            locked_steps(N, || c.send(true).unwrap());
            weft::unlock_os_thread();
        });
        for _ in 0..N {
            c_rx.recv().unwrap();
        }
    });
}

/// Go checks `LockOSCounts()` is (0, 0), then (1, 0) after lock, lock,
/// unlock, then (0, 0) after one more unlock. Here: one lock left keeps
/// the goroutine on its thread across parks, yields and spawns (at least
/// one); after the last unlock the goroutine exits and its thread lives on
/// (none left: exiting locked would end the thread). Alone: once free, the
/// thread may run another test's goroutine, which may exit locked.
#[test]
fn lock_os_thread_nesting() {
    common::run_alone(|| {
        let h = weft::go!(|| {
            weft::lock_os_thread();
            weft::lock_os_thread();
            weft::unlock_os_thread();
            let me = gettid();
            for i in 0..20 {
                match i % 3 {
                    0 => weft::yield_now(),
                    1 => sleep(us(100)),
                    _ => weft::go!(|| ()).join().unwrap(),
                }
                assert_eq!(gettid(), me, "want locked count 1: moved at step {i}");
            }
            weft::unlock_os_thread();
            me
        });
        let tid = h.join().unwrap();
        // Had a lock been left, the thread would exit right after the
        // goroutine: give it the time to. (An idle M beyond maxprocs exits
        // only after 2 s.)
        sleep(ms(20));
        assert!(
            tid_exists(tid),
            "want locked count 0: the thread exited with the goroutine"
        );
    });
}

/// Go's testprog `LockOSThreadMain` (at maxprocs 1): a goroutine that
/// starts on the main goroutine's thread and exits locked takes that
/// thread along; the main goroutine runs on elsewhere.
fn lock_os_thread_main() {
    let main_tid = gettid();
    assert_eq!(weft::maxprocs(), 1, "requires WEFT_MAXPROCS=1");
    let (ready, ready_rx) = chan::<bool>(1);
    weft::go!(move || {
        // Because maxprocs is 1, this *should* be on the main goroutine's
        // thread. Stay there.
        weft::lock_os_thread();
        assert_eq!(
            gettid(),
            main_tid,
            "failed to start goroutine on main thread"
        );
        // Exit with the thread locked, which should exit the main thread.
        ready.send(true).unwrap();
    });
    ready_rx.recv().unwrap();
    sleep(ms(1));
    // Check that this goroutine is running on a different thread.
    assert_ne!(gettid(), main_tid, "goroutine migrated to locked thread");
    wait_gone(main_tid, "the locked goroutine exited");
}

/// Go's testprog `LockOSThreadAlt`: the main goroutine is locked; a
/// goroutine that locks and exits takes a thread of its own along, which
/// nobody reuses.
fn lock_os_thread_alt() {
    weft::lock_os_thread();
    let (ready, ready_rx) = chan::<i32>(1);
    weft::go!(move || {
        // This goroutine must be running on a new thread.
        weft::lock_os_thread();
        ready.send(gettid()).unwrap();
        // Exit with the thread locked.
    });
    let sub_tid = ready_rx.recv().unwrap();
    weft::unlock_os_thread();
    for _ in 0..100 {
        sleep(ms(1));
        // Check that this goroutine is running on a different thread.
        assert_ne!(gettid(), sub_tid, "locked thread reused");
        if !tid_exists(sub_tid) {
            return;
        }
    }
    panic!("sub thread {sub_tid} still running");
}

#[test]
fn lock_os_thread_exit() {
    const CASE: &str = "lock_os_thread_main";
    if common::is_child(CASE) {
        common::run(lock_os_thread_main);
        println!("\nOK");
        return;
    }
    let out = common::child(
        "runtime_lockosthread::lock_os_thread_exit",
        CASE,
        &[("WEFT_MAXPROCS", "1")],
    );
    assert_ok(&out);

    common::run(lock_os_thread_alt);
}

/// The child printed Go's "OK" line.
fn assert_ok(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.lines().any(|l| l == "OK"),
        "want \"OK\", got {}:\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

thread_local! {
    /// Set on the thread whose state the first goroutine taints.
    static TAINTED: Cell<bool> = const { Cell::new(false) };
}

#[inline(never)]
fn taint_thread() {
    TAINTED.set(true);
}

#[inline(never)]
fn thread_tainted() -> bool {
    TAINTED.get()
}

/// Go's testprog `LockOSThreadAvoidsStatePropagation` (at maxprocs 1):
/// a locked goroutine gives its thread a working directory of its own
/// (`unshare(CLONE_FS)`, `chdir`) and exits locked; a goroutine locked
/// after it must see the process's directory — neither the dead thread
/// reused nor a thread cloned from it. `None`: unshare is not permitted.
fn avoids_state_propagation() -> Option<()> {
    assert_eq!(weft::maxprocs(), 1, "requires WEFT_MAXPROCS=1");
    // This is running locked to the "main thread".
    weft::lock_os_thread();
    std::env::set_current_dir("/").expect("failed to chdir");
    let cwd = std::env::current_dir().expect("failed to get cwd");
    assert_eq!(cwd.to_str(), Some("/"), "unexpected cwd, wanted /");

    let (ready, ready_rx) = chan::<Option<i32>>(1);
    weft::go!(move || {
        // This goroutine must be running on a new thread.
        weft::lock_os_thread();
        // Unshare details about the FS, like the CWD, with the rest of
        // the process on this thread.
        // SAFETY: unshare has no memory preconditions; CLONE_FS affects
        // only this thread, which nothing else runs on while it is locked.
        if unsafe { libc::unshare(libc::CLONE_FS) } != 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EPERM | libc::ENOSYS | libc::EINVAL) => {
                    ready.send(None).unwrap();
                    return;
                }
                _ => panic!("failed to unshare fs: {e}"),
            }
        }
        // Chdir to somewhere else on this thread.
        std::env::set_current_dir(std::env::temp_dir()).expect("failed to chdir");
        taint_thread();
        // The state on this thread is now considered "tainted", but it
        // should no longer be observable in any other context.
        ready.send(Some(gettid())).unwrap();
        // Exit with the thread locked.
    });
    let tainted_tid = ready_rx.recv().unwrap()?;

    // Spawn yet another goroutine and lock it. Since maxprocs is 1, if
    // state from the (hopefully dead) locked thread above propagated into
    // a newly created thread (via clone), or that thread is actually being
    // re-used, then we should get scheduled on such a thread with high
    // likelihood.
    let (done, done_rx) = chan::<bool>(0);
    let h = weft::go!(move || {
        weft::lock_os_thread();
        // Every thread should share the main thread's directory.
        let wd = std::env::current_dir().expect("failed to get cwd");
        let (me, reused) = (gettid(), thread_tainted());
        assert!(
            !reused && me != tainted_tid,
            "the tainted thread {tainted_tid} was reused (here: thread {me})"
        );
        assert_eq!(
            wd,
            cwd,
            "bad state from old thread propagated after it should have died \
             (thread {me}; the tainted thread {tainted_tid} alive: {})",
            tid_exists(tainted_tid)
        );
        done_rx.recv().unwrap();
        weft::unlock_os_thread();
    });
    done.send(true).unwrap();
    h.join().unwrap();
    weft::unlock_os_thread();
    Some(())
}

/// Failed 6-10 runs in 10 (either spawn policy) before weft had a
/// template thread: the goroutine locked second found the tainted
/// directory on a *new* thread, because weft created Ms with
/// `std::thread::spawn` from whichever thread needed one (here the tainted
/// one) and a thread shares its creator's fs state (`CLONE_FS`). Now, as in
/// Go, a locked M hands thread creation to a template thread started by
/// the first `lock_os_thread` (`sched::worker::spawn_m`).
#[test]
fn lock_os_thread_avoids_state_propagation() {
    const CASE: &str = "avoids_state_propagation";
    if common::is_child(CASE) {
        match common::run(avoids_state_propagation) {
            Some(()) => println!("\nOK"),
            None => println!("\nunshare not permitted"),
        }
        return;
    }
    let out = common::child(
        "runtime_lockosthread::lock_os_thread_avoids_state_propagation",
        CASE,
        &[("WEFT_MAXPROCS", "1")],
    );
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l == "unshare not permitted")
    {
        eprintln!("skipped: unshare syscall not permitted on this system");
        return;
    }
    assert_ok(&out);
}

/// One run of Go's testprog `LockOSThreadTemplateThreadRace`: a loop
/// reading the whole runtime's state races two `lock_os_thread` calls,
/// each made with work in the local queue and followed by a yield. If both
/// locked goroutines finish, we did not hit a race (a hit hangs).
fn template_thread_race() {
    let stop = Arc::new(AtomicBool::new(false));
    let stats = weft::go!({
        let stop = stop.clone();
        move || {
            while !stop.load(Ordering::Relaxed) {
                std::hint::black_box(weft::stats());
            }
        }
    });
    // Try to synchronize both lock_os_thread calls.
    let start = Instant::now() + ms(10);
    let wg = Arc::new(WaitGroup::new());
    wg.add(2);
    for _ in 0..2 {
        let wg = wg.clone();
        weft::go!(move || {
            while Instant::now() < start {
                std::hint::spin_loop();
            }
            // Add work to the local queue, to make the hand-off of our P
            // start an M early.
            weft::go!(|| ());
            weft::lock_os_thread();
            weft::yield_now();
            wg.done();
        });
    }
    wg.wait();
    stop.store(true, Ordering::Relaxed);
    stats.join().unwrap();
}

#[test]
fn lock_os_thread_template_thread_race() {
    common::run_alone(|| {
        let _procs = MaxProcs::set(4);
        for _ in 0..5 {
            template_thread_race();
        }
    });
}

#[test]
fn slow_lock_os_thread_template_thread_race() {
    common::run_alone(|| {
        let _procs = MaxProcs::set(4);
        for _ in 0..100 {
            template_thread_race();
        }
    });
}

static SINK: u64 = 1;

#[test]
fn lock_os_thread_vgetrandom() {
    const PARALLELISM: usize = 20;
    const ITERATIONS: usize = 200;
    const SPINS: u64 = 100_000;
    // Alone: 200 threads made and ended hold the Ps for tens of ms, which
    // other tests' 100 ms timer margins (time_sleep::timer_stop_stress) do
    // not allow for when they share the runtime.
    common::run_alone(|| {
        let (ch, ch_rx) = chan::<()>(PARALLELISM);
        for _ in 0..PARALLELISM {
            ch.send(()).unwrap();
        }
        for _ in 0..ITERATIONS {
            ch_rx.recv().unwrap();
            let ch = ch.clone();
            weft::go!(move || {
                // Exit with the thread locked.
                weft::lock_os_thread();
                let mut b = [0u8; 1];
                // SAFETY: `b` is valid for writes of its length.
                let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
                assert_eq!(n, 1, "getrandom: {}", io::Error::last_os_error());
                let mut i = 0u64;
                for _ in 0..SPINS {
                    i += std::hint::black_box(SINK);
                }
                std::hint::black_box(i);
                ch.send(()).unwrap();
            });
        }
        // Wait for all of them to finish.
        for _ in 0..PARALLELISM {
            ch_rx.recv().unwrap();
        }
    });
}
