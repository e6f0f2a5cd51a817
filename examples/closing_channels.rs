//! Port of Go by Example "Closing Channels" (seed 002,
//! `closing-channels.go`): closing `jobs` tells the worker there is no
//! more work; `recv` returning `Err` is Go's `more == false`.
//!
//! Prints (the two goroutines' lines interleave as they may in Go):
//! ```text
//! sent job : 1
//! sent job : 2
//! sent job : 3
//! sent all jobs
//! received job : 1
//! received job : 2
//! received job : 3
//! received all jobs
//! ```

fn main() {
    weft::run(|| {
        let (jobs_tx, jobs) = weft::chan::<i32>(5);
        let (done_tx, done) = weft::chan::<bool>(0);

        // The worker goroutine repeatedly receives from `jobs`.
        weft::go!(move || loop {
            // `Err` once `jobs` has been closed and every value in it has
            // been received (Go's `job, more := <-jobs` with more false).
            match jobs.recv() {
                Ok(job) => println!("received job : {job}"),
                Err(_) => {
                    println!("received all jobs");
                    done_tx.send(true).unwrap();
                    return;
                }
            }
        });

        // Send 3 jobs to the worker over the `jobs` channel.
        for job in 1..=3 {
            jobs_tx.send(job).unwrap();
            println!("sent job : {job}");
        }

        // Close the channel to indicate completion.
        jobs_tx.close().unwrap();
        println!("sent all jobs");

        // Await the worker (channel synchronization).
        done.recv().unwrap();
    });
}
