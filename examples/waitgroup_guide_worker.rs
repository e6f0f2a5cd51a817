//! Port of the goroutines/channels guide's "WaitGroup" worker program
//! (seed 000): five workers, each passed its id as an argument
//! (`go func(x int) {...}(i)`), `wg.Done()` after the work.
//!
//! Prints the five `starting` lines, then the five `done` lines, each five
//! in some order:
//! ```text
//! Worker 5 starting
//! Worker 2 starting
//! Worker 4 starting
//! Worker 1 starting
//! Worker 3 starting
//! Worker 3 done
//! Worker 1 done
//! Worker 4 done
//! Worker 2 done
//! Worker 5 done
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::sync::WaitGroup;

fn worker(id: i32) {
    println!("Worker {id} starting");
    weft::time::sleep(Duration::from_secs(1));
    println!("Worker {id} done");
}

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());

        for i in 1..=5 {
            wg.add(1);

            let wg = wg.clone();
            let x = i;
            weft::go!(move || {
                worker(x);
                wg.done();
            });
        }
        wg.wait();
    });
}
