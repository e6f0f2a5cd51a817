//! Port of Effective Go's first fix of the gated `Serve` (seed 003): pass
//! the request to the goroutine as an argument, so each goroutine gets its
//! own (`go func(req *Request) {...}(req)`; in weft, `go!(f(req))`
//! evaluates the arguments before the goroutine starts, as Go does).
//!
//! The seed's `Serve` runs forever; here main queues 10 requests, closes
//! the queue and waits for them.
//!
//! Prints, in some order, `processing request 0` .. `processing request 9`
//! (each once), then:
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

/// The goroutine's body, taking the request as an argument.
fn process_and_release(req: Request) {
    process(&req);
    SEM.1.recv().unwrap();
}

fn serve(queue: Receiver<Request>) {
    for req in &queue {
        SEM.0.send(1).unwrap();
        // `go func(req *Request) {...}(req)`: the argument is evaluated
        // now, in this goroutine, and handed to the new one.
        weft::go!(process_and_release(req));
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
