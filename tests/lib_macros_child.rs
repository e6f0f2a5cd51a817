//! `#[weft::test(spawn = "child")]`: the runtime of this binary runs with
//! Go's child stealing, and a test asking for the other policy is refused
//! with a message saying why. Its own binary: the tests of one binary
//! share one runtime.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use weft::SpawnPolicy;

#[weft::test(spawn = "child", maxprocs = 1)]
fn child_stealing_applies_and_a_conflicting_request_is_refused() {
    // Child stealing on one P: the parent goes on, the child waits in
    // runnext (continuation stealing would have run it already).
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let h = weft::go!(move || r.store(true, Ordering::SeqCst));
    assert!(
        !ran.load(Ordering::SeqCst),
        "the child ran before its parent went on"
    );
    h.join().unwrap();
    assert!(ran.load(Ordering::SeqCst));

    let refused = std::panic::catch_unwind(|| {
        weft::__macro_support::configure(
            None,
            Some(SpawnPolicy::ContinuationStealing),
            "#[weft::test]",
        )
    })
    .expect_err("a second spawn policy was accepted");
    let msg = refused
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        msg.contains("already runs with spawn = \"child\""),
        "unexpected message: {msg}"
    );
}
