//! Port of the Go Concurrency Guide's "Cond" (seed 004): a `Button` whose
//! `Clicked` condition three handlers subscribe to; one `Broadcast` wakes
//! them all.
//!
//! One change from the seed: its subscriber calls `goroutineRunning.Done()`
//! before taking the lock, so the broadcast can come before a handler is
//! waiting — that handler then waits forever and `clickRegistered.Wait()`
//! never returns (rare in Go, but real with more than one processor). Here
//! the subscriber calls `done` once it holds the lock, and main broadcasts
//! holding the lock, so every handler is waiting when the broadcast comes.
//!
//! Prints three `Registered and wait ... ` lines, then the three handlers'
//! lines in some order:
//! ```text
//! Registered and wait ...
//! Registered and wait ...
//! Registered and wait ...
//! Mouse clicked.
//! Maximizing window.
//! Displaying annoying dialog box!
//! ```

use std::sync::Arc;

use weft::sync::{Cond, Mutex, WaitGroup};

struct Button {
    /// `Clicked *sync.Cond` and its `L`.
    clicked: Arc<(Mutex<()>, Cond)>,
}

fn main() {
    weft::run(|| {
        let button = Button {
            clicked: Arc::new((Mutex::new(()), Cond::new())),
        };

        // Runs each registered function in a goroutine that waits for the
        // condition, and returns once that goroutine is waiting.
        let subscribe =
            |c: Arc<(Mutex<()>, Cond)>, param: &'static str, f: Box<dyn FnOnce(&str) + Send>| {
                let goroutine_running = Arc::new(WaitGroup::new());
                goroutine_running.add(1);

                let running = goroutine_running.clone();
                let p = param;
                weft::go!(move || {
                    let (l, cond) = &*c;
                    let guard = l.lock(); // critical section
                    running.done();

                    println!("Registered and wait ... ");
                    let guard = cond.wait(guard);
                    drop(guard);

                    f(p);
                });

                goroutine_running.wait();
            };

        let click_registered = Arc::new(WaitGroup::new());

        for v in [
            "Maximizing window.",
            "Displaying annoying dialog box!",
            "Mouse clicked.",
        ] {
            click_registered.add(1);

            let registered = click_registered.clone();
            subscribe(
                button.clicked.clone(),
                v,
                Box::new(move |s: &str| {
                    println!("{s}");
                    registered.done();
                }),
            );
        }

        let (l, cond) = &*button.clicked;
        let guard = l.lock();
        cond.broadcast();
        drop(guard);

        click_registered.wait();
    });
}
