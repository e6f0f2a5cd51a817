//! `park::Waiter` waited on by someone other than its maker (issue 26,
//! defect 5). A record's wake-up goes to whoever `Waiter::new` ran on; a
//! record moved (or lent) to another thread or goroutine and waited on
//! there would never be woken — and if its maker had exited, its waker
//! would touch the maker's freed parker. `Waiter::wait` refuses such a
//! wait with a `fatal error` naming the mistake, before anyone can wake
//! the record.
//!
//! The misuse cases run in a child process (this binary again): the
//! parent waits at most [`BOUND`] for it, so a lost wake-up shows as a
//! hang the parent reports instead of a hung test.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime::park::Waiter;
use weft_runtime::{self as weft, WaitReason};

const CHILD: &str = "WEFT_PARK_WAITER_TEST_CHILD";

/// How long a child may take (each takes milliseconds when it works).
const BOUND: Duration = Duration::from_secs(20);

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// What a child did within [`BOUND`].
#[derive(Debug)]
enum Outcome {
    /// Exited by itself: (success, stdout, stderr).
    Exited(bool, String, String),
    /// Still running at the bound: killed.
    Hung,
}

/// Runs test `name` of this binary as a child, for at most [`BOUND`].
fn child(name: &str) -> Outcome {
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while c.try_wait().unwrap().is_none() {
        if t.elapsed() > BOUND {
            c.kill().unwrap();
            c.wait().unwrap();
            return Outcome::Hung;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = c.wait_with_output().unwrap();
    Outcome::Exited(
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Checks that the child refused the wait with the runtime's message, and
/// before anyone woke the record.
fn assert_refused(name: &str) {
    match child(name) {
        Outcome::Hung => panic!("{name}: the waiter was never woken (a lost wake-up)"),
        Outcome::Exited(ok, out, err) => {
            assert!(!ok, "{name}: the misuse went unnoticed:\n{out}\n{err}");
            assert!(
                err.contains("fatal error: park::Waiter::wait called on"),
                "{name}: not the runtime's refusal:\n{out}\n{err}"
            );
            assert!(
                !out.contains("woken"),
                "{name}: woken before the refusal:\n{out}"
            );
        }
    }
}

/// The one-slot queue the tests publish their record in.
static SLOT: AtomicPtr<Waiter> = AtomicPtr::new(std::ptr::null_mut());

/// Publishes `w` and waits on it (returns the tag it was woken with).
fn publish_and_wait(w: &Waiter) -> usize {
    SLOT.store((w as *const Waiter).cast_mut(), SeqCst);
    w.wait(WaitReason::Park, || {})
}

/// Held by each test that uses [`SLOT`] in this process.
static SLOT_USER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Starts a plain thread that claims and wakes the first record published
/// in [`SLOT`], with tag 7.
fn start_claimer() -> std::thread::JoinHandle<()> {
    std::thread::spawn(|| loop {
        let w = SLOT.swap(std::ptr::null_mut(), SeqCst);
        if !w.is_null() {
            // SAFETY: taken from the slot, so only we claim it; its owner
            // waits in `wait` until our `wake` marks it done.
            unsafe {
                assert!((*w).try_claim(7));
                Waiter::wake(w);
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    })
}

/// Runs test `name`'s misuse, `wait` (which returns the tag its record
/// was woken with), in a child beside a claimer, and checks the child's
/// runtime refused it.
fn refused_in_child(name: &str, wait: impl FnOnce() -> usize) {
    if is_child() {
        let claimer = start_claimer();
        let tag = wait();
        claimer.join().unwrap();
        println!("woken with {tag}");
        return;
    }
    assert_refused(name);
}

/// A record made on one plain thread and waited on by another: its wake
/// goes to the maker (which has exited, so its parker is freed).
#[test]
fn waiter_moved_to_another_thread_is_refused() {
    refused_in_child("waiter_moved_to_another_thread_is_refused", || {
        let w = std::thread::spawn(Waiter::new).join().unwrap();
        std::thread::spawn(move || publish_and_wait(&w))
            .join()
            .unwrap()
    });
}

/// A record made by one goroutine and waited on by another: its wake
/// readies the maker, not the waiter.
#[test]
fn waiter_moved_to_another_goroutine_is_refused() {
    refused_in_child("waiter_moved_to_another_goroutine_is_refused", || {
        weft::run(|| {
            let w = Waiter::new();
            weft::spawn(move || publish_and_wait(&w)).join().unwrap()
        })
    });
}

/// A record made by a goroutine and waited on inside its `blocking()`
/// call, where it parks as a plain thread: its wake leaves a token in the
/// goroutine's park word, which nobody reads while the thread sleeps.
#[test]
fn waiter_waited_inside_blocking_is_refused() {
    refused_in_child("waiter_waited_inside_blocking_is_refused", || {
        weft::run(|| {
            let w = Waiter::new();
            weft::blocking(|| publish_and_wait(&w))
        })
    });
}

/// What stays allowed: a goroutine that made a record and then waits on
/// it in a `Drop` while a panic unwinds through it (it parks its thread
/// then, polling its park word): woken, once, and the panic goes on.
#[test]
fn waiter_waited_while_unwinding_is_woken() {
    struct WaitOnDrop(Waiter, Arc<AtomicUsize>);
    impl Drop for WaitOnDrop {
        fn drop(&mut self) {
            let tag = publish_and_wait(&self.0);
            self.1.fetch_add(tag, SeqCst);
        }
    }
    let _one = SLOT_USER.lock().unwrap();
    let woken = Arc::new(AtomicUsize::new(0));
    let claimer = start_claimer();
    let w = woken.clone();
    let r = weft::run(move || {
        weft::spawn(move || {
            let _guard = WaitOnDrop(Waiter::new(), w);
            panic!("unwind through the wait");
        })
        .join()
    });
    claimer.join().unwrap();
    assert!(r.is_err(), "the panic was lost");
    assert_eq!(woken.load(SeqCst), 7);
}

/// And the ordinary use, on a plain thread and in a goroutine: woken once.
#[test]
fn waiter_waited_by_its_maker_is_woken() {
    let _one = SLOT_USER.lock().unwrap();
    let claimer = start_claimer();
    assert_eq!(publish_and_wait(&Waiter::new()), 7);
    claimer.join().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let claimer = start_claimer();
    let tag = weft::run(move || {
        let tag = publish_and_wait(&Waiter::new());
        d.store(true, SeqCst);
        tag
    });
    claimer.join().unwrap();
    assert_eq!((tag, done.load(SeqCst)), (7, true));
}
