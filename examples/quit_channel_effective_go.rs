//! Port of Effective Go's fixed set of handlers with a quit channel
//! (seed 003, the explainer's runnable "basic example" of `Serve`):
//! `MAX_OUTSTANDING` handler goroutines read the one request channel; the
//! server goroutine waits on `quit`; main sends 10 requests from a
//! goroutine, waits 5 s, tells the server to quit, waits 1 s more.
//!
//! Prints `Processed 0` .. `Processed 9` (three a second, in some order
//! within each second), then:
//! ```text
//! Server exiting.
//! ```

use std::time::Duration;

use weft::Receiver;

const MAX_OUTSTANDING: usize = 3;

fn process(r: i32) {
    weft::time::sleep(Duration::from_secs(1)); // simulating work
    println!("Processed {r}");
}

fn handle(queue: Receiver<i32>) {
    for r in &queue {
        process(r);
    }
}

fn main() {
    weft::run(|| {
        let (client_tx, client_requests) = weft::chan::<i32>(0);
        let (quit_tx, quit) = weft::chan::<bool>(0);

        // Start the Serve function in its own goroutine.
        weft::go!(move || {
            // Start handlers.
            for _ in 0..MAX_OUTSTANDING {
                weft::go!(handle(client_requests.clone()));
            }
            quit.recv().unwrap(); // wait to be told to exit
            println!("Server exiting.");
        });

        // Simulate some requests.
        weft::go!(move || {
            for i in 0..10 {
                client_tx.send(i).unwrap();
            }
        });

        // Wait for a while and then signal the server to stop.
        weft::time::sleep(Duration::from_secs(5));
        quit_tx.send(true).unwrap(); // send the signal to quit

        // Wait to make sure everything is printed before the program exits.
        weft::time::sleep(Duration::from_secs(1));
    });
}
