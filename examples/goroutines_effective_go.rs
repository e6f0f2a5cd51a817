//! Port of Effective Go's "Example: I/O Blocking with Goroutines" (seed
//! 003): three goroutines at once — a download (I/O-bound), a factorial
//! (CPU-bound) and a write to disk (I/O-bound) — while main waits. The
//! seed is pseudo-code; here the download is a blocking call (a thread
//! sleep inside `weft::blocking`, which hands the goroutine's P to another
//! thread meanwhile, as Go does for a blocking system call), the factorial
//! counts the decimal digits of 100000!, and the write goes to a temporary
//! file. Each prints what it did.
//!
//! The seed waits 10 s ("in real code, you'd use a sync.WaitGroup"); here
//! 1 s, which is plenty.
//!
//! Prints, in some order:
//! ```text
//! computeFactorial(100000): 456574 digits
//! writeDataToDisk: wrote 9 bytes
//! downloadFile(http://example.com/large-file): done
//! ```

use std::time::Duration;

fn download_file(url: &str) {
    // Simulate a file download: a call that blocks its thread.
    weft::blocking(|| std::thread::sleep(Duration::from_millis(300)));
    println!("downloadFile({url}): done");
}

fn compute_factorial(n: u32) -> u64 {
    // The number of decimal digits of n!: 1 + floor(sum of log10(k)).
    let log10: f64 = (2..=n).map(|k| f64::from(k).log10()).sum();
    let digits = log10.floor() as u64 + 1;
    println!("computeFactorial({n}): {digits} digits");
    digits
}

fn write_data_to_disk(data: &'static [u8]) {
    let path = std::env::temp_dir().join(format!("weft-example-{}.txt", std::process::id()));
    let written = weft::blocking(|| {
        std::fs::write(&path, data)?;
        let n = std::fs::metadata(&path)?.len();
        std::fs::remove_file(&path)?;
        Ok::<u64, std::io::Error>(n)
    });
    match written {
        Ok(n) => println!("writeDataToDisk: wrote {n} bytes"),
        Err(e) => println!("writeDataToDisk: {e}"),
    }
}

fn main() {
    weft::run(|| {
        weft::go!(download_file("http://example.com/large-file"));
        weft::go!(compute_factorial(100000));
        weft::go!(write_data_to_disk(b"some data"));

        // Wait for all goroutines to complete (in real code, a WaitGroup).
        weft::time::sleep(Duration::from_secs(1));
    });
}
