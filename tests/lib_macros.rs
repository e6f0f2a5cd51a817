//! `#[weft::test]` (and, through the same expansion, `#[weft::main]`):
//! the body runs as a goroutine, may return a `Result`, and `maxprocs`
//! applies. The spawn-policy argument is tested in `lib_macros_child.rs`,
//! a binary of its own (the tests of one binary share one runtime).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[weft::test]
fn the_body_runs_as_a_goroutine() {
    assert!(weft::current_id().is_some());
    let (tx, rx) = weft::chan(0);
    weft::go!(move || tx.send(5).unwrap());
    assert_eq!(rx.recv(), Ok(5));
}

#[weft::test]
fn a_test_may_return_a_result() -> Result<(), weft::RecvError> {
    let (tx, rx) = weft::chan(1);
    tx.send(1u8).unwrap();
    rx.recv()?;
    Ok(())
}

#[weft::test(maxprocs = 3)]
fn maxprocs_applies() {
    assert_eq!(weft::maxprocs(), 3);
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    weft::go!(move || r.store(true, Ordering::SeqCst))
        .join()
        .unwrap();
    assert!(ran.load(Ordering::SeqCst));
}

#[weft::test]
#[should_panic(expected = "boom")]
fn a_panic_in_the_body_fails_the_test() {
    panic!("boom");
}
