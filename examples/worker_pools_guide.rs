//! Port of the goroutines/channels guide's "goroutine pool" (seed 000):
//! three workers, 5 jobs each taking a random 0–4 s, results doubled.
//!
//! Prints `---`, `xxx` and `+++` (main's progress), each worker's
//! `worker N started  job J` / `worker N finished job J costs S` lines in an
//! order that varies with the random costs, and `***` once all 5 results
//! are in.

use std::time::Duration;

use weft::time::sleep;
use weft::{Receiver, Sender};

#[path = "common/mod.rs"]
mod common;

fn worker(id: i32, jobs: Receiver<i32>, results: Sender<i32>) {
    for j in &jobs {
        println!("worker {id} started  job {j}");
        let num = common::rand_intn(5);
        sleep(Duration::from_secs(num));
        println!("worker {id} finished job {j} costs {num}");
        results.send(j * 2).unwrap();
    }
}

fn main() {
    weft::run(|| {
        const NUM_JOBS: i32 = 5;
        let (jobs_tx, jobs) = weft::chan::<i32>(NUM_JOBS as usize);
        let (results_tx, results) = weft::chan::<i32>(NUM_JOBS as usize);

        println!("---");
        for w in 1..=3 {
            weft::go!(worker(w, jobs.clone(), results_tx.clone()));
        }

        println!("xxx");
        for j in 1..=NUM_JOBS {
            jobs_tx.send(j).unwrap();
        }
        jobs_tx.close().unwrap();

        println!("+++");
        for _ in 1..=NUM_JOBS {
            results.recv().unwrap();
        }
        println!("***");
    });
}
