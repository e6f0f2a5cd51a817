//! Stack overflow reports: a SIGSEGV/SIGBUS handler on an alternate stack.
//!
//! Owns: the process's SIGSEGV and SIGBUS dispositions once the runtime has
//! started (the previous ones are kept and chained to), and an alternate
//! signal stack for every M (`on_thread_start`, called by `m_main`).
//!
//! A fault whose address is in the guard page of a goroutine stack (looked up
//! in the slab registry, lock-free) prints
//! `fatal error: goroutine N [name] overflowed its stack of S bytes; raise
//! WEFT_STACK_SIZE or Builder::stack_size` with `write(2)` and aborts. Any
//! other fault goes to the handler that was installed before ours (std's
//! thread-overflow report, a sanitizer, ...) or, if there was none, to the
//! default action: the disposition is reset and the faulting instruction
//! re-executes, so the process dies of the original signal.
//!
//! Must never, in the handler: allocate, lock, format with `std::fmt`, or
//! return after an overflow (the goroutine's stack is gone).

use std::cell::Cell;
use std::ptr;
use std::sync::{Once, OnceLock};

use super::slab;

/// Alternate signal stack size for Ms that have none (the handler itself
/// needs well under 1 KiB; chained handlers may need more).
const ALT_STACK_SIZE: usize = 64 * 1024;

/// The dispositions in place before ours: `[SIGSEGV, SIGBUS]`.
static PREV: [OnceLock<libc::sigaction>; 2] = [OnceLock::new(), OnceLock::new()];

fn slot(sig: libc::c_int) -> usize {
    usize::from(sig == libc::SIGBUS)
}

/// Installs the overflow handler for SIGSEGV and SIGBUS, once per process.
/// Not under ThreadSanitizer: TSan calls a synchronous signal's handler at
/// once, even inside its own runtime, where the handler's atomic loads
/// (instrumented) would wait for a lock the interrupted code holds; TSan
/// reports the fault itself.
pub(super) fn install() {
    if cfg!(weft_tsan) {
        return;
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for sig in [libc::SIGSEGV, libc::SIGBUS] {
            // SAFETY: sigaction with a null new action only reads the current
            // one into `old`, a valid out-parameter.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: with a null new action, sigaction only writes `sig`'s
            // current disposition into `old`, a valid zeroed out-parameter.
            unsafe { libc::sigaction(sig, ptr::null(), &mut old) };
            // Recorded before ours goes in, so the handler always finds it.
            let _ = PREV[slot(sig)].set(old);
            // SAFETY: an all-zero sigaction is a valid value to fill in.
            let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
            new.sa_sigaction = handler as *const () as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            // SAFETY: `new.sa_mask` is a valid sigset_t to initialise.
            unsafe { libc::sigemptyset(&mut new.sa_mask) };
            // SAFETY: `handler` has the SA_SIGINFO signature and only does
            // async-signal-safe work (see the module comment).
            unsafe { libc::sigaction(sig, &new, ptr::null_mut()) };
        }
    });
}

/// Gives the calling thread an alternate signal stack if it has none, so the
/// overflow handler can run when a goroutine's stack is exhausted. Called by
/// every M before it runs a goroutine.
pub(crate) fn on_thread_start() {
    // SAFETY: querying the current alternate stack into a valid out-parameter.
    let mut cur: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: with a null new stack, sigaltstack only writes this thread's
    // current alternate stack into `cur`, a valid out-parameter.
    unsafe { libc::sigaltstack(ptr::null(), &mut cur) };
    if cur.ss_flags & libc::SS_DISABLE == 0 && cur.ss_size >= libc::SIGSTKSZ {
        return; // std (or someone) already gave this thread one
    }
    // Ours replaces none: the check above saw no usable alternate stack.
    ALT.with(|a| a.set(AltStack::new()));
}

thread_local! {
    /// This thread's alternate stack, unmapped when the thread exits.
    static ALT: Cell<Option<AltStack>> = const { Cell::new(None) };
}

struct AltStack {
    map: usize,
    len: usize,
}

impl AltStack {
    fn new() -> Option<AltStack> {
        let page = slab::page_size();
        let len = ALT_STACK_SIZE + page;
        // SAFETY: a fresh anonymous mapping cannot alias anything.
        let map = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None; // the fault then kills the process without a report
        }
        // SAFETY: a guard for the alternate stack's lowest page, in the
        // mapping we just made.
        unsafe { libc::mprotect(map, page, libc::PROT_NONE) };
        let st = libc::stack_t {
            // SAFETY: `page < len`, so the pointer stays inside the mapping.
            ss_sp: unsafe { map.cast::<u8>().add(page) }.cast(),
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        // SAFETY: `st` describes memory we own for as long as this thread's
        // `ALT` lives; Drop disables it before unmapping.
        unsafe { libc::sigaltstack(&st, ptr::null_mut()) };
        Some(AltStack {
            map: map as usize,
            len,
        })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let st = libc::stack_t {
            ss_sp: ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: disables this thread's alternate stack (no signal handler
        // runs on it now: we are in a thread-local destructor on the thread's
        // own stack), then unmaps the memory we mapped in `new`.
        unsafe {
            libc::sigaltstack(&st, ptr::null_mut());
            libc::munmap(self.map as *mut libc::c_void, self.len);
        }
    }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(size) = slab::guard_size_at(addr) {
        report_overflow(size);
    }
    // SAFETY: we are the SA_SIGINFO handler for `sig`, called by the kernel
    // with its arguments; `chain` passes them on unchanged.
    unsafe { chain(sig, info, ctx) }
}

/// Not ours: hand the signal to the previous disposition.
///
/// # Safety
/// Only from `handler`, with the arguments the kernel gave it.
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: our caller's arguments (the contract), and PREV holds the
    // disposition `sig` had before ours.
    let called = PREV[slot(sig)]
        .get()
        .is_some_and(|p| unsafe { call_handler(p, sig, info, ctx) });
    if called {
        return;
    }
    // SAFETY: an all-zero sigaction is SIG_DFL with an empty mask;
    // sigaction and raise are async-signal-safe.
    unsafe {
        let dfl: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, &dfl, ptr::null_mut());
        // A fault re-executes and now kills; a sent signal (si_code <= 0)
        // would not recur, so send it again (it stays pending until we
        // return).
        if (*info).si_code <= 0 {
            libc::raise(sig);
        }
    }
}

/// Calls the handler of `prev`, a disposition replaced by one of the
/// runtime's handlers, with the kernel's arguments; `false` (nothing
/// called) when it is `SIG_DFL` or `SIG_IGN`. Async-signal-safe.
///
/// # Safety
/// Only from a signal handler for `sig`, with the arguments the kernel
/// gave it; `prev` is the disposition `sig` had before that handler.
pub(crate) unsafe fn call_handler(
    prev: &libc::sigaction,
    sig: libc::c_int,
    info: *mut libc::siginfo_t,
    ctx: *mut libc::c_void,
) -> bool {
    if prev.sa_sigaction == libc::SIG_DFL || prev.sa_sigaction == libc::SIG_IGN {
        return false;
    }
    if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous owner installed this value as an
        // SA_SIGINFO handler, so it has this signature.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(prev.sa_sigaction) };
        f(sig, info, ctx);
    } else {
        // SAFETY: installed without SA_SIGINFO: a plain handler.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(prev.sa_sigaction) };
        f(sig);
    }
    true
}

/// Names the goroutine running on this thread for the overflow report:
/// calls its argument with the goroutine's id and name, if one runs. Set
/// once by the scheduler at start (this layer knows stacks, not
/// goroutines). Must be async-signal-safe: no lock, no allocation.
pub(crate) type Describe = fn(&mut dyn FnMut(u64, Option<&str>));

pub(crate) static DESCRIBE: std::sync::OnceLock<Describe> = std::sync::OnceLock::new();

/// Prints the overflow report and aborts. Async-signal-safe.
fn report_overflow(size: usize) -> ! {
    let mut buf = Buf::new();
    buf.push(b"fatal error: goroutine ");
    // Who overflowed: the layer that knows goroutines tells us (a
    // thread-local read and two fields); we abort right after.
    let mut named = false;
    if let Some(describe) = DESCRIBE.get() {
        describe(&mut |id, name| {
            named = true;
            buf.num(id);
            if let Some(name) = name {
                buf.push(b" [");
                buf.push(name.as_bytes());
                buf.push(b"]");
            }
        });
    }
    if !named {
        buf.push(b"?");
    }
    buf.push(b" overflowed its stack of ");
    buf.num(size as u64);
    buf.push(b" bytes; raise WEFT_STACK_SIZE or Builder::stack_size\n");
    buf.write_stderr();
    // SAFETY: abort is async-signal-safe and never returns.
    unsafe { libc::abort() }
}

/// A fixed buffer for building the report without allocating.
struct Buf {
    bytes: [u8; 512],
    len: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf {
            bytes: [0; 512],
            len: 0,
        }
    }

    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn num(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    fn write_stderr(&self) {
        let mut done = 0;
        while done < self.len {
            // SAFETY: writes initialised bytes of our own buffer; write(2) is
            // async-signal-safe.
            let r = unsafe {
                libc::write(
                    libc::STDERR_FILENO,
                    self.bytes[done..self.len].as_ptr().cast(),
                    self.len - done,
                )
            };
            if r <= 0 {
                break;
            }
            done += r as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Buf;

    #[test]
    fn buf_formats_numbers_and_truncates() {
        let mut b = Buf::new();
        b.num(0);
        b.push(b" ");
        b.num(18_446_744_073_709_551_615);
        assert_eq!(&b.bytes[..b.len], b"0 18446744073709551615");
        b.push(&[b'x'; 600]);
        assert_eq!(b.len, 512);
    }
}
