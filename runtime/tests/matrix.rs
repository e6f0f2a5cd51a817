use weft_runtime as weft;

#[test]
fn spawn_join_many() {
    let total: u64 = weft::run(|| {
        let hs: Vec<_> = (0..100_000u64).map(|i| weft::spawn(move || i)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(total, 100_000 * 99_999 / 2);
}

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let a = weft::spawn(move || fib(n - 1));
    let b = fib(n - 2);
    a.join().unwrap() + b
}

#[test]
fn fork_join_fib() {
    assert_eq!(weft::run(|| fib(25)), 75025);
}
