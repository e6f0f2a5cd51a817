//! Port of Go by Example "Worker Pools" (seed 002, `worker-pools.go`):
//! three worker goroutines take 5 jobs from a channel and send results back.
//!
//! Prints, in an order that varies with the random job durations, e.g.:
//! ```text
//! Worker : 3  -> Starting Job : 1
//! Worker : 2  -> Starting Job : 3
//! Worker : 1  -> Starting Job : 2
//! Worker : 1  -> Finished Job : 2  -> Duration : 1.847s
//! Worker : 1  -> Starting Job : 4
//! Received Result : 2
//! ...
//! Received Result : 5
//! ```

use std::time::Duration;

use weft::time::sleep;
use weft::{Receiver, Sender};

#[path = "common/mod.rs"]
mod common;

// The worker, of which we run several concurrent instances: it receives
// jobs and sends the corresponding results.
fn worker(id: i32, jobs: Receiver<i32>, results: Sender<i32>) {
    for job in &jobs {
        println!("Worker : {id}  -> Starting Job : {job}");

        // Sleep randomly per job to simulate an expensive task.
        let duration = Duration::from_millis(common::rand_intn(3000));
        sleep(duration);
        println!(
            "Worker : {id}  -> Finished Job : {job}  -> Duration : {}",
            common::duration_string(duration)
        );

        results.send(job).unwrap();
    }
}

fn main() {
    weft::run(|| {
        // To use the pool we send it jobs and collect its results.
        let (jobs_tx, jobs) = weft::chan::<i32>(100);
        let (results_tx, results) = weft::chan::<i32>(100);

        // Start up 3 workers, initially blocked: there are no jobs yet.
        for id in 1..=3 {
            weft::go!(worker(id, jobs.clone(), results_tx.clone()));
        }

        // Send 5 jobs, then close the channel: that is all the work.
        for job in 1..=5 {
            jobs_tx.send(job).unwrap();
        }
        jobs_tx.close().unwrap();

        // Collect all the results (this also ensures the workers finished
        // their jobs).
        for _ in 1..=5 {
            println!("Received Result : {}", results.recv().unwrap());
        }
    });
}
