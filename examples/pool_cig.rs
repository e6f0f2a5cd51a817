//! Port of *Concurrency in Go* notes, "Pool" (seed 001): a pool whose `New`
//! announces each instance it creates; `Get`, `Get`, `Put` the second
//! instance back, `Get` again — which reuses it.
//!
//! Prints (a pool may drop what was put back, in Go and here, so a third
//! creation is possible but rare):
//! ```text
//! Creating new instance.
//! Creating new instance.
//! ```

use weft::sync::Pool;

/// Go's `struct{}{}`.
struct Instance;

fn main() {
    weft::run(|| {
        let my_pool = Pool::new(|| {
            println!("Creating new instance.");
            Instance
        });

        my_pool.get();
        let instance = my_pool.get();
        my_pool.put(instance);
        my_pool.get();
    });
}
