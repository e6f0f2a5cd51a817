//! Fault injection: `membarrier(2)` refused after the runtime has started
//! (issue 26, defect 6). The P slot's lock (`sched/pcell.rs`) lets its
//! remote side (sysmon's retake, the `scheddetail` dump) call membarrier;
//! a seccomp filter the program installs later makes that call fail. The
//! runtime must fall back to its fenced protocol and go on, never abort.
//!
//! Each test runs its program in a child process (this binary again) with
//! `WEFT_MAXPROCS=1`, so that a second goroutine can run only if sysmon
//! takes the P from the first: the program checks that both kinds of
//! retake happened and prints a line per stage; the parent checks the
//! lines and the `SCHED` dump lines on stderr.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime as weft;

const CHILD: &str = "WEFT_FAULTS_MEMBARRIER_CHILD";

/// Liveness bound for each stage of the child (it takes milliseconds).
const BOUND: Duration = Duration::from_secs(20);

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs test `name` of this binary as a child with `WEFT_DEBUG=debug`.
fn child(name: &str, debug: &str) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("WEFT_MAXPROCS", "1")
        .env("WEFT_DEBUG", debug)
        .output()
        .unwrap()
}

/// Whether this kernel lets a process register for, and issue, expedited
/// private membarriers (the runtime's start-up check).
fn membarrier_works() -> bool {
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;
    // SAFETY: membarrier takes no pointers.
    let registered =
        unsafe { libc::syscall(libc::SYS_membarrier, CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) } == 0;
    registered && membarrier_private_expedited().is_ok()
}

fn membarrier_private_expedited() -> std::io::Result<()> {
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    // SAFETY: membarrier takes no pointers.
    match unsafe { libc::syscall(libc::SYS_membarrier, CMD_PRIVATE_EXPEDITED, 0, 0) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Installs, on every thread of the process (`SECCOMP_FILTER_FLAG_TSYNC`),
/// a seccomp filter that makes the system calls `nrs` fail with EPERM, or
/// kill the process (`kill`).
fn refuse_syscalls(nrs: &[libc::c_long], kill: bool) {
    let deny = if kill {
        libc::SECCOMP_RET_KILL_PROCESS
    } else {
        libc::SECCOMP_RET_ERRNO | libc::EPERM as u32
    };
    let op = |code: u32, k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    // A test filter: it checks the number only (the architecture is
    // x86_64, the only one this file builds for). A := seccomp_data.nr;
    // then one jump to `deny` per refused number; else allow.
    let n = nrs.len();
    let mut filter = vec![op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0)];
    for (i, &nr) in nrs.iter().enumerate() {
        let to_deny = (n - i) as u8;
        filter.push(op(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            nr as u32,
            to_deny,
            0,
        ));
    }
    filter.push(op(
        libc::BPF_RET | libc::BPF_K,
        libc::SECCOMP_RET_ALLOW,
        0,
        0,
    ));
    filter.push(op(libc::BPF_RET | libc::BPF_K, deny, 0, 0));
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: prctl with integer arguments; `prog` points to `filter`,
    // both alive for the call (the kernel copies the program).
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        let r = libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_TSYNC,
            &prog as *const libc::sock_fprog,
        );
        assert_eq!(r, 0, "seccomp: {}", std::io::Error::last_os_error());
    }
}

/// Waits (spinning, without a scheduling point) until `flag` is set.
fn spin_until(flag: &AtomicBool, what: &str) {
    let t = Instant::now();
    while !flag.load(SeqCst) {
        assert!(t.elapsed() < BOUND, "{what} did not happen");
        std::hint::spin_loop();
    }
}

/// The program: with one P, a goroutine runs beside one that is inside
/// `blocking()` (a blocking retake) and beside one that loops without a
/// scheduling point (a running retake), several times each, while the
/// schedtrace thread locks every M's slot every few milliseconds. Prints
/// one line per stage.
fn retakes_after_refusal(nrs: &'static [libc::c_long], kill: bool) {
    const ROUNDS: usize = 5;
    let done = weft::run(move || {
        // Started, and sysmon is running: only now refuse the barrier.
        refuse_syscalls(nrs, kill);
        if !kill {
            println!("membarrier now: {:?}", membarrier_private_expedited().err());
        }
        let mut done = 0;
        for round in 0..ROUNDS {
            // A blocking retake: `other` can run only on the P taken from
            // the M that sleeps inside `blocking()`.
            let inside = Arc::new(AtomicBool::new(false));
            let ran = Arc::new(AtomicBool::new(false));
            let (i, r) = (inside.clone(), ran.clone());
            let sleeper = weft::spawn(move || {
                weft::blocking(|| {
                    i.store(true, SeqCst);
                    let t = Instant::now();
                    while !r.load(SeqCst) && t.elapsed() < BOUND {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                });
                r.load(SeqCst)
            });
            spin_until(&inside, "entering blocking()");
            let r = ran.clone();
            let other = weft::spawn(move || r.store(true, SeqCst));
            assert!(sleeper.join().unwrap(), "round {round}: no blocking retake");
            other.join().unwrap();
            done += 1;

            // A running retake: the two goroutines wait for each other
            // without a scheduling point, so whichever runs first (the
            // child, or the parent: the spawn policy decides) loops until
            // sysmon hands the P to another M for the other one.
            let started = Arc::new(AtomicBool::new(false));
            let seen = Arc::new(AtomicBool::new(false));
            let (st, se) = (started.clone(), seen.clone());
            let spinner = weft::spawn(move || {
                st.store(true, SeqCst);
                spin_until(&se, "the parent running beside its child");
            });
            spin_until(&started, "the child running beside its parent");
            seen.store(true, SeqCst);
            spinner.join().unwrap();
            done += 1;
        }
        println!("retakes: {done}");
        done
    });
    assert_eq!(done, 2 * ROUNDS);
    println!("SIGURG caught: {}", sigurg_caught());
    println!("finished");
}

/// Whether the process has a handler for SIGURG (`SigCgt` in
/// /proc/self/status): the P slot's fallback installs one when it first
/// interrupts an M.
fn sigurg_caught() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let caught = status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    caught & (1 << (libc::SIGURG - 1)) != 0
}

/// Checks a child's run of [`retakes_after_refusal`]: both kinds of
/// retake in every round, the dump's per-M lines on stderr, and whether
/// the fallback interrupted an M (`switched`).
fn check(out: &Output, refused: &str, switched: bool) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(stdout.contains(refused), "{stdout}");
    assert!(stdout.contains("retakes: 10\n"), "{stdout}");
    assert!(stdout.contains("finished\n"), "{stdout}");
    let caught = format!("SIGURG caught: {switched}\n");
    assert!(stdout.contains(&caught), "{stdout}");
    assert!(
        !stderr.contains("fatal error"),
        "the runtime threw:\n{stderr}"
    );
    let dumps = stderr
        .lines()
        .filter(|l| l.starts_with("  M") && l.contains(": p="))
        .count();
    assert!(dumps > 0, "no scheddetail dump of an M:\n{stderr}");
}

/// The case: the process refuses membarrier (EPERM) after the
/// runtime registered for it at start.
#[test]
fn membarrier_refused_after_start() {
    if is_child() {
        retakes_after_refusal(&[libc::SYS_membarrier], false);
        return;
    }
    let out = child(
        "membarrier_refused_after_start",
        "longrun=0,schedtrace=5,scheddetail=1",
    );
    // Where the kernel lacks membarrier every slot is born fenced: no
    // switch, no signal.
    check(
        &out,
        "membarrier now: Some(Os { code: 1",
        membarrier_works(),
    );
}

/// `WEFT_DEBUG=membarrier=0`: the runtime never calls membarrier, so a
/// filter that kills the process on the first call changes nothing.
#[test]
fn membarrier_off_never_calls_it() {
    if is_child() {
        retakes_after_refusal(&[libc::SYS_membarrier], true);
        return;
    }
    let out = child(
        "membarrier_off_never_calls_it",
        "longrun=0,schedtrace=5,scheddetail=1,membarrier=0",
    );
    check(&out, "", false);
}

/// membarrier refused, and the signal that replaces it too: the first
/// retake stops the program with a message naming both, never a hang or
/// a silent race.
#[test]
fn membarrier_and_its_signal_refused_is_a_clear_error() {
    if is_child() {
        retakes_after_refusal(&[libc::SYS_membarrier, libc::SYS_tgkill], false);
        return;
    }
    let out = child(
        "membarrier_and_its_signal_refused_is_a_clear_error",
        "longrun=0",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "fatal error: the P slot's barrier: membarrier was refused, and so was the \
             signal (SIGURG) to M thread"
        ) && stderr.contains("Operation not permitted"),
        "{stderr}"
    );
}
