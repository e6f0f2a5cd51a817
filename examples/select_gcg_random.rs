//! Port of the Go Concurrency Guide's "select": what happens when several
//! channels have something to read (seed 004)? Two closed channels are
//! always ready; select picks uniformly at random, 1001 times.
//!
//! Prints (the counts vary around 500 and add up to 1001):
//! ```text
//! c1Count: 505
//! c2Count: 496
//! ```

fn main() {
    weft::run(|| {
        let (c1_tx, c1) = weft::chan::<()>(0);
        c1_tx.close().unwrap();
        let (c2_tx, c2) = weft::chan::<()>(0);
        c2_tx.close().unwrap();

        let (mut c1_count, mut c2_count) = (0, 0);
        for _ in (0..=1000).rev() {
            weft::select! {
                recv(c1) -> _ => c1_count += 1,
                recv(c2) -> _ => c2_count += 1,
            }
        }

        println!("c1Count: {c1_count}\nc2Count: {c2_count}");
    });
}
