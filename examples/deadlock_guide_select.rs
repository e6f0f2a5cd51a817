//! Port of the goroutines/channels guide's "another dead lock" (seed 000):
//! main loops on a `select` sending on `ch2` and receiving from `ch1`.
//! Once the closure goroutine has taken one value and given one, it ends,
//! both cases block forever, and every goroutine is asleep.
//!
//! Like Go's, the program ends with the deadlock report on stderr and exit
//! status 2.
//!
//! Prints (the first two and the last two lines in either order):
//! ```text
//! main goutine here
//! closure goroutine start
//! case2, value = 1
//! case1
//! closure, value =: 2
//! ```

fn main() {
    weft::run(|| {
        let (ch1_tx, ch1) = weft::chan::<i32>(0);
        let (ch2_tx, ch2) = weft::chan::<i32>(0);

        // Main keeps a sender of `ch1` and a receiver of `ch2` (it has both
        // halves in Go), so neither channel closes when the goroutine ends.
        let (ch1_send, ch2_recv) = (ch1_tx.clone(), ch2.clone());
        weft::go!(move || {
            println!("closure goroutine start");
            ch1_send.send(1).unwrap();
            let v2 = ch2_recv.recv().unwrap();
            println!("closure, value =: {v2}");
        });

        println!("main goutine here");
        loop {
            weft::select! {
                send(ch2_tx, 2) -> _ => println!("case1"), // blocks here
                recv(ch1) -> v2 => println!("case2, value = {}", v2.unwrap()), // blocks here
            }
        }
    });
}
