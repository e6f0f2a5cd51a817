//! Go's deadlock report, checked in child processes (the detector only
//! fires when every thread of the process is accounted for, which is never
//! true inside the test harness — so this file has its own `main`).
//!
//! Run with no arguments: runs every case as a child and checks it.

#[path = "support/deadlock_harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{check_not_reported, check_reported};

use weft_runtime::park::{park, unparker};
use weft_runtime::{self as weft, WaitReason};

fn park_forever(reason: WaitReason) {
    loop {
        park(reason, || {});
    }
}

/// The programs, run in the child.
fn run_case(name: &str) {
    match name {
        // The main goroutine waits for a goroutine that waits forever.
        "join_forever" => weft::run(|| {
            let h = weft::Builder::new()
                .name("stuck")
                .spawn(|| park_forever(WaitReason::ChanReceive))
                .unwrap();
            h.join().unwrap();
        }),
        // Everyone is asleep, including the main thread (not in `run`).
        "thread_and_goroutines" => {
            let _hs: Vec<_> = (0..3)
                .map(|_| weft::spawn(|| park_forever(WaitReason::SyncMutexLock)))
                .collect();
            park_forever(WaitReason::Park);
        }
        // A program without `weft::run`: its main thread joins a goroutine
        // that waits forever. The report lists the thread too.
        "plain_main_joins" => {
            let h = weft::Builder::new()
                .name("stuck")
                .spawn(|| park_forever(WaitReason::ChanReceive))
                .unwrap();
            h.join().unwrap();
        }
        // The same, waiting on a WaitGroup nobody finishes.
        "plain_main_waitgroup" => {
            let wg = std::sync::Arc::new(weft::sync::WaitGroup::new());
            wg.add(2);
            let w = wg.clone();
            weft::spawn(move || w.done());
            wg.wait();
        }
        // The seed's printSum: two goroutines lock two mutexes in opposite
        // orders.
        "print_sum" => weft::run(|| {
            use std::sync::Arc;
            use weft::sync::{Mutex, WaitGroup};
            let (a, b) = (Arc::new(Mutex::new(1)), Arc::new(Mutex::new(2)));
            let wg = Arc::new(WaitGroup::new());
            let print_sum = |x: Arc<Mutex<i32>>, y: Arc<Mutex<i32>>, wg: Arc<WaitGroup>| {
                move || {
                    let gx = x.lock();
                    weft::time::sleep(Duration::from_millis(50));
                    let gy = y.lock();
                    println!("sum={}", *gx + *gy);
                    wg.done();
                }
            };
            wg.add(2);
            weft::spawn(print_sum(a.clone(), b.clone(), wg.clone()));
            weft::spawn(print_sum(b, a, wg.clone()));
            wg.wait();
        }),
        // A WaitGroup that is never done.
        "waitgroup_never_done" => weft::run(|| {
            let wg = std::sync::Arc::new(weft::sync::WaitGroup::new());
            wg.add(3);
            for _ in 0..2 {
                let wg = wg.clone();
                weft::spawn(move || wg.done());
            }
            wg.wait();
        }),
        // Not deadlocks: the program finishes.
        "timer_pending" => weft::run(|| {
            let h = weft::spawn(|| weft::time::sleep(Duration::from_millis(300)));
            h.join().unwrap();
            println!("finished");
        }),
        "in_blocking" => weft::run(|| {
            let h =
                weft::spawn(|| weft::blocking(|| std::thread::sleep(Duration::from_millis(300))));
            h.join().unwrap();
            println!("finished");
        }),
        "thread_wakes_later" => {
            let (tx, rx) = std::sync::mpsc::channel();
            let h = weft::spawn(move || {
                tx.send(unparker()).unwrap();
                park(WaitReason::ChanReceive, || {});
            });
            let u = rx.recv().unwrap();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                u.unpark();
            });
            h.join().unwrap();
            println!("finished");
        }
        // The main goroutine computes for 300 ms without a scheduling point
        // (sysmon takes its P away) while another waits for it.
        "long_computation" => weft::run(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            let waiter = weft::spawn(move || {
                tx.send(unparker()).unwrap();
                park(WaitReason::ChanReceive, || {});
            });
            let u = rx.recv().unwrap();
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(300) {
                std::hint::spin_loop();
            }
            u.unpark();
            waiter.join().unwrap();
            println!("finished");
        }),
        // Goroutines parked on sockets are alive: the data comes from
        // another process (invisible to the detector's thread count), after
        // 300 ms of everything in this one being asleep.
        "socket_wait" => weft::run(|| {
            use std::io::Read;
            use std::os::fd::OwnedFd;
            use std::process::{Command, Stdio};
            let (mine, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            let mut child = Command::new("sh")
                .args(["-c", "sleep 0.3; printf x"])
                .stdout(Stdio::from(OwnedFd::from(theirs)))
                .spawn()
                .unwrap();
            let mut s = weft::net::UnixStream::from_std(mine).unwrap();
            let mut buf = [0u8; 1];
            assert_eq!(s.read(&mut buf).unwrap(), 1);
            assert_eq!(&buf, b"x");
            child.wait().unwrap();
            println!("finished");
        }),
        "normal" => {
            let v = weft::run(|| weft::spawn(|| 40).join().unwrap() + 2);
            println!("finished {v}");
        }
        other => panic!("unknown case {other}"),
    }
}

fn main() {
    if harness::run_child(run_case) {
        return;
    }
    // `cargo test` passes harness flags; a filter argument selects nothing here.
    check_reported(
        "join_forever",
        &[
            "goroutine 1 [goroutine join]:",
            "name: main",
            "[chan receive]:",
            "name: stuck",
            "created by ",
        ],
    );
    check_reported(
        "thread_and_goroutines",
        &["[sync.Mutex.Lock]:", "thread 'main' (", ") [park]:"],
    );
    check_reported(
        "plain_main_joins",
        &[
            "[chan receive]:",
            "name: stuck",
            "thread 'main' (",
            ") [goroutine join]:",
        ],
    );
    check_reported(
        "plain_main_waitgroup",
        &["thread 'main' (", ") [sync.WaitGroup.Wait]:"],
    );
    check_reported(
        "print_sum",
        &["[sync.WaitGroup.Wait]:", "[sync.Mutex.Lock]:"],
    );
    check_reported(
        "waitgroup_never_done",
        &["goroutine 1 [sync.WaitGroup.Wait]:"],
    );
    check_not_reported("timer_pending");
    check_not_reported("in_blocking");
    check_not_reported("thread_wakes_later");
    check_not_reported("long_computation");
    check_not_reported("socket_wait");
    check_not_reported("normal");
}
