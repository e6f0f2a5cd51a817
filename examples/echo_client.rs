//! Many echo clients at once, a goroutine each, on `weft::net`.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:7878
//! cargo run --release --example echo_client -- 127.0.0.1:7878 1000
//! ```
//!
//! Each client connects, sends ten 64-byte messages one after another,
//! reads each back and checks it. With no address it starts its own echo
//! server goroutine and uses 100 clients. Whatever the count, the process
//! stays at a handful of OS threads: the clients park, they do not block.

use std::io::{Read, Write};
use std::time::Instant;

use weft::net::{TcpListener, TcpStream};

#[path = "common/echo.rs"]
mod echo;

const ROUNDS: usize = 10;

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next();
    let conns: usize = match args.next().map(|n| n.parse()) {
        None => 100,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: echo_client [ADDR [CONNECTIONS]]  (CONNECTIONS: a positive number)");
            std::process::exit(2)
        }
    };
    weft::run(move || {
        let addr = match addr {
            Some(a) => a,
            None => {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                let a = l.local_addr().unwrap().to_string();
                weft::go!(echo::accept_loop(l, Some(conns)));
                a
            }
        };
        let t = Instant::now();
        let clients: Vec<_> = (0..conns)
            .map(|i| {
                let addr = addr.clone();
                weft::go!(move || -> std::io::Result<usize> {
                    let mut c = TcpStream::connect(&addr)?;
                    c.set_nodelay(true)?;
                    let mut ok = 0;
                    for r in 0..ROUNDS {
                        let msg = [(i * 31 + r) as u8; 64];
                        c.write_all(&msg)?;
                        let mut back = [0u8; 64];
                        c.read_exact(&mut back)?;
                        ok += usize::from(back == msg);
                    }
                    Ok(ok)
                })
            })
            .collect();
        let mut intact = 0;
        for h in clients {
            match h.join().unwrap() {
                Ok(n) => intact += n,
                Err(e) => eprintln!("echo_client: {e}"),
            }
        }
        println!(
            "{conns} clients x {ROUNDS} round trips: {intact} of {} echoes intact",
            conns * ROUNDS
        );
        eprintln_stats(t);
    });
}

/// Timing and thread counts vary from run to run: they go to stderr only
/// when asked (`ECHO_STATS=1`), so the example's output stays fixed.
fn eprintln_stats(t: Instant) {
    if std::env::var_os("ECHO_STATS").is_some() {
        let s = weft::stats();
        eprintln!(
            "took {:?}; {} Ms for {} processors",
            t.elapsed(),
            s.threads,
            s.maxprocs
        );
    }
}
