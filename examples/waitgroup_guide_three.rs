//! Port of the goroutines/channels guide's first "WaitGroup" program
//! (seed 000): `wg.Add(3)`, three goroutines each `defer wg.Done()`, then
//! `wg.Wait()`. The seed leaves `doThing1..3` undefined; here each prints
//! its name.
//!
//! Prints, in some order:
//! ```text
//! doThing1
//! doThing2
//! doThing3
//! ```

use std::sync::Arc;

use weft::sync::WaitGroup;

#[path = "common/mod.rs"]
mod common;

fn do_thing1() {
    println!("doThing1");
}

fn do_thing2() {
    println!("doThing2");
}

fn do_thing3() {
    println!("doThing3");
}

fn main() {
    weft::run(|| {
        let wg = Arc::new(WaitGroup::new());
        wg.add(3);

        let w = wg.clone();
        weft::go!(move || {
            let _done = common::defer(|| w.done()); // decrement the counter
            do_thing1();
        });
        let w = wg.clone();
        weft::go!(move || {
            let _done = common::defer(|| w.done());
            do_thing2();
        });
        let w = wg.clone();
        weft::go!(move || {
            let _done = common::defer(|| w.done());
            do_thing3();
        });

        wg.wait(); // wait for the counter to reach 0
    });
}
