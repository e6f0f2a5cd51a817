//! Port of Go's `test/chan/nonblock.go`: channel operations that test for
//! blocking (a `select` with `default`), with several sizes and types of
//! operand, on unbuffered and buffered channels.
//!
//! Go writes the same sequence out once per type (int32, int64, bool,
//! string); here it is one generic function called per type. Go's
//! `sleep()` — two ticks of a shared 10 µs ticker, then three `Gosched` —
//! is kept as is.

use std::fmt::Debug;
use std::time::Instant;

use weft::time::tick;
use weft::{chan, select, Receiver, Sender};

use crate::common::{self, us};

/// Up to 100 ms per test.
const MAX_TRIES: u32 = 10_000;

fn sleep(ticker: &Receiver<Instant>) {
    ticker.recv().unwrap();
    ticker.recv().unwrap();
    weft::yield_now();
    weft::yield_now();
    weft::yield_now();
}

/// One type's sequence: `receiver` expects `to_receiver`, `sender` sends
/// `from_sender`.
fn exercise<T>(
    buffer: usize,
    ticker: &Receiver<Instant>,
    sync: (&Sender<bool>, &Receiver<bool>),
    to_receiver: T,
    from_sender: T,
) where
    T: PartialEq + Debug + Clone + Send + 'static,
{
    let name = std::any::type_name::<T>();
    let (c_tx, c) = chan::<T>(buffer);

    select! {
        recv(c) -> _ => panic!("blocked {name} sender"),
        default => {}
    }

    // receiver
    let (rx, strobe, want) = (c.clone(), sync.0.clone(), to_receiver.clone());
    weft::go!(move || {
        assert_eq!(rx.recv().unwrap(), want, "{name} value");
        strobe.send(true).unwrap();
    });
    let mut tries = 0;
    loop {
        select! {
            send(c_tx, to_receiver.clone()) -> r => { r.unwrap(); break }
            default => {
                tries += 1;
                assert!(tries <= MAX_TRIES, "{name} receiver buffer={buffer}");
                sleep(ticker);
            }
        }
    }
    sync.1.recv().unwrap();

    // sender
    let (tx, strobe, v) = (c_tx.clone(), sync.0.clone(), from_sender.clone());
    weft::go!(move || {
        tx.send(v).unwrap();
        strobe.send(true).unwrap();
    });
    if buffer > 0 {
        sync.1.recv().unwrap();
    }
    let mut tries = 0;
    let got = loop {
        select! {
            recv(c) -> v => break v.unwrap(),
            default => {
                tries += 1;
                assert!(tries <= MAX_TRIES, "{name} sender buffer={buffer}");
                sleep(ticker);
            }
        }
    };
    assert_eq!(got, from_sender, "{name} sender value");
    if buffer == 0 {
        sync.1.recv().unwrap();
    }
}

#[test]
fn nonblock() {
    common::run(|| {
        let ticker = tick(us(10));
        let (sync_tx, sync_rx) = chan::<bool>(0);
        let sync = (&sync_tx, &sync_rx);
        for buffer in 0..2 {
            exercise::<i32>(buffer, &ticker, sync, 123, 234);
            exercise::<i64>(buffer, &ticker, sync, 123_456, 234_567);
            exercise::<bool>(buffer, &ticker, sync, true, true);
            exercise::<String>(buffer, &ticker, sync, "hello".into(), "hello again".into());
        }
    });
}
