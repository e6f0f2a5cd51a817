//! Port of Go's `src/net/udpsock_test.go`.
//!
//! Mapping: Go's `ListenPacket("udp", addr)` is `UdpSocket::bind`, its
//! `Dial("udp", addr)` is a bound socket `connect`ed to `addr`, `ReadFrom`
//! and `WriteTo` are `recv_from` and `send_to`, `Conn.Read` is `recv`.
//! Go's read deadlines are read timeouts (see `net_timeout` for how they
//! differ); `SetDeadline(time.Now())` is the shortest timeout, 1 ns.
//!
//! Ported: TestWriteToUDP in part (a connected socket's `send` and an
//! unconnected socket's `send_to` work, and an unconnected socket's `send`
//! fails; Go also refuses `WriteTo` on a connected socket,
//! `ErrWriteToConnected`, which the kernel and std allow),
//! TestUDPConnLocalName (127.0.0.1 and the unspecified address),
//! TestUDPConnLocalAndRemoteNames, TestUDPZeroBytePayload,
//! TestUDPZeroByteBuffer, TestUDPReadSizeError, TestUDPReadTimeout.
//!
//! Not ported: TestResolveUDPAddr (Go's resolver); TestIPv6LinkLocalUnicastUDP
//! (needs a link-local interface); TestAllocs (`common::measure` counts
//! live allocations, not allocations per run); TestUDPIPVersionReadMsg,
//! TestIPv6WriteMsgUDPAddrPortTargetAddrIPVersion,
//! TestIPv4WriteMsgUDPAddrPortTargetAddrIPVersion,
//! TestReadWriteMsgUDPAddrPortEmptyCmsg (`ReadMsgUDP`/`WriteMsgUDP` and
//! control messages: not in weft's API).

use std::io;
use std::time::Duration;

use weft::net::UdpSocket;

use crate::common;

fn local_packet_listener() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}

#[test]
fn write_to_udp() {
    common::run(|| {
        let c = local_packet_listener();
        let raddr = c.local_addr().unwrap();

        // testWriteToConn: a connected socket.
        let cc = local_packet_listener();
        cc.connect(raddr).unwrap();
        cc.send(b"CONNECTED-MODE SOCKET").unwrap();

        // testWriteToPacketConn: an unconnected socket.
        let pc = local_packet_listener();
        let b = b"UNCONNECTED-MODE SOCKET";
        assert_eq!(pc.send_to(b, raddr).unwrap(), b.len());
        assert!(
            pc.send(b).is_err(),
            "send on an unconnected socket should fail"
        );

        let mut buf = [0u8; 64];
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!(
            (&buf[..n], from),
            (&b"CONNECTED-MODE SOCKET"[..], cc.local_addr().unwrap())
        );
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b[..], pc.local_addr().unwrap()));
    });
}

#[test]
fn udp_conn_local_name() {
    common::run(|| {
        for laddr in ["127.0.0.1:0", "0.0.0.0:0"] {
            let c = UdpSocket::bind(laddr).unwrap();
            let la = c.local_addr().unwrap();
            assert!(
                la.is_ipv4() && la.port() != 0,
                "got {la}; expected a proper address with non-zero port number"
            );
        }
    });
}

#[test]
fn udp_conn_local_and_remote_names() {
    common::run(|| {
        for laddr in ["127.0.0.1:0", "0.0.0.0:0"] {
            let c1 = local_packet_listener();
            let c2 = UdpSocket::bind(laddr).unwrap();
            c2.connect(c1.local_addr().unwrap()).unwrap();
            assert_ne!(c1.local_addr().unwrap().port(), 0);
            let e = c1.peer_addr().unwrap_err();
            assert_eq!(
                e.kind(),
                io::ErrorKind::NotConnected,
                "c1.RemoteAddr(): {e}"
            );
            assert_ne!(c2.local_addr().unwrap().port(), 0);
            assert_eq!(c2.peer_addr().unwrap(), c1.local_addr().unwrap());
        }
    });
}

#[test]
fn udp_zero_byte_payload() {
    common::run(|| {
        let c = local_packet_listener();
        for generic_read in [false, true] {
            let n = c.send_to(&[], c.local_addr().unwrap()).unwrap();
            assert_eq!(n, 0);
            c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let mut b = [0u8; 1];
            let r = if generic_read {
                c.recv(&mut b)
            } else {
                c.recv_from(&mut b).map(|(n, _)| n)
            };
            assert_eq!(r.unwrap(), 0, "read of zero byte packet");
        }
    });
}

#[test]
fn udp_zero_byte_buffer() {
    common::run(|| {
        let c = local_packet_listener();
        let b = b"UDP ZERO BYTE BUFFER TEST";
        for generic_read in [false, true] {
            let n = c.send_to(b, c.local_addr().unwrap()).unwrap();
            assert_eq!(n, b.len());
            c.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            let r = if generic_read {
                c.recv(&mut [])
            } else {
                c.recv_from(&mut []).map(|(n, _)| n)
            };
            match r {
                Ok(n) => assert_eq!(n, 0), // the datagram is consumed, truncated
                Err(e) => assert!(
                    matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ),
                    "{e}"
                ),
            }
        }
    });
}

#[test]
fn udp_read_size_error() {
    common::run(|| {
        let c1 = local_packet_listener();
        let c2 = local_packet_listener();
        c2.connect(c1.local_addr().unwrap()).unwrap();
        c1.connect(c2.local_addr().unwrap()).unwrap();
        let b1 = b"READ SIZE ERROR TEST";
        for generic_read in [false, true] {
            let n = c2.send(b1).unwrap();
            assert_eq!(n, b1.len());
            let mut b2 = vec![0u8; b1.len() - 1];
            let n = if generic_read {
                c1.recv(&mut b2).unwrap()
            } else {
                c1.recv_from(&mut b2).unwrap().0
            };
            assert_eq!(n, b1.len() - 1);
            assert_eq!(&b2[..], &b1[..n]);
        }
    });
}

/// A timed-out `recv_from` returns an error, no data and no address.
#[test]
fn udp_read_timeout() {
    common::run(|| {
        let c = local_packet_listener();
        c.set_read_timeout(Some(Duration::from_nanos(1))).unwrap();
        let mut b = [0u8; 1];
        let e = c.recv_from(&mut b).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "ReadFromUDP got err {e} want a timeout"
        );
    });
}
