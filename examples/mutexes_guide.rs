//! Port of the goroutines/channels guide's mutex program (seed 000): "simple
//! counter state can use `atomic`, `Mutex` is for more complex case". A
//! `Container` guards a map of counters with a `Mutex`; three goroutines
//! increment two of them.
//!
//! In Go the mutex sits beside the map it guards; in Rust the mutex holds
//! the map, so it cannot be reached without locking.
//!
//! Prints:
//! ```text
//! map[a:20000 b:10000]
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use weft::sync::{Mutex, WaitGroup};

#[path = "common/mod.rs"]
mod common;

struct Container {
    counters: Mutex<BTreeMap<String, i32>>,
}

impl Container {
    fn inc(&self, name: &str) {
        let mut counters = self.counters.lock(); // unlocked when dropped
        *counters.entry(name.to_string()).or_default() += 1;
    }
}

fn main() {
    weft::run(|| {
        let c = Arc::new(Container {
            counters: Mutex::new(BTreeMap::from([("a".to_string(), 0), ("b".to_string(), 0)])),
        });

        let wg = Arc::new(WaitGroup::new());

        // A plain closure.
        let do_increment = {
            let (c, wg) = (c.clone(), wg.clone());
            move |name: &str, n: i32| {
                for _ in 0..n {
                    c.inc(name);
                }
                wg.done();
            }
        };

        wg.add(3);
        let f = do_increment.clone();
        weft::go!(move || f("a", 10000));
        let f = do_increment.clone();
        weft::go!(move || f("a", 10000));
        weft::go!(move || do_increment("b", 10000));

        wg.wait();
        println!("{}", common::fmt_map(&c.counters.lock()));
    });
}
