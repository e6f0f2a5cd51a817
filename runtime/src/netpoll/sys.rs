//! The system calls under the netpoller: epoll, the eventfd that breaks a
//! blocked `epoll_wait`, the open-file limit, and `poll(2)` for plain
//! threads. The only unsafe code of `netpoll`.
//!
//! Owns: the raw descriptors of the epoll instance and the eventfd.
//!
//! Must never: interpret an event's token (that is `desc.rs`'s job), or
//! retry a call behind its caller's back except on `EINTR`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// An event as epoll reports it: the token given at registration and the
/// `EPOLL*` bits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub token: u64,
    pub bits: u32,
}

/// Events harvested per `epoll_wait` (Go: 128).
pub(crate) const BATCH: usize = 128;

/// An epoll instance.
pub(crate) struct Epoll {
    fd: OwnedFd,
}

/// Whether `epoll_pwait2` (Linux 5.11, nanosecond timeouts) is missing, so
/// that `epoll_wait` (milliseconds, rounded up) stands in.
static NO_PWAIT2: AtomicBool = AtomicBool::new(false);

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is
        // a new descriptor that we own from here on.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let fd = crate::stdio::above_stdio(fd)?;
        Ok(Epoll { fd })
    }

    /// Registers `fd` for `bits` with `token` (EPOLL_CTL_ADD).
    pub fn add(&self, fd: RawFd, bits: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: bits,
            u64: token,
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })?;
        Ok(())
    }

    /// Removes `fd` (EPOLL_CTL_DEL).
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: `ev` is valid (ignored by DEL, but old kernels want non-null).
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev) })?;
        Ok(())
    }

    /// Waits for events: `None` blocks until one comes, `Some(ZERO)` only
    /// looks. Fills `out` and returns how many. `EINTR` is zero events.
    pub fn wait(&self, out: &mut [Event; BATCH], timeout: Option<Duration>) -> usize {
        let mut raw = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
        let n = self.wait_raw(&mut raw, timeout);
        for (o, ev) in out.iter_mut().zip(&raw[..n]) {
            // Copy out of the (packed) kernel struct by value.
            let (token, bits) = (ev.u64, ev.events);
            *o = Event { token, bits };
        }
        n
    }

    fn wait_raw(&self, raw: &mut [libc::epoll_event; BATCH], timeout: Option<Duration>) -> usize {
        let epfd = self.fd.as_raw_fd();
        let r = if !NO_PWAIT2.load(Ordering::Relaxed) {
            let ts = timeout.map(|d| libc::timespec {
                tv_sec: d.as_secs().min(i64::MAX as u64) as libc::time_t,
                tv_nsec: d.subsec_nanos() as libc::c_long,
            });
            let tsp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const _);
            // SAFETY: `raw` holds BATCH events; `tsp` is null or points to
            // `ts`, alive for the call; a null sigmask leaves it unchanged.
            let r = unsafe {
                libc::epoll_pwait2(epfd, raw.as_mut_ptr(), BATCH as i32, tsp, std::ptr::null())
            };
            if r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
                NO_PWAIT2.store(true, Ordering::Relaxed);
                return self.wait_raw(raw, timeout);
            }
            r
        } else {
            let ms = timeout.map_or(-1, |d| {
                // Round up so a sleeper never wakes before its deadline.
                let ms = d.as_nanos().div_ceil(1_000_000);
                ms.min(i32::MAX as u128) as i32
            });
            // SAFETY: `raw` holds BATCH events.
            unsafe { libc::epoll_wait(epfd, raw.as_mut_ptr(), BATCH as i32, ms) }
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                crate::throw(&format!("netpoll: epoll_wait failed: {e}"));
            }
            return 0;
        }
        r as usize
    }
}

/// The eventfd that wakes an M blocked in `epoll_wait`.
pub(crate) struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd takes no pointers; the result is a new descriptor.
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let fd = crate::stdio::above_stdio(fd)?;
        Ok(EventFd { fd })
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Makes the eventfd readable (wakes the blocked poller).
    pub fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64. EAGAIN (counter full)
        // still leaves it readable, which is all we need.
        unsafe { libc::write(self.raw(), (&one as *const u64).cast(), 8) };
    }

    /// Resets it (the blocked poller saw it).
    pub fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64; EAGAIN means already empty.
        unsafe { libc::read(self.raw(), (&mut v as *mut u64).cast(), 8) };
    }
}

/// Raises the soft open-file limit to the hard one, as Go does at start, so
/// that ten thousand sockets work without tuning. Failure changes nothing.
pub(crate) fn raise_nofile_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill and setrlimit to read.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// The open-file limit, as "soft (hard hard)", for error messages.
pub(crate) fn nofile_limit() -> String {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return "?".to_string();
    }
    format!("{} (hard {})", lim.rlim_cur, lim.rlim_max)
}

/// Blocks the calling thread until `fd` is readable (or writable, with
/// `write`) or `timeout` passes: `Ok(false)` on timeout. For plain threads,
/// which block as std's sockets do.
pub(crate) fn poll_fd(fd: RawFd, write: bool, timeout: Option<Duration>) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events: if write { libc::POLLOUT } else { libc::POLLIN },
        revents: 0,
    };
    let ms = timeout.map_or(-1, |d| {
        d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32
    });
    // SAFETY: `p` is one valid pollfd for the duration of the call.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(true); // the caller retries its operation
        }
        return Err(e);
    }
    Ok(r > 0)
}
