//! Port of Go's `src/context/x_test.go` (the tests of `package
//! context_test`; the tests that read the package's internals are in
//! `context_context`).
//!
//! Mapping: `Background()` is `context::background()`, `WithCancel`,
//! `WithDeadline`, `WithTimeout`, `WithValue` are the functions of the same
//! name, `<-ctx.Done()` is `ctx.done().recv()` (an `Err` once closed) and
//! a `select` with `default` on it is `try_recv`. `ctx.Err() == nil` is
//! `ctx.err() == None`. Go's `fmt.Sprint(ctx)` is `{:?}`: weft prints
//! `WithValue(key)` where Go prints `WithValue(key, value)`, and
//! `WithDeadline` without Go's `(time [remaining])`. Go's keys are any
//! comparable value; weft's are `&'static str`, so TestValues' three keys
//! (`key1(1)`, `key2(1)`, `key2(3)`: two of them equal as ints, different
//! as types) are three distinct strings, and a `nil` value is a value of
//! another type (it shadows the key, as Go's `nil` does). Go's
//! `quiescent(t)` bound is 5 s. Dropping a weft `CancelFunc` cancels its
//! context, so where Go discards a cancel function (`c, _ :=`) the port
//! keeps it alive for the test's length.
//!
//! Ported: TestBackground, TestWithCancel, TestDeadline, TestTimeout,
//! TestCanceledTimeout, TestValues, TestSimultaneousCancels,
//! TestInterlockedCancels, TestLayersCancel, TestLayersTimeout,
//! TestWithCancelCanceledParent, TestWithCancelSimultaneouslyCanceledParent,
//! TestDeadlineExceededSupportsTimeout (`Error::is_timeout`),
//! TestContextErrDoneRace, TestTODO, TestCause (all but its three
//! custom-context cases), TestCauseRace, TestWithoutCancel (Go's nil
//! `Done()` is a channel that is never ready), TestAfterFuncCalledAfterCancel,
//! TestAfterFuncCalledAfterTimeout, TestAfterFuncCalledImmediately,
//! TestAfterFuncNotCalledAfterStop, TestAfterFuncCalledAsynchronously
//! (`context::after_func`; its `stop()` is `AfterFuncStop::stop`). A Go
//! cause is any `error` compared with `==`: here an `Arc` compared by
//! address (`Arc::ptr_eq`), and `Cause(ctx) == Canceled` is a cause that
//! downcasts to `Error::Canceled`.
//!
//! Not ported: every `otherContext`/`customContext`/`myDoneCtx` case of the
//! tests above and TestCustomContextPropagation, TestCustomContextCause
//! (weft's `Context` is a struct, not an interface: no other
//! implementation can be written), and so all of `afterfunc_test.go`
//! (every test there is a custom context's `AfterFunc`); TestAllocs
//! (`common::measure` counts the allocations left live, not allocations
//! per run); TestWithValueChecksKey, TestInvalidDerivedFail (a nil or
//! non-comparable key and a nil parent cannot be written). The examples
//! and benchmarks are not tests.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::context::{self, CancelFunc, Cause, Context, Error};
use weft::sync::WaitGroup;
use weft::time::after;
use weft::{chan, select};

use crate::common;

const SHORT: Duration = Duration::from_millis(1);
const VERY_LONG: Duration = Duration::from_secs(1000 * 3600);
/// Go's `quiescent(t)`.
const QUIESCENT: Duration = Duration::from_secs(5);

/// `select { case <-c.Done(): ...; default: }`: whether done is closed.
fn is_done(c: &Context) -> bool {
    c.done()
        .try_recv()
        .is_err_and(|e| e == weft::TryRecvError::Closed)
}

#[test]
fn background() {
    common::run(|| {
        let c = context::background();
        assert!(!is_done(&c), "<-c.Done() should block");
        assert_eq!(format!("{c:?}"), "context.Background");
    });
}

#[test]
fn with_cancel() {
    common::run(|| {
        let (c1, cancel) = context::with_cancel(&context::background());
        assert_eq!(format!("{c1:?}"), "context.Background.WithCancel");
        let (c2, _c2_cancel) = context::with_cancel(&c1);
        let contexts = [c1, c2];
        for (i, c) in contexts.iter().enumerate() {
            assert_eq!(c.err(), None, "c[{i}].Err()");
            assert!(!is_done(c), "<-c[{i}].Done() should block");
        }
        cancel.cancel(); // Should propagate synchronously.
        for (i, c) in contexts.iter().enumerate() {
            assert!(is_done(c), "<-c[{i}].Done() blocked, but shouldn't have");
            assert_eq!(c.err(), Some(Error::Canceled), "c[{i}].Err()");
        }
    });
}

/// Go's `testDeadline`.
fn test_deadline(c: &Context, name: &str) {
    select! {
        recv(after(QUIESCENT)) -> _ => panic!("{name}: context not timed out after {QUIESCENT:?}"),
        recv(c.done()) -> _ => {}
    }
    assert_eq!(c.err(), Some(Error::DeadlineExceeded), "{name}: c.Err()");
}

#[test]
fn deadline() {
    common::run(|| {
        let (c, _k1) = context::with_deadline(&context::background(), Instant::now() + SHORT);
        let s = format!("{c:?}");
        assert!(
            s.starts_with("context.Background.WithDeadline"),
            "c.String() = {s:?}"
        );
        test_deadline(&c, "WithDeadline");

        // Go's "WithDeadline+otherContext+WithDeadline" without the
        // otherContext: a later deadline under an earlier one.
        let (c, _k2) = context::with_deadline(&context::background(), Instant::now() + SHORT);
        let (c, _k3) = context::with_deadline(&c, Instant::now() + VERY_LONG);
        test_deadline(&c, "WithDeadline+WithDeadline");

        let (c, _k4) = context::with_deadline(
            &context::background(),
            Instant::now().checked_sub(SHORT).unwrap(),
        );
        test_deadline(&c, "WithDeadline+inthepast");

        let (c, _k5) = context::with_deadline(&context::background(), Instant::now());
        test_deadline(&c, "WithDeadline+now");
    });
}

#[test]
fn timeout() {
    common::run(|| {
        let (c, _k1) = context::with_timeout(&context::background(), SHORT);
        let s = format!("{c:?}");
        assert!(
            s.starts_with("context.Background.WithDeadline"),
            "c.String() = {s:?}"
        );
        test_deadline(&c, "WithTimeout");

        let (c, _k2) = context::with_timeout(&context::background(), SHORT);
        let (c, _k3) = context::with_timeout(&c, VERY_LONG);
        test_deadline(&c, "WithTimeout+WithTimeout");
    });
}

#[test]
fn canceled_timeout() {
    common::run(|| {
        let (c, _k1) = context::with_timeout(&context::background(), Duration::from_secs(1));
        let (c, cancel) = context::with_timeout(&c, VERY_LONG);
        cancel.cancel(); // Should propagate synchronously.
        assert!(is_done(&c), "<-c.Done() blocked, but shouldn't have");
        assert_eq!(c.err(), Some(Error::Canceled));
    });
}

const K1: &str = "key1(1)";
const K2: &str = "key2(1)";
const K3: &str = "key2(3)";

/// Go's `nil` value.
struct Nil;

#[test]
fn values() {
    common::run(|| {
        let check = |c: &Context, nm: &str, v1: &str, v2: &str, v3: &str| {
            for (k, want) in [(K1, v1), (K2, v2), (K3, v3)] {
                let got = c.value::<&'static str>(k).copied();
                let want = (!want.is_empty()).then_some(want);
                assert_eq!(got, want, "{nm}.Value({k})");
            }
        };
        let c0 = context::background();
        check(&c0, "c0", "", "", "");

        let c1 = context::with_value(&context::background(), K1, "c1k1");
        check(&c1, "c1", "c1k1", "", "");
        assert_eq!(format!("{c1:?}"), "context.Background.WithValue(key1(1))");

        let c2 = context::with_value(&c1, K2, "c2k2");
        check(&c2, "c2", "c1k1", "c2k2", "");
        assert_eq!(
            format!("{c2:?}"),
            "context.Background.WithValue(key1(1)).WithValue(key2(1))"
        );

        let c3 = context::with_value(&c2, K3, "c3k3");
        check(&c3, "c3", "c1k1", "c2k2", "c3k3");

        let c4 = context::with_value(&c3, K1, Nil);
        check(&c4, "c4", "", "c2k2", "c3k3");
        assert!(c4.value::<Nil>(K1).is_some());
        assert_eq!(
            format!("{c4:?}"),
            "context.Background.WithValue(key1(1)).WithValue(key2(1))\
             .WithValue(key2(3)).WithValue(key1(1))"
        );
    });
}

#[test]
fn simultaneous_cancels() {
    common::run(|| {
        let (root, cancel) = context::with_cancel(&context::background());
        let mut m: Vec<(Context, CancelFunc)> = vec![(root.clone(), cancel)];
        let mut q = VecDeque::from([root]);
        // Create a tree of contexts.
        while let Some(parent) = q.pop_front() {
            if m.len() >= 100 {
                break;
            }
            for _ in 0..4 {
                let (ctx, cancel) = context::with_cancel(&parent);
                m.push((ctx.clone(), cancel));
                q.push_back(ctx);
            }
        }
        // Start all the cancels in a (pseudo-)random order.
        let wg = Arc::new(WaitGroup::new());
        wg.add(m.len());
        let mut order: Vec<usize> = (0..m.len()).collect();
        shuffle(
            &mut order,
            Instant::now().elapsed().subsec_nanos() as u64 | 1,
        );
        for &i in &order {
            let cancel = m[i].1.clone();
            let wg = wg.clone();
            weft::go!(move || {
                cancel.cancel();
                wg.done();
            });
        }
        // Go's `time.AfterFunc(d, func() { close(stuck) })`: one timer
        // for both waits.
        let stuck = after(QUIESCENT);
        // Wait on all the contexts in a random order.
        for &i in order.iter().rev() {
            select! {
                recv(m[i].0.done()) -> _ => {}
                recv(stuck) -> _ => panic!("timed out after {QUIESCENT:?} waiting for <-ctx.Done()\n{}", weft::dump_goroutines()),
            }
        }
        // Wait for all the cancel functions to return.
        let (done_tx, done) = chan::<()>(0);
        weft::go!(move || {
            wg.wait();
            drop(done_tx);
        });
        select! {
            recv(done) -> _ => {}
            recv(stuck) -> _ => panic!("timed out after {QUIESCENT:?} waiting for cancel functions"),
        }
    });
}

/// A small xorshift shuffle (Go's map iteration order is random).
fn shuffle(v: &mut [usize], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

#[test]
fn interlocked_cancels() {
    common::run(|| {
        let (parent, cancel_parent) = context::with_cancel(&context::background());
        let (child, cancel_child) = context::with_cancel(&parent);
        weft::go!(move || {
            let _ = parent.done().recv();
            cancel_child.cancel();
        });
        cancel_parent.cancel();
        select! {
            recv(child.done()) -> _ => {}
            recv(after(QUIESCENT)) -> _ => panic!("timed out after {QUIESCENT:?} waiting for child.Done()"),
        }
    });
}

#[test]
fn layers_cancel() {
    common::run(|| test_layers(seed(), false));
}

#[test]
fn layers_timeout() {
    common::run(|| test_layers(seed(), true));
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1
}

/// The value stored under each key: a weft key is a string, so the
/// layer's number is the key and the value.
fn test_layers(mut seed: u64, test_timeout: bool) {
    let prefix = format!("seed={seed}");
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    const MIN_LAYERS: usize = 30;
    const KEYS: [&str; 64] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
        "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
        "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46",
        "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61",
        "62", "63",
    ];
    let mut vals: Vec<usize> = Vec::new();
    let mut cancels: Vec<CancelFunc> = Vec::new();
    let mut num_timers = 0;
    let mut ctx = context::background();
    let mut i = 0;
    while i < MIN_LAYERS || num_timers == 0 || cancels.is_empty() || vals.is_empty() {
        assert!(i < KEYS.len(), "{prefix}: too many layers");
        match next(3) {
            0 => {
                ctx = context::with_value(&ctx, KEYS[i], i);
                vals.push(i);
            }
            1 => {
                let (c, cancel) = context::with_cancel(&ctx);
                ctx = c;
                cancels.push(cancel);
            }
            _ => {
                let d = if test_timeout { SHORT } else { VERY_LONG };
                let (c, cancel) = context::with_timeout(&ctx, d);
                ctx = c;
                cancels.push(cancel);
                num_timers += 1;
            }
        }
        i += 1;
    }
    let check_values = |when: &str| {
        for &k in &vals {
            assert_eq!(
                ctx.value::<usize>(KEYS[k]),
                Some(&k),
                "{prefix}: {when}: ctx.Value({k})"
            );
        }
    };
    if !test_timeout {
        assert!(!is_done(&ctx), "{prefix}: ctx should not be canceled yet");
    }
    let s = format!("{ctx:?}");
    assert!(s.starts_with("context.Background."), "ctx.String() = {s:?}");
    check_values("before cancel");
    if test_timeout {
        select! {
            recv(ctx.done()) -> _ => {}
            recv(after(QUIESCENT)) -> _ => panic!("{prefix}: ctx should have timed out after {QUIESCENT:?}"),
        }
        check_values("after timeout");
    } else {
        let cancel = &cancels[next(cancels.len() as u64) as usize];
        cancel.cancel();
        assert!(is_done(&ctx), "{prefix}: ctx should be canceled");
        check_values("after cancel");
    }
}

#[test]
fn with_cancel_canceled_parent() {
    common::run(|| {
        let (parent, pcancel) = context::with_cancel_cause(&context::background());
        let cause = errorf("Because!");
        pcancel.cancel(Some(cause.clone()));
        let (c, _k) = context::with_cancel(&parent);
        assert!(is_done(&c), "child not done immediately upon construction");
        assert_eq!(c.err(), Some(Error::Canceled), "child not canceled");
        assert!(
            same(context::cause(&c), &cause),
            "child has wrong cause; got = {:?}",
            context::cause(&c)
        );
    });
}

#[test]
fn with_cancel_simultaneously_canceled_parent() {
    common::run(|| {
        // Cancel the parent concurrently with creating a child.
        for _ in 0..100 {
            let (parent, pcancel) = context::with_cancel_cause(&context::background());
            let cause = errorf("Because!");
            let c2 = cause.clone();
            weft::go!(move || pcancel.cancel(Some(c2)));
            let (c, _k) = context::with_cancel(&parent);
            let _ = c.done().recv();
            assert_eq!(c.err(), Some(Error::Canceled), "child not canceled");
            assert!(same(context::cause(&c), &cause), "child has wrong cause");
        }
    });
}

#[test]
fn deadline_exceeded_supports_timeout() {
    assert!(Error::DeadlineExceeded.is_timeout());
    assert!(!Error::Canceled.is_timeout());
}

/// Go issue 75533: once `Err` is non-nil, `Done` is closed. Go runs 10
/// rounds ("4 reliably reproduced"); the wait loop also yields now and
/// then (as Go's does on wasm), since weft does not preempt a spinning
/// goroutine: at maxprocs 1 the cancel runs whole between two checks.
///
/// Found a bug (at maxprocs 2, at rounds 396 to 19,000 of 20,000):
/// `cancel` published the error before it closed the done channel
/// (src/context.rs, `Node::cancel_one`), so `err()` could be `Some` while
/// `done()` was open. It now closes the channel first.
#[test]
fn context_err_done_race() {
    common::run(|| {
        for round in 0..2_000 {
            let (ctx, cancel) = context::with_cancel(&context::background());
            let donec = ctx.done();
            weft::go!(move || cancel.cancel());
            let mut spins = 0u32;
            while ctx.err().is_none() {
                spins += 1;
                if spins.is_multiple_of(1024) {
                    weft::yield_now();
                }
            }
            assert_eq!(
                donec.try_recv(),
                Err(weft::TryRecvError::Closed),
                "round {round}: ctx.Err is non-nil, but ctx.Done is not closed"
            );
        }
    });
}

/// Go's `fmt.Errorf(msg)`: a fresh error, equal only to itself.
fn errorf(msg: &str) -> Cause {
    Arc::new(std::io::Error::other(msg.to_string()))
}

/// Go's `Cause(ctx) == want` for an error value: the same `Arc`.
fn same(got: Option<Cause>, want: &Cause) -> bool {
    got.is_some_and(|g| Arc::ptr_eq(&g, want))
}

#[test]
fn todo() {
    common::run(|| {
        let c = context::todo();
        assert!(!is_done(&c), "<-c.Done() should block");
        assert_eq!(format!("{c:?}"), "context.TODO");
    });
}

/// What a `TestCause` case expects of `Cause(ctx)`.
enum Want {
    Nil,
    Err(Error),
    Is(Cause),
}

#[test]
fn cause() {
    common::run(|| {
        let forever = Duration::from_secs(1_000_000);
        let parent_cause = errorf("parentCause");
        let child_cause = errorf("childCause");
        let too_slow = errorf("tooSlow");
        let finished_early = errorf("finishedEarly");
        // Go discards some cancel functions (`ctx, _ =`): weft's would
        // cancel on drop, so they are kept to the end of the case.
        let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
        let (pc, cc, ts, fe) = (&parent_cause, &child_cause, &too_slow, &finished_early);
        type Case<'a> = (
            &'a str,
            Box<dyn Fn(&mut Vec<Box<dyn std::any::Any>>) -> Context + 'a>,
            Option<Error>,
            Want,
        );
        let cases: Vec<Case> = vec![
            (
                "Background",
                Box::new(|_| context::background()),
                None,
                Want::Nil,
            ),
            ("TODO", Box::new(|_| context::todo()), None, Want::Nil),
            (
                "WithCancel",
                Box::new(|_| {
                    let (ctx, cancel) = context::with_cancel(&context::background());
                    cancel.cancel();
                    ctx
                }),
                Some(Error::Canceled),
                Want::Err(Error::Canceled),
            ),
            (
                "WithCancelCause",
                Box::new(|_| {
                    let (ctx, cancel) = context::with_cancel_cause(&context::background());
                    cancel.cancel(Some(pc.clone()));
                    ctx
                }),
                Some(Error::Canceled),
                Want::Is(pc.clone()),
            ),
            (
                "WithCancelCause nil",
                Box::new(|_| {
                    let (ctx, cancel) = context::with_cancel_cause(&context::background());
                    cancel.cancel(None);
                    ctx
                }),
                Some(Error::Canceled),
                Want::Err(Error::Canceled),
            ),
            (
                "WithCancelCause: parent cause before child",
                Box::new(|_| {
                    let (ctx, cancel_parent) = context::with_cancel_cause(&context::background());
                    let (ctx, cancel_child) = context::with_cancel_cause(&ctx);
                    cancel_parent.cancel(Some(pc.clone()));
                    cancel_child.cancel(Some(cc.clone()));
                    ctx
                }),
                Some(Error::Canceled),
                Want::Is(pc.clone()),
            ),
            (
                "WithCancelCause: parent cause after child",
                Box::new(|_| {
                    let (ctx, cancel_parent) = context::with_cancel_cause(&context::background());
                    let (ctx, cancel_child) = context::with_cancel_cause(&ctx);
                    cancel_child.cancel(Some(cc.clone()));
                    cancel_parent.cancel(Some(pc.clone()));
                    ctx
                }),
                Some(Error::Canceled),
                Want::Is(cc.clone()),
            ),
            (
                "WithCancelCause: parent cause before nil",
                Box::new(|_| {
                    let (ctx, cancel_parent) = context::with_cancel_cause(&context::background());
                    let (ctx, cancel_child) = context::with_cancel(&ctx);
                    cancel_parent.cancel(Some(pc.clone()));
                    cancel_child.cancel();
                    ctx
                }),
                Some(Error::Canceled),
                Want::Is(pc.clone()),
            ),
            (
                "WithCancelCause: parent cause after nil",
                Box::new(|_| {
                    let (ctx, cancel_parent) = context::with_cancel_cause(&context::background());
                    let (ctx, cancel_child) = context::with_cancel(&ctx);
                    cancel_child.cancel();
                    cancel_parent.cancel(Some(pc.clone()));
                    ctx
                }),
                Some(Error::Canceled),
                Want::Err(Error::Canceled),
            ),
            (
                "WithCancelCause: child cause after nil",
                Box::new(|_| {
                    let (ctx, cancel_parent) = context::with_cancel(&context::background());
                    let (ctx, cancel_child) = context::with_cancel_cause(&ctx);
                    cancel_parent.cancel();
                    cancel_child.cancel(Some(cc.clone()));
                    ctx
                }),
                Some(Error::Canceled),
                Want::Err(Error::Canceled),
            ),
            (
                "WithCancelCause: child cause before nil",
                Box::new(|_| {
                    let (ctx, cancel_parent) = context::with_cancel(&context::background());
                    let (ctx, cancel_child) = context::with_cancel_cause(&ctx);
                    cancel_child.cancel(Some(cc.clone()));
                    cancel_parent.cancel();
                    ctx
                }),
                Some(Error::Canceled),
                Want::Is(cc.clone()),
            ),
            (
                "WithTimeout",
                Box::new(|_| {
                    let (ctx, cancel) =
                        context::with_timeout(&context::background(), Duration::ZERO);
                    cancel.cancel();
                    ctx
                }),
                Some(Error::DeadlineExceeded),
                Want::Err(Error::DeadlineExceeded),
            ),
            (
                "WithTimeout canceled",
                Box::new(|_| {
                    let (ctx, cancel) = context::with_timeout(&context::background(), forever);
                    cancel.cancel();
                    ctx
                }),
                Some(Error::Canceled),
                Want::Err(Error::Canceled),
            ),
            (
                "WithTimeoutCause",
                Box::new(|_| {
                    let (ctx, cancel) = context::with_timeout_cause(
                        &context::background(),
                        Duration::ZERO,
                        Some(ts.clone()),
                    );
                    cancel.cancel();
                    ctx
                }),
                Some(Error::DeadlineExceeded),
                Want::Is(ts.clone()),
            ),
            (
                "WithTimeoutCause canceled",
                Box::new(|_| {
                    let (ctx, cancel) = context::with_timeout_cause(
                        &context::background(),
                        forever,
                        Some(ts.clone()),
                    );
                    cancel.cancel();
                    ctx
                }),
                Some(Error::Canceled),
                Want::Err(Error::Canceled),
            ),
            (
                "WithTimeoutCause stacked",
                Box::new(|keep| {
                    let (ctx, cancel) = context::with_cancel_cause(&context::background());
                    let (ctx, k) =
                        context::with_timeout_cause(&ctx, Duration::ZERO, Some(ts.clone()));
                    keep.push(Box::new(k));
                    cancel.cancel(Some(fe.clone()));
                    ctx
                }),
                Some(Error::DeadlineExceeded),
                Want::Is(ts.clone()),
            ),
            (
                "WithTimeoutCause stacked canceled",
                Box::new(|keep| {
                    let (ctx, cancel) = context::with_cancel_cause(&context::background());
                    let (ctx, k) = context::with_timeout_cause(&ctx, forever, Some(ts.clone()));
                    keep.push(Box::new(k));
                    cancel.cancel(Some(fe.clone()));
                    ctx
                }),
                Some(Error::Canceled),
                Want::Is(fe.clone()),
            ),
            (
                "WithoutCancel",
                Box::new(|_| context::without_cancel(&context::background())),
                None,
                Want::Nil,
            ),
            (
                "WithoutCancel canceled",
                Box::new(|_| {
                    let (ctx, cancel) = context::with_cancel_cause(&context::background());
                    let ctx = context::without_cancel(&ctx);
                    cancel.cancel(Some(fe.clone()));
                    ctx
                }),
                None,
                Want::Nil,
            ),
            (
                "WithoutCancel timeout",
                Box::new(|_| {
                    let (ctx, cancel) = context::with_timeout_cause(
                        &context::background(),
                        Duration::ZERO,
                        Some(ts.clone()),
                    );
                    let ctx = context::without_cancel(&ctx);
                    cancel.cancel();
                    ctx
                }),
                None,
                Want::Nil,
            ),
        ];
        for (name, make, err, want) in &cases {
            let ctx = make(&mut keep);
            assert_eq!(ctx.err(), *err, "{name}: ctx.Err()");
            let got = context::cause(&ctx);
            let ok = match want {
                Want::Nil => got.is_none(),
                Want::Err(e) => got.as_ref().and_then(|g| g.downcast_ref::<Error>()) == Some(e),
                Want::Is(c) => same(got.clone(), c),
            };
            assert!(ok, "{name}: Cause(ctx) = {got:?}");
        }
    });
}

#[test]
fn cause_race() {
    common::run(|| {
        let cause = errorf("TestCauseRace");
        let (ctx, cancel) = context::with_cancel_cause(&context::background());
        let c2 = cause.clone();
        weft::go!(move || cancel.cancel(Some(c2)));
        loop {
            // Poll Cause, rather than waiting for Done, to test that
            // access to the underlying cause is synchronized properly.
            if let Some(err) = context::cause(&ctx) {
                assert!(Arc::ptr_eq(&err, &cause), "Cause returned {err:?}");
                break;
            }
            weft::yield_now();
        }
    });
}

#[test]
fn without_cancel() {
    common::run(|| {
        let (key, value) = ("key", "value");
        let ctx = context::with_value(&context::background(), key, value);
        let ctx = context::without_cancel(&ctx);
        assert_eq!(ctx.deadline(), None, "ctx.Deadline()");
        // Go's nil Done(): never ready.
        assert_eq!(
            ctx.done().try_recv(),
            Err(weft::TryRecvError::Empty),
            "ctx.Done()"
        );
        assert_eq!(ctx.err(), None, "ctx.Err()");
        assert_eq!(ctx.value::<&str>(key), Some(&value), "ctx.Value({key:?})");
    });
}

#[test]
fn after_func_called_after_cancel() {
    common::run(|| {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let (donec_tx, donec) = chan::<()>(0);
        let stop = context::after_func(&ctx, move || drop(donec_tx));
        select! {
            recv(donec) -> _ => panic!("AfterFunc called before context is done"),
            recv(after(SHORT)) -> _ => {},
        }
        cancel.cancel();
        select! {
            recv(donec) -> _ => {},
            recv(after(VERY_LONG)) -> _ => panic!("AfterFunc not called after context is canceled"),
        }
        assert!(!stop.stop(), "stop() = true, want false");
    });
}

#[test]
fn after_func_called_after_timeout() {
    common::run(|| {
        let (ctx, _cancel) = context::with_timeout(&context::background(), SHORT);
        let (donec_tx, donec) = chan::<()>(0);
        let _stop = context::after_func(&ctx, move || drop(donec_tx));
        select! {
            recv(donec) -> _ => {},
            recv(after(VERY_LONG)) -> _ => panic!("AfterFunc not called after context is canceled"),
        }
    });
}

#[test]
fn after_func_called_immediately() {
    common::run(|| {
        let (ctx, cancel) = context::with_cancel(&context::background());
        cancel.cancel();
        let (donec_tx, donec) = chan::<()>(0);
        let _stop = context::after_func(&ctx, move || drop(donec_tx));
        select! {
            recv(donec) -> _ => {},
            recv(after(VERY_LONG)) -> _ => panic!("AfterFunc not called for already-canceled context"),
        }
    });
}

#[test]
fn after_func_not_called_after_stop() {
    common::run(|| {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let (donec_tx, donec) = chan::<()>(0);
        // Go's close(donec) is a send here: a stopped f's captures are
        // dropped, which would close the channel too.
        let stop = context::after_func(&ctx, move || {
            let _ = donec_tx.send(());
        });
        assert!(stop.stop(), "stop() = false, want true");
        cancel.cancel();
        select! {
            recv(donec) -> v => assert!(v.is_err(), "AfterFunc called for already-canceled context"),
            recv(after(SHORT)) -> _ => {},
        }
        assert!(!stop.stop(), "stop() = true, want false");
    });
}

/// Canceling a context does not block waiting for AfterFuncs to finish.
#[test]
fn after_func_called_asynchronously() {
    common::run(|| {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let (donec_tx, donec) = chan::<()>(0);
        let stop = context::after_func(&ctx, move || {
            // The channel send blocks until donec is read from.
            donec_tx.send(()).unwrap();
        });
        cancel.cancel();
        // After cancel returns, read from donec and unblock the AfterFunc.
        select! {
            recv(donec) -> v => assert_eq!(v, Ok(())),
            recv(after(VERY_LONG)) -> _ => panic!("AfterFunc not called after context is canceled"),
        }
        stop.stop();
    });
}
