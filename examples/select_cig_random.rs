//! Port of *Concurrency in Go* notes, "The select Statement": what happens
//! when several channels have something to read (seed 001)? Two closed
//! channels are always ready; select picks one uniformly at random, 1001
//! times.
//!
//! Prints (the counts vary around 500 and add up to 1001; the seed's
//! format string puts the comma at the start of the second line):
//! ```text
//! c1: 505
//! , c2: 496
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
        println!("c1: {c1_count}\n, c2: {c2_count}");
    });
}
