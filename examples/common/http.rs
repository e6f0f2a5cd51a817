//! Just enough of Go's `net/http` for the seed programs that fetch pages or
//! serve them, over `weft::net`: a GET of a plain `http://` URL, and a
//! server answering every request the same way. Not an example itself,
//! and not part of `common/mod.rs`: only the examples that use the network
//! include it, so the others build without `weft::net`.

#![allow(dead_code)] // each example uses only some of these

use std::io::{self, BufRead, BufReader, Read, Write};

use weft::net::{TcpListener, TcpStream};

/// Go's `*http.Response`, as much of it as the examples read.
pub struct Response {
    /// `200 OK`: the status line after the protocol.
    pub status: String,
    pub body: String,
}

/// Go's `http.Get` for a plain `http://host[:port]/path` URL.
pub fn get(url: &str) -> io::Result<Response> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "unsupported protocol scheme")
    })?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let mut conn = TcpStream::connect(addr.as_str())?;
    write!(
        conn,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    conn.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or_default();
    let status = status.split_once(' ').map_or(status, |(_, s)| s);
    Ok(Response {
        status: status.to_string(),
        body: body.to_string(),
    })
}

/// Go's `http.ListenAndServe` on a free local port, each connection served
/// by `handler` in its own goroutine: `handler` gets the request's path
/// and returns the status and body to answer. Returns the server's base
/// URL, `http://127.0.0.1:PORT/`.
pub fn serve(handler: impl Fn(&str) -> (String, String) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let addr = listener.local_addr().expect("the listener's address");
    let handler = std::sync::Arc::new(handler);
    weft::go!(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let handler = handler.clone();
            weft::go!(move || {
                let _ = answer(&conn, &*handler);
            });
        }
    });
    format!("http://{addr}/")
}

fn answer(conn: &TcpStream, handler: &dyn Fn(&str) -> (String, String)) -> io::Result<()> {
    let mut reader = BufReader::new(conn);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // The rest of the head, up to the empty line.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 && line != "\r\n" {
        line.clear();
    }
    let path = request_line.split(' ').nth(1).unwrap_or("/");
    let (status, body) = handler(path);
    let mut w = conn;
    write!(
        w,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
