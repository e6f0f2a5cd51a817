//! Port of the Go Concurrency Guide's "Pipelines" (seed 004; *Concurrency
//! in Go* notes show its `multiply` stage): stages over whole batches —
//! `multiply` and `add` each take a slice and return a new one;
//! `add(multiply(ints, 2), 1)`. No goroutines yet: the channel version is
//! `pipelines_cig`.
//!
//! Prints:
//! ```text
//! 3
//! 5
//! 7
//! 9
//! ```

fn main() {
    weft::run(|| {
        let multiply = |values: &[i32], multiplier: i32| -> Vec<i32> {
            let mut multiplied_values = vec![0; values.len()];
            for (i, v) in values.iter().enumerate() {
                multiplied_values[i] = v * multiplier;
            }
            multiplied_values
        };

        let add = |values: &[i32], additive: i32| -> Vec<i32> {
            let mut added_values = vec![0; values.len()];
            for (i, v) in values.iter().enumerate() {
                added_values[i] = v + additive;
            }
            added_values
        };

        let ints = [1, 2, 3, 4];
        for v in add(&multiply(&ints, 2), 1) {
            println!("{v}");
        }
    });
}
