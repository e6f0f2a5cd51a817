//! Spawning and joining goroutines: `spawn`, `Builder`, `JoinHandle`, `go!`,
//! `run`, `yield_now`, and what happens when a goroutine panics.
//!
//! Owns: the goroutine body wrapper (catch the panic at the goroutine
//! boundary, store the result, wake the joiner) and the panic hook that names
//! the goroutine in the message.
//!
//! Must never: let a panic unwind out of a goroutine's body into the
//! scheduler, or block a goroutine's M while joining.

use std::any::Any;
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::{Arc, Mutex, Once};

use crate::coro::{self, Switch};
use crate::g::{GoId, WaitReason};
use crate::park::{park, unparker, Unparker};
use crate::sched;

/// Runs `f` in a new goroutine and returns a handle to join it.
///
/// Inside a goroutine, the default spawn policy runs the child at once and
/// queues the parent's continuation where idle processors can steal it.
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
    match Builder::new().spawn_at(f, Location::caller()) {
        Ok(h) => h,
        Err(e) => panic!("weft: failed to spawn a goroutine: {e}"),
    }
}

/// Configures a goroutine before spawning it: its name and stack size.
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
    fn spawn_at<F, T>(self, f: F, site: &'static Location<'static>) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if let Some(size) = self.stack_size {
            crate::stack::check_size(size).map_err(|why| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("stack_size: {why}"))
            })?;
        }
        let rt = sched::runtime();
        let packet: Arc<Packet<T>> = Arc::new(Packet {
            state: Mutex::new(PacketState {
                result: None,
                waiter: None,
            }),
        });
        let theirs = packet.clone();
        let body = move || {
            let result = panic::catch_unwind(AssertUnwindSafe(f));
            if result.is_err() && sched::runtime().settings.panic_abort {
                std::process::exit(2);
            }
            let mut st = theirs.state.lock().unwrap_or_else(|e| e.into_inner());
            st.result = Some(result);
            let waiter = st.waiter.take();
            drop(st);
            drop(theirs);
            if let Some(w) = waiter {
                w.unpark();
            }
        };
        let name = self.name.map(String::into_boxed_str);
        let g = sched::new_g(rt, name, site, self.stack_size, body)?;
        let id = g.id;
        sched::start_g(rt, g);
        Ok(JoinHandle { id, packet })
    }
}

struct Packet<T> {
    state: Mutex<PacketState<T>>,
}

struct PacketState<T> {
    result: Option<std::thread::Result<T>>,
    waiter: Option<Unparker>,
}

/// An owned permission to wait for a goroutine's result.
///
/// Dropping it detaches the goroutine, which runs on.
pub struct JoinHandle<T> {
    id: GoId,
    packet: Arc<Packet<T>>,
}

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
        let mut st = self.packet.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = st.result.take() {
                return r.map_err(|payload| JoinError {
                    id: self.id,
                    payload,
                });
            }
            st.waiter = Some(unparker());
            let mut guard = Some(st);
            park(WaitReason::Join, move || drop(guard.take()));
            st = self.packet.state.lock().unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The goroutine's id.
    pub fn id(&self) -> GoId {
        self.id
    }

    /// Whether the goroutine has finished (its result is ready).
    pub fn is_finished(&self) -> bool {
        let st = self.packet.state.lock().unwrap_or_else(|e| e.into_inner());
        st.result.is_some()
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
/// returns. Goroutines it leaves behind are abandoned, as in Go. A panic in
/// `f` is re-raised here.
///
/// ```
/// let sum = weft::run(|| {
///     let hs: Vec<_> = (0..10u64).map(|i| weft::spawn(move || i)).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
/// });
/// assert_eq!(sum, 45);
/// ```
#[track_caller]
pub fn run<F, T>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let h = match Builder::new().name("main").spawn_at(f, Location::caller()) {
        Ok(h) => h,
        Err(e) => panic!("weft: failed to spawn the main goroutine: {e}"),
    };
    match h.join() {
        Ok(v) => v,
        Err(e) => panic::resume_unwind(e.into_panic()),
    }
}

/// Lets other goroutines run (Go's `runtime.Gosched`): the current goroutine
/// goes to the back of its P's queue. On a plain thread, yields the thread.
///
/// ```
/// weft::run(|| weft::yield_now());
/// ```
pub fn yield_now() {
    match sched::current_g() {
        Some(g) => coro::suspend(&g, Switch::Yield),
        None => std::thread::yield_now(),
    }
}

/// Installs the panic hook that names the goroutine ("goroutine 7 [worker]
/// panicked at src/main.rs:3:5"). Panics on plain threads go to the
/// previous hook unchanged.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let prev = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let Some(g) = sched::current_g() else {
                prev(info);
                return;
            };
            let msg = payload_str(info.payload()).unwrap_or("Box<dyn Any>");
            let name = g
                .name
                .as_deref()
                .map(|n| format!(" [{n}]"))
                .unwrap_or_default();
            let loc = info
                .location()
                .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            eprintln!("goroutine {}{name} panicked{loc}:\n{msg}", g.id);
            if sched::runtime().settings.panic_abort {
                eprintln!("\ngoroutine {} created by {}", g.id, g.spawn_site);
            }
        }));
    });
}

/// Spawns a goroutine, as Go's `go` statement does. Returns its
/// [`JoinHandle`].
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
