//! Port of Go's `test/chan/select2.go`: 100,000 selects must not grow the
//! heap. After a warm-up round, a second round of 100,000 receives by a
//! two-case select may leave at most 110,000 bytes live (Go: `MemStats.Alloc`
//! after a GC; here the test binary's counting allocator, which counts the
//! blocks the two goroutines allocate and nothing else the process does).

use weft::{chan, select, Receiver, Sender};

use crate::common;

fn sender(c: Sender<i32>, n: usize) {
    for _ in 0..n {
        c.send(1).unwrap();
    }
}

fn receiver(c: &Receiver<i32>, dummy: &Receiver<i32>, n: usize) {
    for _ in 0..n {
        select! {
            recv(c) -> r => { r.unwrap(); }
            recv(dummy) -> _ => panic!("dummy"),
        }
    }
}

#[test]
fn select2() {
    let grew = common::run_alone(|| {
        let (c_tx, c) = chan(0);
        let (_dummy_tx, dummy) = chan(0);
        // warm up
        let tx = c_tx.clone();
        weft::go!(move || sender(tx, 100_000));
        receiver(&c, &dummy, 100_000);
        // second time shouldn't increase footprint by much
        common::measure(|| {
            let tx = c_tx.clone();
            weft::go!(move || common::counted(|| sender(tx, 100_000)));
            receiver(&c, &dummy, 100_000);
        })
    });
    assert!(
        grew.bytes <= 110_000,
        "too much memory for 100,000 selects: {grew:?}"
    );
}
