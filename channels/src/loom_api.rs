//! What the loom models (`channels/tests/loom.rs`) need of this crate;
//! compiled only under `--cfg loom`.
//!
//! Owns: the stand-in for the runtime's timers that a timed send or
//! receive arms under loom ([`timer`]): the runtime's real timers start the
//! scheduler, which loom cannot run. A model's own thread fires the armed
//! callbacks ([`timer_thread`]) at whatever point loom picks, which is
//! what a runtime timer firing on another M is.
//!
//! Must never: be compiled in a normal build, or change what the channel
//! code does with a timer (only who runs the callback).

/// The subset of `weft_runtime::timer` that `chan.rs` uses.
pub(crate) mod timer {
    use std::time::Instant;

    use loom::sync::{Condvar, Mutex};

    type Callback = Box<dyn FnOnce() + Send>;

    #[derive(Default)]
    struct Timers {
        /// Armed callbacks by id; `None` once fired or cancelled.
        armed: Vec<Option<Callback>>,
        /// [`super::stop_timers`] was called.
        stopped: bool,
    }

    loom::lazy_static! {
        static ref TIMERS: Mutex<Timers> = Mutex::new(Timers::default());
        /// Signalled when a callback is armed or the timers stop.
        static ref CHANGED: Condvar = Condvar::new();
    }

    /// An armed callback, to cancel.
    pub(crate) struct TimerId(usize);

    /// Arms `f`; the deadline is ignored (the model decides when it fires).
    pub(crate) fn add(_when: Instant, f: impl FnOnce() + Send + 'static) -> TimerId {
        let mut t = TIMERS.lock().unwrap();
        t.armed.push(Some(Box::new(f)));
        CHANGED.notify_all();
        TimerId(t.armed.len() - 1)
    }

    /// Disarms; whether the callback had not run (it never will).
    pub(crate) fn cancel(id: &TimerId) -> bool {
        let f = TIMERS.lock().unwrap().armed[id.0].take();
        f.is_some()
    }

    /// No callback will be armed any more.
    pub(super) fn stop() {
        TIMERS.lock().unwrap().stopped = true;
        CHANGED.notify_all();
    }

    /// Waits until a callback is armed (then takes them all) or the
    /// timers stopped with none armed (then `None`).
    pub(super) fn next_batch() -> Option<Vec<Callback>> {
        let mut t = TIMERS.lock().unwrap();
        loop {
            let due: Vec<Callback> = t.armed.iter_mut().filter_map(Option::take).collect();
            if !due.is_empty() {
                return Some(due);
            }
            if t.stopped {
                return None;
            }
            t = CHANGED.wait(t).unwrap();
        }
    }
}

/// The runtime's timer role, played by a model's thread: fires each
/// deadline timer once it is armed (outside the timers' lock, as the
/// runtime does), until [`stop_timers`]. Every armed deadline thus fires
/// eventually, at a point loom chooses.
pub fn timer_thread() {
    while let Some(due) = timer::next_batch() {
        for f in due {
            f();
        }
    }
}

/// Ends [`timer_thread`] once it has fired what is armed.
pub fn stop_timers() {
    timer::stop();
}
