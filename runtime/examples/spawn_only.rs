//! Profiling aid: spawn-to-completion only.
use std::time::Instant;
fn main() {
    const N: u64 = 1_000_000;
    weft_runtime::run(|| {
        for round in 0..5 {
            let t = Instant::now();
            let hs: Vec<_> = (0..N).map(|i| weft_runtime::spawn(move || i)).collect();
            let mut s = 0;
            for h in hs {
                s += h.join().unwrap();
            }
            let ns = t.elapsed().as_nanos() as f64 / N as f64;
            println!("round {round}: spawn+join {ns:.0} ns/goroutine (sum {s})");
        }
    });
}
