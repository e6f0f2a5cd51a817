//! A timer set from a plain thread before any goroutine has run (so no M
//! exists yet) still fires: adding it starts an M to serve the timers.
//! Its own binary, so no other test has started the runtime's Ms first.

use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn timer_added_before_any_goroutine_fires() {
    let (tx, rx) = mpsc::channel();
    weft_runtime::timer::add(Instant::now() + Duration::from_millis(5), move || {
        tx.send(()).unwrap();
    });
    // A generous liveness bound, not a timing assertion.
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the timer never fired: no M serves timers");
}
