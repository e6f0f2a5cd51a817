//! The two programs of docs/walkthrough.md, small enough to read in a
//! trace picture: `skynet` (a tree of 111 goroutines summing 0..100, the
//! leaves spinning a few microseconds each) and
//! `pingpong` (two goroutines trading a number 20 times over unbuffered
//! channels). With a second argument, records a trace of the program's
//! work only (`weft::trace::start` and `stop` around it, inside `run`):
//! `WEFT_SPAWN=continuation WEFT_MAXPROCS=2 cargo run --release -p weft-runtime --example trace_walk -- skynet out.svg`
//! (`.json` for ui.perfetto.dev, `.html` for the timeline page).
//! `WEFT_TRACE=out.html` records the whole process instead, boot included.
//! scripts/walkthrough.sh makes the chapter's pictures.

fn skynet(num: u64, size: u64) -> u64 {
    if size == 1 {
        // A few microseconds of work per leaf, so a second P has time to
        // wake up and steal (without it the tree is done first).
        let mut x = num;
        for _ in 0..3000 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        std::hint::black_box(x);
        return num;
    }
    let sub = size / 10;
    let children: Vec<_> = (0..10)
        .map(|i| weft::spawn(move || skynet(num + i * sub, sub)))
        .collect();
    children.into_iter().map(|h| h.join().unwrap()).sum()
}

fn pingpong(rounds: u32) -> u32 {
    let (ping, ping_rx) = weft::chan::<u32>(0);
    let (pong, pong_rx) = weft::chan::<u32>(0);
    let echo = weft::Builder::new()
        .name("echo")
        .spawn(move || {
            for v in &ping_rx {
                pong.send(v + 1).unwrap();
            }
        })
        .unwrap();
    let mut v = 0;
    for _ in 0..rounds {
        ping.send(v).unwrap();
        v = pong_rx.recv().unwrap();
    }
    drop(ping);
    echo.join().unwrap();
    v
}

/// Runs `work` in the runtime, traced to `out` when there is one.
fn traced<T: Send + 'static>(out: Option<String>, work: fn() -> T) -> T {
    weft::run(move || {
        if let Some(out) = &out {
            weft::trace::start(out).unwrap_or_else(|e| panic!("{out}: {e}"));
        }
        let v = work();
        if out.is_some() {
            weft::trace::stop().unwrap();
        }
        v
    })
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let out = std::env::args().nth(2);
    match which.as_str() {
        "skynet" => {
            let sum = traced(out, || skynet(0, 100));
            assert_eq!(sum, 4950);
            println!("skynet(100) = {sum}");
        }
        "pingpong" => {
            let v = traced(out, || pingpong(20));
            assert_eq!(v, 20);
            println!("pingpong: 20 rounds");
        }
        _ => {
            eprintln!("usage: trace_walk skynet|pingpong [TRACE.svg|.html|.json]");
            std::process::exit(2);
        }
    }
}
