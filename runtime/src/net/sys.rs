//! The socket system calls `std` does not offer in a non-blocking form:
//! creating a non-blocking socket, a non-blocking `connect` (inet and
//! unix), and `listen` with the kernel's largest backlog. The only unsafe
//! code of `net`.
//!
//! Owns: the conversion of addresses into `sockaddr`s.
//!
//! Must never: block (every socket made here is `O_NONBLOCK`).

use std::ffi::OsStr;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A new non-blocking, close-on-exec socket.
pub(crate) fn socket(domain: libc::c_int, ty: libc::c_int) -> io::Result<OwnedFd> {
    let ty = ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: socket(2) takes no pointers; a non-negative result is a new
    // descriptor that nobody else owns.
    let fd = cvt(unsafe { libc::socket(domain, ty, 0) })?;
    // SAFETY: `fd` was just returned by the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The address family of `addr`.
pub(crate) fn domain(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

/// What a non-blocking `connect` said.
pub(crate) enum Connect {
    /// Connected already.
    Done,
    /// Wait until writable, then read `SO_ERROR`.
    InProgress,
}

/// `connect(2)` on a raw address.
///
/// # Safety
/// `sa` points to an initialised socket address of at least `len` bytes,
/// alive for the call.
unsafe fn connect_raw(
    fd: RawFd,
    sa: *const libc::sockaddr,
    len: libc::socklen_t,
) -> io::Result<Connect> {
    // SAFETY: `sa` points to `len` initialised bytes of a socket address,
    // alive for the call (our contract); the kernel only reads them.
    match cvt(unsafe { libc::connect(fd, sa, len) }) {
        Ok(_) => Ok(Connect::Done),
        Err(e) => match e.raw_os_error() {
            // EINTR: the connection goes on in the background.
            Some(libc::EINPROGRESS) | Some(libc::EINTR) => Ok(Connect::InProgress),
            _ => Err(e),
        },
    }
}

/// Starts connecting the non-blocking socket `fd` to `addr`.
pub(crate) fn connect(fd: RawFd, addr: &SocketAddr) -> io::Result<Connect> {
    match addr {
        SocketAddr::V4(a) => {
            // SAFETY: an all-zero sockaddr_in is valid; we set every field we use.
            let mut sin: libc::sockaddr_in = unsafe { zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            let len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: `sin` is an initialised `sockaddr_in` of `len` bytes on
            // this frame, alive for the call.
            unsafe { connect_raw(fd, (&sin as *const libc::sockaddr_in).cast(), len) }
        }
        SocketAddr::V6(a) => {
            // SAFETY: an all-zero sockaddr_in6 is valid; we set every field we use.
            let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_scope_id = a.scope_id();
            let len = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            // SAFETY: `sin6` is an initialised `sockaddr_in6` of `len` bytes on
            // this frame, alive for the call.
            unsafe { connect_raw(fd, (&sin6 as *const libc::sockaddr_in6).cast(), len) }
        }
    }
}

/// Starts connecting the non-blocking unix socket `fd` to the socket at
/// `path`. A path too long for `sockaddr_un`, or holding a NUL byte, is an
/// `InvalidInput` error naming the problem.
pub(crate) fn connect_unix(fd: RawFd, path: &OsStr) -> io::Result<Connect> {
    // SAFETY: an all-zero sockaddr_un is valid; we set every field we use.
    let mut sun: libc::sockaddr_un = unsafe { zeroed() };
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_bytes();
    if bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "unix socket path must not contain a NUL byte",
        ));
    }
    if bytes.len() >= sun.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "unix socket path must be shorter than {} bytes",
                sun.sun_path.len()
            ),
        ));
    }
    for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    let base = std::mem::offset_of!(libc::sockaddr_un, sun_path);
    let len = (base + bytes.len() + 1) as libc::socklen_t;
    // SAFETY: `sun` is an initialised `sockaddr_un` on this frame, alive for
    // the call, and `len` (the path, its NUL and the header) is at most its
    // size: the path is shorter than `sun_path` (checked above).
    unsafe { connect_raw(fd, (&sun as *const libc::sockaddr_un).cast(), len) }
}

/// Sets the backlog of listening socket `fd` to the kernel's maximum
/// (`net.core.somaxconn`; Go does the same), so that a burst of connections
/// waits in the queue instead of being dropped into the client's 1 s SYN
/// retry.
pub(crate) fn listen_max(fd: RawFd) -> io::Result<()> {
    // SAFETY: listen(2) takes no pointers. A backlog above somaxconn is
    // clamped to it by the kernel.
    cvt(unsafe { libc::listen(fd, libc::c_int::MAX) })?;
    Ok(())
}
