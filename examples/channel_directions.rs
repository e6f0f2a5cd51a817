//! Port of Go by Example "Channel Directions" (seed 002,
//! `channel-directions.go`; seed 000's "example: channel direction" is the
//! same program).
//!
//! Go's `chan<- string` is a [`weft::Sender`] and `<-chan string` a
//! [`weft::Receiver`]: receiving on a `Sender` is a compile-time error, as
//! in Go.
//!
//! Prints: `passed message`

use weft::{Receiver, Sender};

// `pings: &Sender<String>`: a channel for sending values only.
fn ping(pings: &Sender<String>, msg: &str) {
    pings.send(msg.to_string()).unwrap();
}

// `pings` only receives, `pongs` only sends.
fn pong(pings: &Receiver<String>, pongs: &Sender<String>) {
    let msg = pings.recv().unwrap();
    pongs.send(msg).unwrap();
}

fn main() {
    weft::run(|| {
        let (pings_tx, pings_rx) = weft::chan::<String>(1);
        let (pongs_tx, pongs_rx) = weft::chan::<String>(1);

        ping(&pings_tx, "passed message");
        pong(&pings_rx, &pongs_tx);
        println!("{}", pongs_rx.recv().unwrap());
    });
}
