//! Port of Go's `test/chan/zerosize.go`: channels of a zero-sized type, made
//! unbuffered and buffered (here also sent and received on).

use weft::chan;

use crate::common;

#[test]
fn zerosize() {
    common::run(|| {
        let _ = chan::<[u8; 0]>(0);
        let _ = chan::<[u8; 0]>(1);
        let _ = chan::<()>(0);
        let (tx, rx) = chan::<()>(1);
        tx.send(()).unwrap();
        assert_eq!(rx.recv(), Ok(()));
        let (tx, rx) = chan::<[u8; 0]>(0);
        weft::go!(move || tx.send([]).unwrap());
        assert_eq!(rx.recv(), Ok([]));
    });
}
