//! A TCP echo server on `weft::net`: one goroutine per connection, each
//! parked in "IO wait" (not holding an OS thread) while its client is quiet.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:7878        # serve until killed
//! cargo run --release --example echo_client -- 127.0.0.1:7878 1000   # 1,000 clients at it
//! ```
//!
//! With no address it checks itself: it listens on a free port, three
//! client goroutines each send three lines and read them back, and it
//! exits.

use std::io::{BufRead, BufReader, Write};

use weft::net::{TcpListener, TcpStream};

#[path = "common/echo.rs"]
mod echo;

fn main() {
    let addr = std::env::args().nth(1);
    weft::run(move || match addr {
        Some(addr) => {
            let listener = TcpListener::bind(&addr).unwrap_or_else(|e| {
                eprintln!("echo_server: cannot listen on {addr}: {e}");
                std::process::exit(1)
            });
            println!("listening on {}", listener.local_addr().unwrap());
            echo::accept_loop(listener, None);
        }
        None => self_test(),
    });
}

fn self_test() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    println!("listening on {addr}");
    let server = weft::go!(echo::accept_loop(listener, Some(3)));
    let clients: Vec<_> = (0..3)
        .map(|i| {
            weft::go!(move || {
                let conn = TcpStream::connect(addr).unwrap();
                let mut lines = BufReader::new(conn.try_clone().unwrap()).lines();
                let mut w = conn;
                let mut echoed = Vec::new();
                for j in 0..3 {
                    writeln!(w, "client {i} line {j}").unwrap();
                    echoed.push(lines.next().unwrap().unwrap());
                }
                echoed
            })
        })
        .collect();
    for h in clients {
        for line in h.join().unwrap() {
            println!("echoed: {line}");
        }
    }
    server.join().unwrap();
    println!("served 3 connections");
}
