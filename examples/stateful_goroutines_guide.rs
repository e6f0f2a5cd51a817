//! Port of the goroutines/channels guide's "custom stateful goroutine"
//! (seed 000), Go by Example's "Stateful Goroutines": one goroutine owns
//! the state (a map) and serves read and write requests sent over
//! channels, each carrying its own response channel; 100 readers and 10
//! writers count their completed operations with atomics for a second.
//!
//! Prints (the counts vary):
//! ```text
//! readOps: 71708
//! writeOps: 7177
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft::Sender;

#[path = "common/mod.rs"]
mod common;

struct ReadOp {
    key: u64,
    resp: Sender<u64>,
}

struct WriteOp {
    key: u64,
    val: u64,
    resp: Sender<bool>,
}

fn main() {
    weft::run(|| {
        let read_ops = Arc::new(AtomicU64::new(0));
        let write_ops = Arc::new(AtomicU64::new(0));

        let (reads_tx, reads) = weft::chan::<ReadOp>(0);
        let (writes_tx, writes) = weft::chan::<WriteOp>(0);

        weft::go!(move || {
            let mut state: HashMap<u64, u64> = HashMap::new();
            loop {
                weft::select! {
                    recv(reads) -> read => {
                        let read = read.unwrap();
                        read.resp.send(state.get(&read.key).copied().unwrap_or(0)).unwrap();
                    },
                    recv(writes) -> write => {
                        let write = write.unwrap();
                        state.insert(write.key, write.val);
                        write.resp.send(true).unwrap();
                    },
                }
            }
        });

        for _ in 0..100 {
            let (reads, read_ops) = (reads_tx.clone(), read_ops.clone());
            weft::go!(move || loop {
                let (resp_tx, resp) = weft::chan::<u64>(0);
                let read = ReadOp {
                    key: common::rand_intn(5),
                    resp: resp_tx,
                };
                reads.send(read).unwrap();
                // Here is the interesting part: wait for the state
                // goroutine's answer.
                resp.recv().unwrap();
                read_ops.fetch_add(1, Ordering::SeqCst);
                weft::time::sleep(Duration::from_millis(1));
            });
        }

        for _ in 0..10 {
            let (writes, write_ops) = (writes_tx.clone(), write_ops.clone());
            weft::go!(move || loop {
                let (resp_tx, resp) = weft::chan::<bool>(0);
                let write = WriteOp {
                    key: common::rand_intn(5),
                    val: common::rand_intn(100),
                    resp: resp_tx,
                };
                writes.send(write).unwrap();
                resp.recv().unwrap();
                write_ops.fetch_add(1, Ordering::SeqCst);
                weft::time::sleep(Duration::from_millis(1));
            });
        }

        weft::time::sleep(Duration::from_secs(1));

        let read_ops_final = read_ops.load(Ordering::SeqCst);
        println!("readOps: {read_ops_final}");
        let write_ops_final = write_ops.load(Ordering::SeqCst);
        println!("writeOps: {write_ops_final}");
    });
}
