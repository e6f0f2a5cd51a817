//! The runtime and the standard streams: how it writes its diagnostics,
//! and how it keeps its own file descriptors off fds 0, 1 and 2.
//!
//! Owns: the two ways the runtime writes to stderr, the `weft-report`
//! thread and its queue, and [`above_stdio`], which every descriptor the
//! runtime opens for itself passes through.
//!
//! A write to stderr can fail: EPIPE when the reader of a pipe has gone
//! (`prog 2>&1 | head -1`; Rust programs ignore SIGPIPE), ENOSPC on a full
//! disk, EBADF when the program closed fd 2. `eprintln!` panics then, and a
//! runtime thread that panics is gone: a dead sysmon retakes no P again.
//! So a diagnostic that cannot be written is dropped, and the runtime goes
//! on. The crate roots deny `eprintln!`, `println!` and `std::io::stderr`
//! outside this module (`clippy.toml`).
//!
//! A write to stderr can also block: on a pipe whose reader is alive but
//! not reading, once the pipe is full, and before that on std's stderr
//! lock, which a program thread blocked in such a write holds. A blocked
//! sysmon retakes no P either. So there are two ways to write:
//! - [`report`], for every thread the scheduler's progress depends on
//!   (sysmon, an M, the thread that creates Ms) and for the runtime's
//!   periodic output (schedtrace, the trace writer): it hands the text to
//!   the `weft-report` thread, started on first use, and returns. The queue
//!   holds [`QUEUE`] reports; one that finds it full is dropped and
//!   counted, and the count is written in its place ("weft: 3 reports
//!   dropped here"). When the process exits, what is queued is written
//!   first, as long as the writer keeps making progress ([`PATIENCE`]).
//! - [`write_now`], for a thread that may block without harm: `throw`
//!   (which must not allocate or wait for another thread), a goroutine's
//!   panic report (written inside `blocking()`, so its P moves on), and,
//!   through [`report_final`], the reports that end the process (the
//!   deadlock report, the SIGQUIT dump), written whole after the queue.
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
//! written; block the caller of [`report`] on stderr or on the writer;
//! allocate in [`write_now`] (`throw` calls it on a broken heap).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Reports the queue holds; the next one is dropped and counted.
const QUEUE: usize = 64;

/// At exit, how long the writer may go without writing a report before
/// what is still queued is given up (stderr is stuck).
const PATIENCE: Duration = Duration::from_secs(1);

/// What the `weft-report` thread writes next: a report, or how many were
/// dropped at this point because the queue was full.
enum Item {
    Text(String),
    Dropped(u64),
}

/// Whether the `weft-report` thread runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Writer {
    Absent,
    Starting,
    Running,
}

/// The queue, under [`QUEUE_LOCK`] (a leaf: nothing is taken under it,
/// and nothing blocks while it is held).
struct Queue {
    items: VecDeque<Item>,
    /// `Text` items in `items`.
    texts: usize,
    /// Items ever queued, and ever written (or given up on by a failed
    /// write): an item is written once `written` passes its number.
    queued: u64,
    written: u64,
    writer: Writer,
    /// The exit hook is registered.
    hooked: bool,
}

static QUEUE_LOCK: Mutex<Queue> = Mutex::new(Queue {
    items: VecDeque::new(),
    texts: 0,
    queued: 0,
    written: 0,
    writer: Writer::Absent,
    hooked: false,
});
/// Signalled when an item is queued (the writer waits on it).
static QUEUED: Condvar = Condvar::new();
/// Signalled when an item is written ([`drain`] waits on it).
static WRITTEN: Condvar = Condvar::new();

/// The `weft-report` thread, once it exists (counted before it does): the
/// deadlock check accounts for every thread of the process.
static THREADS: AtomicUsize = AtomicUsize::new(0);

fn queue() -> MutexGuard<'static, Queue> {
    // Nothing under the lock panics (a failed allocation aborts), and the
    // queue is consistent between any two statements anyway.
    QUEUE_LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Hands `args` to the `weft-report` thread, which writes it to stderr;
/// never waits for stderr or for that thread. Dropped (and counted) if
/// [`QUEUE`] reports are already waiting: `report(format_args!("weft:
/// {what}\n"))`.
pub(crate) fn report(args: fmt::Arguments<'_>) {
    let text = fmt::format(args);
    let mut q = queue();
    if q.texts < QUEUE {
        q.items.push_back(Item::Text(text));
        q.texts += 1;
        q.queued += 1;
    } else if let Some(Item::Dropped(n)) = q.items.back_mut() {
        *n += 1;
        return;
    } else {
        q.items.push_back(Item::Dropped(1));
        q.queued += 1;
    }
    if !q.hooked {
        q.hooked = true;
        // SAFETY: `at_exit` is an `extern "C" fn()` that never unwinds
        // (it only locks, waits and writes, all of which drop errors).
        unsafe { libc::atexit(at_exit) };
    }
    let start = q.writer == Writer::Absent;
    if start {
        q.writer = Writer::Starting;
    }
    drop(q);
    QUEUED.notify_one();
    if start {
        start_writer();
    }
}

/// Starts the `weft-report` thread. If the system refuses it, the queue
/// waits for the next [`report`] to try again, or for the exit, where the
/// exiting thread writes it.
fn start_writer() {
    THREADS.fetch_add(1, Ordering::SeqCst);
    let res = std::thread::Builder::new()
        .name("weft-report".into())
        .spawn(writer);
    let ok = res.is_ok();
    if !ok {
        THREADS.fetch_sub(1, Ordering::SeqCst);
    }
    queue().writer = if ok { Writer::Running } else { Writer::Absent };
    // A `drain` that found the writer starting waits for a write: if the
    // thread was refused there will be none, and it must look again (and
    // write the queue itself).
    WRITTEN.notify_all();
}

/// Threads of the runtime this module runs (0 or 1).
pub(crate) fn threads() -> usize {
    THREADS.load(Ordering::SeqCst)
}

/// The `weft-report` thread: writes what is queued, in order, for ever.
fn writer() {
    let mut q = queue();
    loop {
        let wrote;
        (q, wrote) = write_next(q);
        if !wrote {
            q = QUEUED.wait(q).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Writes the oldest queued item, with the lock released meanwhile; the
/// lock again, and `false` if there was none.
fn write_next(mut q: MutexGuard<'static, Queue>) -> (MutexGuard<'static, Queue>, bool) {
    let Some(item) = q.items.pop_front() else {
        return (q, false);
    };
    if matches!(item, Item::Text(_)) {
        q.texts -= 1;
    }
    drop(q);
    match item {
        Item::Text(s) => write_now(format_args!("{s}")),
        Item::Dropped(n) => write_now(format_args!(
            "weft: {n} reports dropped here: stderr was not taking them\n"
        )),
    }
    let mut q = queue();
    q.written += 1;
    WRITTEN.notify_all();
    (q, true)
}

/// Waits until everything queued before the call is written: for ever
/// (`patience` `None`), or while the writer writes a report at least every
/// `patience`. Without a writer (the system refused its thread) the caller
/// writes the queue itself.
fn drain(patience: Option<Duration>) {
    let mut q = queue();
    let target = q.queued;
    let mut tried = false;
    let mut seen = (q.written, Instant::now());
    while q.written < target {
        if q.writer == Writer::Absent {
            if !tried {
                tried = true;
                q.writer = Writer::Starting;
                drop(q);
                start_writer();
                q = queue();
                continue;
            }
            let wrote;
            (q, wrote) = write_next(q);
            if wrote {
                continue;
            }
            // Another caller is writing the last item: wait for it below.
        }
        if q.written != seen.0 {
            seen = (q.written, Instant::now());
        }
        let Some(p) = patience else {
            q = WRITTEN.wait(q).unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        let Some(left) = p.checked_sub(seen.1.elapsed()) else {
            return; // stderr is stuck: give the rest up
        };
        q = WRITTEN
            .wait_timeout(q, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// Registered with `atexit(3)` by the first [`report`]: what is queued is
/// written before the process ends, unless stderr is stuck.
extern "C" fn at_exit() {
    drain(Some(PATIENCE));
}

/// Writes `args` to stderr now, under std's lock (so two writes never
/// interleave), and drops what cannot be written. May block, on the lock
/// or on the stream: only for a thread nothing else waits for.
#[allow(clippy::disallowed_methods)] // the one place that may
pub(crate) fn write_now(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args);
    let _ = err.flush();
}

/// A report the process ends after (it exits next): written whole, after
/// every report queued before it, however long stderr takes.
pub(crate) fn report_final(args: fmt::Arguments<'_>) {
    drain(None);
    write_now(args);
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
