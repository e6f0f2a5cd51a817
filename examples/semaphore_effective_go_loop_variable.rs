//! Port of Effective Go's gated `Serve` "that has a bug" (seed 003): the
//! loop sends into `sem` *before* starting each goroutine, so at most
//! `MAX_OUTSTANDING` goroutines exist at once — but before Go 1.22 every
//! goroutine's closure shared the one loop variable `req`, and could
//! process the wrong request.
//!
//! Safe Rust cannot express that bug. Written as Go does (a closure that
//! refers to `req`), rustc rejects it:
//!
//! ```text
//! error[E0373]: closure may outlive the current function, but it borrows `req`, which is owned by the current function
//!   --> examples/semaphore_effective_go_loop_variable.rs
//!    |
//!    |         weft::go!(|| {
//!    |             process(&req); // Buggy; see explanation below.
//!    |                      --- `req` is borrowed here
//!    |             SEM.1.recv().unwrap();
//!    |         });
//!    |         ^ may outlive borrowed value `req`
//!    |
//! help: to force the closure to take ownership of `req` (and any other referenced variables), use the `move` keyword
//! ```
//!
//! and with `move` it is correct: Rust's `for` binds a fresh `req` each
//! iteration, and `move` gives each goroutine its own — what Go's two fixes
//! (`semaphore_effective_go_argument`, `semaphore_effective_go_shadow`)
//! achieve. The corrected program below is that.
//!
//! The seed's `Serve` runs forever; here main queues 10 requests, closes
//! the queue and waits for them.
//!
//! Prints, in some order, `processing request 0` .. `processing request 9`
//! (each once: no goroutine sees another's request), then:
//! ```text
//! at most 3 requests were processed at once
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use weft::sync::WaitGroup;
use weft::{Receiver, Sender};

const MAX_OUTSTANDING: usize = 3;

static SEM: LazyLock<(Sender<i32>, Receiver<i32>)> = LazyLock::new(|| weft::chan(MAX_OUTSTANDING));

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST: AtomicUsize = AtomicUsize::new(0);

struct Request {
    id: i32,
    handled: Arc<WaitGroup>,
}

fn process(r: &Request) {
    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    MOST.fetch_max(now, Ordering::SeqCst);
    println!("processing request {}", r.id);
    weft::time::sleep(Duration::from_millis(100));
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    r.handled.done();
}

fn serve(queue: Receiver<Request>) {
    for req in &queue {
        SEM.0.send(1).unwrap();
        weft::go!(move || {
            process(&req);
            SEM.1.recv().unwrap();
        });
    }
}

fn main() {
    weft::run(|| {
        let (queue_tx, queue) = weft::chan::<Request>(0);
        weft::go!(serve(queue));

        let handled = Arc::new(WaitGroup::new());
        for id in 0..10 {
            handled.add(1);
            let handled = handled.clone();
            queue_tx.send(Request { id, handled }).unwrap();
        }
        queue_tx.close().unwrap();
        handled.wait();

        println!(
            "at most {} requests were processed at once",
            MOST.load(Ordering::SeqCst)
        );
    });
}
