//! `errgroup`: a group of goroutines working on subtasks of one task, with
//! the first error kept and the group's context cancelled by it
//! (golang.org/x/sync/errgroup).
//!
//! Owns: the group's counter of running goroutines (a `WaitGroup`), the
//! first error, the first panic, and the optional limit (a `Semaphore`
//! whose permits the goroutines hold while they run).
//!
//! Must never: lose a `done()` for a goroutine that started (a guard gives
//! it back even when the function panics), or keep a permit after its
//! goroutine returns.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use weft_runtime::sync::{Semaphore, WaitGroup};

use crate::context::{self, CancelFunc, Context};

/// A group of goroutines working on subtasks of one task (Go's
/// `errgroup.Group`). [`wait`](Group::wait) returns the first error any of
/// them returned; with [`with_context`](Group::with_context), that first
/// error also cancels the group's context, so the others can stop early.
///
/// A `Group` is cheap to clone (every clone is the same group), so
/// subtasks can start more subtasks.
///
/// ```
/// use weft::errgroup::Group;
/// let g = Group::new();
/// for i in 0..10u32 {
///     g.go(move || if i == 7 { Err(format!("task {i} failed")) } else { Ok(()) });
/// }
/// assert_eq!(g.wait(), Err("task 7 failed".to_string()));
/// ```
///
/// A panic in a subtask is caught, cancels the context, and is raised
/// again by `wait` (as x/sync's errgroup does since 2024).
pub struct Group<E> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    wg: WaitGroup,
    first: Mutex<First<E>>,
    cancel: Option<CancelFunc>,
    /// The limit's semaphore, replaced by `set_limit` (only while no
    /// goroutine runs, so none holds a permit of the old one).
    limit: Mutex<Option<Arc<Semaphore>>>,
}

struct First<E> {
    err: Option<E>,
    panic: Option<Box<dyn Any + Send>>,
}

impl<E> Clone for Group<E> {
    fn clone(&self) -> Self {
        Group {
            inner: self.inner.clone(),
        }
    }
}

impl<E: Send + 'static> Default for Group<E> {
    fn default() -> Self {
        Group::new()
    }
}

/// Gives a goroutine's slot back when it ends, whichever way.
struct Slot<E: Send + 'static> {
    inner: Arc<Inner<E>>,
    permit: Option<Arc<Semaphore>>,
}

impl<E: Send + 'static> Drop for Slot<E> {
    fn drop(&mut self) {
        if let Some(sem) = self.permit.take() {
            sem.release(1);
        }
        self.inner.wg.done();
    }
}

impl<E: Send + 'static> Group<E> {
    /// An empty group with no context and no limit.
    ///
    /// ```
    /// let g = weft::errgroup::Group::<std::io::Error>::new();
    /// assert!(g.wait().is_ok());
    /// ```
    pub fn new() -> Group<E> {
        Group::make(None)
    }

    /// A group and a context derived from `parent` that is cancelled the
    /// first time a subtask fails (or panics), or when [`wait`](Self::wait)
    /// returns, whichever comes first (Go's `errgroup.WithContext`).
    ///
    /// ```
    /// use weft::{context, errgroup::Group};
    /// let (g, ctx) = Group::with_context(&context::background());
    /// let c = ctx.clone();
    /// g.go(move || {
    ///     for _ in &c.done() {} // waits for the sibling's failure
    ///     Ok(())
    /// });
    /// g.go(|| Err("boom"));
    /// assert_eq!(g.wait(), Err("boom"));
    /// assert_eq!(ctx.err(), Some(context::Error::Canceled));
    /// ```
    pub fn with_context(parent: &Context) -> (Group<E>, Context) {
        let (ctx, cancel) = context::with_cancel(parent);
        (Group::make(Some(cancel)), ctx)
    }

    fn make(cancel: Option<CancelFunc>) -> Group<E> {
        Group {
            inner: Arc::new(Inner {
                wg: WaitGroup::new(),
                first: Mutex::new(First {
                    err: None,
                    panic: None,
                }),
                cancel,
                limit: Mutex::new(None),
            }),
        }
    }

    /// Limits the group to `n` goroutines running at once: from now on
    /// [`go`](Self::go) parks while `n` are running, and
    /// [`try_go`](Self::try_go) returns `false` (Go's `SetLimit`).
    ///
    /// # Panics
    /// If `n` is 0 (no subtask could ever start; Go's `SetLimit(0)` makes
    /// every `Go` block for ever), or if goroutines of this group are
    /// running (Go panics too: the limit cannot change under them).
    ///
    /// ```
    /// let mut g = weft::errgroup::Group::<()>::new();
    /// g.set_limit(2);
    /// for _ in 0..10 {
    ///     g.go(|| Ok(())); // at most 2 at a time
    /// }
    /// assert!(g.wait().is_ok());
    /// ```
    #[track_caller]
    pub fn set_limit(&mut self, n: usize) {
        assert!(
            n > 0,
            "errgroup: set_limit(0) would let no goroutine start; the limit must be at least 1"
        );
        let active = self.inner.wg.count();
        assert!(
            active == 0,
            "errgroup: modify limit while {active} goroutines in the group are still active"
        );
        *self.lock_limit() = Some(Arc::new(Semaphore::new(n)));
    }

    fn lock_limit(&self) -> std::sync::MutexGuard<'_, Option<Arc<Semaphore>>> {
        self.inner.limit.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in a new goroutine. With a limit, parks first until fewer
    /// than the limit are running. The first `Err` it (or any other
    /// subtask) returns is what [`wait`](Self::wait) returns, and it
    /// cancels the group's context.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// let g = weft::errgroup::Group::<()>::new();
    /// let n = Arc::new(AtomicU32::new(0));
    /// for _ in 0..100 {
    ///     let n = n.clone();
    ///     g.go(move || { n.fetch_add(1, Ordering::Relaxed); Ok(()) });
    /// }
    /// g.wait().unwrap();
    /// assert_eq!(n.load(Ordering::Relaxed), 100);
    /// ```
    #[track_caller] // the goroutine's spawn site is the caller's
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let sem = self.lock_limit().clone();
        if let Some(s) = &sem {
            s.acquire(1);
        }
        self.start(f, sem);
    }

    /// Runs `f` in a new goroutine only if that does not exceed the limit;
    /// returns whether it did (Go's `TryGo`). Never parks.
    ///
    /// ```
    /// let mut g = weft::errgroup::Group::<()>::new();
    /// g.set_limit(1);
    /// let (tx, rx) = weft::chan::<()>(0);
    /// assert!(g.try_go(move || { let _ = rx.recv(); Ok(()) }));
    /// assert!(!g.try_go(|| Ok(()))); // the one slot is taken
    /// drop(tx); // lets the first one finish
    /// g.wait().unwrap();
    /// assert!(g.try_go(|| Ok(())));
    /// # g.wait().unwrap();
    /// ```
    #[track_caller] // the goroutine's spawn site is the caller's
    pub fn try_go<F>(&self, f: F) -> bool
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let sem = self.lock_limit().clone();
        if let Some(s) = &sem {
            if !s.try_acquire(1) {
                return false;
            }
        }
        self.start(f, sem);
        true
    }

    #[track_caller]
    fn start<F>(&self, f: F, permit: Option<Arc<Semaphore>>)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        self.inner.wg.add(1);
        let slot = Slot {
            inner: self.inner.clone(),
            permit,
        };
        weft_runtime::spawn(move || {
            let inner = slot.inner.clone();
            let out = panic::catch_unwind(AssertUnwindSafe(f));
            // Give the slot back last, after the error is recorded, so
            // `wait` sees it.
            match out {
                Ok(Ok(())) => {}
                Ok(Err(e)) => inner.fail(|first| {
                    if first.err.is_none() {
                        first.err = Some(e);
                    }
                }),
                Err(p) => inner.fail(|first| {
                    if first.panic.is_none() {
                        first.panic = Some(p);
                    }
                }),
            }
            drop(slot);
        });
    }

    /// Parks until every goroutine started by [`go`](Self::go) and
    /// [`try_go`](Self::try_go) has returned, cancels the group's context,
    /// and returns the first error (Go's `Wait`). The error is handed out
    /// once: a second `wait` returns `Ok(())` unless a new subtask failed.
    ///
    /// # Panics
    /// Re-raises the first panic of a subtask.
    ///
    /// ```
    /// let g = weft::errgroup::Group::new();
    /// g.go(|| Err(1));
    /// assert_eq!(g.wait(), Err(1));
    /// assert_eq!(g.wait(), Ok(()));
    /// ```
    pub fn wait(&self) -> Result<(), E> {
        self.inner.wg.wait();
        if let Some(c) = &self.inner.cancel {
            c.cancel();
        }
        let mut first = self.inner.lock_first();
        if let Some(p) = first.panic.take() {
            drop(first);
            panic::resume_unwind(p);
        }
        match first.err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<E> Inner<E> {
    fn lock_first(&self) -> std::sync::MutexGuard<'_, First<E>> {
        self.first.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a failure and cancels the group's context.
    fn fail(&self, record: impl FnOnce(&mut First<E>)) {
        record(&mut self.lock_first());
        if let Some(c) = &self.cancel {
            c.cancel();
        }
    }
}

impl<E> fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("running", &self.inner.wg.count())
            .finish_non_exhaustive()
    }
}
