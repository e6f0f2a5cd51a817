//! Port of the Go Concurrency Guide's "RWMutex" (seed 004): a producer
//! that takes the write lock five times, against 1, 2, 4, ... observers
//! that each take the lock once — through the read lock (Go's
//! `m.RLocker()`) in one column and through the write lock (`&m`) in the
//! other. Go's `sync.Locker` is the `Locker` enum here; the table is laid
//! out as `text/tabwriter` does.
//!
//! The seed goes up to 2^19 observers (a million goroutines in the last
//! row alone); here up to 2^15.
//!
//! Prints a table (the times vary):
//! ```text
//! Readers  RWMutex     Mutex
//! 1        18.1µs      5.3µs
//! 2        9.8µs       7.1µs
//! ...
//! 32768    21.63ms     25.1ms
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, WaitGroup};

#[path = "common/mod.rs"]
mod common;

/// Go's `sync.Locker` over an `RWMutex`: `&m` or `m.RLocker()`.
#[derive(Clone)]
enum Locker {
    Write(Arc<RwLock<()>>),
    Read(Arc<RwLock<()>>),
}

/// The held lock; dropping it unlocks.
#[allow(dead_code)] // held only for its Drop
enum Guard<'a> {
    Write(RwLockWriteGuard<'a, ()>),
    Read(RwLockReadGuard<'a, ()>),
}

impl Locker {
    fn lock(&self) -> Guard<'_> {
        match self {
            Locker::Write(m) => Guard::Write(m.write()),
            Locker::Read(m) => Guard::Read(m.read()),
        }
    }
}

fn producer(wg: Arc<WaitGroup>, l: Locker) {
    let _done = common::defer(|| wg.done());
    for _ in (1..=5).rev() {
        let g = l.lock();
        drop(g);
        weft::time::sleep(Duration::from_nanos(1));
    }
}

fn observer(wg: Arc<WaitGroup>, l: Locker) {
    let _done = common::defer(|| wg.done());
    let _g = l.lock();
}

fn test(count: usize, mutex: &Locker, rw_mutex: &Locker) -> Duration {
    let wg = Arc::new(WaitGroup::new());
    wg.add(count + 1);
    let begin_test_time = Instant::now();
    weft::go!(producer(wg.clone(), mutex.clone()));
    for _ in (1..=count).rev() {
        weft::go!(observer(wg.clone(), rw_mutex.clone()));
    }

    wg.wait();
    begin_test_time.elapsed()
}

/// `text/tabwriter` with minwidth 0, tabwidth 1, padding 2, padchar ' ':
/// every column but the last as wide as its widest cell plus 2.
fn tabwriter(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
                + 2
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}", width = widths[c]));
            }
        }
        println!("{line}");
    }
}

fn main() {
    weft::run(|| {
        let m = Arc::new(RwLock::new(()));
        let mut tw = vec![vec![
            "Readers".to_string(),
            "RWMutex".to_string(),
            "Mutex".to_string(),
        ]];

        for i in 0..16 {
            let count = 2usize.pow(i);
            tw.push(vec![
                count.to_string(),
                common::duration_string(test(
                    count,
                    &Locker::Write(m.clone()),
                    &Locker::Read(m.clone()),
                )),
                common::duration_string(test(
                    count,
                    &Locker::Write(m.clone()),
                    &Locker::Write(m.clone()),
                )),
            ]);
        }
        tabwriter(&tw); // `defer tw.Flush()`
    });
}
