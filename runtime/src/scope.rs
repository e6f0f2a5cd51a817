//! Scoped goroutines: [`scope`], in the shape of `std::thread::scope`.
//!
//! Owns: the scope's count of goroutines still able to touch borrowed
//! data, and each scoped goroutine's result packet. The rule that makes
//! borrowing sound: **`scope` returns, or unwinds, only when the count is
//! zero**, and a goroutine leaves the count only after its closure has
//! returned (or panicked) *and* its result has been dropped or taken.
//!
//! - The count goes up before a goroutine is spawned and down in the
//!   packet's `Drop`, when the last of its two owners (the goroutine, the
//!   [`ScopedJoinHandle`]) lets go: after the closure is gone and the
//!   result with it (std's design). A leaked handle leaks its packet, so
//!   the count never reaches zero: the scope then waits for ever rather
//!   than return with borrowed data still reachable.
//! - The scope's own closure runs under `catch_unwind`: its panic is held
//!   until every goroutine is done, then resumed. The wait parks the
//!   scope's goroutine (or blocks its thread, as any park does while a
//!   panic is unwinding through it) and cannot unwind.
//! - A goroutine's panic is caught in its body and kept in its packet:
//!   `join` returns it; unjoined, it makes `scope` panic at the end.
//!
//! Must never: return from `scope` while a scoped goroutine's closure,
//! result or packet is alive, or resume the scope's panic early.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::g::{GoId, WaitReason};
use crate::park::{park, unparker, Unparker};
use crate::spawn::{Builder, JoinError, JoinHandle};

/// Runs `f` with a [`Scope`] on which it can spawn goroutines that borrow
/// from the enclosing stack; returns `f`'s value once every goroutine
/// spawned on the scope has finished.
///
/// Works from a goroutine (the wait parks it) and from a plain thread (the
/// wait blocks it). If `f` panics, `scope` still waits for every scoped
/// goroutine, then resumes the panic. If a scoped goroutine panicked and
/// was not joined, `scope` panics once all are done.
///
/// ```
/// let mut counts = vec![0u32; 4];
/// let words = ["go", "weft", "scope", "m"];
/// weft::scope(|s| {
///     for (c, w) in counts.iter_mut().zip(&words) {
///         s.go(move || *c = w.len() as u32);
///     }
/// });
/// assert_eq!(counts, [2, 4, 5, 1]);
///
/// // Results come back through the handles; panics as with `std`.
/// let total = weft::scope(|s| {
///     let h = s.go(|| words.iter().map(|w| w.len()).sum::<usize>());
///     h.join().unwrap()
/// });
/// assert_eq!(total, 12);
/// ```
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let scope = Scope {
        data: Arc::new(ScopeData {
            running: AtomicUsize::new(0),
            a_goroutine_panicked: AtomicBool::new(false),
            owner: unparker(),
        }),
        scope: PhantomData,
        env: PhantomData,
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| f(&scope)));
    scope.data.wait_all();
    match result {
        Err(e) => panic::resume_unwind(e),
        Ok(_) if scope.data.a_goroutine_panicked.load(Ordering::Relaxed) => {
            panic!("a scoped goroutine panicked")
        }
        Ok(r) => r,
    }
}

/// A scope to spawn goroutines in; see [`scope`].
///
/// `'scope` is the lifetime of the scope itself (goroutines spawned on it
/// may run that long); `'env` is that of what they may borrow.
pub struct Scope<'scope, 'env: 'scope> {
    data: Arc<ScopeData>,
    // Invariance, as std's `Scope`: a scope cannot be shortened or
    // lengthened to let a goroutine outlive what it borrows.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

struct ScopeData {
    /// Goroutines whose packet is still alive.
    running: AtomicUsize,
    a_goroutine_panicked: AtomicBool,
    /// The scope's goroutine (or thread), woken when `running` drops to 0.
    owner: Unparker,
}

impl ScopeData {
    fn enter(&self) {
        // Far more than could ever exist: an overflow is a bug elsewhere.
        if self.running.fetch_add(1, Ordering::Relaxed) > usize::MAX / 2 {
            crate::throw("too many scoped goroutines");
        }
    }

    /// A goroutine's packet is gone. Release: everything it did
    /// happens-before the scope's return (pairs with `wait_all`'s acquire).
    fn leave(&self, panicked: bool) {
        if panicked {
            self.a_goroutine_panicked.store(true, Ordering::Relaxed);
        }
        if self.running.fetch_sub(1, Ordering::Release) == 1 {
            self.owner.unpark();
        }
    }

    fn wait_all(&self) {
        while self.running.load(Ordering::Acquire) != 0 {
            park(WaitReason::Join, || {});
        }
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Spawns a goroutine that may borrow anything that outlives the
    /// scope (`'scope`), as `std::thread::Scope::spawn` does. It is joined
    /// automatically when the scope ends, if not before through the handle.
    ///
    /// # Panics
    /// If the goroutine cannot be spawned (its stack cannot be allocated).
    ///
    /// ```
    /// let data = vec![1, 2, 3];
    /// let sum = weft::scope(|s| {
    ///     let a = s.go(|| data[..2].iter().sum::<i32>());
    ///     let b = s.go(|| data[2..].iter().sum::<i32>());
    ///     a.join().unwrap() + b.join().unwrap()
    /// });
    /// assert_eq!(sum, 6);
    /// ```
    #[track_caller]
    pub fn go<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let site = Location::caller();
        self.data.enter();
        let packet = Arc::new(Packet {
            scope: self.data.clone(),
            result: UnsafeCell::new(None),
            _scope: PhantomData,
        });
        let theirs = packet.clone();
        let body = move || {
            let r = panic::catch_unwind(AssertUnwindSafe(f));
            // SAFETY: no other access to `result` can overlap this write:
            // the handle and the packet's drop reach it only through
            // `Arc::get_mut` or as the last owner, which needs our `theirs`
            // gone, and dropping it right after (a release decrement)
            // publishes the write to them.
            unsafe { *theirs.result.get() = Some(r) };
            drop(theirs);
        };
        // `scope` does not return or unwind before `running` is 0, which
        // needs this goroutine's packet gone: after `body` ran and its result
        // was dropped or taken. `body` returns `()`: its result borrows nothing.
        // SAFETY: `scope` does not return or unwind before `running` is 0,
        // which needs this goroutine's packet dropped; `body` drops `theirs`
        // as its last act, after `f` is consumed and its result is in the
        // packet, and returns `()`. So nothing the goroutine runs after
        // 'scope ends can reach 'scope data (this is the contract's
        // "finished or its result dropped", met at the end of `body`).
        let handle = match unsafe { Builder::new().spawn_unchecked_at(body, site) } {
            Ok(h) => h,
            // `body` is dropped: our `packet` is the last one, and dropping
            // it as we unwind leaves the count.
            Err(e) => panic!("weft: failed to spawn a scoped goroutine: {e}"),
        };
        ScopedJoinHandle { handle, packet }
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("running", &self.data.running.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Where a scoped goroutine leaves its result; see the module comment.
struct Packet<'scope, T> {
    scope: Arc<ScopeData>,
    result: UnsafeCell<Option<std::thread::Result<T>>>,
    _scope: PhantomData<&'scope ()>,
}

// `result` is written once by the goroutine before it drops its `Arc`, and
// read by the handle's owner only after `join` (which acquires the
// goroutine's finish); nothing else in a `Packet` is shared unsynchronised.
// SAFETY: never two accesses to `result` at once; `T: Send` because the
// value crosses from the goroutine to the joiner.
unsafe impl<T: Send> Sync for Packet<'_, T> {}

impl<T> Drop for Packet<'_, T> {
    fn drop(&mut self) {
        let unhandled = matches!(self.result.get_mut(), Some(Err(_)));
        // Drop the result (which may borrow 'scope data) before leaving the
        // count; a panicking `Drop` of it counts as a panic of the scope.
        let dropped = panic::catch_unwind(AssertUnwindSafe(|| *self.result.get_mut() = None));
        self.scope.leave(unhandled || dropped.is_err());
    }
}

/// An owned permission to join a scoped goroutine ([`Scope::go`]).
pub struct ScopedJoinHandle<'scope, T> {
    handle: JoinHandle<()>,
    packet: Arc<Packet<'scope, T>>,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the goroutine and returns its value, or `Err` if it
    /// panicked (then the scope itself does not panic for it).
    ///
    /// ```
    /// let r = weft::scope(|s| s.go(|| panic!("inner")).join());
    /// assert_eq!(r.unwrap_err().message(), Some("inner"));
    /// ```
    pub fn join(self) -> Result<T, JoinError> {
        let id = self.handle.id();
        let ScopedJoinHandle { handle, mut packet } = self;
        // The body never panics (it catches `f`'s panic): `Ok(())`.
        let _ = handle.join();
        // The goroutine dropped its `Arc` before finishing, so ours is the
        // only one left.
        let result = Arc::get_mut(&mut packet)
            .and_then(|p| p.result.get_mut().take())
            .unwrap_or_else(|| crate::throw("scoped goroutine finished without a result"));
        result.map_err(|payload| JoinError::new(id, payload))
    }

    /// The goroutine's id.
    pub fn id(&self) -> GoId {
        self.handle.id()
    }

    /// Whether the goroutine has finished.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl<T> fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedJoinHandle")
            .field("id", &self.handle.id())
            .finish()
    }
}
