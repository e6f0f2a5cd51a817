//! Port of Effective Go's buffered channel as a semaphore (seed 003):
//! `handle` sends into `sem` before processing a request and receives after
//! it, so at most `MAX_OUTSTANDING` requests are processed at once;
//! `serve` starts a goroutine per request.
//!
//! The seed's `Serve` loops forever on its queue; here main queues 10
//! requests, closes the queue and waits (a `WaitGroup`) for them to be
//! handled. `process` sleeps 100 ms and tracks how many run at once.
//!
//! Prints, in some order, `processing request 0` .. `processing request 9`,
//! then:
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
}

fn handle(r: Request) {
    SEM.0.send(1).unwrap(); // wait for the active queue to drain
    process(&r); // may take a long time
    SEM.1.recv().unwrap(); // done; enable the next request to run
    r.handled.done();
}

fn serve(queue: Receiver<Request>) {
    loop {
        let Ok(req) = queue.recv() else { return };
        weft::go!(handle(req)); // don't wait for handle to finish
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
