//! `weft::net`: TCP, UDP and Unix-domain sockets whose blocking calls park
//! the goroutine (wait reason "IO wait"), not its OS thread. The methods are
//! `std::net`'s, name for name; from a plain thread they block the thread,
//! as std's do.
//!
//! Owns: [`Socket`], the one core every type here is built on: a
//! non-blocking std socket, its netpoller registration and its timeouts.
//! An operation is tried first; on `EAGAIN` a goroutine waits for the next
//! readiness edge (`netpoll`) and a plain thread in `poll(2)`, then it is
//! tried again. Timeouts (`set_read_timeout`, `set_write_timeout`,
//! `connect_timeout`) run on the runtime's timers.
//!
//! Why in the runtime crate rather than the facade: the sockets reach the
//! netpoller's registration and wait primitives, which stay crate-private so
//! that nothing else can park on a descriptor or forge an epoll token.
//!
//! Must never: put a descriptor in blocking mode (it is shared with the
//! netpoller's edge-triggered registration), report more bytes written than
//! the kernel took, or panic on a socket error (every failure is an
//! `io::Error` with std's kind).
//!
//! ```
//! use std::io::{Read, Write};
//! use weft::net::{TcpListener, TcpStream};
//!
//! weft::run(|| {
//!     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = weft::go!(move || {
//!         let (mut conn, _) = listener.accept().unwrap();
//!         let mut buf = [0; 5];
//!         conn.read_exact(&mut buf).unwrap();
//!         conn.write_all(&buf).unwrap();
//!     });
//!     let mut c = TcpStream::connect(addr).unwrap();
//!     c.write_all(b"hello").unwrap();
//!     let mut back = [0; 5];
//!     c.read_exact(&mut back).unwrap();
//!     assert_eq!(&back, b"hello");
//!     server.join().unwrap();
//! });
//! ```

#[macro_use]
mod forward;
mod sys;
mod tcp;
mod udp;
mod unix;

pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixIncoming, UnixListener, UnixStream};

pub use std::net::{
    AddrParseError, IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6,
    ToSocketAddrs,
};

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::netpoll::{self, Mode, PollDesc};

/// A non-blocking socket registered with the netpoller, with std-like
/// timeouts. Shared (`Arc`) by a value and its `try_clone`s, which, like
/// std's duplicated descriptors, share the socket's options.
pub(crate) struct Socket<T: AsRawFd> {
    io: T,
    desc: &'static PollDesc,
    /// Nanoseconds; 0 is "none".
    read_timeout: AtomicU64,
    write_timeout: AtomicU64,
    /// `set_nonblocking(true)`: return `WouldBlock` instead of waiting.
    nonblocking: AtomicBool,
}

impl<T: AsRawFd> Socket<T> {
    /// Wraps `io`, which must already be in non-blocking mode.
    pub fn new(io: T) -> io::Result<Socket<T>> {
        let desc = netpoll::register(io.as_raw_fd())?;
        Ok(Socket {
            io,
            desc,
            read_timeout: AtomicU64::new(0),
            write_timeout: AtomicU64::new(0),
            nonblocking: AtomicBool::new(false),
        })
    }

    pub fn io(&self) -> &T {
        &self.io
    }

    /// Runs a reading operation (`recv`, `accept`, ...) until it does not
    /// say `WouldBlock`, waiting for readability in between.
    pub fn read<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.run(Mode::Read, op)
    }

    /// Runs a writing operation until it does not say `WouldBlock`.
    pub fn write<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.run(Mode::Write, op)
    }

    fn run<R>(&self, mode: Mode, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let mut deadline = None;
        let mut first = true;
        loop {
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.nonblocking.load(Ordering::Relaxed) {
                        return Err(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
            if first {
                first = false;
                deadline = self.timeout(mode).map(|t| Instant::now() + t);
            }
            if !self.wait(mode, deadline)? {
                let what = match mode {
                    Mode::Read => "read timed out (set_read_timeout)",
                    Mode::Write => "write timed out (set_write_timeout)",
                };
                // std reports SO_RCVTIMEO/SO_SNDTIMEO expiry as EAGAIN, whose
                // kind is WouldBlock; so do we.
                return Err(io::Error::new(io::ErrorKind::WouldBlock, what));
            }
        }
    }

    /// Waits until the socket may be ready for `mode`: `Ok(false)` once
    /// `deadline` has passed. Parks a goroutine; blocks a plain thread.
    pub fn wait(&self, mode: Mode, deadline: Option<Instant>) -> io::Result<bool> {
        if crate::g::current().is_some() {
            return Ok(self.desc.wait(mode, deadline).is_ok());
        }
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                Some(left)
            }
        };
        let ready = netpoll::poll_fd(self.io.as_raw_fd(), mode == Mode::Write, timeout)?;
        Ok(ready || deadline.is_none_or(|d| Instant::now() < d))
    }

    fn timeout(&self, mode: Mode) -> Option<Duration> {
        let t = match mode {
            Mode::Read => &self.read_timeout,
            Mode::Write => &self.write_timeout,
        };
        match t.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    /// std's `set_read_timeout`/`set_write_timeout`: `Some(ZERO)` is an
    /// `InvalidInput` error, as in std.
    pub fn set_timeout(&self, mode: Mode, d: Option<Duration>) -> io::Result<()> {
        let n = match d {
            None => 0,
            Some(d) if d.is_zero() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ))
            }
            Some(d) => d.as_nanos().clamp(1, u64::MAX as u128) as u64,
        };
        let t = match mode {
            Mode::Read => &self.read_timeout,
            Mode::Write => &self.write_timeout,
        };
        t.store(n, Ordering::Relaxed);
        Ok(())
    }

    pub fn get_timeout(&self, mode: Mode) -> io::Result<Option<Duration>> {
        Ok(self.timeout(mode))
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.nonblocking.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// Completes a non-blocking `connect` (Go's `netFD.connect`): waits for
    /// writability, then reads `SO_ERROR`. `TimedOut` at `deadline`.
    pub fn finish_connect(
        &self,
        deadline: Option<Instant>,
        take_error: impl Fn(&T) -> io::Result<Option<io::Error>>,
        connected: impl Fn(&T) -> bool,
    ) -> io::Result<()> {
        loop {
            if !self.wait(Mode::Write, deadline)? {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection timed out (connect_timeout)",
                ));
            }
            if let Some(e) = take_error(&self.io)? {
                return Err(e);
            }
            if connected(&self.io) {
                return Ok(());
            }
        }
    }
}

impl<T: AsRawFd> Drop for Socket<T> {
    fn drop(&mut self) {
        netpoll::deregister(self.io.as_raw_fd(), self.desc);
        // `io` closes the descriptor when it drops, after this.
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for Socket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl<T: AsRawFd> AsRawFd for Socket<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

/// Resolves `addr` (a DNS lookup blocks, so it runs inside `blocking`) and
/// calls `f` on each address until one succeeds, as std does.
pub(crate) fn each_addr<A: ToSocketAddrs, R>(
    addr: A,
    mut f: impl FnMut(&SocketAddr) -> io::Result<R>,
) -> io::Result<R> {
    let addrs = crate::blocking(|| addr.to_socket_addrs())?;
    let mut last = None;
    for a in addrs {
        match f(&a) {
            Ok(r) => return Ok(r),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}
