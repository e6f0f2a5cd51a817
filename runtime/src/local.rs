//! Goroutine-local storage: [`goroutine_local!`](crate::goroutine_local)
//! and [`LocalKey`], std's `thread_local!` for goroutines.
//!
//! Owns: the per-goroutine map of values (hung off `G::locals`, null until
//! a goroutine first touches a key), the per-thread map plain threads use
//! instead, the numbering of keys, and dropping a goroutine's values as its
//! body ends (`on_exit`, called by `spawn.rs` before the result is
//! published, so before the record can be recycled).
//!
//! A map is a vector indexed by key number; each value sits in its own
//! heap block (a raw pointer and a drop function), so a value never moves
//! while a `with` closure borrows it, even if that closure touches other
//! keys and the vector grows. Only the owning goroutine (or thread) ever
//! touches its map, and a goroutine's map moves with it between OS threads:
//! that is the point of it.
//!
//! Must never: cost anything to a goroutine that uses no key (one null
//! check as it exits), hand out a reference to a value after dropping it,
//! or leave a map on a record that may be recycled.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::g::{self, GPtr};

/// A key for goroutine-local values, made by
/// [`goroutine_local!`](crate::goroutine_local).
///
/// Inside a goroutine, each goroutine has its own value, made by the key's
/// initialiser the first time that goroutine touches the key and dropped
/// when it exits. It follows the goroutine from OS thread to OS thread. On
/// a plain thread (and in `weft::run`'s caller) it is a thread-local of
/// that thread. Inside [`crate::blocking`] it is still the goroutine's.
///
/// ```
/// use std::cell::Cell;
/// weft::goroutine_local! {
///     static DEPTH: Cell<u32> = Cell::new(0);
/// }
/// DEPTH.set(5); // this (plain) thread's value
/// let h = weft::go!(|| {
///     DEPTH.set(DEPTH.get() + 1);
///     let (tx, rx) = weft::chan(0);
///     weft::go!(move || tx.send(()).unwrap());
///     rx.recv().unwrap(); // may resume on another OS thread: same value
///     DEPTH.get()
/// });
/// assert_eq!(h.join().unwrap(), 1);
/// assert_eq!(DEPTH.get(), 5);
/// ```
pub struct LocalKey<T: 'static> {
    init: fn() -> T,
    /// The key's number plus one; 0 until first used.
    index: AtomicUsize,
}

/// A goroutine's (or thread's) locals are being dropped, or have been:
/// what [`LocalKey::try_with`] returns then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessError;

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("goroutine-local value accessed while the locals are being dropped")
    }
}

impl std::error::Error for AccessError {}

/// Keys handed out so far.
static NEXT_KEY: AtomicUsize = AtomicUsize::new(0);

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(init: fn() -> T) -> LocalKey<T> {
        LocalKey {
            init,
            index: AtomicUsize::new(0),
        }
    }

    fn index(&self) -> usize {
        match self.index.load(Ordering::Acquire) {
            0 => {
                let fresh = NEXT_KEY.fetch_add(1, Ordering::Relaxed) + 1;
                match self
                    .index
                    .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => fresh - 1,
                    Err(won) => won - 1,
                }
            }
            n => n - 1,
        }
    }

    /// Calls `f` with this goroutine's (or thread's) value, making it
    /// first if needed.
    ///
    /// # Panics
    /// If called while this goroutine's locals are being dropped (from the
    /// `Drop` of a goroutine-local value); use [`LocalKey::try_with`] there.
    ///
    /// ```
    /// weft::goroutine_local! { static NAME: String = String::from("anon"); }
    /// assert_eq!(NAME.with(|n| n.len()), 4);
    /// ```
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// As [`LocalKey::with`], but an `Err` instead of a panic while the
    /// locals are being dropped.
    ///
    /// ```
    /// weft::goroutine_local! { static N: u8 = 7; }
    /// assert_eq!(N.try_with(|n| *n), Ok(7));
    /// ```
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        let map = current_map()?;
        let index = self.index();
        // SAFETY: `map` is this goroutine's (or thread's) live map, which
        // only it touches and which outlives this call (`Map` docs).
        let value = match unsafe { Map::get(map, index) } {
            Some(v) => v,
            None => {
                // No borrow of the map is held while `init` runs: it may use
                // other keys (and even this one; then its value is replaced,
                // as std's thread_local does).
                let v = (self.init)();
                // SAFETY: `map` is still this goroutine's (or thread's) live
                // map, which only it touches and which outlives this call;
                // no reference into its `slots` is held (`get`'s borrow
                // ended as it returned, and `init` has returned).
                unsafe { Map::put(map, index, v) }
            }
        };
        // SAFETY: a value stays in place until its map is dropped, which
        // happens only after the goroutine (or thread) stops running code
        // that could be inside this call.
        Ok(f(unsafe { &*value.cast::<T>() }))
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

impl<T: Copy + 'static> LocalKey<Cell<T>> {
    /// The value in the cell.
    ///
    /// ```
    /// use std::cell::Cell;
    /// weft::goroutine_local! { static HITS: Cell<u64> = Cell::new(0); }
    /// HITS.set(HITS.get() + 1);
    /// assert_eq!(HITS.get(), 1);
    /// ```
    pub fn get(&'static self) -> T {
        self.with(Cell::get)
    }
}

impl<T: 'static> LocalKey<Cell<T>> {
    /// Stores `value` in the cell.
    pub fn set(&'static self, value: T) {
        self.with(|c| c.set(value))
    }

    /// Replaces the cell's value, returning the old one.
    pub fn replace(&'static self, value: T) -> T {
        self.with(|c| c.replace(value))
    }

    /// Takes the cell's value, leaving `T::default()`.
    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(Cell::take)
    }
}

impl<T: 'static> LocalKey<RefCell<T>> {
    /// Borrows the value for `f`.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// weft::goroutine_local! { static SEEN: RefCell<Vec<u32>> = RefCell::new(Vec::new()); }
    /// SEEN.with_borrow_mut(|v| v.push(3));
    /// assert_eq!(SEEN.with_borrow(|v| v.len()), 1);
    /// ```
    pub fn with_borrow<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        self.with(|c| f(&c.borrow()))
    }

    /// Borrows the value mutably for `f`.
    pub fn with_borrow_mut<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&mut T) -> R,
    {
        self.with(|c| f(&mut c.borrow_mut()))
    }

    /// Stores `value`.
    pub fn set(&'static self, value: T) {
        self.with(|c| *c.borrow_mut() = value)
    }

    /// Replaces the value, returning the old one.
    pub fn replace(&'static self, value: T) -> T {
        self.with(|c| c.replace(value))
    }

    /// Takes the value, leaving `T::default()`.
    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(RefCell::take)
    }
}

/// Declares goroutine-local statics, in the shape of std's `thread_local!`.
///
/// Each goroutine gets its own value of each, made by the initialiser the
/// first time it uses it and dropped when it exits (before its `join`
/// returns). On a plain thread the static is a thread-local of that thread.
/// Unlike a `thread_local!`, a value may be held across a channel
/// operation, a lock or any other point where the goroutine may move to
/// another OS thread: the value moves with it.
///
/// ```
/// use std::cell::RefCell;
/// weft::goroutine_local! {
///     /// The request this goroutine serves.
///     pub static REQUEST: RefCell<Option<u64>> = RefCell::new(None);
///     static BUF: RefCell<String> = RefCell::new(String::new());
/// }
///
/// let hs: Vec<_> = (0..4u64)
///     .map(|i| weft::go!(move || {
///         REQUEST.set(Some(i));
///         weft::yield_now(); // may move to another thread
///         BUF.with_borrow_mut(|b| b.push('x'));
///         (REQUEST.take(), BUF.with_borrow(|b| b.len()))
///     }))
///     .collect();
/// for (i, h) in hs.into_iter().enumerate() {
///     assert_eq!(h.join().unwrap(), (Some(i as u64), 1));
/// }
/// ```
#[macro_export]
macro_rules! goroutine_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident : $t:ty = $init:expr; $($rest:tt)*) => {
        $crate::goroutine_local!($(#[$attr])* $vis static $name: $t = $init);
        $crate::goroutine_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident : $t:ty = $init:expr) => {
        $(#[$attr])*
        $vis static $name: $crate::LocalKey<$t> = {
            fn __init() -> $t {
                $init
            }
            $crate::LocalKey::__new(__init)
        };
    };
}

/// One value: its heap block and how to drop it.
struct Slot {
    value: *mut u8,
    drop: unsafe fn(*mut u8),
}

/// Drops the `Box<T>` at `p`.
///
/// # Safety
/// `p` came from `Box::<T>::into_raw` and is dropped once.
unsafe fn drop_box<T>(p: *mut u8) {
    // SAFETY: the caller passes a pointer `Box::<T>::into_raw` made, for
    // this same `T`, and drops it only this once.
    drop(unsafe { Box::from_raw(p.cast::<T>()) })
}

/// A goroutine's (or thread's) values, by key number.
///
/// Accessed only through raw pointers by its owner: `with` closures may
/// re-enter `try_with` for other keys, so no `&mut Map` is ever held across
/// user code.
#[derive(Default)]
struct Map {
    slots: UnsafeCell<Vec<Option<Slot>>>,
}

impl Map {
    /// The value at `index`, if made.
    ///
    /// # Safety
    /// `map` is live and only the caller's goroutine (or thread) uses it;
    /// no reference into `slots` is held.
    unsafe fn get(map: *const Map, index: usize) -> Option<*const u8> {
        // SAFETY: `map` is live and only our goroutine (or thread) uses it,
        // and no other reference into `slots` is held (the caller's
        // contract), so this shared borrow aliases no `&mut`; it ends
        // before we return.
        let slots = unsafe { &*(*map).slots.get() };
        slots.get(index)?.as_ref().map(|s| s.value.cast_const())
    }

    /// Stores `v` at `index` (dropping a value a recursive initialisation
    /// put there first) and returns where it lives.
    ///
    /// # Safety
    /// As for [`Map::get`].
    unsafe fn put<T>(map: *const Map, index: usize, v: T) -> *const u8 {
        let value = Box::into_raw(Box::new(v)).cast::<u8>();
        let old = {
            // SAFETY: `map` is live and only our goroutine (or thread) uses
            // it, and no other reference into `slots` is held (the caller's
            // contract), so this `&mut` is the only one; it ends before the
            // old value's `Drop` (user code, which may re-enter `try_with`)
            // runs.
            let slots = unsafe { &mut *(*map).slots.get() };
            if slots.len() <= index {
                slots.resize_with(index + 1, || None);
            }
            slots[index].replace(Slot {
                value,
                drop: drop_box::<T>,
            })
        };
        if let Some(old) = old {
            // SAFETY: the old value was put here by `put` with its own drop
            // function, and nothing borrows it: the `with` that made it
            // returned before this outer initialiser finished.
            unsafe { (old.drop)(old.value) };
        }
        value
    }

    /// Drops every value, in key order, each panic caught; returns the
    /// first panic's payload.
    ///
    /// # Safety
    /// `map` came from `Box::into_raw` and has been detached from its
    /// owner (no `try_with` can reach it any more).
    unsafe fn destroy(map: *mut Map) -> Option<Box<dyn std::any::Any + Send>> {
        // SAFETY: `map` came from `Box::into_raw` and is detached from its
        // owner (the caller's contract): nothing else can reach it, so this
        // box is its only owner.
        let map = unsafe { Box::from_raw(map) };
        let mut first = None;
        for slot in map.slots.into_inner().into_iter().flatten() {
            // SAFETY: each slot is dropped once, with its own function.
            let r = panic::catch_unwind(AssertUnwindSafe(|| unsafe { (slot.drop)(slot.value) }));
            if let Err(p) = r {
                first.get_or_insert(p);
            }
        }
        first
    }
}

/// What a goroutine's `locals` pointer holds while its values are dropped.
const DESTROYING: *mut () = std::ptr::dangling_mut::<()>();

thread_local! {
    /// A plain thread's values (and `weft::run`'s caller's).
    static THREAD_MAP: ThreadMap = const { ThreadMap(Cell::new(ptr::null_mut())) };
}

/// A plain thread's map, dropped with the thread.
struct ThreadMap(Cell<*mut Map>);

impl Drop for ThreadMap {
    fn drop(&mut self) {
        let map = self.0.replace(DESTROYING.cast());
        if !map.is_null() && map != DESTROYING.cast() {
            // SAFETY: made by `thread_map` with `Box::into_raw`, detached
            // above; a panic while dropping a thread's values has nowhere
            // to go (std aborts in the same place).
            if unsafe { Map::destroy(map) }.is_some() {
                crate::throw("a goroutine_local! value panicked while its thread exited");
            }
        }
    }
}

/// The current goroutine's map (made on first use), or the plain thread's.
fn current_map() -> Result<*const Map, AccessError> {
    match g::owner() {
        Some(g) => goroutine_map(g),
        None => thread_map(),
    }
}

fn goroutine_map(g: GPtr) -> Result<*const Map, AccessError> {
    // SAFETY: `g` is the goroutine running this code (`g::owner`).
    let map = unsafe { g.locals() };
    if map == DESTROYING {
        return Err(AccessError);
    }
    if !map.is_null() {
        return Ok(map.cast::<Map>());
    }
    let map = Box::into_raw(Box::<Map>::default());
    // SAFETY: `g` is the goroutine running this code (`g::owner`), the only
    // one that touches its `locals`.
    unsafe { g.set_locals(map.cast()) };
    Ok(map)
}

/// `#[inline(never)]`: the thread-local's address is computed afresh.
#[inline(never)]
fn thread_map() -> Result<*const Map, AccessError> {
    THREAD_MAP
        .try_with(|t| {
            let map = t.0.get();
            if map == DESTROYING.cast() {
                return Err(AccessError);
            }
            if !map.is_null() {
                return Ok(map.cast_const());
            }
            let map = Box::into_raw(Box::<Map>::default());
            t.0.set(map);
            Ok(map.cast_const())
        })
        .unwrap_or(Err(AccessError))
}

/// The goroutine `g` is ending (its body returned, on its own stack):
/// drops its values. Returns the payload of a value's `Drop` that
/// panicked, for its `join` to see.
///
/// # Safety
/// Called by the goroutine `g` itself, on its own stack, once, after the
/// last of its code that may touch a goroutine-local.
#[inline]
pub(crate) unsafe fn on_exit(g: GPtr) -> Option<Box<dyn std::any::Any + Send>> {
    // SAFETY: called by the goroutine itself (the caller's contract): only
    // it reads or writes its locals pointer.
    if unsafe { g.locals() }.is_null() {
        return None;
    }
    // SAFETY: the caller's contract, passed on.
    unsafe { drop_locals(g) }
}

/// # Safety
/// As [`on_exit`]'s: called by the goroutine `g` itself, once.
#[cold]
unsafe fn drop_locals(g: GPtr) -> Option<Box<dyn std::any::Any + Send>> {
    // SAFETY: called by the goroutine itself (via `on_exit`).
    let map = unsafe { g.set_locals(DESTROYING) };
    // SAFETY: `map` was made by `goroutine_map` and is now detached.
    let panicked = unsafe { Map::destroy(map.cast()) };
    // SAFETY: `g` is still the goroutine running this code, on its own
    // stack as its body ends, the only one that touches its `locals`. The
    // record is clean for its next goroutine.
    unsafe { g.set_locals(ptr::null_mut()) };
    panicked
}
