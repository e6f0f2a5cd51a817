//! Oversubscription check (issue 15): wall and CPU time of idle, timer, ping-pong and spawn
//! phases. Run with `WEFT_MAXPROCS=8 cargo run --release -p weft-runtime --example oversub`
//! on a 2-core machine: idle phases must stay near 0% of a core.
use std::time::{Duration, Instant};
fn cpu_ms() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tck = 100.0;
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 1000.0 / tck
}
fn phase(name: &str, f: impl FnOnce()) {
    let (c0, t0) = (cpu_ms(), Instant::now());
    f();
    let (c, t) = (cpu_ms() - c0, t0.elapsed().as_secs_f64() * 1000.0);
    println!(
        "{name:<28} wall {t:8.0} ms  cpu {c:8.0} ms  ({:.0}% of a core)",
        100.0 * c / t
    );
}
fn main() {
    weft::run(|| {
        phase("idle 1 s (one parked G)", || {
            let (_tx, rx) = weft::chan::<()>(0);
            let h = weft::spawn(move || {
                let _ = rx.recv_timeout(Duration::from_millis(1000));
            });
            h.join().unwrap();
        });
        phase("1 ms ticker, 1 s", || {
            let t = weft::time::tick(Duration::from_millis(1));
            for _ in 0..1000 {
                t.recv().unwrap();
            }
        });
        phase("16 Gs each sleep 1ms x 200", || {
            let hs: Vec<_> = (0..16)
                .map(|_| {
                    weft::spawn(|| {
                        for _ in 0..200 {
                            weft::time::sleep(Duration::from_millis(1))
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        });
        phase("ping-pong 200k", || {
            let (a, ra) = weft::chan::<u32>(0);
            let (b, rb) = weft::chan::<u32>(0);
            let h = weft::spawn(move || {
                for v in ra.iter() {
                    b.send(v).unwrap();
                }
            });
            for i in 0..200_000 {
                a.send(i).unwrap();
                rb.recv().unwrap();
            }
            drop(a);
            h.join().unwrap();
        });
        phase("spawn 1M (wg)", || {
            let wg = std::sync::Arc::new(weft::sync::WaitGroup::new());
            for _ in 0..1_000_000 {
                wg.add(1);
                let w = wg.clone();
                weft::go!(move || w.done());
            }
            wg.wait();
        });
        phase("fib-ish fork join 2^16", || {
            fn f(n: u32) -> u64 {
                if n == 0 {
                    return 1;
                }
                let h = weft::spawn(move || f(n - 1));
                f(n - 1) + h.join().unwrap()
            }
            f(16);
        });
        phase("idle 1 s after work", || {
            std::thread::sleep(Duration::from_secs(1))
        });
        println!("threads {}", weft::stats().threads);
    });
}
