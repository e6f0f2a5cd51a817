//! The runtime's parking and wait queues driven by plain OS threads only:
//! the part Miri can run (no goroutine, so no stack switch, no scheduler
//! thread, no syscall beyond std's thread park). `scripts/miri.sh` runs
//! this file under Stacked Borrows and Tree Borrows with several seeds;
//! `cargo test` runs it as an ordinary test file too.
//!
//! What it exercises: `park`/`Unparker` on threads; the wait record
//! (`park::Waiter`) living on a parked thread's stack while another thread
//! claims it, moves a value through a pointer to that stack and wakes it
//! (Miri checks that nobody touches the record after its owner returned,
//! and that no reference covers memory another thread writes); and the
//! `sync` types, whose queues (`waitq`) hold pointers to nodes on parked
//! threads' stacks; and a plain thread's goroutine-local map (`local.rs`,
//! the same `Map` a goroutine's values live in). Every test counts what it
//! moves.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};
use std::thread;

use weft_runtime::park::{park, unparker, Waiter};
use weft_runtime::sync::{Cond, Mutex, Once, OnceLock, RwLock, Semaphore, WaitGroup};
use weft_runtime::{goroutine_local, WaitReason};

/// Rounds per test: Miri runs a few thousand times slower.
const N: usize = if cfg!(miri) { 5 } else { 2_000 };

/// Two threads hand a turn back and forth with `park` and `Unparker`:
/// no wake-up is lost, none is doubled into a second turn.
#[test]
fn park_unpark_ping_pong_between_threads() {
    let turn = Arc::new(AtomicUsize::new(0));
    let main_u = unparker();
    let t2 = turn.clone();
    let (utx, urx) = std::sync::mpsc::channel();
    let other = thread::spawn(move || {
        utx.send(unparker()).unwrap();
        for i in 0..N {
            while t2.load(SeqCst) != 2 * i + 1 {
                park(WaitReason::Park, || {});
            }
            t2.store(2 * i + 2, SeqCst);
            main_u.unpark();
        }
    });
    let other_u = urx.recv().unwrap();
    for i in 0..N {
        turn.store(2 * i + 1, SeqCst);
        other_u.unpark();
        while turn.load(SeqCst) != 2 * i + 2 {
            park(WaitReason::Park, || {});
        }
    }
    other.join().unwrap();
    assert_eq!(turn.load(SeqCst), 2 * N);
}

/// A pointer to a wait record on another thread's stack, as a queue
/// keeps one.
struct Ptr(*const Waiter, *mut Option<u64>);
// SAFETY: test scaffolding: the record and slot stay on the owner's stack
// until its `wait` returns, which is after the claimer's last touch.
unsafe impl Send for Ptr {}

/// The wait record's protocol with the record and a value slot on the
/// waiting thread's stack: queued under a lock (the commit releases it),
/// popped and claimed by another thread, which writes the slot and wakes
/// it. The owner returns the claimer's tag and sees its value.
#[test]
fn waiter_on_the_stack_claimed_by_another_thread() {
    let q: Arc<StdMutex<Option<Ptr>>> = Arc::default();
    let q2 = q.clone();
    let claimer = thread::spawn(move || {
        for i in 0..N as u64 {
            let p = loop {
                if let Some(p) = q2.lock().unwrap().take() {
                    break p;
                }
                thread::yield_now();
            };
            // SAFETY: popped under the lock, so ours alone; the owner
            // waits in `wait` until our `wake` stores DONE.
            unsafe {
                assert!((*p.0).try_claim(i as usize));
                *p.1 = Some(i * 10);
                Waiter::wake(p.0);
            }
        }
    });
    for i in 0..N as u64 {
        let mut slot = None;
        let w = Waiter::new();
        let mut g = q.lock().unwrap();
        *g = Some(Ptr(&w, &raw mut slot));
        let tag = w.wait(WaitReason::Park, move || drop(g));
        assert_eq!(tag, i as usize);
        assert_eq!(slot, Some(i * 10));
    }
    claimer.join().unwrap();
}

/// One record claimed by three threads at once (a select's cases):
/// exactly one wins, and the owner returns its tag.
#[test]
fn one_waiter_three_claimers_one_wins() {
    for _ in 0..N {
        let w = Waiter::new();
        let wins = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(AtomicBool::new(false));
        struct P(*const Waiter);
        // SAFETY: the owner joins every claimer before `w` goes away.
        unsafe impl Send for P {}
        let claimers: Vec<_> = (0..3)
            .map(|case| {
                let (wins, start) = (wins.clone(), start.clone());
                let p = P(&w);
                thread::spawn(move || {
                    let p = p;
                    while !start.load(SeqCst) {
                        thread::yield_now();
                    }
                    // SAFETY: alive until joined; a won claim is woken once.
                    unsafe {
                        if (*p.0).try_claim(case) {
                            wins.fetch_add(1, SeqCst);
                            Waiter::wake(p.0);
                        }
                    }
                })
            })
            .collect();
        start.store(true, SeqCst);
        let won = w.wait(WaitReason::Select, || {});
        assert!(won < 3);
        for c in claimers {
            c.join().unwrap();
        }
        assert_eq!(wins.load(SeqCst), 1);
        assert_eq!(w.done_tag(), Some(won));
    }
}

#[test]
fn mutex_between_threads() {
    let m = Arc::new(Mutex::new(0usize));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let m = m.clone();
            thread::spawn(move || {
                for _ in 0..N {
                    *m.lock() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(*m.lock(), 3 * N);
}

#[test]
fn rwlock_readers_and_writers_between_threads() {
    let l = Arc::new(RwLock::new((0usize, 0usize)));
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let l = l.clone();
            thread::spawn(move || {
                for _ in 0..N {
                    let mut g = l.write();
                    g.0 += 1;
                    g.1 += 1;
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let l = l.clone();
            thread::spawn(move || {
                for _ in 0..N {
                    let g = l.read();
                    assert_eq!(g.0, g.1, "a reader saw half a write");
                }
            })
        })
        .collect();
    writers
        .into_iter()
        .chain(readers)
        .for_each(|h| h.join().unwrap());
    assert_eq!(*l.read(), (2 * N, 2 * N));
}

#[test]
fn waitgroup_between_threads() {
    let wg = Arc::new(WaitGroup::new());
    let done = Arc::new(AtomicUsize::new(0));
    wg.add(3);
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let (wg, done) = (wg.clone(), done.clone());
            thread::spawn(move || {
                done.fetch_add(1, SeqCst);
                wg.done();
            })
        })
        .collect();
    wg.wait();
    assert_eq!(done.load(SeqCst), 3);
    hs.into_iter().for_each(|h| h.join().unwrap());
}

/// A bounded queue on `Mutex` + `Cond`: every item produced is consumed
/// once, in order.
#[test]
fn cond_producer_consumer_between_threads() {
    let st = Arc::new((Mutex::new(Vec::<usize>::new()), Cond::new()));
    let s = st.clone();
    let producer = thread::spawn(move || {
        for i in 0..N {
            let mut q = s.0.lock();
            q = s.1.wait_while(q, |q| q.len() >= 2);
            q.push(i);
            drop(q);
            s.1.broadcast();
        }
    });
    let mut got = Vec::new();
    while got.len() < N {
        let mut q = st.1.wait_while(st.0.lock(), |q| q.is_empty());
        got.push(q.remove(0));
        drop(q);
        st.1.signal();
    }
    producer.join().unwrap();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
}

/// Weighted acquires queue in order and are granted by releases on other
/// threads: the units in use never exceed the size.
#[test]
fn semaphore_weighted_between_threads() {
    let sem = Arc::new(Semaphore::new(3));
    let in_use = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (1..=3)
        .map(|w| {
            let (sem, in_use) = (sem.clone(), in_use.clone());
            thread::spawn(move || {
                for _ in 0..N {
                    sem.acquire(w);
                    assert!(in_use.fetch_add(w, SeqCst) + w <= 3);
                    in_use.fetch_sub(w, SeqCst);
                    sem.release(w);
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(sem.available(), 3);
}

/// Threads racing to initialise: the function runs once, every thread
/// sees its value (the losers park until it is done).
#[test]
fn once_and_once_lock_between_threads() {
    let once = Arc::new(Once::new());
    let cell = Arc::new(OnceLock::<usize>::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let (once, cell, runs) = (once.clone(), cell.clone(), runs.clone());
            thread::spawn(move || {
                once.call_once(|| {
                    runs.fetch_add(1, SeqCst);
                });
                *cell.get_or_init(|| 10 + i)
            })
        })
        .collect();
    let seen: Vec<usize> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(runs.load(SeqCst), 1);
    assert!(seen.iter().all(|&v| v == seen[0]));
}

/// A goroutine-local value that counts its drops, and whether its `Drop`
/// could still reach a goroutine-local (it must not once its thread's
/// values are being dropped).
struct Local(usize);

static LOCAL_DROPS: AtomicUsize = AtomicUsize::new(0);
static LOCAL_DROPS_LOCKED_OUT: AtomicUsize = AtomicUsize::new(0);
static REC_INITS: AtomicUsize = AtomicUsize::new(0);

impl Drop for Local {
    fn drop(&mut self) {
        LOCAL_DROPS.fetch_add(1, SeqCst);
        if K0.try_with(|_| ()).is_err() {
            LOCAL_DROPS_LOCKED_OUT.fetch_add(1, SeqCst);
        }
    }
}

goroutine_local! {
    static K0: Local = Local(0);
    static K1: Local = Local(1);
    static K2: Local = Local(2);
    static K3: Local = Local(3);
    static K4: Local = Local(4);
    static K5: Local = Local(5);
    /// An initialiser that uses its own key: the inner value is made and
    /// stored first, then replaced (and dropped) by the outer one.
    static REC: Local = {
        let n = REC_INITS.fetch_add(1, SeqCst);
        if n == 0 {
            assert_eq!(REC.with(|v| v.0), 101, "the inner initialiser's value");
        }
        Local(100 + n)
    };
}

/// A plain thread's goroutine-local map (`local.rs`): a value borrowed by
/// `with` stays in place while the closure makes other keys' values and the
/// map's vector grows (past its first capacity of four); a recursive
/// initialiser's inner value is dropped when the outer one replaces it; the
/// thread's exit drops every value exactly once, and a `Drop` that touches
/// a key then gets `AccessError`.
#[test]
fn goroutine_locals_on_a_thread_stay_put_and_drop_once() {
    thread::spawn(|| {
        K0.with(|k0| {
            let made: Vec<usize> = [&K1, &K2, &K3, &K4, &K5]
                .iter()
                .map(|k| k.with(|v| v.0))
                .collect();
            assert_eq!(made, [1, 2, 3, 4, 5]);
            assert_eq!(k0.0, 0, "the value borrowed across the growth");
            K1.with(|k1| K0.with(|again| assert!(std::ptr::eq(k0, again) && k1.0 == 1)));
        });
        assert_eq!(REC.with(|v| v.0), 100, "the outer initialiser's value");
        assert_eq!(REC_INITS.load(SeqCst), 2);
        assert_eq!(LOCAL_DROPS.load(SeqCst), 1, "the inner REC value");
        assert_eq!(LOCAL_DROPS_LOCKED_OUT.load(SeqCst), 0);
    })
    .join()
    .unwrap();
    assert_eq!(LOCAL_DROPS.load(SeqCst), 8, "six keys and two REC values");
    assert_eq!(
        LOCAL_DROPS_LOCKED_OUT.load(SeqCst),
        7,
        "every drop at the thread's exit"
    );
}
