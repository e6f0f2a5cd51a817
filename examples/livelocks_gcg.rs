//! Port of the Go Concurrency Guide's "Livelocks" (seed 004): Alice and
//! Barbara meet in a hallway; each steps left or right in time with a
//! shared cadence (a `Cond` broadcast every millisecond) and checks whether
//! the other went the same way. Moving in lockstep, they keep blocking
//! each other, and after five tries each gives up.
//!
//! One change from the seed: it defers the print before `walking.Done()`,
//! so `Done` runs first and main can exit before the last print; here the
//! print comes first.
//!
//! Prints (the two people in either order; one who falls out of step with
//! the other gets through, and her line ends with ` . Success!` instead):
//! ```text
//! Alice is trying to scoot: left right left right left right left right left right
//! Alice tosses her hands up in exasperation
//! Barbara is trying to scoot: left right left right left right left right left right
//! Barbara tosses her hands up in exasperation
//! ```

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft::sync::{Cond, Mutex, WaitGroup};
use weft::time::tick;

#[path = "common/mod.rs"]
mod common;

fn main() {
    weft::run(|| {
        let cadence = Arc::new((Mutex::new(()), Cond::new()));
        let c = cadence.clone();
        weft::go!(move || {
            for _ in tick(Duration::from_millis(1)) {
                c.1.broadcast();
            }
        });

        let take_step = move || {
            let (l, cond) = &*cadence;
            let guard = l.lock();
            drop(cond.wait(guard));
        };

        let try_dir = move |dir_name: &str, dir: &AtomicI32, out: &mut String| -> bool {
            write!(out, " {dir_name}").unwrap();
            dir.fetch_add(1, Ordering::SeqCst);
            take_step();

            if dir.load(Ordering::SeqCst) == 1 {
                out.push_str(" . Success!");
                return true;
            }

            take_step();
            dir.fetch_add(-1, Ordering::SeqCst);

            false
        };

        let (left, right) = (Arc::new(AtomicI32::new(0)), Arc::new(AtomicI32::new(0)));
        let try_left = {
            let (try_dir, left) = (try_dir.clone(), left.clone());
            move |out: &mut String| try_dir("left", &left, out)
        };
        let try_right = move |out: &mut String| try_dir("right", &right, out);

        let walk = move |walking: Arc<WaitGroup>, name: &str| {
            let _done = common::defer(|| walking.done());
            let mut out = String::new();

            write!(out, "{name} is trying to scoot:").unwrap();
            let mut success = false;
            for _ in 0..5 {
                if try_left(&mut out) || try_right(&mut out) {
                    success = true;
                    break;
                }
            }
            if !success {
                write!(out, "\n{name} tosses her hands up in exasperation").unwrap();
            }
            println!("{out}");
        };

        let people_in_hallway = Arc::new(WaitGroup::new());
        people_in_hallway.add(2);

        let (w, p) = (walk.clone(), people_in_hallway.clone());
        weft::go!(move || w(p, "Alice"));
        let (w, p) = (walk.clone(), people_in_hallway.clone());
        weft::go!(move || w(p, "Barbara"));
        people_in_hallway.wait();
    });
}
