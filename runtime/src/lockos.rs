//! `lock_os_thread` / `unlock_os_thread`: Go's `runtime.LockOSThread`.
//!
//! Owns: the public calls and their contract. The wiring itself, and how a
//! wired M hands its P away and gets it back, is `sched::locked`.
//!
//! Must never: switch the caller (both calls only set words on the G and
//! its M; the scheduler acts at the goroutine's next switch).

use crate::g;
use crate::sched;

/// Wires the calling goroutine to the OS thread it is running on (Go's
/// `runtime.LockOSThread`): until as many [`unlock_os_thread`] calls
/// undo it, the goroutine runs only on this thread, and this thread runs
/// nothing else. Calls nest.
///
/// While the goroutine waits (a channel, a lock, `sleep`...), its
/// processor goes to another thread, so the rest of the program runs on;
/// when it is woken, the thread that picks it up hands its processor back
/// to this one. A goroutine that spawns while locked does not move: the
/// child is queued for another thread (whatever the spawn policy). A
/// goroutine that **exits locked takes its thread with it**: the thread
/// exits instead of running other goroutines, as in Go, since the
/// goroutine may have changed it (a namespace, a signal mask, a
/// thread-local) in a way nobody else should inherit.
///
/// Use it for code that needs one OS thread across blocking calls: a
/// library with thread-affine state (OpenGL contexts, some GUI toolkits,
/// thread-local state of a C library), `std` types that must be released
/// on the thread that took them (a `std::sync::MutexGuard`,
/// `std::io::stdout().lock()`), or Rust `thread_local!`s held across a
/// blocking call. Each locked goroutine costs an OS thread and two thread
/// wake-ups per blocking call, as in Go. [`crate::blocking`] works as ever
/// inside a locked goroutine. On a plain thread (not a goroutine) both
/// calls do nothing: a thread is always on itself.
///
/// ```
/// use std::cell::Cell;
/// thread_local! { static ON_THIS_THREAD: Cell<u32> = const { Cell::new(0) }; }
///
/// let h = weft::go!(|| {
///     weft::lock_os_thread();
///     let me = std::thread::current().id();
///     ON_THIS_THREAD.set(1);
///     for _ in 0..3 {
///         weft::time::sleep(std::time::Duration::from_millis(1)); // parks
///         assert_eq!(std::thread::current().id(), me);
///         ON_THIS_THREAD.set(ON_THIS_THREAD.get() + 1);
///     }
///     let n = ON_THIS_THREAD.get();
///     weft::unlock_os_thread();
///     n
/// });
/// assert_eq!(h.join().unwrap(), 4);
/// ```
pub fn lock_os_thread() {
    if let Some(g) = g::owner() {
        sched::locked::lock(g);
    }
}

/// Undoes one [`lock_os_thread`] (Go's `runtime.UnlockOSThread`). When
/// the count reaches zero the goroutine may run on any thread again. An
/// unlock without a matching lock does nothing.
///
/// ```
/// weft::go!(|| {
///     weft::lock_os_thread();
///     weft::lock_os_thread();
///     weft::unlock_os_thread(); // still locked: calls nest
///     weft::unlock_os_thread(); // free again
///     weft::unlock_os_thread(); // unbalanced: no effect
/// })
/// .join()
/// .unwrap();
/// ```
pub fn unlock_os_thread() {
    if let Some(g) = g::owner() {
        sched::locked::unlock(g);
    }
}
