//! Port of the goroutines/channels guide's "turn off `case` in `select`"
//! (seed 000): two closed, filled channels are drained through one select;
//! a channel found closed is set to nil (`weft::never()`), which turns its
//! case off; when both are off, `done` is closed and the loop returns.
//!
//! Prints the results gathered so far after each value, 20 lines growing
//! by one value each (the two channels' values interleave at random), e.g.:
//! ```text
//! [0]
//! [0 0]
//! [0 0 10]
//! [0 0 10 1]
//! ...
//! ```

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let (tx1, mut ch1) = weft::chan::<i32>(10);
        for i in 0..10 {
            tx1.send(i).unwrap();
        }
        tx1.close().unwrap();

        let (tx2, mut ch2) = weft::chan::<i32>(10);
        for i in 0..10 {
            tx2.send(i * 10).unwrap();
        }
        tx2.close().unwrap();

        let (done_tx, done) = weft::chan::<()>(0);

        // How many of ch1, ch2 are not yet nil: a `never()` receiver cannot
        // be compared with nil, so count the cases turned off.
        let mut not_nil = 2;
        let mut results = Vec::new();
        loop {
            // `ch1 == nil && ch2 == nil`.
            if not_nil == 0 {
                done_tx.close().unwrap();
            }
            weft::select! {
                recv(ch1) -> result => match result {
                    Ok(result) => results.push(result),
                    Err(_) => {
                        ch1 = weft::never();
                        not_nil -= 1;
                        continue;
                    }
                },
                recv(ch2) -> result => match result {
                    Ok(result) => results.push(result),
                    Err(_) => {
                        ch2 = weft::never();
                        not_nil -= 1;
                        continue;
                    }
                },
                recv(done) -> _ => return,
            }
            println!("{}", common::fmt_slice(&results));
        }
    });
}
