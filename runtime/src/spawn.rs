//! Spawning and joining goroutines: `spawn`, `Builder`, `JoinHandle`, `go!`,
//! `run`, `yield_now`, and what happens when a goroutine panics.
//!
//! Owns: the goroutine body wrapper (catch the panic at the goroutine
//! boundary, hand the result to the `JoinHandle`, or drop it on the
//! goroutine's own stack when the handle is gone) and the panic hook that
//! names the goroutine in the message.
//!
//! Must never: let a panic unwind out of a goroutine's body into the
//! scheduler, leave user code (a result's `Drop`) for the M to run outside
//! the goroutine, or block a goroutine's M while joining.

use std::any::Any;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::mem;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Once;

use crate::g::{self, GPtr, GoId, Joiner, Release, Switch, WaitReason};
use crate::park::Waiter;
use crate::sched::{self, NoStack};

/// Runs `f` in a new goroutine and returns a handle to join it.
///
/// Inside a goroutine, the default spawn policy runs the child at once and
/// queues the parent's continuation where idle processors can steal it.
///
/// The goroutine may move to another OS thread at every scheduling point
/// (a channel operation, a lock, `join`, `sleep`): it must not hold a
/// `thread_local!` borrow, a `std::sync::MutexGuard` or other thread-owned
/// state across one. Use `weft::goroutine_local!`, `weft::sync`, or
/// `weft::lock_os_thread`; see "Goroutines move between OS threads" in the
/// `weft` crate root and docs/soundness.md (which also says why this
/// function is safe although the compiler cannot check that rule).
///
/// # Panics
/// If no stack can be had for the goroutine under a finite `RLIMIT_AS`
/// (`ulimit -v`), with the error [`Builder::spawn`] returns, which names
/// the limit. Without such a limit, a goroutine waiting in a queue has no
/// stack yet; if it finds none when it first runs, its `join` returns the
/// error as a panic.
///
/// ```
/// let h = weft::spawn(|| 6 * 7);
/// assert_eq!(h.join().unwrap(), 42);
/// ```
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().launch(body::<F, T>(f), Location::caller(), NoStack::Fail) {
        Ok(h) => h,
        Err(e) => panic!("weft: failed to spawn a goroutine: {e}"),
    }
}

/// [`spawn`], with `site` as where the goroutine was created: for a
/// library that spawns later on its caller's behalf (`weft::time::after_func`,
/// `weft::context::after_func`), which records its caller's
/// `Location::caller()` when called. An internal surface of the workspace,
/// not an API.
///
/// Never fails for want of a stack (such a spawn has nobody to fail to: a
/// timer callback, a cancel walking a context tree): a goroutine that
/// cannot have one now is queued without it, and if it still cannot when
/// it would first run, it finishes as if it had panicked, reported as a
/// goroutine panic is.
#[doc(hidden)]
#[track_caller]
pub fn spawn_at<F, T>(f: F, site: &'static Location<'static>) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().launch(body::<F, T>(f), site, NoStack::Defer) {
        Ok(h) => h,
        Err(e) => panic!("weft: failed to spawn a goroutine: {e}"),
    }
}

/// Configures a goroutine before spawning it: its name and stack size.
///
/// The goroutine follows the same rules as one from [`spawn`]: it may
/// change OS thread at every scheduling point.
///
/// ```
/// let h = weft::Builder::new()
///     .name("worker")
///     .stack_size(64 * 1024)
///     .spawn(|| "done")
///     .unwrap();
/// assert_eq!(h.join().unwrap(), "done");
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with the runtime's defaults.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the goroutine; the name appears in panic messages and dumps.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Sets the goroutine's stack size in bytes (only touched pages use
    /// memory). Checked at spawn: a size out of range is an `InvalidInput`
    /// error naming the limits.
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Spawns the goroutine. Fails if the stack size is out of range or the
    /// stack cannot be allocated.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_at(f, Location::caller())
    }

    #[track_caller]
    pub(crate) fn spawn_at<F, T>(
        self,
        f: F,
        site: &'static Location<'static>,
    ) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.launch(body::<F, T>(f), site, NoStack::Fail)
    }

    /// Spawns a goroutine that may borrow from the caller's stack (`'a`).
    ///
    /// # Safety
    /// Before `'a` ends, on every path (unwinding included), the caller
    /// waits until nothing the goroutine still runs can reach what `f`
    /// borrows: the goroutine has finished and its result is taken or
    /// dropped (`run` joins it), or `f` and its result were dropped inside
    /// the body, the goroutine's exit code touching neither (`scope` counts
    /// its goroutines down there).
    #[track_caller]
    pub(crate) unsafe fn spawn_unchecked_at<'a, F, T>(
        self,
        f: F,
        site: &'static Location<'static>,
    ) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'a,
        T: Send + 'a,
    {
        let body: Box<dyn FnOnce() + Send + 'a> = Box::new(body::<F, T>(f));
        // SAFETY: only the lifetime is erased; the caller's contract keeps
        // everything `body` borrows alive until it has run and its result
        // is gone.
        let body: Box<dyn FnOnce() + Send + 'static> = unsafe { mem::transmute(body) };
        self.launch(body, site, NoStack::Fail)
    }

    /// Starts `body` (made by [`body`] for a `T`) as a goroutine.
    #[track_caller]
    fn launch<T>(
        self,
        body: impl FnOnce() + Send + 'static,
        site: &'static Location<'static>,
        no_stack: NoStack,
    ) -> io::Result<JoinHandle<T>> {
        if let Some(size) = self.stack_size {
            crate::config::check_stack_size(size).map_err(|why| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("stack_size: {why}"))
            })?;
        }
        let rt = sched::runtime();
        startup(rt);
        let name = self.name.map(String::into_boxed_str);
        let g = sched::new_g(rt, name, site, self.stack_size, no_stack, body)?;
        crate::trace::go_create(g); // trace: a spawn arrow
        let id = g.id();
        sched::start_g(rt, g);
        Ok(JoinHandle {
            g,
            id,
            _result: PhantomData,
        })
    }
}

/// A goroutine's whole body around `f`: catch its panic at the goroutine
/// boundary, drop its goroutine-locals, hand the result to `join` — or, if
/// the handle is gone, drop it here, as the goroutine.
///
/// Run with no current goroutine, it is the body of one that could not get
/// a stack, run on its M's own stack (`sched::worker`, `refuse_start`):
/// then `f` never runs ([`refused`]).
fn body<F, T>(f: F) -> impl FnOnce() + Send
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    move || {
        // The record is this goroutine's wherever it runs (it may change M
        // inside `f`, not record).
        let Some(me) = g::current() else {
            return refused(f);
        };
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        finish(me, result);
    }
}

/// The body of a goroutine that could not start: as if `f` had panicked
/// before its first line, with the message its M set
/// (`sched::take_start_refusal`). The panic hook reports the panic as this
/// goroutine's; `f`'s captures are dropped after, as an unwind would have.
/// It all runs on the M's own stack, as a blocking section of the
/// goroutine, so a capture's `Drop` may park (the thread parks).
#[cold]
#[inline(never)]
fn refused<F, T>(f: F)
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    let me = g::owner().unwrap_or_else(|| crate::throw("goroutine body off its M"));
    let why =
        sched::take_start_refusal().unwrap_or_else(|| crate::throw("goroutine body off its M"));
    let result: std::thread::Result<T> = match panic::catch_unwind(move || panic::panic_any(why)) {
        Err(payload) => Err(payload),
        Ok(()) => unreachable!("panic_any returned"),
    };
    // A panic here has been reported by the hook; it ends here.
    if let Err(p) = panic::catch_unwind(AssertUnwindSafe(move || drop(f))) {
        drop_payload(p);
    }
    finish(me, result);
}

/// The end of a goroutine's body, `f`'s result in hand.
#[inline(always)]
fn finish<T>(me: GPtr, mut result: std::thread::Result<T>) {
    // Before the result is published: `join` returns after the locals'
    // destructors ran, and the record is clean for reuse.
    // SAFETY: `finish` runs on `me`'s own stack, at the end of its body,
    // once: no code of the goroutine's runs after it.
    if let Some(p) = unsafe { crate::local::on_exit(me) } {
        if result.is_ok() {
            result = Err(p);
        }
    }
    if result.is_err() && sched::runtime().settings.panic_abort {
        std::process::exit(2);
    }
    // SAFETY: once per incarnation, by the goroutine itself, with the type
    // its `JoinHandle<T>` takes.
    if let Some(orphan) = unsafe { me.end_body::<std::thread::Result<T>>(result) } {
        drop_orphan(me, orphan);
    }
}

/// Drops the result of a goroutine whose handle is gone: the last act of
/// its body, on its own stack and as the current goroutine, so the
/// result's `Drop` may park, block or spawn like any goroutine code. A
/// panic in it has been reported by the panic hook as this goroutine's;
/// it ends here (with `Config::panic_abort`, it ends the process, as any
/// goroutine panic does).
#[inline]
fn drop_orphan<T>(me: GPtr, result: std::thread::Result<T>) {
    if result.is_ok() && !mem::needs_drop::<T>() {
        return; // no code runs: the common `go!` of a `()` body
    }
    drop_orphan_with_code(me, result)
}

#[inline(never)]
fn drop_orphan_with_code<T>(me: GPtr, result: std::thread::Result<T>) {
    let dropped = panic::catch_unwind(AssertUnwindSafe(move || drop(result)));
    // A goroutine-local the drop touched: the record must be clean for its
    // next goroutine.
    // SAFETY: the orphan's result is dropped on `me`'s own stack, as the
    // last act of its body, once.
    let locals = unsafe { crate::local::on_exit(me) };
    for payload in [dropped.err(), locals].into_iter().flatten() {
        if sched::runtime().settings.panic_abort {
            std::process::exit(2);
        }
        drop_payload(payload);
    }
}

/// Drops a panic payload nobody will see. A payload whose own `Drop`
/// panics is leaked, that panic's payload with it (std aborts there; a
/// goroutine must not unwind into the scheduler).
#[cold]
fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        mem::forget(again);
    }
}

/// Wakes a joiner's wait record (the finishing M calls this through
/// `G::wake_joiner`).
///
/// # Safety
/// `record` is a `Waiter` whose owner waits in `join`, woken once.
pub(crate) unsafe fn wake_joiner(record: *const ()) {
    let w = record.cast::<Waiter>();
    // SAFETY: `record` is the `Waiter` on the joiner's frame in `join`,
    // which stays in `wait` until this wake stores DONE (the caller's
    // contract); the joiner gave it to nothing but `G::set_joiner`, and
    // only the finishing M calls this, once (`Life` reports the joiner to
    // one party), so `claim_exclusive` is the only claim.
    unsafe {
        (*w).claim_exclusive(0);
        Waiter::wake(w);
    }
}

/// An owned permission to wait for a goroutine's result.
///
/// Dropping it detaches the goroutine, which runs on.
pub struct JoinHandle<T> {
    /// The record; it cannot be recycled while this handle lives (`Life`).
    g: GPtr,
    id: GoId,
    _result: PhantomData<std::thread::Result<T>>,
}

// SAFETY: the handle only names the record; the result it takes is a `T`,
// which is `Send` where the handle is (spawn requires `T: Send`).
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: a shared handle allows only `id` and `is_finished` (atomics).
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Waits for the goroutine to finish: parks the calling goroutine, or
    /// blocks the calling plain thread. `Err` if it panicked.
    ///
    /// ```
    /// let h = weft::spawn(|| panic!("boom"));
    /// let err = h.join().unwrap_err();
    /// assert_eq!(err.to_string(), "goroutine panicked: boom");
    /// ```
    pub fn join(self) -> Result<T, JoinError> {
        let (g, id) = (self.g, self.id);
        if !g.life.is_finished() {
            let w = Waiter::new();
            // SAFETY: we own the handle, so we are the one joiner; `w` stays
            // on this frame until its wake (we wait for it below).
            unsafe {
                g.set_joiner(Joiner {
                    record: (&w as *const Waiter).cast(),
                    wake: wake_joiner,
                })
            };
            if g.life.announce_joiner() {
                w.wait(WaitReason::Join, || {});
            }
        }
        // SAFETY: FINISHED was acquired (by `is_finished` or a refused
        // `announce_joiner`, or through the M that woke us: `exit`
        // acquired it, the wake's DONE hands it on); this is the handle's
        // one use (it is consumed); the goroutine stored a
        // `thread::Result<T>` (`body::<F, T>`).
        let (r, release) = unsafe { g.take_joined::<std::thread::Result<T>>() };
        mem::forget(self);
        if release == Release::Recycle {
            // SAFETY: `take_joined` returned Recycle: the M and every
            // `Unparker` let go before, and this handle, the last
            // reference, is consumed.
            unsafe { sched::free_g(g) };
        }
        r.map_err(|payload| JoinError { id, payload })
    }

    /// The goroutine's id.
    pub fn id(&self) -> GoId {
        self.id
    }

    /// Whether the goroutine has finished (its result is ready).
    pub fn is_finished(&self) -> bool {
        self.g.life.is_finished()
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's one use (it is being dropped; `join`
        // forgets it), and the goroutine stored a `thread::Result<T>`
        // (`body::<F, T>`).
        let (r, release) = unsafe { self.g.drop_handle::<std::thread::Result<T>>() };
        if release == Release::Recycle {
            // SAFETY: `drop_handle` returned Recycle: the M and every
            // `Unparker` let go before, and this handle, the last
            // reference, is being dropped.
            unsafe { sched::free_g(self.g) };
        }
        // The record is let go of: a `Drop` of the result that panics
        // leaves `Life` consistent.
        drop(r);
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("id", &self.id).finish()
    }
}

/// A goroutine panicked; holds the panic payload.
pub struct JoinError {
    id: GoId,
    payload: Box<dyn Any + Send + 'static>,
}

impl JoinError {
    pub(crate) fn new(id: GoId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError { id, payload }
    }

    /// The goroutine that panicked.
    pub fn id(&self) -> GoId {
        self.id
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }

    /// The panic message, when the payload is a string.
    pub fn message(&self) -> Option<&str> {
        payload_str(&*self.payload)
    }
}

fn payload_str(p: &(dyn Any + Send)) -> Option<&str> {
    if let Some(s) = p.downcast_ref::<&'static str>() {
        Some(s)
    } else {
        p.downcast_ref::<String>().map(String::as_str)
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinError")
            .field("id", &self.id)
            .field("message", &self.message())
            .finish()
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(m) => write!(f, "goroutine panicked: {m}"),
            None => f.write_str("goroutine panicked"),
        }
    }
}

impl std::error::Error for JoinError {}

/// Runs `f` as a goroutine named "main" and blocks the caller until it
/// returns (so `f`, unlike `std::thread` closures, may run on several OS
/// threads in turn: see [`spawn`]). Goroutines it leaves behind are abandoned, as in Go. A panic in
/// `f` is re-raised here.
///
/// `f` may borrow from the caller (no `'static` bound): `run` returns only
/// after `f` has returned (or panicked) and its result has been handed
/// back. Goroutines `f` spawns with [`spawn`] are `'static` as ever; to
/// lend them data, use [`crate::scope`].
///
/// See [`spawn`] for what a goroutine may do with thread-bound state (a
/// goroutine may move between OS threads at every blocking call).
///
/// ```
/// let sum = weft::run(|| {
///     let hs: Vec<_> = (0..10u64).map(|i| weft::spawn(move || i)).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
/// });
/// assert_eq!(sum, 45);
///
/// // Borrowing from the caller:
/// let words = vec!["go", "weft"];
/// let n = weft::run(|| words.iter().map(|w| w.len()).sum::<usize>());
/// assert_eq!(n, 6);
/// ```
#[track_caller]
pub fn run<F, T>(f: F) -> T
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    let site = Location::caller();
    // SAFETY: `join` below returns only once the goroutine has finished and
    // hands us its result (taken from the record), and nothing between the
    // spawn and the join can unwind (it is a park or a thread park).
    let h = match unsafe { Builder::new().name("main").spawn_unchecked_at(f, site) } {
        Ok(h) => h,
        Err(e) => panic!("weft: failed to spawn the main goroutine: {e}"),
    };
    let r = h.join();
    crate::trace::run_returned(); // trace: WEFT_TRACE is written when the first run returns
    match r {
        Ok(v) => v,
        Err(e) => panic::resume_unwind(e.into_panic()),
    }
}

/// Lets other goroutines run (Go's `runtime.Gosched`): the current goroutine
/// goes to the back of its P's queue. On a plain thread, yields the thread
/// (as does a goroutine a panic is unwinding through: it never switches,
/// see `weft::runtime::park::park`).
///
/// ```
/// weft::run(|| weft::yield_now());
/// ```
pub fn yield_now() {
    match g::current() {
        // SAFETY: `g` is the goroutine running on this stack.
        Some(g) if !std::thread::panicking() => unsafe { g.coro.suspend(Switch::Yield) },
        _ => std::thread::yield_now(),
    }
}

/// Starts what runs beside the scheduler, once, before the first goroutine:
/// the panic hook, the deadlock check (sysmon runs it), the `schedtrace`
/// printer and the SIGQUIT dump. Every goroutine is born here, so nothing
/// that needs them can run first.
#[inline]
fn startup(rt: &'static sched::Runtime) {
    static ONCE: Once = Once::new();
    if !ONCE.is_completed() {
        ONCE.call_once(|| {
            install_panic_hook();
            let _ = sched::sysmon::IDLE_CHECK.set(crate::deadlock::check);
            crate::dump::start_schedtrace(rt);
            crate::dump::install_sigquit();
        });
    }
}

/// Installs the panic hook that names the goroutine ("goroutine 7 [worker]
/// panicked at src/main.rs:3:5"), then a backtrace as `RUST_BACKTRACE`
/// asks, in std's words.
///
/// A hook the program installed before the runtime started is kept and
/// called instead for goroutine panics (it can name the goroutine with
/// `weft::current_id()`); panics on plain threads go to it, or to std's
/// default hook, unchanged. Either hook runs as a `weft::blocking` call of
/// the goroutine that panicked. (One installed after the runtime started
/// replaces this one, as `std::panic::set_hook` always does.)
///
/// Whether the previous hook is std's default cannot be asked directly:
/// `take_hook` resets the hook to the default and returns what was there,
/// so a second `take_hook` returns the default itself, and the two boxes
/// are compared, data pointer and vtable. If a toolchain ever made two
/// default boxes differ, a goroutine panic would be reported by both
/// hooks: twice, never lost.
fn install_panic_hook() {
    let prev = panic::take_hook();
    let default = panic::take_hook();
    #[allow(ambiguous_wide_pointer_comparisons)]
    let prev_is_default = std::ptr::eq(&*prev, &*default);
    drop(default);
    panic::set_hook(Box::new(move |info| {
        // A goroutine inside `blocking()` is still that goroutine.
        let Some(g) = g::owner() else {
            prev(info);
            return;
        };
        // The whole report is a blocking call, whichever hook writes it:
        // symbolising a backtrace reads the binary's debug info for tens of
        // milliseconds, and stderr may block; neither is the goroutine
        // holding its thread, and its P moves on meanwhile. It never
        // switches (a panicking goroutine stays put), and the program's
        // hook still sees the goroutine's id (`weft::current_id()`).
        crate::blocking(|| {
            if prev_is_default {
                report_goroutine_panic(g, info);
            } else {
                prev(info);
            }
            if sched::runtime().settings.panic_abort {
                if let Some(site) = g.spawn_site() {
                    let id = g.id();
                    crate::stdio::write_now(format_args!("\ngoroutine {id} created by {site}\n"));
                }
            }
        });
    }));
}

/// std's default panic message, naming the goroutine instead of its
/// thread, and its `RUST_BACKTRACE` handling: a backtrace (`full`: every
/// frame), or once per process a note saying how to get one.
fn report_goroutine_panic(g: GPtr, info: &panic::PanicHookInfo<'_>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static NOTE_PRINTED: AtomicBool = AtomicBool::new(false);
    let msg = payload_str(info.payload()).unwrap_or("Box<dyn Any>");
    let name = g.name().map(|n| format!(" [{n}]")).unwrap_or_default();
    let loc = info
        .location()
        .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let mut out = format!("goroutine {}{name} panicked{loc}:\n{msg}\n", g.id());
    match std::env::var("RUST_BACKTRACE").as_deref() {
        Err(_) | Ok("0") => {
            if !NOTE_PRINTED.swap(true, Ordering::Relaxed) {
                out.push_str(
                    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
                );
            }
        }
        Ok(style) => {
            let bt = std::backtrace::Backtrace::force_capture();
            if style == "full" {
                out.push_str(&format!("stack backtrace:\n{bt:#}\n"));
            } else {
                out.push_str(&format!("stack backtrace:\n{bt}\n"));
                out.push_str(
                    "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n",
                );
            }
        }
    }
    // One string, so a plain thread's panic report cannot come between
    // its lines while the backtrace is symbolised.
    crate::stdio::write_now(format_args!("{out}"));
}

/// Spawns a goroutine, as Go's `go` statement does. Returns its
/// [`JoinHandle`].
///
/// The goroutine may move between OS threads at every scheduling point:
/// see [`spawn`] for what it must not hold across one.
///
/// Two forms:
/// - `go!(move || body)` (or any closure expression): spawns the closure;
/// - `go!(f(a, b))`: evaluates `a` and `b` now, in the caller, then runs
///   `f(a, b)` in the new goroutine — Go's `go f(a, b)`. `f` is a path
///   (a function name); for a method call, use the closure form.
///
/// ```
/// fn add(a: u32, b: u32) -> u32 { a + b }
/// let mut x = 1;
/// let h = weft::go!(add(x, 2)); // x is read now
/// x = 100;
/// assert_eq!(h.join().unwrap(), 3);
/// assert_eq!(weft::go!(move || x + 1).join().unwrap(), 101);
/// ```
#[macro_export]
macro_rules! go {
    (move $($closure:tt)*) => {
        $crate::spawn(move $($closure)*)
    };
    (|| $($closure:tt)*) => {
        $crate::spawn(|| $($closure)*)
    };
    (| $($closure:tt)*) => {
        $crate::spawn(| $($closure)*)
    };
    ($($func:ident)::+ ( $($arg:expr),* $(,)? )) => {
        $crate::__go_call!([$($func)::+]; []; $($arg),*)
    };
    ($f:expr) => {
        $crate::spawn($f)
    };
}

/// Implementation detail of [`go!`]: binds each argument to a fresh
/// variable, left to right, then spawns the call.
#[doc(hidden)]
#[macro_export]
macro_rules! __go_call {
    ([$($func:tt)*]; [$($bound:ident)*]; ) => {
        $crate::spawn(move || $($func)*($($bound),*))
    };
    ([$($func:tt)*]; [$($bound:ident)*]; $head:expr $(, $rest:expr)*) => {{
        let arg = $head;
        $crate::__go_call!([$($func)*]; [$($bound)* arg]; $($rest),*)
    }};
}
