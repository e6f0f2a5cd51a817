//! Unix-domain stream sockets: [`UnixListener`] and [`UnixStream`],
//! `std::os::unix::net`'s API on the netpoller.
//!
//! Owns: connecting without blocking (a non-blocking socket and `connect`
//! on a `sockaddr_un`).
//!
//! Must never: call std's blocking `connect` or `accept` on a goroutine.

use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use super::sys::{self, Connect};
use super::Socket;

/// A Unix-domain socket server: std's `UnixListener` whose `accept` parks
/// the calling goroutine.
///
/// ```
/// use std::io::{Read, Write};
/// use weft::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("weft-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sock");
/// let _ = std::fs::remove_file(&path);
/// weft::run(move || {
///     let l = UnixListener::bind(&path).unwrap();
///     let h = weft::go!(move || {
///         let (mut s, _) = l.accept().unwrap();
///         s.write_all(b"hi").unwrap();
///     });
///     let mut c = UnixStream::connect(&path).unwrap();
///     let mut buf = String::new();
///     c.read_to_string(&mut buf).unwrap();
///     assert_eq!(buf, "hi");
///     h.join().unwrap();
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct UnixListener(Arc<Socket<net::UnixListener>>);

/// A Unix-domain stream: std's `UnixStream` whose reads and writes park
/// the calling goroutine. `Read`/`Write` are implemented for `UnixStream`
/// and `&UnixStream`.
///
/// ```
/// use std::io::{Read, Write};
/// let (mut a, mut b) = weft::net::UnixStream::pair().unwrap();
/// weft::run(move || {
///     weft::go!(move || a.write_all(b"pong").unwrap());
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).unwrap();
///     assert_eq!(&buf, b"pong");
/// });
/// ```
pub struct UnixStream(Arc<Socket<net::UnixStream>>);

/// The iterator of [`UnixListener::incoming`]: accepts forever.
#[derive(Debug)]
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl UnixListener {
    /// Creates a listener bound to `path` (std's `bind`).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let l = net::UnixListener::bind(path)?;
        sys::listen_max(l.as_raw_fd())?;
        UnixListener::from_std(l)
    }

    /// Wraps a std listener (switching it to non-blocking mode).
    pub fn from_std(l: net::UnixListener) -> io::Result<UnixListener> {
        l.set_nonblocking(true)?;
        Ok(UnixListener(Arc::new(Socket::new(l)?)))
    }

    /// Waits for a connection and accepts it.
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, a) = self.0.read(|l| l.accept())?;
        Ok((UnixStream::from_std(s)?, a))
    }

    /// An iterator over the connections as they arrive; never `None`.
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.io().local_addr()
    }

    /// Another handle to the same listener.
    pub fn try_clone(&self) -> io::Result<UnixListener> {
        Ok(UnixListener(self.0.clone()))
    }

    socket_methods!();
}

impl<'a> Iterator for UnixIncoming<'a> {
    type Item = io::Result<UnixStream>;
    fn next(&mut self) -> Option<io::Result<UnixStream>> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

impl UnixStream {
    /// Connects to the socket at `path` (std's `connect`). A full listen
    /// queue is `WouldBlock`, as in Go.
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let fd = sys::socket(libc::AF_UNIX, libc::SOCK_STREAM)?;
        let started = sys::connect_unix(fd.as_raw_fd(), path.as_ref().as_os_str())?;
        let sock = Socket::new(net::UnixStream::from(fd))?;
        if let Connect::InProgress = started {
            sock.finish_connect(None, |s| s.take_error(), |s| s.peer_addr().is_ok())?;
        }
        Ok(UnixStream(Arc::new(sock)))
    }

    /// A connected pair of streams (std's `pair`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a connected std stream (switching it to non-blocking mode).
    pub fn from_std(s: net::UnixStream) -> io::Result<UnixStream> {
        s.set_nonblocking(true)?;
        Ok(UnixStream(Arc::new(Socket::new(s)?)))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.io().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.io().peer_addr()
    }

    /// Another handle to the same stream (options shared).
    pub fn try_clone(&self) -> io::Result<UnixStream> {
        Ok(UnixStream(self.0.clone()))
    }

    /// Shuts down the read half, the write half or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.0.io().shutdown(how)
    }

    timeout_methods!();
    socket_methods!();
}

stream_io!(UnixStream);
fd_traits!(UnixListener, UnixStream);
