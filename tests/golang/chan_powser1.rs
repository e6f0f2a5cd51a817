//! Port of Go's `test/chan/powser1.go`: Doug McIlroy's power series on
//! channels ("Squinting at Power Series"). A power series is a demand
//! channel pair — a request channel and a data channel of rationals; a
//! denominator of zero marks the end. Every operator is a goroutine; the
//! test checks the first terms of sums, products, derivatives, integrals,
//! exp and atan.
//!
//! Go's `dch2` is a pointer to an array that generations of `dosplit`
//! share and swap in place; here it is an `Arc<Mutex<[PS; 2]>>`, locked
//! only to read or swap the pair (never across a channel operation). Go's
//! racy global `seqno` is an atomic. The functions the test never calls
//! (Recip, Subst, Binom, Mon, Xmul, Shift, the printing mode) are left out.
//! As in Go, the generators run forever: they are abandoned, parked, when
//! the test returns.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use weft::sync::Mutex;
use weft::{chan, never, never_sender, select, Receiver, Sender};

use crate::common;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Rat {
    num: i64,
    den: i64,
}

struct Dch {
    req: (Sender<i32>, Receiver<i32>),
    dat: (Sender<Rat>, Receiver<Rat>),
}

/// A power series.
type Ps = Arc<Dch>;
/// A pair of power series, shared (and swapped) by `dosplit` generations.
type Ps2 = Arc<Mutex<[Ps; 2]>>;

static SEQNO: AtomicI32 = AtomicI32::new(0);

fn next_seqno() -> i32 {
    SEQNO.fetch_add(1, Ordering::Relaxed) + 1
}

fn mk_ps() -> Ps {
    Arc::new(Dch {
        req: chan(0),
        dat: chan(0),
    })
}

fn mk_ps2() -> Ps2 {
    Arc::new(Mutex::new([mk_ps(), mk_ps()]))
}

fn pair(out: &Ps2) -> (Ps, Ps) {
    let o = out.lock();
    (o[0].clone(), o[1].clone())
}

// split reads a single demand channel and replicates its output onto two,
// which may be read at different rates. A process is created at first
// demand for a rat and dies after the rat has been sent to both outputs.
//
// When multiple generations of split exist, the newest will service
// requests on one channel, which is always renamed to be out[0]; the oldest
// will service requests on the other channel, out[1]. All generations but
// the newest hold queued data that has already been sent to out[0]. When
// data has finally been sent to out[1], a signal on the release-wait
// channel tells the next newer generation to begin servicing out[1].
fn dosplit(input: Ps, out: Ps2, wait: Receiver<i32>) {
    let mut both = false; // do not service both channels
    let (o0, _) = pair(&out);
    select! {
        recv(o0.req.1) -> r => { r.unwrap(); }
        recv(wait) -> r => {
            r.unwrap();
            both = true;
            let (o0, o1) = pair(&out);
            select! {
                recv(o0.req.1) -> r => { r.unwrap(); }
                recv(o1.req.1) -> r => {
                    r.unwrap();
                    out.lock().swap(0, 1);
                }
            }
        }
    }
    input.req.0.send(next_seqno()).unwrap();
    let (release, release_rx) = chan(0);
    let (i, o) = (input.clone(), out.clone());
    weft::go!(move || dosplit(i, o, release_rx));
    let dat = input.dat.1.recv().unwrap();
    pair(&out).0.dat.0.send(dat).unwrap();
    if !both {
        wait.recv().unwrap();
    }
    let (_, o1) = pair(&out);
    o1.req.1.recv().unwrap();
    o1.dat.0.send(dat).unwrap();
    release.send(0).unwrap();
}

fn split(input: Ps, out: Ps2) {
    let (release, release_rx) = chan(0);
    weft::go!(move || dosplit(input, out, release_rx));
    release.send(0).unwrap();
}

fn put(dat: Rat, out: &Ps) {
    out.req.1.recv().unwrap();
    out.dat.0.send(dat).unwrap();
}

fn get(input: &Ps) -> Rat {
    input.req.0.send(next_seqno()).unwrap();
    input.dat.1.recv().unwrap()
}

/// Gets one rat from each of two demand channels.
fn getn(input: [&Ps; 2]) -> [Rat; 2] {
    let mut req = [input[0].req.0.clone(), input[1].req.0.clone()];
    let mut dat: [Receiver<Rat>; 2] = [never(), never()];
    let mut out = [Rat { num: 0, den: 0 }; 2];
    for _ in 0..4 {
        let seqno = next_seqno();
        select! {
            send(req[0], seqno) -> r => {
                r.unwrap();
                dat[0] = input[0].dat.1.clone();
                req[0] = never_sender();
            }
            send(req[1], seqno) -> r => {
                r.unwrap();
                dat[1] = input[1].dat.1.clone();
                req[1] = never_sender();
            }
            recv(dat[0]) -> it => {
                out[0] = it.unwrap();
                dat[0] = never();
            }
            recv(dat[1]) -> it => {
                out[1] = it.unwrap();
                dat[1] = never();
            }
        }
    }
    out
}

fn get2(in0: &Ps, in1: &Ps) -> [Rat; 2] {
    getn([in0, in1])
}

fn copy(input: &Ps, out: &Ps) -> ! {
    loop {
        out.req.1.recv().unwrap();
        out.dat.0.send(get(input)).unwrap();
    }
}

fn repeat(dat: Rat, out: &Ps) -> ! {
    loop {
        put(dat, out);
    }
}

// ---- rationals ----

fn gcd(u: i64, v: i64) -> i64 {
    if u < 0 {
        return gcd(-u, v);
    }
    if u == 0 {
        return v;
    }
    gcd(v % u, u)
}

fn i2tor(u: i64, v: i64) -> Rat {
    let g = gcd(u, v);
    if v > 0 {
        Rat {
            num: u / g,
            den: v / g,
        }
    } else {
        Rat {
            num: -u / g,
            den: -v / g,
        }
    }
}

fn itor(u: i64) -> Rat {
    i2tor(u, 1)
}

fn zero() -> Rat {
    itor(0)
}

fn one() -> Rat {
    itor(1)
}

/// The end mark.
fn finis() -> Rat {
    i2tor(1, 0)
}

fn end(u: Rat) -> i64 {
    i64::from(u.den == 0)
}

fn add(u: Rat, v: Rat) -> Rat {
    let g = gcd(u.den, v.den);
    i2tor(
        u.num * (v.den / g) + v.num * (u.den / g),
        u.den * (v.den / g),
    )
}

fn mul(u: Rat, v: Rat) -> Rat {
    let g1 = gcd(u.num, v.den);
    let g2 = gcd(u.den, v.num);
    Rat {
        num: (u.num / g1) * (v.num / g2),
        den: (u.den / g2) * (v.den / g1),
    }
}

fn neg(u: Rat) -> Rat {
    i2tor(-u.num, u.den)
}

// ---- power series operators: each starts a goroutine ----

/// A pair of power series identical to `u`.
#[allow(non_snake_case)]
fn Split(u: Ps) -> Ps2 {
    let uu = mk_ps2();
    let o = uu.clone();
    weft::go!(move || split(u, o));
    uu
}

#[allow(non_snake_case)]
fn Add(u: Ps, v: Ps) -> Ps {
    let z = mk_ps();
    let zz = z.clone();
    weft::go!(move || loop {
        zz.req.1.recv().unwrap();
        let uv = get2(&u, &v);
        match end(uv[0]) + 2 * end(uv[1]) {
            0 => zz.dat.0.send(add(uv[0], uv[1])).unwrap(),
            1 => {
                zz.dat.0.send(uv[1]).unwrap();
                copy(&v, &zz);
            }
            2 => {
                zz.dat.0.send(uv[0]).unwrap();
                copy(&u, &zz);
            }
            _ => zz.dat.0.send(finis()).unwrap(),
        }
    });
    z
}

/// Multiplies a power series by a constant.
#[allow(non_snake_case)]
fn Cmul(c: Rat, u: Ps) -> Ps {
    let z = mk_ps();
    let zz = z.clone();
    weft::go!(move || {
        let mut done = false;
        while !done {
            zz.req.1.recv().unwrap();
            let u = get(&u);
            if end(u) != 0 {
                done = true;
            } else {
                zz.dat.0.send(mul(c, u)).unwrap();
            }
        }
        zz.dat.0.send(finis()).unwrap();
    });
    z
}

#[allow(non_snake_case)]
fn Sub(u: Ps, v: Ps) -> Ps {
    Add(u, Cmul(neg(one()), v))
}

#[allow(non_snake_case)]
fn Rep(c: Rat) -> Ps {
    let z = mk_ps();
    let zz = z.clone();
    weft::go!(move || repeat(c, &zz));
    z
}

// Multiply. The algorithm is
//	let U = u + x*UU
//	let V = v + x*VV
//	then UV = u*v + x*(u*VV+v*UU) + x*x*UU*VV
#[allow(non_snake_case)]
fn Mul(u: Ps, v: Ps) -> Ps {
    let z = mk_ps();
    let zz = z.clone();
    weft::go!(move || {
        zz.req.1.recv().unwrap();
        let uv = get2(&u, &v);
        if end(uv[0]) != 0 || end(uv[1]) != 0 {
            zz.dat.0.send(finis()).unwrap();
        } else {
            zz.dat.0.send(mul(uv[0], uv[1])).unwrap();
            let uu = Split(u);
            let vv = Split(v);
            // Go reads UU[0], VV[0] here and UU[1], VV[1] below: dosplit
            // may have swapped the pair in between.
            let w = Add(Cmul(uv[0], pair(&vv).0), Cmul(uv[1], pair(&uu).0));
            zz.req.1.recv().unwrap();
            zz.dat.0.send(get(&w)).unwrap();
            copy(&Add(w, Mul(pair(&uu).1, pair(&vv).1)), &zz);
        }
    });
    z
}

/// Differentiates.
#[allow(non_snake_case)]
fn Diff(u: Ps) -> Ps {
    let z = mk_ps();
    let zz = z.clone();
    weft::go!(move || {
        zz.req.1.recv().unwrap();
        let mut uv = get(&u);
        if end(uv) == 0 {
            let mut done = false;
            let mut i = 1;
            while !done {
                uv = get(&u);
                if end(uv) != 0 {
                    done = true;
                } else {
                    zz.dat.0.send(mul(itor(i), uv)).unwrap();
                    zz.req.1.recv().unwrap();
                }
                i += 1;
            }
        }
        zz.dat.0.send(finis()).unwrap();
    });
    z
}

/// Integrates, with constant of integration `c`.
#[allow(non_snake_case)]
fn Integ(c: Rat, u: Ps) -> Ps {
    let z = mk_ps();
    let zz = z.clone();
    weft::go!(move || {
        put(c, &zz);
        let mut done = false;
        let mut i = 1;
        while !done {
            zz.req.1.recv().unwrap();
            let uv = get(&u);
            if end(uv) != 0 {
                done = true;
            }
            zz.dat.0.send(mul(i2tor(1, i), uv)).unwrap();
            i += 1;
        }
        zz.dat.0.send(finis()).unwrap();
    });
    z
}

// Exponential of a power series with constant term 0
// (nonzero constant term would make nonrational coefficients)
// bug: the constant term is simply ignored
//	Z = exp(U)
//	DZ = Z*DU
//	integrate to get Z
#[allow(non_snake_case)]
fn Exp(u: Ps) -> Ps {
    let zz = mk_ps2();
    let zz0 = pair(&zz).0;
    split(Integ(one(), Mul(zz0, Diff(u))), zz.clone());
    pair(&zz).1
}

/// Monomial substitution: U(c x^n). Each Ui is multiplied by c^i and
/// followed by n-1 zeros.
#[allow(non_snake_case)]
fn MonSubst(u: Ps, c0: Rat, n: i32) -> Ps {
    let z = mk_ps();
    let zz = z.clone();
    weft::go!(move || {
        let mut c = one();
        loop {
            zz.req.1.recv().unwrap();
            let uv = get(&u);
            zz.dat.0.send(mul(uv, c)).unwrap();
            c = mul(c, c0);
            if end(uv) != 0 {
                zz.dat.0.send(finis()).unwrap();
                break;
            }
            for _ in 1..n {
                zz.req.1.recv().unwrap();
                zz.dat.0.send(zero()).unwrap();
            }
        }
    });
    z
}

fn check(u: &Ps, c: Rat, count: usize, what: &str) {
    for _ in 0..count {
        let r = get(u);
        assert_eq!(r, c, "{what}");
    }
}

const N: usize = 10;

fn checka(u: &Ps, a: &[Rat], what: &str) {
    for r in a.iter().take(N) {
        check(u, *r, 1, what);
    }
}

#[test]
fn powser1() {
    common::run(|| {
        let ones = Rep(one());
        let twos = Rep(itor(2));
        check(&ones, one(), 5, "Ones");
        check(
            &Add(ones.clone(), ones.clone()),
            itor(2),
            0,
            "Add Ones Ones",
        ); // 1 1 1 1 1
        check(
            &Add(ones.clone(), twos.clone()),
            itor(3),
            0,
            "Add Ones Twos",
        ); // 3 3 3 3 3
        let mut a = [zero(); N];
        let d = Diff(ones.clone());
        for (i, r) in a.iter_mut().enumerate() {
            *r = itor(i as i64 + 1);
        }
        checka(&d, &a, "Diff"); // 1 2 3 4 5
        let integ = Integ(zero(), ones.clone());
        a[0] = zero(); // integration constant
        for (i, r) in a.iter_mut().enumerate().skip(1) {
            *r = i2tor(1, i as i64);
        }
        checka(&integ, &a, "Integ"); // 0 1 1/2 1/3 1/4 1/5
        check(&Cmul(neg(one()), twos.clone()), itor(-2), 10, "CMul"); // -1 -1 -1 -1 -1
        check(
            &Sub(ones.clone(), twos.clone()),
            itor(-1),
            0,
            "Sub Ones Twos",
        ); // -1 -1 -1 -1 -1
        let m = Mul(ones.clone(), ones.clone());
        for (i, r) in a.iter_mut().enumerate() {
            *r = itor(i as i64 + 1);
        }
        checka(&m, &a, "Mul"); // 1 2 3 4 5
        let e = Exp(ones.clone());
        let want = [
            itor(1),
            itor(1),
            i2tor(3, 2),
            i2tor(13, 6),
            i2tor(73, 24),
            i2tor(167, 40),
            i2tor(4051, 720),
            i2tor(37633, 5040),
            i2tor(43817, 4480),
            i2tor(4596553, 362880),
        ];
        checka(&e, &want, "Exp"); // 1 1 3/2 13/6 73/24
        let at = Integ(zero(), MonSubst(ones.clone(), neg(one()), 2));
        let mut c = 1;
        for (i, r) in a.iter_mut().enumerate() {
            if i % 2 == 0 {
                *r = zero();
            } else {
                *r = i2tor(c, i as i64);
                c *= -1;
            }
        }
        checka(&at, &a, "ATan"); // 0 -1 0 -1/3 0 -1/5
    });
}
