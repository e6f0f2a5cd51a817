//! Port of the Go Concurrency Guide's "Confinement", ad hoc (seed 004):
//! by convention only `loopData` reads `data` and writes `handleData`;
//! main only reads the channel.
//!
//! Go's `data` is a slice both could reach; Rust moves it into the
//! goroutine, which makes the convention a rule.
//!
//! Prints (`make([]int, 4)` is four zeros):
//! ```text
//! 0
//! 0
//! 0
//! 0
//! ```

use weft::Sender;

fn main() {
    weft::run(|| {
        let data = vec![0; 4];

        let loop_data = move |handle_data: Sender<i32>| {
            for v in &data {
                handle_data.send(*v).unwrap();
            }
            handle_data.close().unwrap(); // `defer close(handleData)`
        };

        let (handle_tx, handle_data) = weft::chan::<i32>(0);
        weft::go!(move || loop_data(handle_tx));

        for num in &handle_data {
            println!("{num}");
        }
    });
}
