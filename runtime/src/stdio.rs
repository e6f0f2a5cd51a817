//! The runtime and the standard streams: how it writes its diagnostics,
//! and how it keeps its own file descriptors off fds 0, 1 and 2.
//!
//! Owns: [`report`], the one function through which the runtime writes to
//! stderr (long-run reports, schedtrace lines, goroutine dumps, the
//! deadlock report, panic reports, `throw`), and [`above_stdio`], which
//! every descriptor the runtime opens for itself passes through.
//!
//! A write to stderr can fail: EPIPE when the reader of a pipe has gone
//! (`prog 2>&1 | head -1`; Rust programs ignore SIGPIPE), ENOSPC on a full
//! disk, EBADF when the program closed fd 2. `eprintln!` panics then, and a
//! runtime thread that panics is gone: a dead sysmon retakes no P again.
//! So a diagnostic that cannot be written is dropped, and the runtime goes
//! on. The crate roots deny `eprintln!`, `println!` and `std::io::stderr`
//! outside this module (`clippy.toml`).
//!
//! A program may close fds 1 and 2 (a daemon does) before the runtime
//! starts; the next descriptors opened take those numbers. If one of the
//! runtime's own took them, the program's writes to "stderr" would land in
//! it: in the SIGQUIT pipe (a fake SIGQUIT: a dump and exit status 2), in
//! the epoll descriptor (EINVAL, and `eprintln!` panics). Go's
//! `checkfds` opens /dev/null on them at start-up; weft starts lazily,
//! after the program may have closed them on purpose, so it leaves them
//! closed and moves its own descriptors above them instead.
//!
//! Must never: panic, or return an error, because a stream cannot be
//! written; allocate (`throw` calls [`report`] on a broken heap).

use std::fmt;
use std::io::{self, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Writes `args` to stderr under its lock (so two reports never
/// interleave), and drops what cannot be written: `report(format_args!(
/// "weft: {what}\n"))`.
#[allow(clippy::disallowed_methods)] // the one place that may
pub(crate) fn report(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args);
    let _ = err.flush();
}

/// `fd`, or a duplicate of it numbered 3 or above (close-on-exec) if it
/// took the number of a standard stream the program had closed.
pub(crate) fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > libc::STDERR_FILENO {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC takes an int argument and returns a new
    // descriptor (or -1), touching no memory of ours.
    let dup = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `dup` was just returned by the kernel and is owned by nobody
    // else; `fd` is dropped (closed) on return, freeing its number again.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}
