//! Unix-domain stream sockets: [`UnixListener`] and [`UnixStream`],
//! `std::os::unix::net`'s API on the netpoller.
//!
//! Owns: connecting without blocking (a non-blocking socket and `connect`
//! on a `sockaddr_un`).
//!
//! Must never: call std's blocking `connect` or `accept` on a goroutine.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::sys::{self, Connect};
use super::Socket;
use crate::netpoll::Mode;

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

    /// Reads and clears `SO_ERROR`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.0.io().take_error()
    }

    /// With `true`, `accept` returns `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.0.set_nonblocking(nonblocking)
    }
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

    /// A read that waits longer than `dur` fails with `WouldBlock`.
    pub fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        self.0.set_timeout(Mode::Read, dur)
    }

    /// A write that waits longer than `dur` fails with `WouldBlock`.
    pub fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        self.0.set_timeout(Mode::Write, dur)
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.0.get_timeout(Mode::Read)
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.0.get_timeout(Mode::Write)
    }

    /// Shuts down the read half, the write half or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.0.io().shutdown(how)
    }

    /// Reads and clears `SO_ERROR`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.0.io().take_error()
    }

    /// With `true`, reads and writes return `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.0.set_nonblocking(nonblocking)
    }
}

impl Read for &UnixStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(|mut s| s.read(buf))
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.0.read(|mut s| s.read_vectored(bufs))
    }
}

impl Write for &UnixStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(|mut s| s.write(buf))
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.write(|mut s| s.write_vectored(bufs))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for UnixStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self).read_vectored(bufs)
    }
}

impl Write for UnixStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self).write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.io().as_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.io().as_fd()
    }
}
