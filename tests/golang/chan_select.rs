//! Port of Go's `test/chan/select.go`: a select with `default` over send
//! cases, some on nil channels. Every case's value expression is evaluated
//! on entry to the select, chosen or not, nil channel or not — `counter`
//! checks that (10 evaluations in all).

use std::sync::atomic::{AtomicU32, Ordering};

use weft::{chan, never_sender, select, Sender};

use crate::common;

struct State {
    counter: AtomicU32,
    shift: AtomicU32,
}

impl State {
    fn get_value(&self) -> u32 {
        self.counter.fetch_add(1, Ordering::Relaxed);
        1 << self.shift.load(Ordering::Relaxed)
    }
}

fn send(st: &State, mut a: Sender<u32>, mut b: Sender<u32>) -> i32 {
    let mut i = 0;
    loop {
        select! {
            send(a, st.get_value()) -> r => {
                r.unwrap();
                i += 1;
                a = never_sender();
            }
            send(b, st.get_value()) -> r => {
                r.unwrap();
                i += 1;
                b = never_sender();
            }
            default => break,
        }
        st.shift.fetch_add(1, Ordering::Relaxed);
    }
    i
}

#[test]
fn select() {
    common::run(|| {
        let st = State {
            counter: AtomicU32::new(0),
            shift: AtomicU32::new(0),
        };
        let (a, a_rx) = chan(1);
        let (b, b_rx) = chan(1);
        let v = send(&st, a.clone(), b.clone());
        assert_eq!(v, 2, "Send returned {v} != 2");
        let (av, bv) = (a_rx.recv().unwrap(), b_rx.recv().unwrap());
        assert_eq!(av | bv, 3, "bad values {av} {bv}");
        let v = send(&st, a.clone(), never_sender());
        assert_eq!(v, 1, "Send returned {v} != 1");
        let counter = st.counter.load(Ordering::Relaxed);
        assert_eq!(counter, 10, "counter is {counter} != 10");
    });
}
