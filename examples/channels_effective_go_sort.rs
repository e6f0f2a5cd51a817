//! Port of Effective Go's first channel idiom (seed 003): start a sort in
//! a goroutine, do something else meanwhile, then wait for the sort's
//! signal on a channel (the value sent does not matter).
//!
//! Prints:
//! ```text
//! doing something for a while
//! sorted: [1 2 3 5 8 13]
//! ```

use std::sync::Arc;

use weft::sync::Mutex;

#[path = "common/mod.rs"]
mod common;

fn do_something_for_a_while() {
    println!("doing something for a while");
}

fn main() {
    weft::run(|| {
        let list = Arc::new(Mutex::new(vec![8, 3, 13, 1, 5, 2]));

        let (c_tx, c) = weft::chan::<i32>(0); // allocate a channel
                                              // Start the sort in a goroutine; when it completes, signal on the channel.
        let l = list.clone();
        weft::go!(move || {
            l.lock().sort();
            c_tx.send(1).unwrap(); // send a signal; value does not matter
        });
        do_something_for_a_while();
        c.recv().unwrap(); // wait for sort to finish; discard sent value

        println!("sorted: {}", common::fmt_slice(&list.lock()));
    });
}
