//! Port of the goroutines/channels guide's "example: close channels"
//! (seed 000): as Go by Example's program with a 2 s pause after each
//! send, and a last receive on the closed, drained channel.
//!
//! Prints:
//! ```text
//! sent job 1
//! received job 1
//! sent job 2
//! received job 2
//! sent job 3
//! received job 3
//! sent all jobs
//! received all jobs
//! received more jobs: false
//! ```

use std::time::Duration;

fn main() {
    weft::run(|| {
        let (jobs_tx, jobs) = weft::chan::<i32>(5);
        let (done_tx, done) = weft::chan::<bool>(0);

        let worker_jobs = jobs.clone();
        weft::go!(move || loop {
            match worker_jobs.recv() {
                Ok(j) => println!("received job {j}"),
                Err(_) => {
                    println!("received all jobs");
                    done_tx.send(true).unwrap();
                    return;
                }
            }
        });

        for j in 1..=3 {
            jobs_tx.send(j).unwrap();
            println!("sent job {j}");
            weft::time::sleep(Duration::from_secs(2));
        }
        jobs_tx.close().unwrap();
        println!("sent all jobs");

        done.recv().unwrap();

        let ok = jobs.recv().is_ok();
        println!("received more jobs: {ok}");
    });
}
