//! Port of Go by Example "WaitGroups" (seed 002, `wait-groups.go`): wait
//! for five workers with a `WaitGroup`. Go passes `&wg`; here the group is
//! shared through an `Arc`.
//!
//! Prints the five `Starting` lines, then (a second later) the five `Done`
//! lines, each five in some order:
//! ```text
//! Worker : 5 -> Starting
//! Worker : 2 -> Starting
//! Worker : 1 -> Starting
//! Worker : 4 -> Starting
//! Worker : 3 -> Starting
//! Worker : 5 -> Done
//! Worker : 1 -> Done
//! Worker : 3 -> Done
//! Worker : 4 -> Done
//! Worker : 2 -> Done
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::sync::WaitGroup;

fn worker(id: i32, wg: Arc<WaitGroup>) {
    println!("Worker : {id} -> Starting");

    // Sleep to simulate an expensive task.
    weft::time::sleep(Duration::from_secs(1));
    println!("Worker : {id} -> Done");

    // Notify the WaitGroup that this worker is done.
    wg.done();
}

fn main() {
    weft::run(|| {
        // Waits for all the goroutines launched here to finish.
        let wg = Arc::new(WaitGroup::new());

        // Launch several goroutines and increment the counter for each.
        for id in 1..=5 {
            wg.add(1);
            weft::go!(worker(id, wg.clone()));
        }

        // Block until the counter goes back to 0: every worker is done.
        wg.wait();
    });
}
