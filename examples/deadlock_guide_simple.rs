//! Port of the goroutines/channels guide's "dead lock" simple block
//! (seed 000): the closure goroutine sends on `ch1` and main sends on
//! `ch2`; each waits for a receive the other never gets to.
//!
//! Like Go's, the program ends with the runtime's deadlock report on stderr
//! (`fatal error: all goroutines are asleep - deadlock!`, then each
//! goroutine and what it waits for) and exit status 2.
//!
//! Prints (either order):
//! ```text
//! main goutine here
//! closure goroutine start
//! ```

fn main() {
    weft::run(|| {
        let (ch1_tx, ch1) = weft::chan::<i32>(0);
        let (ch2_tx, ch2) = weft::chan::<i32>(0);

        weft::go!(move || {
            println!("closure goroutine start");
            ch1_tx.send(1).unwrap(); // blocks here
            let v2 = ch2.recv().unwrap();
            println!("closure: {v2}");
        });

        println!("main goutine here");
        ch2_tx.send(2).unwrap(); // blocks here
        let v2 = ch1.recv().unwrap();
        println!("main: {v2}");
    });
}
