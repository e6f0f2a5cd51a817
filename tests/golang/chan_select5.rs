//! Port of Go's `test/chan/select5.go`: every way of phrasing one send or
//! one receive — plain or in a select, with or without `default`, with
//! dummy cases on a channel nobody uses and on a nil channel, with the
//! operands' evaluation order checked — each run once on a one-slot
//! buffered channel (so the test is single-goroutine).
//!
//! Go's program *generates* a Go program (1,045 test functions) from five
//! templates by enumerating every path through their choices, then runs
//! it. Compiling 1,045 `select!`s would cost more build time than the test
//! is worth, so this port keeps Go's enumeration (`Arg`, `choose`, `maybe`,
//! `next`, the five templates in the same order, making the same choices)
//! and runs each of the 1,045 enumerated tests against a table of
//! precompiled `select!` shapes, one per set of cases present (`fork!`:
//! 32 receiving, 32 sending, 64 non-blocking), with everything else —
//! receive form, evaluation-order numbers, plain operation — chosen at run
//! time. What Go varies only to steer its
//! compiler's special cases (`default` before or after the other cases;
//! receiving into a variable, a pointer, an interface or a map) all
//! amounts to one `select!` shape, so it runs through the same shape, with
//! each receive form applied to the value the select returned.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};

use weft::{chan, never, never_sender, Receiver, Sender};

use crate::common;

// ---- Go's enumeration of all paths through the templates ----

/// Go's `arg` plus its `choices`/`cp` globals.
struct Arg {
    def: bool,
    nreset: usize,
    choices: Vec<(usize, usize)>,
    cp: isize,
}

impl Arg {
    fn new() -> Arg {
        Arg {
            def: false,
            nreset: 0,
            choices: Vec::new(),
            cp: -1,
        }
    }

    fn choose(&mut self, n: usize) -> usize {
        if self.cp >= self.choices.len() as isize {
            // never asked this before: start with 0.
            self.choices.push((0, n));
            self.cp = self.choices.len() as isize;
            return 0;
        }
        // otherwise give recorded answer
        let (i, m) = self.choices[self.cp as usize];
        assert_eq!(n, m, "inconsistent choices");
        self.cp += 1;
        i
    }

    fn maybe(&mut self) -> bool {
        self.choose(2) == 0
    }

    fn maybe_default(&mut self) -> bool {
        if self.def {
            return false;
        }
        self.def = self.maybe();
        self.def
    }

    fn must_default(&self) -> bool {
        !self.def
    }

    fn reset(&mut self) {
        self.def = false;
        self.nreset += 1;
    }

    fn next(&mut self) -> bool {
        if self.cp < 0 {
            // start a new round
            self.cp = 0;
            return true;
        }
        // increment last choice sequence
        self.cp = self.choices.len() as isize - 1;
        while self.cp >= 0 {
            let (i, n) = self.choices[self.cp as usize];
            if i != n - 1 {
                break;
            }
            self.cp -= 1;
        }
        if self.cp < 0 {
            self.choices.clear();
            return false;
        }
        self.choices[self.cp as usize].0 += 1;
        self.choices.truncate(self.cp as usize + 1);
        self.cp = 0;
        true
    }
}

// Bits of `Case::arms`: the optional cases present, in Go's source order.
const DUMMY_SEND: u32 = 1 << 0;
const DUMMY_RECV: u32 = 1 << 1;
const NIL_SEND: u32 = 1 << 2;
const NIL_RECV: u32 = 1 << 3;
const DEFAULT: u32 = 1 << 4;

/// One generated Go test function, as data.
#[derive(Debug, Clone, Copy)]
enum Case {
    /// `recv`: `x = <-c` (`None`), or a select receiving in `form` 0–4
    /// (direct, through a pointer, `:=`, an interface, a map entry).
    Recv(Option<(usize, u32)>),
    /// `recvOrder`: plain form 0–1, or a select receiving in form 0–3.
    RecvOrder(Result<(usize, u32), usize>),
    /// `send`: `c <- n`, or a select.
    Send(Option<u32>),
    /// `sendOrder`: `fc(c, 1) <- fn(n, 2)`, or a select.
    SendOrder(Option<u32>),
    /// `nonblock`: a select with `default` and bits 0–7 of Go's eight
    /// optional non-ready cases.
    Nonblock(u32),
}

/// The four optional dummy cases of the recv/send templates, and where Go
/// puts `default` (before or after the main case: the same to `select!`).
fn dummies(a: &mut Arg, mut arms: u32) -> u32 {
    if a.maybe_default() {
        arms |= DEFAULT; // default after the main case
    }
    for bit in [DUMMY_SEND, DUMMY_RECV, NIL_SEND, NIL_RECV] {
        if a.maybe() {
            arms |= bit;
        }
    }
    arms
}

fn default_before(a: &mut Arg) -> u32 {
    if a.maybe_default() {
        DEFAULT
    } else {
        0
    }
}

/// The form of the receive: the first of `n - 1` maybes that holds, else
/// the last form (Go's nested `{{if .Maybe}}...{{else}}`).
fn form(a: &mut Arg, n: usize) -> usize {
    (0..n - 1).find(|_| a.maybe()).unwrap_or(n - 1)
}

fn recv_template(a: &mut Arg) -> Case {
    if a.maybe() {
        return Case::Recv(None);
    }
    let arms = default_before(a);
    let f = form(a, 5);
    Case::Recv(Some((f, dummies(a, arms))))
}

fn recv_order_template(a: &mut Arg) -> Case {
    if a.maybe() {
        return Case::RecvOrder(Err(0));
    }
    if a.maybe() {
        return Case::RecvOrder(Err(1));
    }
    let arms = default_before(a);
    let f = form(a, 4);
    Case::RecvOrder(Ok((f, dummies(a, arms))))
}

fn send_template(a: &mut Arg) -> Case {
    if a.maybe() {
        return Case::Send(None);
    }
    let arms = default_before(a);
    Case::Send(Some(dummies(a, arms)))
}

fn send_order_template(a: &mut Arg) -> Case {
    if a.maybe() {
        return Case::SendOrder(None);
    }
    let arms = default_before(a);
    Case::SendOrder(Some(dummies(a, arms)))
}

fn nonblock_template(a: &mut Arg) -> Case {
    a.maybe_default();
    let mut arms = 0;
    for bit in 0..8 {
        if a.maybe() {
            arms |= 1 << bit;
        }
    }
    assert!(a.def || a.must_default(), "nonblock always has a default");
    Case::Nonblock(arms)
}

/// Go's `main`: every path through each template, in Go's order.
fn generate() -> (Vec<Case>, usize) {
    let mut a = Arg::new();
    let mut cases = Vec::new();
    let templates: [fn(&mut Arg) -> Case; 5] = [
        recv_template,
        send_template,
        recv_order_template,
        send_order_template,
        nonblock_template,
    ];
    for t in templates {
        while a.next() {
            cases.push(t(&mut a));
            a.reset();
        }
    }
    (cases, a.nreset)
}

// ---- the generated program's globals and helpers ----

/// Go's globals of the generated program.
struct St {
    c_tx: Sender<i32>,
    c: Receiver<i32>,
    nil_tx: Sender<i32>,
    nilch: Receiver<i32>,
    dummy_tx: Sender<i32>,
    dummy: Receiver<i32>,
    n: i32,
    x: i32,
    i: Box<dyn Any + Send>,
    m: HashMap<i32, i32>,
}

static ORDER: AtomicI32 = AtomicI32::new(0);

/// Successive calls must have increasing `o` (0: not an order test).
fn checkorder(o: i32) {
    if o == 0 {
        return;
    }
    let order = ORDER.swap(o, Ordering::Relaxed);
    assert!(o > order, "invalid order {o} after {order}");
}

fn fc<T>(c: &T, o: i32) -> &T {
    checkorder(o);
    c
}

fn fp(p: &mut i32, o: i32) -> &mut i32 {
    checkorder(o);
    p
}

fn fn_(n: i32, o: i32) -> i32 {
    checkorder(o);
    n
}

fn f(p: &mut i32) -> &mut i32 {
    p
}

/// Emits one `if key == shape { return select! {..} }` per subset of the
/// optional arms (each numbered by its bit), after the main arms.
macro_rules! fork {
    ($key:ident ($k:expr) [$($arms:tt)*] [$bit:literal { $($opt:tt)* } $($rest:tt)*] [$($main:tt)*]) => {
        fork!($key ($k) [$($arms)*] [$($rest)*] [$($main)*]);
        fork!($key ($k | (1 << $bit)) [$($arms)* $($opt)*] [$($rest)*] [$($main)*]);
    };
    ($key:ident ($k:expr) [$($arms:tt)*] [] [$($main:tt)*]) => {
        if $key == $k {
            return weft::select! { $($main)* $($arms)* };
        }
    };
}

/// Evaluation-order numbers of a recv/send select: the main case's
/// channel and value, then the dummy cases' (0: not checked).
type Orders = [i32; 8];

/// A select receiving from `c` with the optional cases of `arms`; returns
/// the value received.
fn recv_select(s: &St, arms: u32, o: &Orders) -> i32 {
    fork!(arms (0) [] [
        0 { send(fc(&s.dummy_tx, o[2]), fn_(1, o[3])) -> _ => panic!("dummy send"), }
        1 { recv(fc(&s.dummy, o[4])) -> _ => panic!("dummy receive"), }
        2 { send(fc(&s.nil_tx, o[5]), fn_(1, o[6])) -> _ => panic!("nilch send"), }
        3 { recv(fc(&s.nilch, o[7])) -> _ => panic!("nilch recv"), }
        4 { default => panic!("nonblock"), }
    ] [ recv(fc(&s.c, o[0])) -> v => v.unwrap(), ]);
    unreachable!("no select shape {arms:#b}")
}

/// A select sending `n` on `c` with the optional cases of `arms`.
fn send_select(s: &St, arms: u32, o: &Orders) {
    fork!(arms (0) [] [
        0 { send(fc(&s.dummy_tx, o[2]), fn_(1, o[3])) -> _ => panic!("dummy send"), }
        1 { recv(fc(&s.dummy, o[4])) -> _ => panic!("dummy receive"), }
        2 { send(fc(&s.nil_tx, o[5]), fn_(1, o[6])) -> _ => panic!("nilch send"), }
        3 { recv(fc(&s.nilch, o[7])) -> _ => panic!("nilch recv"), }
        4 { default => panic!("nonblock"), }
    ] [ send(fc(&s.c_tx, o[0]), fn_(s.n, o[1])) -> r => r.unwrap(), ]);
    unreachable!("no select shape {arms:#b}")
}

/// Go's `nonblock` select: `default` and the optional non-ready cases of
/// `arms` (Go's eight: a send on `dummy` and on `nilch`, then three
/// receives from `dummy` — discarding, into `x`, into a nil pointer — and
/// the same three from `nilch`). None may run, so neither may their
/// assignments; to `select!` the three receives from one channel are the
/// same case, so the shape depends on how many of them there are (the
/// same channel in up to three cases).
fn nonblock_select(s: &St, arms: u32) {
    let dummy_recvs = (arms >> 2 & 0b111).count_ones();
    let nil_recvs = (arms >> 5 & 0b111).count_ones();
    let shape = (arms & 0b11) | dummy_recvs << 2 | nil_recvs << 4;
    fork!(shape (0) [] [
        0 { send(s.dummy_tx, 1) -> _ => panic!("dummy <- 1"), }
        1 { send(s.nil_tx, 1) -> _ => panic!("nilch <- 1"), }
        2 { recv(s.dummy) -> _ => panic!("<-dummy"), }
        3 {
            recv(s.dummy) -> _ => panic!("<-dummy"),
            recv(s.dummy) -> _ => panic!("<-dummy"),
        }
        4 { recv(s.nilch) -> _ => panic!("<-nilch"), }
        5 {
            recv(s.nilch) -> _ => panic!("<-nilch"),
            recv(s.nilch) -> _ => panic!("<-nilch"),
        }
    ] [ default => {}, ]);
    unreachable!("no select shape {shape:#b}")
}

/// Stores a received value the way receive form `form` of `recv` does.
fn recv_form(s: &mut St, form: usize, v: i32) {
    match form {
        0 => s.x = v,          // case x = <-c:
        1 => *f(&mut s.x) = v, // case *f(&x) = <-c:
        2 => {
            // case y := <-c: x = y
            let y = v;
            s.x = y;
        }
        3 => via_interface(s, v), // case i = <-c: x = i.(int)
        _ => via_map(s, 13, v),   // case m[13] = <-c: x = m[13]
    }
}

/// `case i = <-c: x = i.(int)`.
fn via_interface(s: &mut St, v: i32) {
    s.i = Box::new(v);
    s.x = *s.i.downcast_ref::<i32>().unwrap();
}

/// `case m[k] = <-c: x = m[13]`.
fn via_map(s: &mut St, k: i32, v: i32) {
    s.m.insert(k, v);
    s.x = s.m[&13];
}

/// As [`recv_form`] for `recvOrder`, whose left-hand sides check that they
/// are evaluated after the receive (order 100).
fn recv_order_form(s: &mut St, form: usize, v: i32) {
    match form {
        0 => *fp(&mut s.x, 100) = v, // case *fp(&x, 100) = <-fc(c, 1):
        1 => s.x = v,                // case y := <-fc(c, 1): x = y
        2 => via_interface(s, v),    // case i = <-fc(c, 1): x = i.(int)
        _ => {
            // case m[fn(13, 100)] = <-fc(c, 1): x = m[13]
            let k = fn_(13, 100);
            via_map(s, k, v);
        }
    }
}

const NO_ORDER: Orders = [0; 8];
const RECV_ORDER: Orders = [1, 0, 2, 3, 4, 5, 6, 7];
const SEND_ORDER: Orders = [1, 2, 3, 4, 5, 6, 7, 8];

fn run_case(s: &mut St, case: Case) {
    ORDER.store(0, Ordering::Relaxed);
    match case {
        Case::Recv(sel) => {
            // Send n, receive it one way or another into x.
            s.c_tx.send(s.n).unwrap();
            match sel {
                None => s.x = s.c.recv().unwrap(),
                Some((form, arms)) => {
                    let v = recv_select(s, arms, &NO_ORDER);
                    recv_form(s, form, v);
                }
            }
        }
        Case::RecvOrder(sel) => {
            s.c_tx.send(s.n).unwrap();
            match sel {
                // Outside of select, left-to-right rule applies.
                Err(0) => {
                    let p = fp(&mut s.x, 1);
                    *p = fc(&s.c, 2).recv().unwrap();
                }
                Err(_) => {
                    let k = fn_(13, 1);
                    let v = fc(&s.c, 2).recv().unwrap();
                    via_map(s, k, v);
                }
                // Inside select, assignment waits until the case is chosen,
                // so the right-hand side happens before anything on the
                // left-hand side.
                Ok((form, arms)) => {
                    let v = recv_select(s, arms, &RECV_ORDER);
                    recv_order_form(s, form, v);
                }
            }
        }
        Case::Send(sel) => {
            match sel {
                None => s.c_tx.send(s.n).unwrap(),
                Some(arms) => send_select(s, arms, &NO_ORDER),
            }
            s.x = s.c.recv().unwrap();
        }
        Case::SendOrder(sel) => {
            match sel {
                None => fc(&s.c_tx, 1).send(fn_(s.n, 2)).unwrap(),
                Some(arms) => send_select(s, arms, &SEND_ORDER),
            }
            s.x = s.c.recv().unwrap();
        }
        Case::Nonblock(arms) => {
            s.x = s.n;
            nonblock_select(s, arms);
        }
    }
    assert_eq!(s.x, s.n, "have {} want {} ({case:?})", s.x, s.n);
    s.n += 1;
}

#[test]
fn select5() {
    let (cases, nreset) = generate();
    // Go's generated program ends with "// 1045 cases" (one per reset).
    assert_eq!(nreset, cases.len());
    assert_eq!(cases.len(), 1045, "Go's enumeration yields 1,045 tests");
    common::run(move || {
        // channel is buffered so test is single-goroutine.
        let (c_tx, c) = chan(1);
        let (dummy_tx, dummy) = chan(0);
        let mut s = St {
            c_tx,
            c,
            nil_tx: never_sender(),
            nilch: never(),
            dummy_tx,
            dummy,
            n: 1,
            x: 0,
            i: Box::new(()),
            m: HashMap::new(),
        };
        for case in cases {
            run_case(&mut s, case);
        }
    });
}
