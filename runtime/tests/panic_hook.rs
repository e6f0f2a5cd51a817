//! A panic hook the program installed before the runtime started is
//! called for goroutine panics too (weft's own hook used to replace it for
//! them), and it can name the goroutine with `weft::current_id()`, as
//! `install_panic_hook` promises. One test: the hook and the runtime are
//! per process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use weft_runtime as weft;

#[test]
fn a_hook_installed_first_sees_goroutine_panics() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static MESSAGES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static IDS: Mutex<Vec<Option<weft::GoId>>> = Mutex::new(Vec::new());
    std::panic::set_hook(Box::new(|info| {
        CALLS.fetch_add(1, Ordering::SeqCst);
        IDS.lock().unwrap().push(weft::current_id());
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default();
        MESSAGES.lock().unwrap().push(msg);
    }));
    let h = weft::spawn(|| -> () { panic!("from a goroutine") });
    let id = h.id();
    assert!(h.join().is_err());
    let r = std::thread::spawn(|| -> () { panic!("from a thread") }).join();
    assert!(r.is_err());
    let _ = std::panic::take_hook();
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    let m = MESSAGES.lock().unwrap();
    assert!(m.contains(&"from a goroutine".to_string()), "{m:?}");
    assert!(m.contains(&"from a thread".to_string()), "{m:?}");
    let ids = IDS.lock().unwrap();
    assert!(
        ids.contains(&Some(id)),
        "the hook did not see goroutine {id:?}: {ids:?}"
    );
    assert!(
        ids.contains(&None),
        "the thread's panic is not a goroutine's: {ids:?}"
    );
}
