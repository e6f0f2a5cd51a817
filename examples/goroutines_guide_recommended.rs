//! Port of the goroutines/channels guide's "recommended goroutines"
//! (seed 000): the closure program with each stage in a function that
//! starts its own goroutine and takes directional channels (`<-chan int`
//! is a `Receiver<i32>`, `chan<- int` a `Sender<i32>`).
//!
//! The seed sleeps 3 s before each value; here 1 s (the order is the same).
//!
//! Prints what `goroutines_guide_closure` prints.

use std::time::Duration;

use weft::{Receiver, Sender};

fn business_logic(val: i32) -> i32 {
    val * 10
}

fn process(input: Receiver<i32>, out: Sender<i32>) {
    weft::go!(move || {
        println!("goroutine1 begin");
        for val in &input {
            println!("goroutine1 receive: {val}");
            let result = business_logic(val);

            println!("goroutine1 send: {result}");
            out.send(result).unwrap();
        }
        out.close().unwrap();
    });
}

fn prepare(out: Sender<i32>) {
    weft::go!(move || {
        println!("goroutine2 begin");
        for i in 1..=3 {
            weft::time::sleep(Duration::from_secs(1));
            println!("goroutine2 send: {i}");
            out.send(i).unwrap();
        }
        out.close().unwrap();
    });
}

fn show(input: Receiver<i32>) {
    for val in &input {
        println!("main goroutine receive: {val}");
    }
}

fn main() {
    weft::run(|| {
        let (input_tx, input_chan) = weft::chan::<i32>(0);
        let (output_tx, output_chan) = weft::chan::<i32>(0);

        process(input_chan, output_tx);
        prepare(input_tx);
        show(output_chan);
    });
}
