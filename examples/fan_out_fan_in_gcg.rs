//! Port of the Go Concurrency Guide's "Fan-in and Fan-out" (seed 004):
//! three workers read one work channel (fan-out) and write one result
//! channel (fan-in); each work item is processed once, by some worker.
//!
//! Prints the five sends in order, then the five doubled results in the
//! order the workers finished them (Go's `Println` puts a space between
//! its arguments, hence the two spaces):
//! ```text
//! send to wch :  1
//! send to wch :  2
//! send to wch :  3
//! send to wch :  4
//! send to wch :  5
//! receive from res :  2
//! receive from res :  6
//! receive from res :  4
//! receive from res :  8
//! receive from res :  10
//! ```

use weft::{Receiver, Sender};

type Data = i32;

/// Distributes work items to uniform actors; no item is processed twice.
fn worker(wch: Receiver<Data>, res: Sender<Data>) {
    loop {
        let Ok(mut w) = wch.recv() else {
            return; // return when it is closed
        };

        w *= 2;
        res.send(w).unwrap();
    }
}

fn main() {
    weft::run(|| {
        let work: Vec<Data> = vec![1, 2, 3, 4, 5];

        const NUM_WORKERS: usize = 3;

        let (wch_tx, wch) = weft::chan::<Data>(work.len());
        let (res_tx, res) = weft::chan::<Data>(work.len());

        // Fan-out: one input channel for all actors.
        for _ in 0..NUM_WORKERS {
            weft::go!(worker(wch.clone(), res_tx.clone()));
        }

        // Fan-out: one input channel for all actors.
        for &w in &work {
            println!("send to wch :  {w}");
            wch_tx.send(w).unwrap();
        }
        wch_tx.close().unwrap();

        // Fan-in: one result channel.
        for _ in &work {
            let w = res.recv().unwrap();
            println!("receive from res :  {w}");
        }
    });
}
