//! TCP: [`TcpListener`] and [`TcpStream`], std's API on the netpoller.
//!
//! Owns: connecting without blocking (socket, `connect` → `EINPROGRESS`,
//! wait for writability, `SO_ERROR`, as Go's `netFD.connect`) and accepting
//! into non-blocking streams.
//!
//! Must never: call std's blocking `connect` or `accept` on a goroutine.

use std::io;
use std::net::{self, Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::sys::{self, Connect};
use super::{each_addr, Socket};

/// A TCP socket server, listening for connections: std's `TcpListener`
/// whose `accept` parks the calling goroutine until a client arrives.
///
/// The listen backlog is the kernel's maximum (`net.core.somaxconn`), as
/// in Go, so a burst of clients is queued rather than dropped.
///
/// ```
/// use std::io::{Read, Write};
/// use weft::net::{TcpListener, TcpStream};
///
/// weft::run(|| {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = listener.local_addr().unwrap();
///     weft::go!(move || {
///         for conn in listener.incoming() {
///             let mut conn = conn.unwrap();
///             weft::go!(move || {
///                 let mut buf = [0; 64];
///                 while let Ok(n @ 1..) = conn.read(&mut buf) {
///                     conn.write_all(&buf[..n]).unwrap();
///                 }
///             });
///         }
///     });
///     let mut c = TcpStream::connect(addr).unwrap();
///     c.write_all(b"ping").unwrap();
///     let mut buf = [0; 4];
///     c.read_exact(&mut buf).unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct TcpListener(Arc<Socket<net::TcpListener>>);

/// A TCP connection: std's `TcpStream` whose reads, writes and connects park
/// the calling goroutine (wait reason "IO wait") instead of blocking its OS
/// thread. `Read` and `Write` are implemented for `TcpStream` and for
/// `&TcpStream`, so one goroutine can read while another writes.
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use weft::net::{TcpListener, TcpStream};
///
/// weft::run(|| {
///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
///     let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
///     let (mut s, _) = l.accept().unwrap();
///     c.set_nodelay(true).unwrap();
///     c.write_all(b"hi").unwrap();
///     let mut buf = [0; 2];
///     s.read_exact(&mut buf).unwrap();
///     // Nothing more comes: the read times out as std's does.
///     s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
///     let e = s.read(&mut buf).unwrap_err();
///     assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
/// });
/// ```
pub struct TcpStream(Arc<Socket<net::TcpStream>>);

/// The iterator of [`TcpListener::incoming`]: accepts forever.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl TcpListener {
    /// Creates a listener bound to `addr` (std's `bind`): each address
    /// `addr` resolves to is tried in turn. Port 0 picks a free port.
    ///
    /// ```
    /// let l = weft::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// assert_ne!(l.local_addr().unwrap().port(), 0);
    /// let taken = weft::net::TcpListener::bind(l.local_addr().unwrap()).unwrap_err();
    /// assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse);
    /// ```
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |a| {
            let l = net::TcpListener::bind(a)?;
            sys::listen_max(l.as_raw_fd())?;
            l.set_nonblocking(true)?;
            Ok(TcpListener(Arc::new(Socket::new(l)?)))
        })
    }

    /// Wraps a std listener (switching it to non-blocking mode).
    ///
    /// ```
    /// let std_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let l = weft::net::TcpListener::from_std(std_l).unwrap();
    /// assert!(l.local_addr().is_ok());
    /// ```
    pub fn from_std(l: net::TcpListener) -> io::Result<TcpListener> {
        l.set_nonblocking(true)?;
        Ok(TcpListener(Arc::new(Socket::new(l)?)))
    }

    /// Waits for a connection and accepts it (std's `accept`).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, a) = self.0.read(|l| l.accept())?;
        Ok((TcpStream::from_std(s)?, a))
    }

    /// An iterator over the connections as they arrive (std's `incoming`);
    /// it never returns `None`.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.io().local_addr()
    }

    /// Another handle to the same listener (it shares its options).
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        Ok(TcpListener(self.0.clone()))
    }

    ttl_methods!();
    socket_methods!();
}

impl<'a> Iterator for Incoming<'a> {
    type Item = io::Result<TcpStream>;
    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

impl TcpStream {
    /// Opens a connection to `addr` (std's `connect`), trying each address
    /// it resolves to. Parks the goroutine while the handshake runs.
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, |a| TcpStream::connect_deadline(a, None))
    }

    /// Opens a connection to `addr`, failing with `TimedOut` after
    /// `timeout` (std's `connect_timeout`; a zero timeout is `InvalidInput`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::net::{TcpListener, TcpStream};
    /// let l = TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = l.local_addr().unwrap();
    /// drop(l); // nobody listens there now
    /// let e = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    /// ```
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        // A timeout too far to be an `Instant` (`Duration::MAX`) is none.
        TcpStream::connect_deadline(addr, Instant::now().checked_add(timeout))
    }

    fn connect_deadline(addr: &SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
        let fd = sys::socket(sys::domain(addr), libc::SOCK_STREAM)?;
        let started = sys::connect(fd.as_raw_fd(), addr)?;
        // Registered after `connect` (as Go does): the first edge is the
        // handshake's outcome, not an unconnected socket's hang-up.
        let sock = Socket::new(net::TcpStream::from(fd))?;
        if let Connect::InProgress = started {
            sock.finish_connect(deadline, |s| s.take_error(), |s| s.peer_addr().is_ok())?;
        }
        Ok(TcpStream(Arc::new(sock)))
    }

    /// Wraps a connected std stream (switching it to non-blocking mode).
    ///
    /// ```
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// let s = weft::net::TcpStream::from_std(s).unwrap();
    /// assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());
    /// ```
    pub fn from_std(s: net::TcpStream) -> io::Result<TcpStream> {
        s.set_nonblocking(true)?;
        Ok(TcpStream(Arc::new(Socket::new(s)?)))
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.io().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.io().local_addr()
    }

    /// Shuts down the read half, the write half or both (std's
    /// `shutdown`). Goroutines parked on the socket wake and see EOF or an
    /// error.
    ///
    /// ```
    /// use std::io::Read;
    /// use std::net::Shutdown;
    /// use weft::net::{TcpListener, TcpStream};
    /// weft::run(|| {
    ///     let l = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    ///     let (mut s, _) = l.accept().unwrap();
    ///     c.shutdown(Shutdown::Write).unwrap();
    ///     let mut all = Vec::new();
    ///     assert_eq!(s.read_to_end(&mut all).unwrap(), 0); // EOF
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.0.io().shutdown(how)
    }

    /// Another handle to the same connection; options (timeouts,
    /// non-blocking mode) are shared, as they are between std's clones.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        Ok(TcpStream(self.0.clone()))
    }

    /// Reads without removing the data from the queue (waits like `read`).
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(|s| s.peek(buf))
    }

    /// Sets `TCP_NODELAY` (off by default, as in std; Go turns it on).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.0.io().set_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.0.io().nodelay()
    }

    timeout_methods!();
    ttl_methods!();
    socket_methods!();
}

stream_io!(TcpStream);
fd_traits!(TcpListener, TcpStream);
