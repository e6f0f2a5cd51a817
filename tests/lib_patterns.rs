//! `weft::patterns`: each stage gives the seed's output, and each stops
//! and leaks no goroutine when its done channel closes — also while it is
//! blocked on a send nobody takes or a receive nothing feeds — and when
//! its consumer goes away: `num_goroutine` comes back to its baseline
//! after each. test.sh runs this file again under
//! WEFT_SPAWN=continuation|child × WEFT_MAXPROCS=1|2.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft::patterns::{
    bridge, fan_in, generator, heartbeat, or, or_done, repeat, repeat_fn, steward, steward_with,
    take, tee,
};
use weft::{chan, context, Receiver, Sender};

/// Every test here runs alone: they count the process's goroutines.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` as a goroutine, alone, and checks that the goroutines it
/// started are all gone afterwards (goroutine exit is asynchronous: poll
/// for up to 20 s).
fn leak_checked(f: impl FnOnce() + Send + 'static) {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    weft::run(move || {
        let baseline = weft::num_goroutine();
        f();
        wait_for_baseline(baseline);
    });
}

fn wait_for_baseline(baseline: usize) {
    let start = Instant::now();
    loop {
        let n = weft::num_goroutine();
        if n <= baseline {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} goroutine(s) leaked (baseline {baseline}, now {n})",
            n - baseline
        );
        weft::time::sleep(Duration::from_millis(1));
    }
}

fn done_chan() -> (Sender<()>, Receiver<()>) {
    chan(0)
}

#[test]
fn generator_sends_its_values_and_stops() {
    leak_checked(|| {
        let (_d, done) = done_chan();
        let got: Vec<i32> = generator(&done, vec![1, 2, 3, 4]).iter().collect();
        assert_eq!(got, [1, 2, 3, 4]);
        // Stopped by done while blocked on a send.
        let (d, done) = done_chan();
        let g = generator(&done, 0..);
        assert_eq!(g.recv(), Ok(0));
        drop(d);
        for _ in g.iter() {}
        // Stopped by its consumer going away.
        let (_d, done) = done_chan();
        let g = generator(&done, 0..);
        assert_eq!(g.recv(), Ok(0));
        drop(g);
    });
}

/// The seed's pipeline: generator → multiply 2 → add 1 → multiply 2.
#[test]
fn a_pipeline_of_stages_gives_the_seeds_output() {
    leak_checked(|| {
        fn map(done: &Receiver<()>, input: Receiver<i32>, f: fn(i32) -> i32) -> Receiver<i32> {
            let (tx, rx) = chan(0);
            let done = done.clone();
            weft::go!(move || {
                for v in &input {
                    weft::select! {
                        recv(done) -> _ => return,
                        send(tx, f(v)) -> _ => {}
                    }
                }
            });
            rx
        }
        let (_d, done) = done_chan();
        let ints = generator(&done, [1, 2, 3, 4]);
        let p = map(
            &done,
            map(&done, map(&done, ints, |v| v * 2), |v| v + 1),
            |v| v * 2,
        );
        assert_eq!(p.iter().collect::<Vec<_>>(), [6, 10, 14, 18]);
    });
}

#[test]
fn repeat_and_take_give_the_seeds_output() {
    leak_checked(|| {
        let (d, done) = done_chan();
        let got: Vec<i32> = take(&done, repeat(&done, vec![1]), 10).iter().collect();
        assert_eq!(got, [1; 10]);
        // repeat is still blocked on a send: done stops it.
        drop(d);
        let (_d, done) = done_chan();
        let none: Vec<u8> = repeat(&done, vec![]).iter().collect();
        assert!(none.is_empty());
    });
}

#[test]
fn repeat_fn_calls_its_function_for_each_value() {
    leak_checked(|| {
        let (d, done) = done_chan();
        let mut n = 0;
        let r = repeat_fn(&done, move || {
            n += 1;
            n
        });
        assert_eq!(
            take(&done, r, 5).iter().collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        drop(d);
    });
}

#[test]
fn take_stops_early_when_its_input_closes_or_done_closes() {
    leak_checked(|| {
        let (_d, done) = done_chan();
        let got: Vec<i32> = take(&done, generator(&done, [1, 2]), 10).iter().collect();
        assert_eq!(got, [1, 2]);
        // Blocked on a receive from an input that never sends.
        let (d, done) = done_chan();
        let (_keep, idle) = chan::<i32>(0);
        let t = take(&done, idle, 3);
        drop(d);
        assert_eq!(t.recv().ok(), None);
    });
}

#[test]
fn or_closes_when_any_input_closes() {
    leak_checked(|| {
        let (txs, rxs): (Vec<Sender<()>>, Vec<Receiver<()>>) = (0..5).map(|_| chan(0)).unzip();
        let any = or(rxs);
        assert!(any.try_recv().is_err() && !any.is_closed());
        let mut txs = txs;
        txs.remove(3); // closes input 3
        assert!(any.recv().is_err());
        drop(txs);
        // No inputs: never ready; one: itself.
        assert!(or::<()>(vec![]).try_recv().is_err());
        let (t, r) = chan::<()>(0);
        let one = or(vec![r]);
        drop(t);
        assert!(one.recv().is_err());
    });
}

#[test]
fn or_done_reads_until_input_or_done_closes() {
    leak_checked(|| {
        let (_d, done) = done_chan();
        let got: Vec<i32> = or_done(&done, generator(&done, [1, 2, 3])).iter().collect();
        assert_eq!(got, [1, 2, 3]);
        // Blocked on a receive.
        let (d, done) = done_chan();
        let (_keep, idle) = chan::<i32>(0);
        let o = or_done(&done, idle);
        drop(d);
        assert_eq!(o.recv().ok(), None);
        // Blocked on a send nobody takes.
        let (d, done) = done_chan();
        let o = or_done(&done, repeat(&done, vec![5]));
        assert_eq!(o.recv(), Ok(5));
        drop(d);
        drop(o);
        // A context as the done channel.
        let (ctx, cancel) = context::with_cancel(&context::background());
        let o = or_done(&ctx.done(), repeat(&ctx.done(), vec![1]));
        assert_eq!(o.recv(), Ok(1));
        cancel.cancel();
        for _ in &o {}
    });
}

#[test]
fn tee_gives_each_value_to_both_outputs() {
    leak_checked(|| {
        let (_d, done) = done_chan();
        let (out1, out2) = tee(&done, take(&done, repeat(&done, vec![1, 2]), 4));
        let mut pairs = Vec::new();
        for v1 in &out1 {
            pairs.push((v1, out2.recv().unwrap()));
        }
        assert_eq!(pairs, [(1, 1), (2, 2), (1, 1), (2, 2)]);
        assert!(out2.recv().is_err());
        // Stopped by done while neither output is read.
        let (d, done) = done_chan();
        let (a, b) = tee(&done, repeat(&done, vec![0u8]));
        drop(d);
        for _ in &a {}
        for _ in &b {}
        // One output dropped: the other goes on alone.
        let (_d, done) = done_chan();
        let (a, b) = tee(&done, generator(&done, 0..100));
        drop(b);
        assert_eq!(a.iter().count(), 100);
    });
}

#[test]
fn bridge_flattens_a_channel_of_channels() {
    leak_checked(|| {
        let (_d, done) = done_chan();
        let (streams_tx, streams) = chan::<Receiver<i32>>(0);
        weft::go!(move || {
            for i in 0..10 {
                let (tx, rx) = chan(1);
                tx.send(i).unwrap();
                streams_tx.send(rx).unwrap();
            }
        });
        let got: Vec<i32> = bridge(&done, streams).iter().collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        // Blocked inside an inner stream that never ends.
        let (d, done) = done_chan();
        let (streams_tx, streams) = chan::<Receiver<i32>>(1);
        streams_tx.send(repeat(&done, vec![7])).unwrap();
        let b = bridge(&done, streams);
        assert_eq!(b.recv(), Ok(7));
        drop(d);
        for _ in &b {}
        drop(streams_tx);
    });
}

#[test]
fn fan_in_merges_every_value_exactly_once() {
    leak_checked(|| {
        let (_d, done) = done_chan();
        let inputs: Vec<Receiver<u32>> = (0..4)
            .map(|k| generator(&done, (k * 1000)..(k * 1000 + 1000)))
            .collect();
        let mut got: Vec<u32> = fan_in(&done, inputs).iter().collect();
        got.sort_unstable();
        let want: Vec<u32> = (0..4000).collect();
        assert_eq!(got, want);
        // Stopped by done mid-stream, and with no inputs at all.
        let (d, done) = done_chan();
        let merged = fan_in(&done, vec![repeat(&done, vec![1]), repeat(&done, vec![2])]);
        assert!(merged.recv().is_ok());
        drop(d);
        for _ in &merged {}
        let (_d, done) = done_chan();
        assert!(fan_in::<u8>(&done, vec![]).recv().is_err());
    });
}

#[test]
fn heartbeats_never_block_and_close_with_their_worker() {
    leak_checked(|| {
        let (hb, beats) = heartbeat(Duration::ZERO);
        for _ in 0..10 {
            hb.beat();
        }
        assert_eq!(beats.len(), 1);
        assert_eq!(hb.tick().try_recv().ok(), None);
        drop(hb);
        assert_eq!(beats.recv(), Ok(()));
        assert!(beats.recv().is_err(), "dropping the heartbeat closes it");

        // The seed's interval heartbeat, stopped by done.
        let (d, done) = done_chan();
        let (hb, beats) = heartbeat(Duration::from_millis(2));
        let worker = weft::go!(move || loop {
            weft::select! {
                recv(done) -> _ => return,
                recv(hb.tick()) -> _ => hb.beat(),
            }
        });
        for _ in 0..3 {
            assert_eq!(beats.recv(), Ok(()));
        }
        drop(d);
        worker.join().unwrap();
        for _ in &beats {}
    });
}

/// A ward that never beats is restarted every timeout; a steward stops
/// with its ward (and the `or` goroutines between them) when done closes.
#[test]
fn a_steward_restarts_an_unhealthy_ward_and_stops_with_done() {
    leak_checked(|| {
        let starts = Arc::new(AtomicU32::new(0));
        let s = starts.clone();
        let ward = move |done: Receiver<()>, _pulse: Duration| {
            s.fetch_add(1, Ordering::SeqCst);
            let (hb_tx, hb) = chan::<()>(0);
            weft::go!(move || {
                let _keep = hb_tx; // never beats
                for _ in &done {}
            });
            hb
        };
        let (restarts_tx, restarts) = chan::<()>(64);
        let start = steward_with(Duration::from_millis(5), ward, move || {
            let _ = restarts_tx.try_send(());
        });
        let (d, done) = done_chan();
        let beats = start(done, Duration::from_millis(2));
        for _ in 0..3 {
            restarts.recv().unwrap();
        }
        // The first start, and at least the first two restarts (the third
        // may still be on its way: `on_restart` runs just before it).
        assert!(starts.load(Ordering::SeqCst) >= 3);
        assert_eq!(beats.recv(), Ok(()), "the steward itself pulses");
        drop(d);
        for _ in &beats {}
    });
}

#[test]
fn a_healthy_ward_is_left_alone() {
    leak_checked(|| {
        let starts = Arc::new(AtomicU32::new(0));
        let s = starts.clone();
        let ward = move |done: Receiver<()>, pulse: Duration| {
            s.fetch_add(1, Ordering::SeqCst);
            // Beats ten times as often as asked.
            let (hb, beats) = heartbeat(pulse / 10);
            weft::go!(move || loop {
                weft::select! {
                    recv(done) -> _ => return,
                    recv(hb.tick()) -> _ => hb.beat(),
                }
            });
            beats
        };
        // Timeout 100 ms; the ward beats every 5 ms; watch 6 timeouts. A
        // steward deaf to beats restarts it about 6 times; a healthy one
        // not at all (one restart is tolerated: a shared machine may stall
        // the process for a whole timeout).
        let start = steward(Duration::from_millis(100), ward);
        let (d, done) = done_chan();
        let _beats = start(done, Duration::from_millis(50));
        weft::time::sleep(Duration::from_millis(600));
        let restarts = starts.load(Ordering::SeqCst).saturating_sub(1);
        assert!(
            restarts <= 1,
            "a healthy ward was restarted {restarts} times"
        );
        drop(d);
    });
}
