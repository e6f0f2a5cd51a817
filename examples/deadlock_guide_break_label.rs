//! Port of the goroutines/channels guide's "solve above dead lock by
//! `break` & `goto`" (seed 000): a `done` channel case ends the select
//! loop with a labelled `break` (Go's `break Label`).
//!
//! Prints (the first two lines in either order):
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
        let (done_tx, done) = weft::chan::<bool>(0);

        let (ch1_send, ch2_recv) = (ch1_tx.clone(), ch2.clone());
        weft::go!(move || {
            println!("closure goroutine start");
            ch1_send.send(1).unwrap(); // block here
            let v2 = ch2_recv.recv().unwrap();
            println!("closure, value =: {v2}");
            done_tx.send(true).unwrap();
        });

        println!("main goutine here");
        'label: loop {
            weft::select! {
                send(ch2_tx, 2) -> _ => println!("case1"),
                recv(ch1) -> v2 => println!("case2, value = {}", v2.unwrap()),
                recv(done) -> _ => break 'label,
            }
        }
    });
}
