//! Port of the Go Concurrency Guide's "Queuing" (seed 004): a buffered
//! channel of `NumCPU` slots limits how many of 51 goroutines run at
//! once — the loop sends into `limit` before starting each goroutine,
//! and each goroutine receives from it when done.
//!
//! The seed's goroutines sleep 1 s each (26 s on two CPUs); here 20 ms.
//!
//! Prints (the limit depends on the machine; the `Process` lines come in
//! roughly increasing order, each once):
//! ```text
//! Started, Limit 2
//! Process 0
//! Process 1
//! ...
//! Process 50
//! Finished
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::sync::WaitGroup;
use weft::Sender;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());
        let num_cpu = std::thread::available_parallelism().map_or(1, usize::from);
        let (limit, limit_rx) = weft::chan::<()>(num_cpu);

        println!("Started, Limit {}", limit.cap());

        let workers = |l: &Sender<()>, wg: &Arc<WaitGroup>| {
            for i in 0..=50 {
                #[allow(clippy::redundant_locals)] // kept as the seed writes it
                let i = i;

                l.send(()).unwrap();
                wg.add(1);

                let (limit_rx, w) = (limit_rx.clone(), wg.clone());
                weft::go!(move || {
                    let _done = common::defer(|| w.done());

                    weft::time::sleep(Duration::from_millis(20));
                    println!("Process {i}");

                    limit_rx.recv().unwrap();
                });
            }
        };

        workers(&limit, &wg);
        wg.wait();

        println!("Finished");
    });
}
