//! Port of the goroutines/channels guide's "process & gather by
//! `WaitGroup`" (seed 000): ten goroutines drain an input channel of five
//! values through a slow processor; a goroutine closes the output channel
//! once the `WaitGroup` says all ten are done, which ends main's range.
//!
//! Prints, in some order, `launch groutine 0` to `launch groutine 9` and
//! five `goroutineN get V` lines (V = 0..4, each once), then the results
//! in the order they were gathered, e.g.:
//! ```text
//! [40 0 10 30 20]
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::sync::WaitGroup;
use weft::Receiver;

#[path = "common/mod.rs"]
mod common;

fn process_and_gather(input: Receiver<i32>, processor: fn(i32) -> i32, num: usize) -> Vec<i32> {
    let (out_tx, out) = weft::chan::<i32>(num);
    let wg = Arc::new(WaitGroup::new());
    wg.add(num);
    for i in 0..num {
        let (input, out_tx, wg) = (input.clone(), out_tx.clone(), wg.clone());
        weft::go!(move || {
            println!("launch groutine {i}");
            let _done = common::defer(|| wg.done());
            for v in &input {
                println!("goroutine{i} get {v}");
                out_tx.send(processor(v)).unwrap();
            }
        });
    }
    weft::go!(move || {
        wg.wait();
        out_tx.close().unwrap();
    });
    let mut result = Vec::new();
    for v in &out {
        result.push(v);
    }
    result
}

fn main() {
    weft::run(|| {
        // Prepare the data.
        let (ch_tx, ch) = weft::chan::<i32>(5);
        for i in 0..5 {
            ch_tx.send(i).unwrap();
        }
        ch_tx.close().unwrap();

        let func1 = |x: i32| {
            weft::time::sleep(Duration::from_secs(1));
            x * 10
        };
        let result = process_and_gather(ch, func1, 10);
        println!("{}", common::fmt_slice(&result));
    });
}
