//! Port of the goroutines/channels guide's "How channels behave" program
//! (seed 000) that launches goroutines with closures wrapping the business
//! logic: one goroutine produces 1..=3, one multiplies by 10, main prints.
//!
//! The seed sleeps 3 s before each value; here 1 s (the order is the same).
//!
//! Prints (the two `begin` lines in either order):
//! ```text
//! goroutine1 begin
//! goroutine2 begin
//! goroutine2 send: 1
//! goroutine1 receive: 1
//! goroutine1 send: 10
//! main goroutine receive: 10
//! goroutine2 send: 2
//! goroutine1 receive: 2
//! goroutine1 send: 20
//! main goroutine receive: 20
//! goroutine2 send: 3
//! goroutine1 receive: 3
//! goroutine1 send: 30
//! main goroutine receive: 30
//! ```

use std::time::Duration;

fn business_logic(val: i32) -> i32 {
    val * 10
}

fn main() {
    weft::run(|| {
        let (input_tx, input_chan) = weft::chan::<i32>(0);
        let (output_tx, output_chan) = weft::chan::<i32>(0);

        weft::go!(move || {
            println!("goroutine1 begin");
            for val in &input_chan {
                println!("goroutine1 receive: {val}");
                let result = business_logic(val);

                println!("goroutine1 send: {result}");
                output_tx.send(result).unwrap();
            }
            output_tx.close().unwrap();
        });

        weft::go!(move || {
            println!("goroutine2 begin");
            for i in 1..=3 {
                weft::time::sleep(Duration::from_secs(1));
                println!("goroutine2 send: {i}");
                input_tx.send(i).unwrap();
            }
            input_tx.close().unwrap();
        });

        // Receive the data in the main goroutine.
        for result in &output_chan {
            println!("main goroutine receive: {result}");
        }
    });
}
