//! Port of Go by Example "Range over Channels" (seed 002,
//! `range-over-channels.go`; seed 000's "example: range over channel" is
//! the same program): `for v in &rx` is Go's `for v := range ch`, and a
//! closed channel's remaining values are still received.
//!
//! Prints:
//! ```text
//! one
//! two
//! ```

fn main() {
    weft::run(|| {
        let (queue_tx, queue) = weft::chan::<String>(2);
        queue_tx.send("one".to_string()).unwrap();
        queue_tx.send("two".to_string()).unwrap();

        // Closing a non-empty channel: the iteration ends after receiving
        // the 2 elements still in it.
        queue_tx.close().unwrap();

        for element in &queue {
            println!("{element}");
        }
    });
}
