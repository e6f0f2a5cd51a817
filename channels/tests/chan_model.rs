//! Model-based test: random sequences of non-blocking operations on one
//! channel (and select! with default, which must agree with them) checked
//! against a sequential model — a bounded FIFO with a closed flag.

use std::collections::VecDeque;

use proptest::prelude::*;
use weft_channels::{chan, select, CloseError, TryRecvError, TrySendError};

#[derive(Clone, Debug)]
enum Op {
    TrySend(u16),
    TryRecv,
    SelectSend(u16),
    SelectRecv,
    Close,
    Len,
    CloneSender,
    DropSender,
    DropReceiver,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u16>().prop_map(Op::TrySend),
        6 => Just(Op::TryRecv),
        2 => any::<u16>().prop_map(Op::SelectSend),
        2 => Just(Op::SelectRecv),
        1 => Just(Op::Close),
        2 => Just(Op::Len),
        1 => Just(Op::CloneSender),
        1 => Just(Op::DropSender),
        1 => Just(Op::DropReceiver),
    ]
}

struct Model {
    cap: usize,
    buf: VecDeque<u16>,
    closed: bool,
    rx_gone: bool,
}

impl Model {
    fn try_send(&mut self, v: u16) -> Result<(), TrySendError<u16>> {
        if self.closed || self.rx_gone {
            Err(TrySendError::Closed(v))
        } else if self.buf.len() < self.cap {
            self.buf.push_back(v);
            Ok(())
        } else {
            Err(TrySendError::Full(v))
        }
    }
    fn try_recv(&mut self) -> Result<u16, TryRecvError> {
        match self.buf.pop_front() {
            Some(v) => Ok(v),
            None if self.closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn channel_matches_model(cap in 0usize..5, ops in proptest::collection::vec(op(), 1..120)) {
        let (tx, rx) = chan::<u16>(cap);
        // Extra senders keep the channel open when `tx` is dropped.
        let mut txs = vec![tx];
        let mut rx = Some(rx);
        let mut m = Model { cap, buf: VecDeque::new(), closed: false, rx_gone: false };
        for op in ops {
            match op {
                Op::TrySend(v) => {
                    if let Some(tx) = txs.first() {
                        prop_assert_eq!(tx.try_send(v), m.try_send(v));
                    }
                }
                Op::SelectSend(v) => {
                    if let Some(tx) = txs.first() {
                        let got = select! {
                            send(tx, v) -> r => r.map_err(|e| TrySendError::Closed(e.0)),
                            default => Err(TrySendError::Full(v)),
                        };
                        prop_assert_eq!(got, m.try_send(v));
                    }
                }
                Op::TryRecv => {
                    if let Some(rx) = &rx {
                        prop_assert_eq!(rx.try_recv(), m.try_recv());
                    }
                }
                Op::SelectRecv => {
                    if let Some(rx) = &rx {
                        let got = select! {
                            recv(rx) -> r => r.map_err(|_| TryRecvError::Closed),
                            default => Err(TryRecvError::Empty),
                        };
                        prop_assert_eq!(got, m.try_recv());
                    }
                }
                Op::Close => {
                    if let Some(tx) = txs.first() {
                        let want = if m.closed { Err(CloseError) } else { Ok(()) };
                        prop_assert_eq!(tx.close(), want);
                        m.closed = true;
                    }
                }
                Op::Len => {
                    let want = if m.rx_gone { 0 } else { m.buf.len() };
                    if let Some(tx) = txs.first() {
                        prop_assert_eq!(tx.len(), want);
                        prop_assert_eq!(tx.cap(), cap);
                        prop_assert_eq!(tx.is_closed(), m.closed);
                    }
                    if let Some(rx) = &rx {
                        prop_assert_eq!(rx.len(), m.buf.len());
                        prop_assert_eq!(rx.is_empty(), m.buf.is_empty());
                        prop_assert_eq!(rx.is_closed(), m.closed);
                    }
                }
                Op::CloneSender => {
                    if let Some(tx) = txs.first() {
                        txs.push(tx.clone());
                    }
                }
                Op::DropSender => {
                    if !txs.is_empty() {
                        txs.remove(0);
                        if txs.is_empty() {
                            m.closed = true; // the last sender's drop closes
                        }
                    }
                }
                Op::DropReceiver => {
                    if rx.take().is_some() {
                        m.rx_gone = true;
                        m.buf.clear(); // buffered values are dropped
                    }
                }
            }
        }
    }
}
