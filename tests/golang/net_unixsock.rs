//! Port of Go's `src/net/unixsock_test.go`.
//!
//! Mapping: Go's `ListenUnix`/`DialUnix` are `UnixListener::bind`/
//! `UnixStream::connect`; an address is std's `SocketAddr` (`as_pathname`,
//! `is_unnamed`). weft's `connect` cannot bind the client to a path first
//! (std's cannot either), so TestUnixConnLocalAndRemoteNames runs only its
//! unbound-client case: on Linux Go reports that client's local address as
//! `@` (autobind), std as unnamed.
//!
//! Ported: TestUnixConnLocalAndRemoteNames (the unbound client),
//! TestUnixConnReadEOF (Go's `ReadMsgUnix`, `ReadFromUnix` and `Read` are
//! all `read` here: one case).
//!
//! Not ported: TestReadUnixgramWithUnnamedSocket, TestUnixgramZeroBytePayload,
//! TestUnixgramZeroByteBuffer, TestUnixgramWrite,
//! TestUnixgramConnLocalAndRemoteNames (weft has no Unix datagram socket);
//! TestUnixUnlink (Go's listener removes its socket file on close and has
//! `SetUnlinkOnClose`, `File` and `FileListener`; std's and weft's leave the
//! file).

use std::io::{Read, Write};

use weft::net::UnixStream;

use crate::common;
use crate::net_mockserver::local_unix_listener;

#[test]
fn unix_conn_local_and_remote_names() {
    common::run(|| {
        let (ln, path) = local_unix_listener();
        let server = weft::go!(move || {
            let (s, _) = ln.accept().unwrap();
            (ln, s)
        });
        let mut c = UnixStream::connect(&path.0).unwrap();
        c.write_all(b"UNIXCONN LOCAL AND REMOTE NAME TEST").unwrap();
        let (ln, _s) = server.join().unwrap();
        assert_eq!(
            ln.local_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        assert!(c.local_addr().unwrap().is_unnamed(), "{:?}", c.local_addr());
        assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(path.0.as_path()));
    });
}

#[test]
fn unix_conn_read_eof() {
    common::run(|| {
        let (ln, path) = local_unix_listener();
        weft::go!(move || {
            let (srv, _) = ln.accept().unwrap();
            drop(srv);
        });
        let mut cl = UnixStream::connect(&path.0).unwrap();
        let n = cl.read(&mut [0u8; 1]).unwrap();
        assert_eq!(n, 0, "Read returned {n} bytes, want EOF");
    });
}
