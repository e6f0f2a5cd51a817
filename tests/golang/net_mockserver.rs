//! Port of the helpers of Go's `src/net/mockserver_test.go` that the
//! `net_*` ports share: `newLocalListener` (TCP on 127.0.0.1, Unix on a
//! fresh path), a connected pair, and `transponder` (echo one message).
//!
//! Owns: the directory of this process's Unix socket paths, under the
//! system's temporary directory; each [`UnixPath`] removes its file when
//! dropped.
//!
//! Must never: listen beyond loopback.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use weft::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use weft::Sender;

/// Go's `newLocalListener(t, "tcp")`.
pub fn local_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A connected TCP pair: (dialer's end, acceptor's end).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let ln = local_listener();
    let c = TcpStream::connect(ln.local_addr().unwrap()).unwrap();
    let (s, _) = ln.accept().unwrap();
    (c, s)
}

/// A Unix socket path that is removed when dropped (Go's `testUnixAddr`
/// plus its `defer os.Remove`).
pub struct UnixPath(pub PathBuf);

impl UnixPath {
    pub fn new() -> UnixPath {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("weft-golang-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("s{}", N.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_file(&p);
        UnixPath(p)
    }
}

impl Drop for UnixPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Go's `newLocalListener(t, "unix")`: a listener and its path.
pub fn local_unix_listener() -> (UnixListener, UnixPath) {
    let p = UnixPath::new();
    (UnixListener::bind(&p.0).unwrap(), p)
}

/// A connected Unix pair through a listener (not `socketpair`): (dialer's
/// end, acceptor's end), and the listener's path.
pub fn unix_pair() -> (UnixStream, UnixStream, UnixPath) {
    let (ln, p) = local_unix_listener();
    let c = UnixStream::connect(&p.0).unwrap();
    let (s, _) = ln.accept().unwrap();
    (c, s, p)
}

/// Go's `transponder`: reads one message from `c` and writes it back,
/// sending any error on `ch`; `ch` is closed (dropped) at the end.
pub fn transponder<S>(mut c: S, ch: Sender<String>)
where
    S: Read + Write,
{
    let mut b = [0u8; 256];
    let n = match c.read(&mut b) {
        Ok(n) => n,
        Err(e) => {
            let _ = ch.send(format!("transponder read: {e}"));
            return;
        }
    };
    if let Err(e) = c.write_all(&b[..n]) {
        let _ = ch.send(format!("transponder write: {e}"));
    }
}

/// Stops the acceptors of `ln` that check `stop`: sets it, then connects
/// once per acceptor so that each returns from `accept`.
pub fn stop_acceptors(ln: &TcpListener, stop: &AtomicBool, acceptors: usize) {
    stop.store(true, Ordering::SeqCst);
    let addr = ln.local_addr().unwrap();
    let _wake: Vec<_> = (0..acceptors)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
}
