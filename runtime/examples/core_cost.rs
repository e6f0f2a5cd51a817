//! Quick cost probe: spawn-to-completion and yield between two goroutines.
//! `cargo run --release -p weft-runtime --example core_cost`
//! (Go's syscall path beside it: `sched-bench/micro.sh syscall`.)
use std::time::Instant;

fn main() {
    const N: u64 = 1_000_000;
    weft_runtime::run(|| {
        for round in 0..3 {
            let t = Instant::now();
            let hs: Vec<_> = (0..N).map(|i| weft_runtime::spawn(move || i)).collect();
            let mut s = 0;
            for h in hs {
                s += h.join().unwrap();
            }
            let ns = t.elapsed().as_nanos() as f64 / N as f64;
            println!("round {round}: spawn+join {ns:.0} ns/goroutine (sum {s})");
        }
        for round in 0..3 {
            let t = Instant::now();
            let a = weft_runtime::spawn(|| {
                for _ in 0..N {
                    weft_runtime::yield_now()
                }
            });
            let b = weft_runtime::spawn(|| {
                for _ in 0..N {
                    weft_runtime::yield_now()
                }
            });
            a.join().unwrap();
            b.join().unwrap();
            let ns = t.elapsed().as_nanos() as f64 / (2 * N) as f64;
            println!("round {round}: yield {ns:.1} ns/switch");
        }
        for round in 0..3 {
            let t = Instant::now();
            for _ in 0..N {
                weft_runtime::blocking(|| ());
            }
            let empty = t.elapsed().as_nanos() as f64 / N as f64;
            let t = Instant::now();
            for _ in 0..N {
                // SAFETY: getpid has no preconditions.
                weft_runtime::blocking(|| unsafe { libc_getpid() });
            }
            let pid = t.elapsed().as_nanos() as f64 / N as f64;
            println!("round {round}: blocking(|| ()) {empty:.1} ns, blocking(getpid) {pid:.1} ns");
        }
    });
}

extern "C" {
    #[link_name = "getpid"]
    fn libc_getpid() -> i32;
}
