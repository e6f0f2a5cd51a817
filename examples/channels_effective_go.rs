//! Port of Effective Go's "Channels" allocation lines (seed 003): channels
//! are made with a buffer size, zero (the default) for an unbuffered,
//! synchronous channel. The seed only declares them; here each capacity is
//! printed.
//!
//! Prints:
//! ```text
//! ci: cap 0
//! cj: cap 0
//! cs: cap 100
//! ```

use std::fs::File;

fn main() {
    weft::run(|| {
        let (_ci_tx, ci) = weft::chan::<i32>(0); // unbuffered channel of integers
        let (_cj_tx, cj) = weft::chan::<i32>(0); // unbuffered channel of integers
        let (_cs_tx, cs) = weft::chan::<File>(100); // buffered channel of Files

        println!("ci: cap {}", ci.cap());
        println!("cj: cap {}", cj.cap());
        println!("cs: cap {}", cs.cap());
    });
}
