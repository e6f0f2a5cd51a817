//! Per-thread event buffers: where the trace's hooks write, with no lock
//! and no atomic read-modify-write per event.
//!
//! Owns: [`Writer`] (a thread's own end: only that thread appends) and
//! [`Shared`] (the end `stop` reads). A buffer is a linked list of
//! fixed-size chunks. The writer fills the slot after the last published
//! one and then publishes it with a release store of the chunk's `len`; a
//! full chunk gets a successor, published with a release store of `next`.
//! The reader takes `len` (acquire) and copies that many events, so it
//! reads only events that are complete and never written again.
//!
//! Chunks are freed by the reader once they have a successor (the writer
//! never touches a chunk again after linking the next one), and the rest
//! when the last of the two ends lets go.
//!
//! Must never: let the reader touch a slot at or past the published `len`,
//! free the chunk the writer appends to, or block the writer.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::Event;

/// Events per chunk (32 bytes each: 128 KiB). A few under Miri, so its
/// tests cross chunks in seconds.
const CHUNK: usize = if cfg!(miri) { 16 } else { 4096 };

/// At most this many chunks per thread and session (8 Mi events, 256 MiB);
/// later events are counted as dropped.
const MAX_CHUNKS: usize = 2048;

struct Chunk {
    /// Slots `0..len` are written and published.
    len: AtomicUsize,
    /// The next chunk, once this one is full.
    next: AtomicPtr<Chunk>,
    events: [UnsafeCell<MaybeUninit<Event>>; CHUNK],
}

impl Chunk {
    /// A fresh chunk, made in place on the heap: a `Chunk` value on the
    /// stack would be a 128 KiB frame, probed page by page on every call
    /// of whatever it is inlined into — and that runs on goroutine stacks.
    #[cold]
    #[inline(never)]
    fn alloc() -> *mut Chunk {
        let mut b = Box::<Chunk>::new_uninit();
        let p = b.as_mut_ptr();
        // SAFETY: `p` points to the fresh allocation; we initialise the two
        // fields that need a value through raw pointers, and `events` is an
        // array of `MaybeUninit` (valid uninitialised), so the whole chunk
        // is initialised before `assume_init`.
        unsafe {
            ptr::addr_of_mut!((*p).len).write(AtomicUsize::new(0));
            ptr::addr_of_mut!((*p).next).write(AtomicPtr::new(ptr::null_mut()));
            Box::into_raw(b.assume_init())
        }
    }
}

/// The reader's end of one thread's buffer for one session.
pub(super) struct Shared {
    /// The trace session the buffer belongs to.
    pub session: u64,
    /// The thread's name, as the trace shows it (`weft-m3`, `weft-sysmon`).
    pub thread: String,
    /// The oldest chunk not yet freed.
    head: AtomicPtr<Chunk>,
    /// Events the writer could not store (the buffer was full).
    dropped: AtomicU64,
}

// SAFETY: the fields are atomics and immutable strings; the chunks they
// lead to are shared under the publication protocol of the module comment
// (a slot is read only below a `len` loaded with acquire, after the writer
// stored it with release, and never written again).
unsafe impl Sync for Shared {}
// SAFETY: a `Shared` holds atomics, a `String` and the chunks it owns
// (plain `Copy` events); none is tied to the thread that made it, and its
// drop, on whatever thread, frees the chunks only once both ends are gone
// (the writer holds an `Arc` to it).
unsafe impl Send for Shared {}

impl Shared {
    /// Copies every published event into `out` and frees the chunks the
    /// writer has moved past; returns how many events were dropped.
    /// Called by `stop`, once per buffer (a second call would read the
    /// last chunk again).
    pub fn collect(&self, out: &mut Vec<Event>) -> u64 {
        let mut c = self.head.load(Ordering::Acquire);
        loop {
            // SAFETY: `c` is live: chunks are freed only here (those with a
            // successor, below) and in `drop`, and `head` moves past a
            // chunk before it is freed.
            let chunk = unsafe { &*c };
            let n = chunk.len.load(Ordering::Acquire);
            for slot in &chunk.events[..n] {
                // SAFETY: slots below `len` were written before `len` was
                // stored (release, paired with our acquire) and are never
                // written again.
                out.push(unsafe { (*slot.get()).assume_init() });
            }
            let next = chunk.next.load(Ordering::Acquire);
            if next.is_null() {
                break;
            }
            self.head.store(next, Ordering::Release);
            // SAFETY: the writer linked `next` and never touches `c` after
            // that; `head` no longer leads to it; nobody else frees it.
            drop(unsafe { Box::from_raw(c) });
            c = next;
        }
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let mut c = *self.head.get_mut();
        while !c.is_null() {
            // SAFETY: both ends are gone (this is the last `Arc`): every
            // chunk still linked from `head` is ours to free, once.
            let b = unsafe { Box::from_raw(c) };
            c = b.next.load(Ordering::Acquire);
        }
    }
}

/// The writing end, kept in the thread's thread-local: only its thread
/// appends.
pub(super) struct Writer {
    pub shared: Arc<Shared>,
    /// The chunk being filled (never freed while this writer exists: it
    /// has no successor).
    tail: *mut Chunk,
    chunks: usize,
    dropped: u64,
}

impl Writer {
    pub fn new(session: u64, thread: String) -> Writer {
        let first = Chunk::alloc();
        Writer {
            shared: Arc::new(Shared {
                session,
                thread,
                head: AtomicPtr::new(first),
                dropped: AtomicU64::new(0),
            }),
            tail: first,
            chunks: 1,
            dropped: 0,
        }
    }

    /// Appends one event: a plain write and a release store.
    #[inline]
    pub fn push(&mut self, ev: Event) {
        // SAFETY: `tail` has no successor, so the reader never frees it,
        // and `shared` (kept alive by us) frees it only in its drop.
        let mut t = unsafe { &*self.tail };
        let mut n = t.len.load(Ordering::Relaxed); // only we store it
        if n == CHUNK {
            if self.chunks >= MAX_CHUNKS {
                self.dropped += 1;
                self.shared.dropped.store(self.dropped, Ordering::Relaxed);
                return;
            }
            let c = Chunk::alloc();
            self.chunks += 1;
            // Release: the reader may free `t` once it sees this.
            t.next.store(c, Ordering::Release);
            self.tail = c;
            // SAFETY: `c` was just allocated and is now our tail, with no
            // successor: the reader frees only chunks that have one, and
            // `shared` (kept alive by us) frees the rest only in its drop.
            t = unsafe { &*c };
            n = 0;
        }
        // SAFETY: slot `n` is at the published `len`: the reader never
        // reads it before the store below, and we are its only writer.
        unsafe { (*t.events[n].get()).write(ev) };
        // Release: publishes the slot (pairs with `collect`'s acquire).
        t.len.store(n + 1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Kind;

    fn ev(i: u64) -> Event {
        Event {
            ts: i,
            g: i,
            arg: 0,
            kind: Kind::GoStart,
            p: 0,
            aux: 0,
            reason: crate::g::WaitReason::None,
        }
    }

    #[test]
    fn collects_across_chunks_and_frees_them() {
        let mut w = Writer::new(1, "t".into());
        let n = CHUNK as u64 * 3 + 7;
        for i in 0..n {
            w.push(ev(i));
        }
        let mut out = Vec::new();
        assert_eq!(w.shared.collect(&mut out), 0);
        assert_eq!(out.len() as u64, n);
        assert!(out.iter().enumerate().all(|(i, e)| e.ts == i as u64));
        // The writer goes on after a collect (an event in flight at `stop`).
        w.push(ev(n));
    }

    #[test]
    fn reader_on_another_thread_sees_only_whole_events() {
        let mut w = Writer::new(1, "t".into());
        let shared = w.shared.clone();
        let reader = std::thread::spawn(move || {
            let mut total = Vec::new();
            for _ in 0..50 {
                let mut out = Vec::new();
                shared.collect(&mut out);
                total.extend(out);
            }
            total
        });
        for i in 0..(CHUNK as u64 * 4) {
            w.push(ev(i));
        }
        let seen = reader.join().unwrap();
        // Each collect resumes where the chunks were freed; events are in
        // order within one collect and never torn.
        assert!(seen.iter().all(|e| e.ts == e.g));
    }
}
