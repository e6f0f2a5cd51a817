//! Port of Go's `src/net/conn_test.go`.
//!
//! Ported: TestConnAndListener for "tcp" and "unix" (weft has no
//! "unixpacket"). Go's `Addr().Network()` checks become checks of the
//! addresses' kinds (IPv4 loopback; the listener's path). Go's deadlines of
//! an hour are timeouts of an hour (they never fire; the point is that
//! setting them does no harm).

use std::io::{Read, Write};
use std::time::Duration;

use weft::chan;
use weft::net::{TcpStream, UnixStream};

use crate::common;
use crate::net_mockserver::{local_listener, local_unix_listener, transponder};

const SOME_TIMEOUT: Duration = Duration::from_secs(3600);

#[test]
fn conn_and_listener() {
    common::run(|| {
        // tcp
        let ln = local_listener();
        let addr = ln.local_addr().unwrap();
        assert!(addr.ip().is_loopback() && addr.is_ipv4(), "{addr}");
        let (ch_tx, ch) = chan::<String>(1);
        weft::go!(move || {
            let (c, _) = ln.accept().unwrap();
            transponder(c, ch_tx);
        });
        let mut c = TcpStream::connect(addr).unwrap();
        assert!(c.local_addr().unwrap().is_ipv4());
        assert_eq!(c.peer_addr().unwrap(), addr);
        c.set_read_timeout(Some(SOME_TIMEOUT)).unwrap();
        c.set_write_timeout(Some(SOME_TIMEOUT)).unwrap();
        c.write_all(b"CONN AND LISTENER TEST").unwrap();
        let mut rb = [0u8; 128];
        let n = c.read(&mut rb).unwrap();
        assert!(n > 0);
        if let Ok(e) = ch.recv() {
            panic!("tcp: {e}");
        }

        // unix
        let (ln, path) = local_unix_listener();
        assert_eq!(
            ln.local_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        let (ch_tx, ch) = chan::<String>(1);
        weft::go!(move || {
            let (c, _) = ln.accept().unwrap();
            transponder(c, ch_tx);
        });
        let mut c = UnixStream::connect(&path.0).unwrap();
        assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(path.0.as_path()));
        c.set_read_timeout(Some(SOME_TIMEOUT)).unwrap();
        c.set_write_timeout(Some(SOME_TIMEOUT)).unwrap();
        c.write_all(b"CONN AND LISTENER TEST").unwrap();
        let n = c.read(&mut rb).unwrap();
        assert!(n > 0);
        if let Ok(e) = ch.recv() {
            panic!("unix: {e}");
        }
    });
}
