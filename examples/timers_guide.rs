//! Port of the goroutines/channels guide's "example: timers" (seed 000):
//! Go by Example's program, waiting 2 s at the end to show that the
//! stopped timer never fires.
//!
//! Prints:
//! ```text
//! Timer 1 fired
//! Timer 2 stopped
//! ```

use std::time::Duration;

use weft::time::{sleep, Timer};

fn main() {
    weft::run(|| {
        let timer1 = Timer::new(Duration::from_secs(2));

        timer1.c.recv().unwrap();
        println!("Timer 1 fired");

        let timer2 = Timer::new(Duration::from_secs(1));
        let c2 = timer2.c.clone();
        weft::go!(move || {
            c2.recv().unwrap();
            println!("Timer 2 fired");
        });
        let stop2 = timer2.stop();
        if stop2 {
            println!("Timer 2 stopped");
        }

        sleep(Duration::from_secs(2));
    });
}
