//! Skynet with a million leaf goroutines (a 10-ary spawn/join tree, six
//! levels deep): 1,111,111 goroutines, many alive at once. Release mode.

use weft_runtime as weft;

fn skynet(num: u64, size: u64) -> u64 {
    if size == 1 {
        return num;
    }
    let sub = size / 10;
    let children: Vec<_> = (0..10)
        .map(|i| weft::spawn(move || skynet(num + i * sub, sub)))
        .collect();
    children.into_iter().map(|h| h.join().unwrap()).sum()
}

#[test]
fn skynet_one_million() {
    // Under ASan each goroutine maps and unmaps a fake stack (1M took 136 s): 100k.
    let n: u64 = if cfg!(weft_asan) { 100_000 } else { 1_000_000 };
    assert_eq!(weft::run(move || skynet(0, n)), n * (n - 1) / 2);
}
