//! Port of Go by Example "Atomic Counters" (seed 002,
//! `atomic-counters.go`): 50 goroutines each increment two counters 1000
//! times, one with `nonAtomicCounter++` and one with `atomic.AddUint64`.
//!
//! Go's `nonAtomicCounter++` from 50 goroutines is a data race, and safe
//! Rust does not compile it. Written as Go does (the closure borrows the
//! local counter), rustc says:
//!
//! ```text
//! error[E0373]: closure may outlive the current function, but it borrows `non_atomic_counter`, which is owned by the current function
//!   --> examples/atomic_counters.rs
//!    |
//!    |             weft::go!(|| {
//!    |                 for _ in 0..1000 {
//!    |                     non_atomic_counter += 1;
//!    |                     ------------------ `non_atomic_counter` is borrowed here
//!    |
//! error[E0499]: cannot borrow `non_atomic_counter` as mutable more than once at a time
//! error[E0502]: cannot borrow `non_atomic_counter` as immutable because it is also borrowed as mutable
//! ```
//!
//! (With `move` it compiles, but each goroutine increments its own copy of
//! the `u64`, and rustc warns "value captured by `non_atomic_counter` is
//! never read".) The corrected program below keeps the seed's point: the
//! "non-atomic" counter is read and written back in two steps (a load,
//! then a store), so concurrent increments are lost exactly as in Go's
//! race when two goroutines run it at once on different threads, while
//! the atomic counter counts every one.
//!
//! Prints (the first number varies, and is at most 50000):
//! ```text
//! nonAtomicCounter : 17806
//! atomicCounter    : 50000
//! atomic.LoadUint64(&atomicCounter) = 50000
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use weft::sync::WaitGroup;

fn main() {
    weft::run(|| {
        // Always-positive counters.
        let non_atomic_counter = Arc::new(AtomicU64::new(0));
        let atomic_counter = Arc::new(AtomicU64::new(0));

        // Waits for all goroutines to finish their work.
        let wg = Arc::new(WaitGroup::new());

        // 50 goroutines, each increments the counters exactly 1000 times.
        for _ in 0..50 {
            wg.add(1);
            let (non_atomic_counter, atomic_counter, wg) = (
                non_atomic_counter.clone(),
                atomic_counter.clone(),
                wg.clone(),
            );
            weft::go!(move || {
                for _ in 0..1000 {
                    // `nonAtomicCounter++`: read, then write back (not atomic).
                    let v = non_atomic_counter.load(Ordering::Relaxed);
                    non_atomic_counter.store(v + 1, Ordering::Relaxed);

                    // Atomically increment.
                    atomic_counter.fetch_add(1, Ordering::SeqCst);
                }
                wg.done();
            });
        }

        // Wait until all the goroutines are done.
        wg.wait();

        // Safe to read now: no other goroutine writes to them.
        println!(
            "nonAtomicCounter : {}",
            non_atomic_counter.load(Ordering::Relaxed)
        );
        println!(
            "atomicCounter    : {}",
            atomic_counter.load(Ordering::SeqCst)
        );

        // Reading atomics while they are being updated is also safe.
        println!(
            "atomic.LoadUint64(&atomicCounter) = {}",
            atomic_counter.load(Ordering::SeqCst)
        );
    });
}
