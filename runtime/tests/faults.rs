//! Resource faults (issue 26): the system refuses the runtime something —
//! address space for a goroutine stack (`RLIMIT_AS`), an OS thread for a
//! new M (`RLIMIT_NPROC`), a descriptor for an accepted connection or for
//! the netpoller itself (`RLIMIT_NOFILE`) — and the runtime answers with a
//! clear error or degrades cleanly: never a hang, an abort without a
//! message, or lost work.
//!
//! Each scenario lowers its limit in a child process (this binary again,
//! running one test), so the harness itself is never short of anything; the
//! parent checks the child's exit status and output, and kills a child that
//! hangs.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime as weft;
use weft_runtime::sync::WaitGroup;

const CHILD: &str = "WEFT_FAULTS_CHILD";

/// A child still running after this is reported as hung (and killed).
const HANG: Duration = Duration::from_secs(60);

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// How a child run ended.
struct Run {
    /// `None`: it hung, and was killed.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn show(&self) -> String {
        format!(
            "status: {}\n--- stdout\n{}--- stderr\n{}",
            match self.status {
                Some(s) => s.to_string(),
                None => format!("hung (killed after {HANG:?})"),
            },
            self.stdout,
            self.stderr
        )
    }

    fn assert_ok(&self) {
        assert!(
            self.status.is_some_and(|s| s.success()),
            "child failed:\n{}",
            self.show()
        );
    }
}

/// Runs test `name` of this binary in a child with `env` set. `nobody`: as
/// the unprivileged user when we are root (root ignores `RLIMIT_NPROC`).
fn child(name: &str, env: &[(&str, &str)], nobody: bool) -> Run {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("WEFT_MAXPROCS")
        .env_remove("WEFT_STACK_SIZE")
        .env_remove("RUST_BACKTRACE")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: geteuid has no preconditions.
    if nobody && unsafe { libc::geteuid() } == 0 {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the forked child before exec and calls
        // only async-signal-safe functions (setgroups, setgid, setuid).
        unsafe {
            cmd.pre_exec(|| {
                let nobody = 65534;
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(nobody) != 0
                    || libc::setuid(nobody) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut c = cmd.spawn().unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(Box::new(c.stdout.take().unwrap()));
    let err = drain(Box::new(c.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = c.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > HANG {
            let _ = c.kill();
            let _ = c.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn getrlimit(res: libc::__rlimit_resource_t) -> libc::rlimit {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill.
    assert_eq!(unsafe { libc::getrlimit(res, &mut lim) }, 0);
    lim
}

/// Sets the soft limit of `res` (and the hard one, if given).
fn setrlimit(res: libc::__rlimit_resource_t, soft: u64, hard: Option<u64>) {
    let mut lim = getrlimit(res);
    lim.rlim_cur = soft;
    if let Some(h) = hard {
        lim.rlim_max = h;
    }
    // SAFETY: `lim` is a valid rlimit for setrlimit to read.
    let r = unsafe { libc::setrlimit(res, &lim) };
    assert_eq!(r, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

/// The soft limit back to the hard one.
fn lift(res: libc::__rlimit_resource_t) {
    let hard = getrlimit(res).rlim_max;
    setrlimit(res, hard, None);
}

/// The process's mapped address space, in bytes (`/proc/self/statm`).
fn mapped_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().next().unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else {
        p.downcast_ref::<String>().cloned().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------
// 1. A goroutine stack cannot be mapped (RLIMIT_AS).

/// The default stack size in the stack children: large, so that few
/// goroutines exhaust the address space left under the limit and the heap
/// keeps room to spare.
const BIG_STACK: &str = "67108864";

/// Address space left above what is mapped when the limit is set.
const AS_HEADROOM: u64 = 256 << 20;

/// The child: with `RLIMIT_AS` just above what is mapped, spawns parked
/// goroutines until a spawn is refused, checks that `Builder::spawn`
/// returns the error and `spawn` panics with it (catchably, in this
/// goroutine), then frees the stacks and lifts the limit: spawns work again.
#[test]
fn stack_refused_child() {
    if !is_child() {
        return;
    }
    weft::run(|| {
        let gate = Arc::new(WaitGroup::new());
        gate.add(1);
        // Every goroutine this spawns waits at the gate.
        let spawn_parked = |n: usize| -> (Vec<weft::JoinHandle<()>>, Option<std::io::Error>) {
            let mut hs = Vec::new();
            for _ in 0..n {
                let g = gate.clone();
                match weft::Builder::new().spawn(move || g.wait()) {
                    Ok(h) => hs.push(h),
                    Err(e) => return (hs, Some(e)),
                }
                // Let queued children (child stealing) run and take their
                // stacks now.
                weft::yield_now();
            }
            (hs, None)
        };
        setrlimit(libc::RLIMIT_AS, mapped_bytes() + AS_HEADROOM, None);

        let e = weft::Builder::new()
            .stack_size(512 << 20)
            .spawn(|| ())
            .unwrap_err();
        println!("builder, 512 MiB stack: {:?}: {e}", e.kind());

        let (hs, err) = spawn_parked(200);
        let e = err.expect("200 goroutines of 64 MiB each fit under the limit");
        println!(
            "builder, default stack, after {} goroutines: {:?}: {e}",
            hs.len(),
            e.kind()
        );

        let p = std::panic::catch_unwind(|| weft::spawn(|| ())).unwrap_err();
        println!("spawn panicked: {}", panic_message(&*p));
        let p = std::panic::catch_unwind(|| weft::go!(move || ())).unwrap_err();
        println!("go! panicked: {}", panic_message(&*p));

        // Freed stacks are reused without new address space. (A goroutine
        // admitted at its spawn may have found no stack when it first ran:
        // it never started, and says so.)
        gate.done();
        let mut n = 0;
        for h in hs {
            match h.join() {
                Ok(()) => n += 1,
                Err(e) => {
                    let msg = panic_message(&*e.into_panic());
                    assert!(
                        msg.contains("could not start") && msg.contains("RLIMIT_AS"),
                        "{msg}"
                    );
                }
            }
        }
        let gate2 = Arc::new(WaitGroup::new());
        gate2.add(1);
        let mut again = Vec::new();
        for _ in 0..n {
            let g = gate2.clone();
            again.push(weft::Builder::new().spawn(move || g.wait()).unwrap());
            weft::yield_now();
        }
        println!("after freeing: {n} goroutines spawned again");

        // With the limit lifted, more than ever fit before.
        lift(libc::RLIMIT_AS);
        for _ in 0..n {
            let g = gate2.clone();
            again.push(weft::Builder::new().spawn(move || g.wait()).unwrap());
            weft::yield_now();
        }
        gate2.done();
        for h in again {
            h.join().unwrap();
        }
        println!("after lifting the limit: {} goroutines spawned", 2 * n);
    });
    println!("done");
}

fn check_stack_refused(policy: &str) {
    let run = child(
        "stack_refused_child",
        &[
            ("WEFT_SPAWN", policy),
            ("WEFT_STACK_SIZE", BIG_STACK),
            ("WEFT_MAXPROCS", "2"),
        ],
        false,
    );
    let show = run.show();
    run.assert_ok();
    let out = &run.stdout;
    for what in [
        "builder, 512 MiB stack: OutOfMemory: ",
        "builder, default stack, after ",
        "spawn panicked: weft: failed to spawn a goroutine: ",
        "go! panicked: weft: failed to spawn a goroutine: ",
    ] {
        let line = out
            .lines()
            .find_map(|l| l.find(what).map(|i| &l[i..]))
            .unwrap_or_else(|| panic!("no line {what:?}:\n{show}"));
        assert!(
            line.contains("cannot map a goroutine stack of") && line.contains("RLIMIT_AS"),
            "the error does not name the stack and the limit: {line}\n{show}"
        );
    }
    assert!(out.contains("after freeing: "), "{show}");
    assert!(out.contains("after lifting the limit: "), "{show}");
    assert!(out.contains("done"), "{show}");
}

#[test]
fn stack_refused_is_a_spawn_error_continuation() {
    if is_child() {
        return;
    }
    check_stack_refused("continuation");
}

#[test]
fn stack_refused_is_a_spawn_error_child_stealing() {
    if is_child() {
        return;
    }
    check_stack_refused("child");
}

/// The process's `VmSize` in bytes (`/proc/self/status`).
fn vm_size() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb << 10
}

/// Goroutines queued at once by `queued_goroutines_child` (fewer under
/// AddressSanitizer, which slows each spawn).
const QUEUED: usize = if cfg!(weft_asan) { 50_000 } else { 1_000_000 };

/// A goroutine waiting in a queue costs no address space: its stack is
/// taken when it first runs. The child queues [`QUEUED`] goroutines at
/// maxprocs 1 with child stealing (the spawning loop never yields) and
/// prints its `VmSize` before and with all of them spawned, then runs them.
///
/// So that they stay queued while the loop runs (sysmon hands the P of a
/// goroutine that runs long to another thread, which would run the queue
/// down), the first [`HOLDERS`] goroutines to start hold their thread (a
/// plain sleep, which weft does not see) until the loop is done: each
/// holds the P until sysmon retakes it, about 10 ms.
#[test]
fn queued_goroutines_child() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    if !is_child() {
        return;
    }
    const N: usize = QUEUED;
    // Fewer under ASan, where each holder's wait is slower to end.
    const HOLDERS: usize = if cfg!(weft_asan) { 30 } else { 300 };
    static SPAWNED: AtomicBool = AtomicBool::new(false);
    let ran = Arc::new(AtomicUsize::new(0));
    let ran2 = ran.clone();
    weft::run(move || {
        println!("vmsize before: {}", vm_size());
        let mut hs = Vec::with_capacity(N);
        for _ in 0..N {
            let r = ran2.clone();
            hs.push(weft::spawn(move || {
                if r.fetch_add(1, Relaxed) < HOLDERS {
                    while !SPAWNED.load(Relaxed) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }));
        }
        let started = ran2.load(Relaxed);
        println!("vmsize spawned: {}", vm_size());
        println!("started then: {started}");
        SPAWNED.store(true, Relaxed);
        for h in hs {
            h.join().unwrap();
        }
    });
    assert_eq!(ran.load(Relaxed), N);
    println!("done");
}

#[test]
fn queued_goroutines_cost_no_address_space() {
    if is_child() {
        return;
    }
    let run = child(
        "queued_goroutines_child",
        &[("WEFT_SPAWN", "child"), ("WEFT_MAXPROCS", "1")],
        false,
    );
    let show = run.show();
    run.assert_ok();
    let field = |what: &str| -> u64 {
        let line = run
            .stdout
            .lines()
            .find_map(|l| l.find(what).map(|i| &l[i + what.len()..]));
        line.unwrap_or_else(|| panic!("no line {what:?}:\n{show}"))
            .trim()
            .parse()
            .unwrap()
    };
    // The growth, not the size: AddressSanitizer's shadow alone is
    // terabytes of address space.
    let vm = field("vmsize spawned: ").saturating_sub(field("vmsize before: "));
    let started = field("started then: ");
    println!(
        "VmSize grew by {} MiB with {QUEUED} goroutines spawned, {started} started",
        vm >> 20
    );
    // 16 KiB a goroutine (16 GiB for a million): a stack's worth each
    // would be 256 KiB.
    assert!(
        vm < QUEUED as u64 * (16 << 10),
        "{QUEUED} queued goroutines map {vm} bytes:\n{show}"
    );
    assert!(run.stdout.contains("done"), "{show}");
}

/// Under a finite `RLIMIT_AS` (4 GiB above what is mapped: room for about
/// 14k default stacks), 100k goroutines are spawned at maxprocs 1 with
/// child stealing, one in 100 of which sleeps a millisecond, then joined:
/// all of them run, since only those started and not finished hold a
/// stack. They stay queued while the loop spawns them, as in
/// [`queued_goroutines_child`] (the first [`HOLDERS`] to start hold their
/// thread until then).
#[test]
fn sleepers_under_a_limit_child() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    if !is_child() {
        return;
    }
    const N: usize = 100_000;
    const HOLDERS: usize = 300;
    static SPAWNED: AtomicBool = AtomicBool::new(false);
    weft::run(|| {
        setrlimit(libc::RLIMIT_AS, mapped_bytes() + (4 << 30), None);
        let ran = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::with_capacity(N);
        for i in 0..N {
            let r = ran.clone();
            hs.push(weft::spawn(move || {
                if r.fetch_add(1, Relaxed) < HOLDERS {
                    while !SPAWNED.load(Relaxed) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                if i % 100 == 0 {
                    weft::time::sleep(Duration::from_millis(1));
                }
            }));
        }
        println!("spawned {N}; vmsize {} MiB", vm_size() >> 20);
        SPAWNED.store(true, Relaxed);
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(ran.load(Relaxed), N);
        lift(libc::RLIMIT_AS);
    });
    println!("done");
}

#[test]
fn sleepers_under_a_limit_all_run() {
    if is_child() {
        return;
    }
    let run = child(
        "sleepers_under_a_limit_child",
        &[("WEFT_SPAWN", "child"), ("WEFT_MAXPROCS", "1")],
        false,
    );
    let show = run.show();
    run.assert_ok();
    assert!(run.stdout.contains("done"), "{show}");
}

/// A goroutine admitted at its spawn that finds no stack when it first
/// runs (others took the room meanwhile) never starts: its `join` returns
/// the error as a panic, and the runtime goes on. The child queues 64
/// goroutines of 64 MiB at maxprocs 1 with child stealing (the spawning
/// loop never yields, so every spawn sees the same room), under a limit
/// with room for a few of them.
#[test]
fn refused_start_child() {
    if !is_child() {
        return;
    }
    weft::run(|| {
        let gate = Arc::new(WaitGroup::new());
        gate.add(1);
        setrlimit(libc::RLIMIT_AS, mapped_bytes() + AS_HEADROOM, None);
        let mut hs = Vec::new();
        for _ in 0..64 {
            let g = gate.clone();
            match weft::Builder::new().spawn(move || g.wait()) {
                Ok(h) => hs.push(h),
                Err(e) => {
                    println!("spawn refused: {e}");
                    break;
                }
            }
        }
        // Let them all run (or fail to start) before the gate opens.
        weft::time::sleep(Duration::from_millis(200));
        gate.done();
        let (mut ok, mut refused) = (0, 0);
        for h in hs {
            match h.join() {
                Ok(()) => ok += 1,
                Err(e) => {
                    let msg = panic_message(&*e.into_panic());
                    assert!(
                        msg.contains("could not start") && msg.contains("RLIMIT_AS"),
                        "{msg}"
                    );
                    if refused == 0 {
                        println!("refused: {msg}");
                    }
                    refused += 1;
                }
            }
        }
        println!("started {ok}, refused {refused}");
        assert!(ok > 0 && refused > 0);
        assert_eq!(weft::num_goroutine(), 1);
        lift(libc::RLIMIT_AS);
        let hs: Vec<_> = (0..64).map(|_| weft::spawn(|| ())).collect();
        for h in hs {
            h.join().unwrap();
        }
        println!("after lifting the limit: 64 goroutines ran");
    });
    println!("done");
}

#[test]
fn refused_start_is_a_join_error() {
    if is_child() {
        return;
    }
    let run = child(
        "refused_start_child",
        &[
            ("WEFT_SPAWN", "child"),
            ("WEFT_STACK_SIZE", BIG_STACK),
            ("WEFT_MAXPROCS", "1"),
        ],
        false,
    );
    let show = run.show();
    run.assert_ok();
    assert!(run.stdout.contains("refused: weft: goroutine "), "{show}");
    assert!(run.stdout.contains("after lifting the limit"), "{show}");
    assert!(run.stdout.contains("done"), "{show}");
}

// ---------------------------------------------------------------------------
// 2. An OS thread cannot be created (RLIMIT_NPROC) when sysmon needs an M.

use std::sync::atomic::{AtomicBool, Ordering};

/// CPU time this process has used.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// One goroutine blocks in `blocking()` until `flag` is set or `cap`
/// passes; the main goroutine, queued behind it on the one P, sets the flag.
/// Returns whether the call saw the flag: whether sysmon could hand the P
/// to another M while the call blocked.
fn blocked_call_sees_main(cap: Duration) -> bool {
    let flag = Arc::new(AtomicBool::new(false));
    let started = Arc::new(WaitGroup::new());
    started.add(1);
    let (f, s) = (flag.clone(), started.clone());
    let call = weft::spawn(move || {
        s.done();
        weft::blocking(|| {
            let t = Instant::now();
            while !f.load(Ordering::SeqCst) && t.elapsed() < cap {
                std::thread::sleep(Duration::from_millis(10));
            }
            f.load(Ordering::SeqCst)
        })
    });
    started.wait();
    flag.store(true, Ordering::SeqCst);
    call.join().unwrap()
}

/// How often each spawner of [`spawning_call_lifts`] spawns: far more
/// often than the runtime's 10 ms back-off between two tries at a thread.
const SPAWN_EVERY: Duration = Duration::from_micros(200);

/// Plain threads spawning for [`spawning_call_lifts`]: two, so that one
/// spawns while the other is descheduled (on a quiet machine).
const SPAWNERS: usize = 2;

/// With threads refused (`RLIMIT_NPROC` set to 0 by the caller, after this
/// made its threads), a goroutine blocks its only M in a call while
/// [`SPAWNERS`] plain threads spawn a goroutine every [`SPAWN_EVERY`], each
/// spawn asking for an M for the idle P. The call lifts the limit after
/// `lift_after` and waits for main to run. Returns how many goroutines were
/// spawned after the lift before main ran (`None`: main did not run within
/// `cap`). The spawned goroutines are joined.
fn spawning_call_lifts(lift_after: Duration, cap: Duration) -> Option<usize> {
    use std::sync::atomic::AtomicUsize;
    let flag = Arc::new(AtomicBool::new(false));
    let lifted = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    // Spawns since the lift (reset to 0 there).
    let count = Arc::new(AtomicUsize::new(0));
    let spawners: Vec<_> = (0..SPAWNERS)
        .map(|_| {
            let (stop, count) = (stop.clone(), count.clone());
            std::thread::spawn(move || {
                let mut spawned = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    spawned.push(weft::spawn(|| ()));
                    count.fetch_add(1, Ordering::SeqCst);
                    let t = Instant::now();
                    while t.elapsed() < SPAWN_EVERY {
                        std::hint::spin_loop();
                    }
                }
                spawned
            })
        })
        .collect();
    setrlimit(libc::RLIMIT_NPROC, 0, None);
    let started = Arc::new(WaitGroup::new());
    started.add(1);
    let (f, l, s, c) = (flag.clone(), lifted.clone(), started.clone(), count.clone());
    let call = weft::spawn(move || {
        s.done();
        weft::blocking(|| {
            let t = Instant::now();
            while !f.load(Ordering::SeqCst) && t.elapsed() < lift_after + cap {
                if !l.load(Ordering::SeqCst) && t.elapsed() >= lift_after {
                    lift(libc::RLIMIT_NPROC);
                    c.store(0, Ordering::SeqCst);
                    l.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    });
    started.wait();
    // Main runs: counted here, not when the call next looks.
    let n = count.load(Ordering::SeqCst);
    let after_lift = lifted.load(Ordering::SeqCst);
    flag.store(true, Ordering::SeqCst);
    call.join().unwrap();
    stop.store(true, Ordering::SeqCst);
    for s in spawners {
        for h in s.join().unwrap() {
            h.join().unwrap();
        }
    }
    after_lift.then_some(n)
}

/// The child (as an unprivileged user, maxprocs 1): threads refused, then
/// lifted, while a blocked call keeps asking for an M.
#[test]
fn threads_refused_spawning_child() {
    if !is_child() {
        return;
    }
    weft::run(|| {
        let n = spawning_call_lifts(Duration::from_millis(300), Duration::from_secs(10));
        match n {
            Some(n) => println!("main ran after the lift, {n} spawns later"),
            None => println!("main did not run after the lift"),
        }
    });
    println!("done");
}

/// Once the limit is lifted, the next try after the back-off makes the M,
/// though Ms are asked for all the time: within about 10 ms of spawns (100
/// at full speed, fewer if the spawners are descheduled); 1000 is ten
/// times that. (A try only after a lull of 10 ms in the asking, as before
/// the fix, needs a lull in both spawners: on a loaded machine that comes
/// soon, on a quiet one seldom.)
#[test]
fn threads_refused_recovers_while_work_keeps_asking() {
    if is_child() {
        return;
    }
    let run = child(
        "threads_refused_spawning_child",
        &[("WEFT_MAXPROCS", "1")],
        true,
    );
    let show = run.show();
    println!("{show}");
    run.assert_ok();
    let n: usize = run
        .stdout
        .split("main ran after the lift, ")
        .nth(1)
        .and_then(|s| s.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("main did not run:\n{show}"));
    assert!(
        n <= 1000,
        "main ran only {n} spawns after the lift:\n{show}"
    );
    assert!(run.stdout.contains("done"), "{show}");
}

/// The child (as an unprivileged user, maxprocs 1): with thread creation
/// refused, a `blocking()` call that needs its P handed to a new M; then
/// the same with the limit lifted.
#[test]
fn threads_refused_child() {
    if !is_child() {
        return;
    }
    weft::run(|| {
        // No new thread at all: an unprivileged user has at least one task.
        setrlimit(libc::RLIMIT_NPROC, 0, None);
        let (cpu, wall) = (cpu_time(), Instant::now());
        for round in 0..3 {
            let saw = blocked_call_sees_main(Duration::from_millis(500));
            println!("refused, round {round}: the blocked call saw main run: {saw}");
        }
        let (cpu, wall) = (cpu_time() - cpu, wall.elapsed());
        println!(
            "refused: cpu {} ms in {} ms",
            cpu.as_millis(),
            wall.as_millis()
        );
        // Retrying is not spinning: the blocked calls poll every
        // millisecond, sysmon every few.
        println!("refused: cpu bounded: {}", cpu < wall / 4);
        lift(libc::RLIMIT_NPROC);
        let saw = blocked_call_sees_main(Duration::from_secs(20));
        println!("lifted: the blocked call saw main run: {saw}");
    });
    println!("done");
}

#[test]
fn threads_refused_degrades_and_recovers() {
    if is_child() {
        return;
    }
    let run = child("threads_refused_child", &[("WEFT_MAXPROCS", "1")], true);
    let show = run.show();
    println!("{show}");
    run.assert_ok();
    for round in 0..3 {
        assert!(
            run.stdout.contains(&format!(
                "refused, round {round}: the blocked call saw main run: false"
            )),
            "{show}"
        );
    }
    assert!(run.stdout.contains("refused: cpu bounded: true"), "{show}");
    assert!(
        run.stdout
            .contains("lifted: the blocked call saw main run: true"),
        "{show}"
    );
    assert!(
        run.stderr.contains("OS threads can be created again"),
        "{show}"
    );
    assert!(run.stdout.contains("done"), "{show}");
    assert_eq!(
        run.stderr.matches("cannot create an OS thread").count(),
        1,
        "not reported exactly once:\n{show}"
    );
    assert!(run.stderr.contains("RLIMIT_NPROC"), "{show}");
}

/// The child (as an unprivileged user): threads refused before the runtime
/// starts, so it cannot create sysmon. The first use panics in the caller,
/// naming the thread and the limit; once the limit is lifted, the runtime
/// starts.
#[test]
fn threads_refused_at_start_child() {
    if !is_child() {
        return;
    }
    setrlimit(libc::RLIMIT_NPROC, 0, None);
    let p = std::panic::catch_unwind(|| weft::run(|| 1)).unwrap_err();
    println!("first run panicked: {}", panic_message(&*p));
    lift(libc::RLIMIT_NPROC);
    println!(
        "second run: {}",
        weft::run(|| weft::spawn(|| 2).join().unwrap())
    );
}

#[test]
fn threads_refused_at_start_is_a_clear_panic() {
    if is_child() {
        return;
    }
    let run = child("threads_refused_at_start_child", &[], true);
    let show = run.show();
    println!("{show}");
    run.assert_ok();
    assert!(
        run.stdout.contains("first run panicked: ")
            && run.stdout.contains("sysmon")
            && run.stdout.contains("RLIMIT_NPROC"),
        "{show}"
    );
    assert!(run.stdout.contains("second run: 2"), "{show}");
}

// ---------------------------------------------------------------------------
// 3. EMFILE on accept (RLIMIT_NOFILE).

use std::io::Write;

/// Every free descriptor below a lowered soft limit, held open.
struct FdHog(Vec<std::fs::File>);

impl FdHog {
    /// Lowers the soft `RLIMIT_NOFILE` to a little above the descriptors
    /// open now (and the hard one too with `hard`: the runtime raises the
    /// soft limit to the hard one when it starts), then takes every
    /// descriptor left.
    fn fill(hard: bool) -> FdHog {
        let top = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .max()
            .unwrap();
        let limit = top + 32;
        setrlimit(libc::RLIMIT_NOFILE, limit, hard.then_some(limit));
        let mut held = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => held.push(f),
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
                Err(e) => panic!("open /dev/null: {e}"),
            }
        }
        FdHog(held)
    }

    /// Gives `n` descriptors back.
    fn free(&mut self, n: usize) {
        for _ in 0..n {
            self.0.pop();
        }
    }
}

fn is_emfile<T>(r: &std::io::Result<T>) -> bool {
    matches!(r, Err(e) if e.raw_os_error() == Some(libc::EMFILE))
}

/// CPU time the process uses in `d` of (goroutine) sleep.
fn cpu_over(d: Duration) -> Duration {
    let t = cpu_time();
    weft::time::sleep(d);
    cpu_time() - t
}

/// A listener of `weft::net`, for the EMFILE scenario.
trait Listener: Send + 'static {
    type Conn: Read + Write + Send;
    fn accept_one(&self) -> std::io::Result<Self::Conn>;
}

impl Listener for weft::net::TcpListener {
    type Conn = weft::net::TcpStream;
    fn accept_one(&self) -> std::io::Result<Self::Conn> {
        self.accept().map(|(s, _)| s)
    }
}

impl Listener for weft::net::UnixListener {
    type Conn = weft::net::UnixStream;
    fn accept_one(&self) -> std::io::Result<Self::Conn> {
        self.accept().map(|(s, _)| s)
    }
}

/// The EMFILE scenario, for one kind of listener: a goroutine parked in
/// `accept` is woken by a client that arrives when no descriptor is left;
/// it gets the error, the listener stays usable, nothing spins while the
/// error lasts, and once descriptors are freed the client is accepted.
fn accept_emfile<L: Listener>(what: &str, l: L, connect: impl FnOnce() -> L::Conn) {
    // A goroutine parked on another socket throughout, so that the netpoller
    // is in use (an M sleeps in `epoll_wait`) while the error lasts: a
    // level-triggered registration of the listener would report the
    // pending connection to it again and again.
    let side = weft::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut poke = weft::net::TcpStream::connect(side.local_addr().unwrap()).unwrap();
    let (mut parked, _) = side.accept().unwrap();
    let reader = weft::spawn(move || {
        let mut b = [0; 1];
        parked.read_exact(&mut b).map(|_| b[0])
    });
    let mut hog = FdHog::fill(false);
    hog.free(1); // for the client
    let acceptor = weft::spawn(move || {
        let r = l.accept_one();
        (r.map(|_| ()), l)
    });
    weft::time::sleep(Duration::from_millis(50)); // it parks in accept
    let mut client = connect();
    let (r, l) = acceptor.join().unwrap();
    println!("{what}: parked accept: EMFILE {}", is_emfile(&r));
    let r = l.accept_one();
    println!("{what}: accept again: EMFILE {}", is_emfile(&r));
    let cpu = cpu_over(Duration::from_millis(500));
    println!("{what}: cpu while EMFILE: {} ms", cpu.as_millis());
    println!("{what}: cpu bounded: {}", cpu < Duration::from_millis(100));
    drop(hog);
    poke.write_all(b"!").unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), b'!');
    let mut conn = l.accept_one().unwrap();
    client.write_all(b"ping").unwrap();
    let mut buf = [0; 4];
    conn.read_exact(&mut buf).unwrap();
    println!(
        "{what}: after freeing: read {:?}",
        std::str::from_utf8(&buf).unwrap()
    );
}

#[test]
fn accept_emfile_child() {
    if !is_child() {
        return;
    }
    weft::run(|| {
        let l = weft::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        accept_emfile("tcp", l, || weft::net::TcpStream::connect(addr).unwrap());
        let dir = std::env::temp_dir().join(format!("weft-faults-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("sock");
        let l = weft::net::UnixListener::bind(&path).unwrap();
        accept_emfile("unix", l, || weft::net::UnixStream::connect(&path).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    });
    println!("done");
}

#[test]
fn accept_emfile_is_returned_and_the_listener_recovers() {
    if is_child() {
        return;
    }
    let run = child("accept_emfile_child", &[], false);
    let show = run.show();
    println!("{show}");
    run.assert_ok();
    for what in ["tcp", "unix"] {
        for line in [
            "parked accept: EMFILE true",
            "accept again: EMFILE true",
            "cpu bounded: true",
            "after freeing: read \"ping\"",
        ] {
            assert!(run.stdout.contains(&format!("{what}: {line}")), "{show}");
        }
    }
    assert!(run.stdout.contains("done"), "{show}");
}

// ---------------------------------------------------------------------------
// 4. No descriptor for the netpoller (EMFILE when the runtime starts).

/// The child: every descriptor is taken before the runtime starts (the hard
/// limit lowered too). The runtime starts and runs goroutines; a socket
/// fails with a clear error however far it gets (the socket itself, the
/// epoll instance, the eventfd), and works once descriptors are freed.
#[test]
fn netpoll_emfile_child() {
    if !is_child() {
        return;
    }
    let mut hog = FdHog::fill(true);
    weft::run(|| {
        let n = (0..100u64)
            .map(|i| weft::spawn(move || i))
            .map(|h| h.join().unwrap())
            .sum::<u64>();
        weft::time::sleep(Duration::from_millis(10));
        println!("goroutines ran: {n}");
    });
    let mut hog = weft::run(move || {
        for free in 0..3 {
            match weft::net::TcpListener::bind("127.0.0.1:0") {
                Ok(_) => println!("{free} free: bound"),
                Err(e) => println!("{free} free: {:?}: {e}", e.kind()),
            }
            hog.free(1);
        }
        hog
    });
    hog.free(4);
    weft::run(|| {
        let l = weft::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = weft::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0; 2];
            c.read_exact(&mut buf).unwrap();
            buf
        });
        let mut c = weft::net::TcpStream::connect(addr).unwrap();
        c.write_all(b"ok").unwrap();
        println!("after freeing: {:?}", server.join().unwrap());
    });
    drop(hog);
    println!("done");
}

#[test]
fn netpoll_emfile_is_a_clear_error() {
    if is_child() {
        return;
    }
    let run = child("netpoll_emfile_child", &[], false);
    let show = run.show();
    println!("{show}");
    run.assert_ok();
    assert!(run.stdout.contains("goroutines ran: 4950"), "{show}");
    // No descriptor for the socket: std's error. One: the socket is made,
    // the epoll instance is not. Two: epoll is, the eventfd is not.
    let line = |free: usize| {
        let start = format!("{free} free: ");
        run.stdout
            .lines()
            .find_map(|l| l.find(&start).map(|i| l[i..].to_string()))
            .unwrap_or_else(|| panic!("no line {start:?}:\n{show}"))
    };
    assert!(
        line(0).ends_with(": Too many open files (os error 24)"),
        "{show}"
    );
    for (free, call) in [(1, "epoll_create1"), (2, "eventfd")] {
        let want = format!(
            ": cannot create the netpoller: {call}: Too many open files (os error 24) \
             (RLIMIT_NOFILE, ulimit -n: "
        );
        assert!(line(free).contains(&want), "no {want:?}:\n{show}");
    }
    assert!(run.stdout.contains("after freeing: [111, 107]"), "{show}");
    assert!(run.stdout.contains("done"), "{show}");
}
