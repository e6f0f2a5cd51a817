//! A goroutine changes OS thread across a park (docs/soundness.md): what a
//! `thread_local!`, a `goroutine_local!` and `lock_os_thread` see.
//! `cargo run --release -p weft-runtime --example thread_hop`
//!
//! Four goroutines, and a fifth wired to its thread with `lock_os_thread`,
//! each park 200 times (`sleep(1 ms)`). Before each park a goroutine writes
//! its number into a `thread_local!` and into a `goroutine_local!`; after
//! the park it reads both back. Printed per goroutine: how many OS threads
//! it ran on, how often it woke on another thread than it parked on, and
//! how often each local no longer held its own number.
use std::cell::Cell;
use std::collections::HashSet;
use std::thread::ThreadId;
use std::time::Duration;

use weft_runtime as weft;

const PARKS: usize = 200;

thread_local! {
    static ON_THREAD: Cell<usize> = const { Cell::new(0) };
}

weft::goroutine_local! {
    static ON_GOROUTINE: Cell<usize> = Cell::new(0);
}

/// The OS thread running the caller. `#[inline(never)]`: the address of
/// `thread::current`'s thread-local must be computed afresh after a switch.
#[inline(never)]
fn tid() -> ThreadId {
    std::thread::current().id()
}

/// Writes and reads the `thread_local!`. `#[inline(never)]` for the same
/// reason: each call finds the slot of the thread it runs on now.
#[inline(never)]
fn set_on_thread(v: usize) {
    ON_THREAD.set(v);
}

#[inline(never)]
fn get_on_thread() -> usize {
    ON_THREAD.get()
}

struct Seen {
    threads: usize,
    changes: usize,
    thread_local_wrong: usize,
    goroutine_local_wrong: usize,
}

fn hop(me: usize, locked: bool) -> Seen {
    if locked {
        weft::lock_os_thread();
    }
    let mut threads = HashSet::new();
    let (mut changes, mut tl_wrong, mut gl_wrong) = (0, 0, 0);
    for _ in 0..PARKS {
        let before = tid();
        threads.insert(before);
        set_on_thread(me);
        ON_GOROUTINE.set(me);
        weft::time::sleep(Duration::from_millis(1)); // a park
        if tid() != before {
            changes += 1;
        }
        if get_on_thread() != me {
            tl_wrong += 1;
        }
        if ON_GOROUTINE.get() != me {
            gl_wrong += 1;
        }
        // A little work, so both Ps have something to run.
        std::hint::black_box((0..20_000u64).fold(me as u64, |a, b| a ^ (a << 1) ^ b));
    }
    if locked {
        weft::unlock_os_thread();
    }
    Seen {
        threads: threads.len(),
        changes,
        thread_local_wrong: tl_wrong,
        goroutine_local_wrong: gl_wrong,
    }
}

fn main() {
    weft::run(|| {
        let hs: Vec<_> = (1..=5)
            .map(|me| weft::spawn(move || hop(me, me == 5)))
            .collect();
        println!(
            "maxprocs {}; each goroutine parks {PARKS} times (sleep 1 ms)",
            weft::maxprocs()
        );
        println!("goroutine  locked  OS threads  woke elsewhere  thread_local wrong  goroutine_local wrong");
        for (i, h) in hs.into_iter().enumerate() {
            let s = h.join().unwrap();
            println!(
                "{:>9}  {:>6}  {:>10}  {:>14}  {:>18}  {:>21}",
                i + 1,
                if i + 1 == 5 { "yes" } else { "no" },
                s.threads,
                s.changes,
                s.thread_local_wrong,
                s.goroutine_local_wrong
            );
        }
    });
}
