//! Port of the Go Concurrency Guide's "Pool" (seed 004): the pool of
//! `struct{}` instances (two created, the second put back and reused),
//! then a pool of 1 KiB buffers: four put in up front, and 1,048,576
//! goroutines that each take one and put it back. Few buffers are ever
//! created, because each goroutine returns its buffer for the next.
//!
//! Go's `calcPool.New()` returns a `*[]byte`, printed as `&[0 0 ... 0]`
//! (1024 zeros); the same here. The count is an atomic (in the seed, `New`
//! increments a plain `int` from many goroutines: a data race).
//!
//! Prints (the last count varies, and has no newline after it):
//! ```text
//! Creating new instance.
//! Creating new instance.
//! instance {}
//! new calc pool
//! calcPool.New &[0 0 0 ... 0]
//! new calc pool
//! new calc pool
//! new calc pool
//! new calc pool
//! 8 calculators were created.
//! ```

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weft::sync::{Pool, WaitGroup};

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let my_pool = Pool::new(|| {
            println!("Creating new instance.");
            "{}"
        });

        // Get calls New if the pool holds no instance.
        my_pool.get();
        let instance = my_pool.get();
        println!("instance {instance}");

        // Put a retrieved instance back: the pool holds one now.
        my_pool.put(instance);

        // This Get reuses that instance.
        my_pool.get();

        static NUM_CALCS_CREATED: AtomicUsize = AtomicUsize::new(0);
        let new_calc = || {
            println!("new calc pool");
            NUM_CALCS_CREATED.fetch_add(1, Ordering::SeqCst);
            Box::new(vec![0u8; 1024])
        };
        let calc_pool = Arc::new(Pool::new(new_calc));

        println!("calcPool.New &{}", common::fmt_slice(&new_calc()));

        calc_pool.put(new_calc());
        calc_pool.put(new_calc());
        calc_pool.put(new_calc());
        calc_pool.put(new_calc());

        calc_pool.get();

        const NUM_WORKERS: usize = 1024 * 1024;
        let wg = Arc::new(WaitGroup::new());
        wg.add(NUM_WORKERS);

        for _ in (1..=NUM_WORKERS).rev() {
            let (calc_pool, wg) = (calc_pool.clone(), wg.clone());
            weft::go!(move || {
                let _done = common::defer(|| wg.done());

                let mem = calc_pool.get();
                // Assume something interesting, but quick, is done with
                // this memory.
                calc_pool.put(mem); // `defer calcPool.Put(mem)`
            });
        }

        wg.wait();
        print!(
            "{} calculators were created.",
            NUM_CALCS_CREATED.load(Ordering::SeqCst)
        );
        let _ = std::io::stdout().flush();
    });
}
