//! Port of the goroutines/channels guide's "The Done Channel Pattern"
//! (seed 000): run several searchers at once, take the first result, and
//! close `done` so the slower searchers' goroutines stop instead of
//! blocking forever on `result`.
//!
//! Prints one of (whichever searcher finished first):
//! ```text
//! fastest results for searching 'a': [apple banana orange grape pear]
//! fastest results for searching 'a': [cat]
//! ```

#[path = "common/mod.rs"]
mod common;

type Searcher = fn(&str) -> Vec<String>;

fn search_data(s: &'static str, searchers: &[Searcher]) -> Vec<String> {
    let (done_tx, done) = weft::chan::<()>(0);
    let (result_tx, result) = weft::chan::<Vec<String>>(0);
    for &searcher in searchers {
        let (done, result_tx) = (done.clone(), result_tx.clone());
        weft::go!(move || {
            // Go evaluates `searcher(s)` before the select, as here.
            let found = searcher(s);
            weft::select! {
                send(result_tx, found) -> _ => {},
                recv(done) -> _ => {},
            }
        });
    }
    let r = result.recv().unwrap();
    done_tx.close().unwrap();
    r
}

fn search_function1(s: &str) -> Vec<String> {
    let data = ["apple", "banana", "orange", "grape", "pear"];
    let mut results = Vec::new();
    for item in data {
        if item.contains(s) {
            results.push(item.to_string());
        }
    }
    results
}

fn search_function2(s: &str) -> Vec<String> {
    let data = ["cat", "dog", "fish", "bird", "turtle"];
    let mut results = Vec::new();
    for item in data {
        if item.contains(s) {
            results.push(item.to_string());
        }
    }
    results
}

fn main() {
    weft::run(|| {
        // The input string and the list of search functions.
        let input_string = "a";
        let search_functions: [Searcher; 2] = [search_function1, search_function2];

        // Search concurrently.
        let results = search_data(input_string, &search_functions);
        println!(
            "fastest results for searching '{input_string}': {}",
            common::fmt_slice(&results)
        );
    });
}
