//! Port of Go by Example "Timers" (seed 002, `timers.go`): a
//! `weft::time::Timer` fires once; a timer stopped before it fires never
//! sends.
//!
//! Prints:
//! ```text
//! Timer 1 expired
//! Timer 2 stopped
//! ```

use std::time::Duration;

use weft::time::Timer;

fn main() {
    weft::run(|| {
        // A Timer is a single event in the future: its channel `c` receives
        // a value when it expires.
        let timer1 = Timer::new(Duration::from_secs(2));

        timer1.c.recv().unwrap();
        println!("Timer 1 expired");

        // Unlike a sleep, a timer can be stopped before it expires.
        let timer2 = Timer::new(Duration::from_secs(1));
        let c2 = timer2.c.clone();
        weft::go!(move || {
            c2.recv().unwrap();
            println!("Timer 2 expired");
        });
        let stop2 = timer2.stop();
        if stop2 {
            println!("Timer 2 stopped");
        }
    });
}
