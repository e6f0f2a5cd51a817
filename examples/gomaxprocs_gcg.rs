//! Port of the Go Concurrency Guide's "GOMAXPROCS" (seed 004): before Go
//! 1.5 programs set `runtime.GOMAXPROCS(runtime.NumCPU())` themselves.
//! weft's are `weft::set_maxprocs` (which returns the previous setting, as
//! Go's does) and `weft::maxprocs`; `WEFT_MAXPROCS` (or `GOMAXPROCS`) sets
//! it from the environment. The seed's line has no output; here the
//! settings are printed.
//!
//! Prints (the numbers depend on the machine and the environment):
//! ```text
//! NumCPU: 2
//! GOMAXPROCS was 2, is 2
//! ```

fn main() {
    weft::run(|| {
        let num_cpu = std::thread::available_parallelism().map_or(1, usize::from);
        println!("NumCPU: {num_cpu}");
        let previous = weft::set_maxprocs(num_cpu);
        println!("GOMAXPROCS was {previous}, is {}", weft::maxprocs());
    });
}
