//! Port of the goroutines/channels guide's "atomic counters" (seed 000):
//! 64 goroutines increment one `atomic.Uint64`; a `WaitGroup` waits for
//! them.
//!
//! The seed counts to 1,280,000,000 (20,000,000 per goroutine: seconds of
//! contended atomics); here 20,000 per goroutine.
//!
//! Prints:
//! ```text
//! ops: 1280000
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use weft::sync::WaitGroup;

fn main() {
    weft::run(|| {
        let ops = Arc::new(AtomicU64::new(0));

        let wg = Arc::new(WaitGroup::new());

        // 64 goroutines count from 0 to 1280000.
        for _ in 0..64 {
            wg.add(1);

            let (ops, wg) = (ops.clone(), wg.clone());
            weft::go!(move || {
                for _ in 0..20_000 {
                    ops.fetch_add(1, Ordering::SeqCst);
                }

                wg.done(); // the counter goes down by 1
            });
        }

        wg.wait(); // wait for the counter to reach 0

        println!("ops: {}", ops.load(Ordering::SeqCst)); // 1280000
    });
}
