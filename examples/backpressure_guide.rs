//! Port of the goroutines/channels guide's "backpressure" (seed 000): a
//! `PressureGauge` holds a buffered channel of tokens; `Process` runs its
//! function only if it can take a token without waiting (`select` with
//! `default`), so an HTTP handler answers `429 Too Many Requests` once
//! `limit` requests are in flight.
//!
//! Go serves `/request` on :8080 forever with `net/http`. Here the server
//! listens on a free local port (`weft::net`, with just enough HTTP/1.1 to
//! answer a GET), and main sends 12 requests at once against a limit of
//! 10, prints each answer, and ends. The seed's handler takes 2 s; here
//! 500 ms.
//!
//! Uses `weft::net` (sockets on the netpoller).
//!
//! Prints 12 lines in some order: ten `200 OK: done` and two
//! `429 Too Many Requests: Too many requests`.

use std::sync::Arc;
use std::time::Duration;

use weft::{Receiver, Sender};

#[path = "common/http.rs"]
mod http;

struct PressureGauge {
    ch: (Sender<()>, Receiver<()>),
}

fn new(limit: usize) -> PressureGauge {
    let (tx, rx) = weft::chan::<()>(limit);
    for _ in 0..limit {
        tx.send(()).unwrap();
    }
    PressureGauge { ch: (tx, rx) }
}

impl PressureGauge {
    fn process(&self, f: impl FnOnce()) -> Result<(), String> {
        weft::select! {
            recv(self.ch.1) -> _ => {
                f();
                self.ch.0.send(()).unwrap();
                Ok(())
            },
            default => Err("no more capacity".to_string()),
        }
    }
}

fn do_thing_that_should_be_limited() -> String {
    weft::time::sleep(Duration::from_millis(500));
    "done".to_string()
}

fn main() {
    weft::run(|| {
        let pg = Arc::new(new(10));
        // `http.HandleFunc("/request", ...)` and `http.ListenAndServe`.
        let site = http::serve(move |_path| {
            let mut answer = None;
            let err = pg.process(|| {
                answer = Some(("200 OK".to_string(), do_thing_that_should_be_limited()));
            });
            match (err, answer) {
                (Ok(()), Some(answer)) => answer,
                _ => (
                    "429 Too Many Requests".to_string(),
                    "Too many requests".to_string(),
                ),
            }
        });

        let url = format!("{site}request");
        let (answers_tx, answers) = weft::chan::<String>(0);
        for _ in 0..12 {
            let (url, answers_tx) = (url.clone(), answers_tx.clone());
            weft::go!(move || {
                let answer = match http::get(&url) {
                    Ok(resp) => format!("{}: {}", resp.status, resp.body),
                    Err(e) => format!("error: {e}"),
                };
                answers_tx.send(answer).unwrap();
            });
        }
        drop(answers_tx);
        for answer in &answers {
            println!("{answer}");
        }
    });
}
