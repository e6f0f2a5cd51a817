//! Port of Go's `src/net/net_test.go`.
//!
//! Mapping: Go's `CloseRead`/`CloseWrite` are `shutdown(Read)`/
//! `shutdown(Write)`; Go's `io.EOF` is `Ok(0)`. Go's networks "tcp",
//! "unix" are run (weft has no "unixpacket"). A connection the peer
//! "closes" is dropped. Go's `SetLinger(0)` + `Close` (an abortive close)
//! is made without a linger option: the peer drops its end with unread
//! data in its receive queue, for which the kernel also sends a reset.
//!
//! Ported: TestCloseRead, TestCloseWrite, TestCloseUnblocksRead, TestNotTemporaryRead (the read fails with
//! `ConnectionReset`, not EOF).
//!
//! Not ported: TestZeroByteRead (Go returns `(0, nil)` at once for a
//! zero-byte `Read`; weft's `read(&mut [])`, like std's on a blocking
//! socket, waits until data or EOF arrives: Linux's `recv` of 0 bytes says
//! `EAGAIN` on an empty TCP or Unix socket); TestConnClose, TestListenerClose, TestPacketConnClose (an
//! operation on a closed socket cannot be written: closing is dropping the
//! last handle); TestAcceptIgnoreAbortedConnRequest (Go's socktest fault
//! injection into `accept`); TestReadTimeoutUnblocksRead (it moves the
//! deadline of a read already blocked; a weft timeout, like std's, applies
//! to the operations that start after it is set: see `net_timeout`);
//! TestCloseUnblocksReadUDP (a `UdpSocket` has no `shutdown`, and closing
//! is dropping the last handle); TestErrors (Go's error types).

use std::io::{self, Read, Write};
use std::net::Shutdown;

use weft::net::{TcpStream, UnixStream};
use weft::time::sleep;

use crate::common::{self, ms};
use crate::net_mockserver::{local_listener, tcp_pair, unix_pair};

/// What the tests need of TCP and Unix streams alike.
trait Stream: Read + Write + Send + 'static {
    fn shutdown_(&self, how: Shutdown) -> io::Result<()>;
}

impl Stream for TcpStream {
    fn shutdown_(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

impl Stream for UnixStream {
    fn shutdown_(&self, how: Shutdown) -> io::Result<()> {
        self.shutdown(how)
    }
}

fn close_read<S: Stream>(mut c: S) {
    c.shutdown_(Shutdown::Read).unwrap();
    let mut b = [0u8; 1];
    match c.read(&mut b) {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("got ({n}, nil); want (0, error)"),
    }
}

#[test]
fn close_read_() {
    common::run(|| {
        let (c, _s) = tcp_pair();
        close_read(c);
        let (c, _s, _p) = unix_pair();
        close_read(c);
    });
}

fn close_write<S: Stream>(mut c: S, mut s: S) {
    let handler = weft::go!(move || {
        let mut b = [0u8; 1];
        let n = s.read(&mut b).unwrap();
        assert_eq!(n, 0, "server: got ({n}, nil); want (0, EOF)");
        s.shutdown_(Shutdown::Write).unwrap();
        assert!(
            s.write(&b).is_err(),
            "server: write after CloseWrite succeeded"
        );
    });
    c.shutdown_(Shutdown::Write).unwrap();
    let mut b = [0u8; 1];
    let n = c.read(&mut b).unwrap();
    assert_eq!(n, 0, "client: got ({n}, nil); want (0, EOF)");
    assert!(
        c.write(&b).is_err(),
        "client: write after CloseWrite succeeded"
    );
    handler.join().unwrap();
}

#[test]
fn close_write_() {
    common::run(|| {
        let (c, s) = tcp_pair();
        close_write(c, s);
        let (c, s, _p) = unix_pair();
        close_write(c, s);
    });
}

/// Go issue 17695: a blocked read is woken by the peer's close.
#[test]
fn close_unblocks_read() {
    common::run(|| {
        let (mut c, s) = tcp_pair();
        weft::go!(move || {
            // Give the client time to get stuck in a read.
            sleep(ms(20));
            drop(s);
        });
        let n = c.read(&mut [0u8]).unwrap();
        assert_eq!(n, 0, "Read = {n}, nil; want 0, EOF");
    });
}

/// Go issue 24808: a reset connection's read fails, with an error that is
/// not EOF.
#[test]
fn not_temporary_read() {
    common::run(|| {
        let ln = local_listener();
        let mut ss = TcpStream::connect(ln.local_addr().unwrap()).unwrap();
        let (cs, _) = ln.accept().unwrap();
        // Data the server never reads: its close is then a reset.
        ss.write_all(b"x").unwrap();
        let server = weft::go!(move || {
            sleep(ms(10));
            drop(cs);
        });
        match ss.read(&mut [0u8]) {
            Ok(0) => panic!("Read unexpectedly returned EOF after socket was abruptly closed"),
            Ok(n) => panic!("Read succeeded unexpectedly ({n} bytes)"),
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
        }
        server.join().unwrap();
    });
}
