//! Port of the Go Concurrency Guide's "Error Handling" (seed 004): errors
//! are first-class results — `checkStatus`'s goroutine sends each URL's
//! error *with* its response on one channel, and main decides what to do
//! with each.
//!
//! The seed fetches https://www.google.com and https://badhost with
//! `net/http`. Here the first URL is a local server (started by the
//! program, over `weft::net`, with just enough HTTP to answer a GET) and
//! the second is http://badhost, whose name does not resolve. As in the
//! seed, the error line has no newline.
//!
//! Uses `weft::net` (sockets on the netpoller).
//!
//! Prints (the error text is the resolver's), with no newline at the end:
//! ```text
//! Response: 200 OK
//! error: failed to lookup address information: Name or service not known
//! ```

use std::io::Write;

use weft::Receiver;

#[path = "common/http.rs"]
mod http;

/// Go's `Result`: an error and a response, passed along together.
struct CheckResult {
    error: Option<std::io::Error>,
    response: Option<http::Response>,
}

fn check_status(done: &Receiver<()>, urls: Vec<String>) -> Receiver<CheckResult> {
    let (results_tx, results) = weft::chan::<CheckResult>(0);
    let done = done.clone();
    weft::go!(move || {
        for url in urls {
            let result = match http::get(&url) {
                Ok(resp) => CheckResult {
                    error: None,
                    response: Some(resp),
                },
                Err(err) => CheckResult {
                    error: Some(err),
                    response: None,
                },
            };
            weft::select! {
                recv(done) -> _ => return,
                send(results_tx, result) -> _ => {},
            }
        }
    });
    results
}

fn main() {
    weft::run(|| {
        let (done_tx, done) = weft::chan::<()>(0);
        let _close = done_tx; // `defer close(done)`

        // The site the first URL names: a local server answering `200 OK`.
        let site = http::serve(|_| ("200 OK".to_string(), String::new()));
        let urls = vec![site, "http://badhost".to_string()];
        for result in &check_status(&done, urls) {
            if let Some(error) = result.error {
                print!("error: {error}");
                continue;
            }

            println!("Response: {}", result.response.unwrap().status);
        }
        let _ = std::io::stdout().flush();
    });
}
