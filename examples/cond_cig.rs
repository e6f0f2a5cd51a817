//! Port of *Concurrency in Go* notes, "Cond" (seed 001): a queue of at
//! most two items; main adds ten, waiting on the condition whenever the
//! queue is full; each added item is removed by a goroutine after a delay,
//! which signals the condition.
//!
//! The seed removes each item after 1 s; here 200 ms (same order of
//! events). Main returns after its tenth add, so the last one or two
//! removals never print.
//!
//! Prints `Adding to queue` ten times and `removed from queue` eight or
//! nine times; the queue never holds more than two items:
//! ```text
//! Adding to queue
//! Adding to queue
//! removed from queue
//! Adding to queue
//! removed from queue
//! ...
//! ```

use std::sync::Arc;
use std::time::Duration;

use weft::sync::{Cond, Mutex};

fn main() {
    weft::run(|| {
        // `sync.NewCond(&sync.Mutex{})`: the mutex guards the queue.
        let c = Arc::new((Mutex::new(Vec::<()>::with_capacity(10)), Cond::new()));

        let remove_from_queue = {
            let c = c.clone();
            move |delay: Duration| {
                weft::time::sleep(delay);
                let (l, cond) = &*c;
                let mut queue = l.lock(); // enter the critical section
                queue.remove(0); // simulate dequeuing an item
                println!("removed from queue");
                drop(queue); // exit the critical section
                cond.signal(); // tell a waiting goroutine something happened
            }
        };

        let (l, cond) = &*c;
        for _ in 0..10 {
            let mut queue = l.lock(); // enter the critical section
            while queue.len() == 2 {
                queue = cond.wait(queue); // suspend main until a signal
            }
            println!("Adding to queue");
            queue.push(());
            let remove = remove_from_queue.clone();
            weft::go!(move || remove(Duration::from_millis(200)));
            drop(queue); // exit the critical section
        }
    });
}
