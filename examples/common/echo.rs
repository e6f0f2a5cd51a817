//! The echo handler shared by `echo_server` and `echo_client` (which runs
//! its own server when given no address). Not an example itself.

#![allow(dead_code)] // each example uses only some of these

use std::io::{Read, Write};

use weft::net::TcpStream;

/// Echoes everything `conn` sends until it closes; one goroutine runs this
/// per connection, parked in "IO wait" while the client is quiet.
pub fn serve(mut conn: TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) => {
                eprintln!("echo: read: {e}");
                return;
            }
        }
    }
}

/// Accepts connections forever (or `limit` of them), a goroutine each.
pub fn accept_loop(listener: weft::net::TcpListener, limit: Option<usize>) {
    for (i, conn) in listener.incoming().enumerate() {
        match conn {
            Ok(c) => {
                weft::go!(serve(c));
            }
            Err(e) => eprintln!("echo: accept: {e}"),
        }
        if limit.is_some_and(|l| i + 1 >= l) {
            return;
        }
    }
}
