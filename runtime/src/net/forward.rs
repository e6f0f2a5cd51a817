//! The methods and traits every socket type forwards to its [`Socket`]
//! the same way, written once as macros that `tcp`, `udp` and `unix`
//! expand.
//!
//! Owns: nothing at run time. Each macro expands inside a module whose
//! type is a newtype over `Arc<Socket<_>>` (field `.0`).
//!
//! Must never: hold behaviour of its own: every item only forwards to
//! `Socket` (timeouts, non-blocking mode, the wait loop) or to the std
//! socket it wraps (`Socket::io`).
//!
//! [`Socket`]: super::Socket

/// `take_error` and `set_nonblocking`, in the type's `impl` block.
macro_rules! socket_methods {
    () => {
        /// Reads and clears `SO_ERROR`.
        pub fn take_error(&self) -> ::std::io::Result<Option<::std::io::Error>> {
            self.0.io().take_error()
        }

        /// With `true`, every call that would wait (`accept`, a read, a
        /// write, a send, a receive) returns `WouldBlock` instead.
        pub fn set_nonblocking(&self, nonblocking: bool) -> ::std::io::Result<()> {
            self.0.set_nonblocking(nonblocking)
        }
    };
}

/// The read and write timeouts, in the type's `impl` block. They run on
/// the runtime's timers (`Socket::set_timeout`).
macro_rules! timeout_methods {
    () => {
        /// A read that waits longer than `dur` fails with `WouldBlock`, as
        /// std's does on Unix; `None` waits forever. `Some(ZERO)` is
        /// `InvalidInput`.
        pub fn set_read_timeout(
            &self,
            dur: Option<::std::time::Duration>,
        ) -> ::std::io::Result<()> {
            self.0.set_timeout($crate::netpoll::Mode::Read, dur)
        }

        /// A write that waits longer than `dur` fails with `WouldBlock`.
        pub fn set_write_timeout(
            &self,
            dur: Option<::std::time::Duration>,
        ) -> ::std::io::Result<()> {
            self.0.set_timeout($crate::netpoll::Mode::Write, dur)
        }

        /// The read timeout.
        pub fn read_timeout(&self) -> ::std::io::Result<Option<::std::time::Duration>> {
            self.0.get_timeout($crate::netpoll::Mode::Read)
        }

        /// The write timeout.
        pub fn write_timeout(&self) -> ::std::io::Result<Option<::std::time::Duration>> {
            self.0.get_timeout($crate::netpoll::Mode::Write)
        }
    };
}

/// `set_ttl` and `ttl` (IP sockets), in the type's `impl` block.
macro_rules! ttl_methods {
    () => {
        /// Sets `IP_TTL`.
        pub fn set_ttl(&self, ttl: u32) -> ::std::io::Result<()> {
            self.0.io().set_ttl(ttl)
        }

        /// Reads `IP_TTL`.
        pub fn ttl(&self) -> ::std::io::Result<u32> {
            self.0.io().ttl()
        }
    };
}

/// `Read` and `Write` for a stream and for a shared reference to it (as
/// std's streams have): reads and writes wait through `Socket::read` and
/// `Socket::write`.
macro_rules! stream_io {
    ($t:ty) => {
        impl ::std::io::Read for &$t {
            fn read(&mut self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                self.0.read(|mut s| ::std::io::Read::read(&mut s, buf))
            }
            fn read_vectored(
                &mut self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                self.0
                    .read(|mut s| ::std::io::Read::read_vectored(&mut s, bufs))
            }
        }

        impl ::std::io::Write for &$t {
            fn write(&mut self, buf: &[u8]) -> ::std::io::Result<usize> {
                self.0.write(|mut s| ::std::io::Write::write(&mut s, buf))
            }
            fn write_vectored(
                &mut self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                self.0
                    .write(|mut s| ::std::io::Write::write_vectored(&mut s, bufs))
            }
            fn flush(&mut self) -> ::std::io::Result<()> {
                Ok(())
            }
        }

        impl ::std::io::Read for $t {
            fn read(&mut self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                ::std::io::Read::read(&mut &*self, buf)
            }
            fn read_vectored(
                &mut self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                ::std::io::Read::read_vectored(&mut &*self, bufs)
            }
        }

        impl ::std::io::Write for $t {
            fn write(&mut self, buf: &[u8]) -> ::std::io::Result<usize> {
                ::std::io::Write::write(&mut &*self, buf)
            }
            fn write_vectored(
                &mut self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                ::std::io::Write::write_vectored(&mut &*self, bufs)
            }
            fn flush(&mut self) -> ::std::io::Result<()> {
                Ok(())
            }
        }
    };
}

/// `Debug`, `AsRawFd` and `AsFd` for each socket type named.
macro_rules! fd_traits {
    ($($t:ty),+) => {$(
        impl ::std::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                self.0.as_raw_fd()
            }
        }

        impl ::std::os::fd::AsFd for $t {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(self.0.io())
            }
        }
    )+};
}
