//! ThreadSanitizer sees goroutines (only with `--cfg weft_tsan`, which
//! scripts/tsan.sh sets; docs/stacks.md, "ThreadSanitizer"). A child
//! process (this binary again) makes a real race between a goroutine and a
//! plain thread; the test reads TSan's report from its stderr. It checks
//! that the run's TSan is told about goroutines (the goroutine's side of the
//! race is a fiber that `stack/tsan.rs` made), that the goroutine's stack
//! is its own after a hundred thousand switches (TSan's shadow call stack
//! neither lost nor gained frames at them), and that TSan, which a quiet
//! suite would also show if it saw nothing, does see races.
#![cfg(weft_tsan)]

use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use weft_runtime as weft;

const CHILD: &str = "WEFT_TSAN_TEST_CHILD";

/// Written by a goroutine and a plain thread with nothing ordering the two.
static mut SHARED: u64 = 0;

/// Set (Relaxed: no happens-before for TSan) once the goroutine wrote.
static WROTE: AtomicBool = AtomicBool::new(false);

#[inline(never)]
fn racy_write(v: u64) {
    // SAFETY: none: this is the race the test wants TSan to report. The
    // two writes are of a plain u64, one after the other in time (the
    // thread waits for WROTE), so the program's result does not depend on
    // it.
    unsafe { std::ptr::write_volatile(&raw mut SHARED, v) };
}

/// The goroutine's side, by name in the report.
#[inline(never)]
fn goroutine_side() {
    racy_write(1);
    WROTE.store(true, Ordering::Relaxed);
}

/// How many times the racing goroutine and its companions switch first.
const SWITCHES: usize = 100_000;

#[test]
fn a_race_between_a_goroutine_and_a_thread_is_reported_with_the_goroutines_stack() {
    if std::env::var_os(CHILD).is_some() {
        weft::run(|| {
            // The thread first: were it spawned after the goroutine wrote,
            // TSan would see the write happen before the spawn (the
            // spawning goroutine may have run on the writer's M since).
            let t = std::thread::spawn(|| {
                while !WROTE.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
                racy_write(2);
            });
            // Companions that keep both Ms busy, so the racing goroutine
            // moves between them.
            let others: Vec<_> = (0..3)
                .map(|_| {
                    weft::spawn(|| {
                        for _ in 0..SWITCHES {
                            weft::yield_now();
                        }
                    })
                })
                .collect();
            weft::spawn(move || {
                for i in 0..SWITCHES {
                    black_box(i);
                    weft::yield_now();
                }
                // The companions are done before the write: every switch
                // moves TSan's clocks on, and TSan clears its shadow memory
                // when they run out, which could forget the write before
                // the thread makes its own.
                for o in others {
                    o.join().unwrap();
                }
                goroutine_side();
            })
            .join()
            .unwrap();
            t.join().unwrap();
        });
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_race_between_a_goroutine_and_a_thread_is_reported_with_the_goroutines_stack",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("WEFT_MAXPROCS", "2")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // TSan's exit code for a run with reports.
    assert_eq!(out.status.code(), Some(66), "{err}");
    assert_eq!(
        err.matches("WARNING: ThreadSanitizer: data race").count(),
        1,
        "{err}"
    );
    let report = err
        .split("==================")
        .find(|r| r.contains("data race"))
        .unwrap();
    assert!(report.contains("tsan::racy_write"), "{report}");
    assert!(report.contains("tsan::goroutine_side"), "{report}");
    // The goroutine's side is a fiber of its own, made by stack/tsan.rs
    // (TSan names where each thread of a report was created).
    assert!(report.contains("stack::tsan::Fiber>::resuming"), "{report}");
    // Each stack in the report is short: the goroutine's frames from its
    // start, none left over from the switches before it.
    let frames = report
        .lines()
        .filter(|l| l.trim_start().starts_with('#'))
        .count();
    assert!(frames < 120, "{frames} frames:\n{report}");
}
