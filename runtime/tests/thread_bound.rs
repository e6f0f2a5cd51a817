//! Thread-bound code (issue 15): `lock_os_thread`, `goroutine_local!`,
//! `scope` and a `run` that borrows. CI runs this file under
//! `WEFT_SPAWN=continuation|child` × `WEFT_MAXPROCS=1|2` (see `test.sh`).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use weft_runtime as weft;

/// The OS thread running the caller. `#[inline(never)]`: `thread::current`
/// reads a thread-local, whose address must not be reused across a switch.
#[inline(never)]
fn tid() -> ThreadId {
    std::thread::current().id()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

// ---- lock_os_thread ----

/// A locked goroutine stays on its thread across every kind of switch, and
/// while it is locked no other goroutine runs on that thread.
#[test]
fn locked_goroutine_keeps_its_thread_and_the_thread_runs_nothing_else() {
    static ACTIVE: AtomicBool = AtomicBool::new(false);
    let locked_tid: Arc<Mutex<Option<ThreadId>>> = Arc::default();
    let intruders = Arc::new(AtomicUsize::new(0));
    let samples = Arc::new(AtomicUsize::new(0));
    weft::run({
        let locked_tid = locked_tid.clone();
        let intruders = intruders.clone();
        let samples = samples.clone();
        move || {
            let stop = Arc::new(AtomicBool::new(false));
            // Bystanders: note when one runs on the locked thread inside the
            // locked window (tid read, then the flag, with no switch between).
            let watchers: Vec<_> = (0..4)
                .map(|_| {
                    let (stop, lt, intruders, samples) = (
                        stop.clone(),
                        locked_tid.clone(),
                        intruders.clone(),
                        samples.clone(),
                    );
                    weft::spawn(move || {
                        while !stop.load(Ordering::SeqCst) {
                            let me = tid();
                            if ACTIVE.load(Ordering::SeqCst) {
                                samples.fetch_add(1, Ordering::Relaxed);
                                if *lt.lock().unwrap() == Some(me) {
                                    intruders.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            weft::yield_now();
                        }
                    })
                })
                .collect();
            let lt = locked_tid.clone();
            let locked = weft::spawn(move || {
                weft::lock_os_thread();
                let me = tid();
                *lt.lock().unwrap() = Some(me);
                ACTIVE.store(true, Ordering::SeqCst);
                let mu = Arc::new(weft::sync::Mutex::new(0u32));
                let (tx, rx) = weft_channels_free::pair::<weft_channels_free::Oneshot>();
                let echo = weft::spawn(move || {
                    for v in rx {
                        v.send(());
                    }
                });
                for i in 0..200 {
                    match i % 5 {
                        0 => weft::yield_now(),
                        1 => weft::time::sleep(Duration::from_micros(50)),
                        2 => {
                            let mu2 = mu.clone();
                            let g = mu.lock();
                            let h = weft::spawn(move || *mu2.lock() += 1);
                            weft::time::sleep(Duration::from_micros(20));
                            drop(g);
                            h.join().unwrap();
                        }
                        3 => weft::spawn(|| 1).join().map(drop).unwrap(),
                        _ => {
                            let back = weft_channels_free::Oneshot::default();
                            tx.send(back.clone());
                            back.wait();
                        }
                    }
                    assert_eq!(tid(), me, "locked goroutine moved thread at step {i}");
                }
                ACTIVE.store(false, Ordering::SeqCst);
                drop(tx);
                echo.join().unwrap();
                weft::unlock_os_thread();
            });
            locked.join().unwrap();
            stop.store(true, Ordering::SeqCst);
            for w in watchers {
                w.join().unwrap();
            }
        }
    });
    assert_eq!(intruders.load(Ordering::SeqCst), 0);
    assert!(
        samples.load(Ordering::Relaxed) > 0,
        "the bystanders never ran"
    );
}

/// Nesting counts, and unbalanced unlocks do nothing.
#[test]
fn lock_calls_nest() {
    weft::run(|| {
        let h = weft::spawn(|| {
            weft::unlock_os_thread(); // unbalanced: nothing
            weft::lock_os_thread();
            weft::lock_os_thread();
            weft::unlock_os_thread();
            let me = tid();
            for _ in 0..50 {
                weft::time::sleep(Duration::from_micros(100));
                weft::spawn(|| ()).join().unwrap();
                assert_eq!(tid(), me, "still locked once: must not move");
            }
            weft::unlock_os_thread();
            weft::unlock_os_thread(); // unbalanced again
                                      // Free again: switching works whatever thread we land on.
            for _ in 0..50 {
                weft::yield_now();
            }
        });
        h.join().unwrap();
    });
}

thread_local! {
    static EXITED: ExitFlag = const { ExitFlag(Cell::new(None)) };
}

/// Sets its flag when its thread exits (thread-locals are dropped then).
struct ExitFlag(Cell<Option<Arc<AtomicBool>>>);

impl Drop for ExitFlag {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f.store(true, Ordering::SeqCst);
        }
    }
}

#[inline(never)]
fn arm_exit_flag(f: Arc<AtomicBool>) {
    EXITED.with(|e| e.0.set(Some(f)));
}

/// A goroutine that exits locked takes its thread with it; the program
/// runs on.
#[test]
fn exiting_locked_ends_the_thread() {
    let gone = Arc::new(AtomicBool::new(false));
    let g2 = gone.clone();
    weft::run(move || {
        let h = weft::spawn(move || {
            weft::lock_os_thread();
            arm_exit_flag(g2);
            weft::time::sleep(Duration::from_millis(1));
            tid()
        });
        let t = h.join().unwrap();
        // The rest of the runtime carries on.
        let sum: u32 = (0..100u32)
            .map(|i| weft::spawn(move || i))
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(sum, 4950);
        assert_ne!(tid(), t, "ran on a thread that should have exited");
    });
    wait_until("the locked goroutine's thread exits", || {
        gone.load(Ordering::SeqCst)
    });
}

/// A locked goroutine's children run elsewhere (never on its thread, even
/// under continuation stealing) and it stays put.
#[test]
fn locked_goroutine_spawning_stays_and_children_run_elsewhere() {
    weft::run(|| {
        weft::spawn(|| {
            weft::lock_os_thread();
            let me = tid();
            for i in 0..200u64 {
                let child = weft::spawn(move || (tid(), i * 2));
                assert_eq!(tid(), me, "the parent moved after spawn {i}");
                let (ct, v) = child.join().unwrap();
                assert_eq!(v, i * 2);
                assert_ne!(ct, me, "a child ran on the locked thread");
            }
        })
        .join()
        .unwrap();
    });
}

/// `blocking()` works inside a locked goroutine, and the other goroutines
/// run meanwhile (at maxprocs 1 too: the P is handed on).
#[test]
fn blocking_inside_a_locked_goroutine() {
    weft::run(|| {
        let done = Arc::new(AtomicBool::new(false));
        let d2 = done.clone();
        let locked = weft::spawn(move || {
            weft::lock_os_thread();
            let me = tid();
            let t = Instant::now();
            weft::blocking(|| std::thread::sleep(Duration::from_millis(100)));
            assert!(t.elapsed() >= Duration::from_millis(100));
            assert_eq!(tid(), me);
            weft::time::sleep(Duration::from_millis(1));
            assert_eq!(tid(), me);
            d2.store(true, Ordering::SeqCst);
        });
        // Meanwhile the rest runs: 1000 spawn/join round trips.
        for i in 0..1000u32 {
            assert_eq!(weft::spawn(move || i).join().unwrap(), i);
        }
        locked.join().unwrap();
        assert!(done.load(Ordering::SeqCst));
    });
}

/// Many locked goroutines ping-ponging with unlocked partners: every
/// message counted, each locked one never moves.
#[test]
fn many_locked_goroutines_ping_pong() {
    const PAIRS: usize = 6;
    const ROUNDS: usize = 300;
    let got = Arc::new(AtomicUsize::new(0));
    weft::run({
        let got = got.clone();
        move || {
            let hs: Vec<_> = (0..PAIRS)
                .map(|p| {
                    let got = got.clone();
                    weft::spawn(move || {
                        weft::lock_os_thread();
                        let me = tid();
                        let (tx, rx) = weft_channels_free::pair::<weft_channels_free::Oneshot>();
                        let partner = weft::spawn(move || {
                            for o in rx {
                                o.send(());
                            }
                        });
                        for _ in 0..ROUNDS {
                            let o = weft_channels_free::Oneshot::default();
                            tx.send(o.clone());
                            o.wait();
                            got.fetch_add(1, Ordering::Relaxed);
                            assert_eq!(tid(), me, "pair {p}: locked goroutine moved");
                        }
                        drop(tx);
                        partner.join().unwrap();
                        // Exits locked: its thread goes too.
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        }
    });
    assert_eq!(got.load(Ordering::Relaxed), PAIRS * ROUNDS);
}

// ---- goroutine_local! ----

static INITS: AtomicUsize = AtomicUsize::new(0);
static DROPS: AtomicUsize = AtomicUsize::new(0);

struct Counted(u64);

impl Drop for Counted {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

weft::goroutine_local! {
    static SLOT: RefCell<Counted> = {
        INITS.fetch_add(1, Ordering::SeqCst);
        RefCell::new(Counted(0))
    };
    static PLAIN: Cell<u64> = Cell::new(0);
}

/// One value per goroutine, made lazily, kept across switches (and
/// thread moves), dropped when the goroutine exits — before `join` returns.
#[test]
fn goroutine_locals_are_per_goroutine_and_dropped_at_exit() {
    weft::run(|| {
        let (i0, d0) = (INITS.load(Ordering::SeqCst), DROPS.load(Ordering::SeqCst));
        let hs: Vec<_> = (0..64u64)
            .map(|i| {
                weft::spawn(move || {
                    SLOT.with_borrow_mut(|c| c.0 = i);
                    for _ in 0..20 {
                        weft::yield_now();
                        weft::time::sleep(Duration::from_micros(10));
                        assert_eq!(SLOT.with_borrow(|c| c.0), i);
                    }
                    // Inside `blocking` it is still this goroutine's value.
                    assert_eq!(weft::blocking(|| SLOT.with_borrow(|c| c.0)), i);
                    i
                })
            })
            .collect();
        let idle = weft::spawn(|| PLAIN.get()); // never touches SLOT
        for (i, h) in hs.into_iter().enumerate() {
            assert_eq!(h.join().unwrap(), i as u64);
        }
        assert_eq!(idle.join().unwrap(), 0);
        // Other goroutines may use SLOT meanwhile (other tests): at least ours.
        assert!(INITS.load(Ordering::SeqCst) - i0 >= 64);
        assert!(DROPS.load(Ordering::SeqCst) - d0 >= 64);
    });
}

/// G records are recycled: each new goroutine starts with fresh locals.
#[test]
fn recycled_records_start_with_fresh_locals() {
    weft::run(|| {
        for round in 0..2000u64 {
            let h = weft::spawn(move || {
                assert_eq!(
                    PLAIN.get(),
                    0,
                    "round {round}: saw a previous goroutine's value"
                );
                PLAIN.set(round + 1);
            });
            h.join().unwrap();
        }
        let hs: Vec<_> = (0..2000u64)
            .map(|i| {
                weft::spawn(move || {
                    assert_eq!(PLAIN.get(), 0);
                    PLAIN.set(i + 1);
                    weft::yield_now();
                    PLAIN.get() == i + 1
                })
            })
            .collect();
        assert!(hs.into_iter().all(|h| h.join().unwrap()));
    });
}

/// On a plain thread a key is a thread-local of that thread.
#[test]
fn on_plain_threads_a_key_is_thread_local() {
    let ts: Vec<_> = (0..4u64)
        .map(|i| {
            std::thread::spawn(move || {
                PLAIN.set(i + 100);
                std::thread::sleep(Duration::from_millis(5));
                PLAIN.get()
            })
        })
        .collect();
    for (i, t) in ts.into_iter().enumerate() {
        assert_eq!(t.join().unwrap(), i as u64 + 100);
    }
    // And a goroutine started from this thread does not see its value.
    PLAIN.set(7);
    assert_eq!(weft::spawn(|| PLAIN.get()).join().unwrap(), 0);
    assert_eq!(PLAIN.get(), 7);
}

struct SendsOnDrop(Option<weft_channels_free::Oneshot>);

impl Drop for SendsOnDrop {
    fn drop(&mut self) {
        if let Some(o) = self.0.take() {
            // Parks (a rendezvous) inside a goroutine-local's destructor.
            weft::time::sleep(Duration::from_millis(1));
            o.send(());
        }
    }
}

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("local dropped badly");
    }
}

struct ProbesOnDrop(Arc<Mutex<Option<bool>>>);

impl Drop for ProbesOnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(PLAIN.try_with(|_| ()).is_err());
    }
}

weft::goroutine_local! {
    static PARKS_ON_DROP: RefCell<SendsOnDrop> = RefCell::new(SendsOnDrop(None));
    static BAD: RefCell<Option<PanicsOnDrop>> = RefCell::new(None);
    static PROBE: RefCell<Option<ProbesOnDrop>> = RefCell::new(None);
}

/// Destructors of goroutine-locals may park; one that panics makes `join`
/// return the panic; a key touched during the drops says so.
#[test]
fn local_destructors_may_park_and_their_panics_reach_join() {
    weft::run(|| {
        let o = weft_channels_free::Oneshot::default();
        let o2 = o.clone();
        let h = weft::spawn(move || PARKS_ON_DROP.with_borrow_mut(|s| s.0 = Some(o2)));
        o.wait(); // sent by the destructor
        h.join().unwrap();

        let h = weft::spawn(|| BAD.set(Some(PanicsOnDrop)));
        let err = h.join().unwrap_err();
        assert_eq!(err.message(), Some("local dropped badly"));

        let seen = Arc::new(Mutex::new(None));
        let s2 = seen.clone();
        weft::spawn(move || PROBE.set(Some(ProbesOnDrop(s2))))
            .join()
            .unwrap();
        assert_eq!(*seen.lock().unwrap(), Some(true));
    });
}

// ---- scope and run ----

#[test]
fn scope_borrows_and_joins_everything() {
    weft::run(|| {
        let mut v = vec![0u64; 1000];
        let base = 7u64;
        weft::scope(|s| {
            for (i, chunk) in v.chunks_mut(10).enumerate() {
                let base = &base;
                s.go(move || {
                    for (j, x) in chunk.iter_mut().enumerate() {
                        *x = *base + (i * 10 + j) as u64;
                        if j % 3 == 0 {
                            weft::yield_now();
                        }
                    }
                });
            }
        });
        assert!(v.iter().enumerate().all(|(i, &x)| x == 7 + i as u64));
    });
}

#[test]
fn nested_scopes_and_spawning_from_scoped_goroutines() {
    let counter = AtomicUsize::new(0);
    weft::scope(|s| {
        for _ in 0..8 {
            s.go(|| {
                weft::scope(|inner| {
                    for _ in 0..8 {
                        inner.go(|| counter.fetch_add(1, Ordering::SeqCst));
                    }
                });
                s.go(|| counter.fetch_add(100, Ordering::SeqCst));
            });
        }
    });
    assert_eq!(counter.load(Ordering::SeqCst), 8 * 8 + 8 * 100);
}

/// The scope's own closure panics: the scope still waits for every scoped
/// goroutine (they touch borrowed data late) before the panic goes on —
/// on a plain thread and inside a goroutine.
#[test]
fn a_panicking_scope_waits_for_its_goroutines() {
    fn body(done: &AtomicUsize) {
        weft::scope(|s| {
            for _ in 0..6 {
                s.go(|| {
                    weft::time::sleep(Duration::from_millis(30));
                    weft::yield_now();
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
            panic!("scope body failed");
        });
    }
    let done = AtomicUsize::new(0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&done)));
    assert!(r.is_err());
    assert_eq!(done.load(Ordering::SeqCst), 6);

    let seen = weft::spawn(|| {
        let done = AtomicUsize::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&done)));
        (r.is_err(), done.load(Ordering::SeqCst))
    })
    .join()
    .unwrap();
    assert_eq!(seen, (true, 6));

    // Uncaught in a goroutine: its join sees the panic, after the scope
    // waited (the data it borrowed lives on the goroutine's stack).
    let done = Arc::new(AtomicUsize::new(0));
    let d2 = done.clone();
    let err = weft::spawn(move || {
        let local = AtomicUsize::new(0);
        let _report = Report(&local, &d2);
        body(&local);
    })
    .join()
    .unwrap_err();
    assert_eq!(err.message(), Some("scope body failed"));
    assert_eq!(done.load(Ordering::SeqCst), 6);
}

/// Copies what a goroutine counted on its stack out as the stack unwinds.
struct Report<'a>(&'a AtomicUsize, &'a AtomicUsize);

impl Drop for Report<'_> {
    fn drop(&mut self) {
        self.1
            .store(self.0.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

/// An unjoined scoped goroutine that panicked makes the scope panic; a
/// joined one hands its panic to `join` only.
#[test]
fn scoped_goroutine_panics_like_std() {
    let r = std::panic::catch_unwind(|| {
        weft::scope(|s| {
            s.go(|| panic!("unjoined"));
        })
    });
    let msg = r.unwrap_err();
    assert_eq!(
        msg.downcast_ref::<&str>().copied(),
        Some("a scoped goroutine panicked")
    );
    let v = weft::scope(|s| {
        let h = s.go(|| -> u32 { panic!("joined") });
        assert_eq!(h.join().unwrap_err().message(), Some("joined"));
        5
    });
    assert_eq!(v, 5);
}

/// Results that borrow scope data are dropped before the scope returns,
/// even when their handles were dropped unjoined.
#[test]
fn unjoined_results_are_dropped_before_the_scope_returns() {
    struct Guard<'a>(&'a AtomicUsize);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            weft::yield_now();
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = AtomicUsize::new(0);
    weft::scope(|s| {
        for _ in 0..32 {
            let h = s.go(|| Guard(&dropped));
            if dropped.load(Ordering::SeqCst).is_multiple_of(2) {
                drop(h);
            }
        }
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 32);
}

#[test]
fn run_borrows_from_its_caller() {
    let mut words = vec![String::from("go"), String::from("weft")];
    let n = weft::run(|| {
        words.push(String::from("scope"));
        weft::spawn(|| 1).join().unwrap() + words.iter().map(String::len).sum::<usize>()
    });
    assert_eq!(n, 12);
    assert_eq!(words.len(), 3);
}

/// A small channel stand-in built on `weft::sync` (the channels crate
/// depends on this one, so its tests cannot use `weft::chan`).
mod weft_channels_free {
    use std::collections::VecDeque;
    use std::sync::Arc;
    use weft_runtime::sync::{Cond, Mutex};

    struct Inner<T> {
        q: Mutex<(VecDeque<T>, bool)>,
        cv: Cond,
    }

    pub struct Tx<T>(Arc<Inner<T>>);
    pub struct Rx<T>(Arc<Inner<T>>);

    pub fn pair<T>() -> (Tx<T>, Rx<T>) {
        let i = Arc::new(Inner {
            q: Mutex::new((VecDeque::new(), false)),
            cv: Cond::new(),
        });
        (Tx(i.clone()), Rx(i))
    }

    impl<T> Tx<T> {
        pub fn send(&self, v: T) {
            self.0.q.lock().0.push_back(v);
            self.0.cv.signal();
        }
    }

    impl<T> Drop for Tx<T> {
        fn drop(&mut self) {
            self.0.q.lock().1 = true;
            self.0.cv.broadcast();
        }
    }

    impl<T> Iterator for Rx<T> {
        type Item = T;
        fn next(&mut self) -> Option<T> {
            let mut q = self.0.q.lock();
            loop {
                if let Some(v) = q.0.pop_front() {
                    return Some(v);
                }
                if q.1 {
                    return None;
                }
                q = self.0.cv.wait(q);
            }
        }
    }

    /// A one-shot signal.
    #[derive(Clone, Default)]
    pub struct Oneshot(Arc<(Mutex<bool>, Cond)>);

    impl Oneshot {
        pub fn send(&self, _: ()) {
            *self.0 .0.lock() = true;
            self.0 .1.broadcast();
        }

        pub fn wait(&self) {
            let mut g = self.0 .0.lock();
            while !*g {
                g = self.0 .1.wait(g);
            }
        }
    }
}
