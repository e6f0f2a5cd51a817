//! Go's own tests, ported: the channel programs of `test/chan`, and the
//! tests of `src/sync`, `src/time`, `src/runtime`, `src/net` and
//! `src/context` that map to weft's API.
//! One module per Go source file, named `<dir>_<file>`; each opens with
//! its origin, what differs and what was left out. `README.md` beside this
//! file lists every Go test and where it went.
//!
//! `./test.sh` runs this binary once in full, then under the spawn ×
//! maxprocs matrix without the tests named `slow_*` (Go's full sizes of
//! tests that also run at Go's `-short` sizes).
//!
//! Copyright 2009 The Go Authors (the tests ported here); BSD-style
//! license: <https://go.dev/LICENSE>.

mod common;

#[global_allocator]
static ALLOC: common::Counting = common::Counting;

mod chan_doubleselect;
mod chan_fifo;
mod chan_goroutines;
mod chan_nonblock;
mod chan_powser1;
mod chan_select;
mod chan_select2;
mod chan_select3;
mod chan_select4;
mod chan_select5;
mod chan_select6;
mod chan_select7;
mod chan_select8;
mod chan_sendstmt;
mod chan_sieve1;
mod chan_sieve2;
mod chan_zerosize;

mod sync_cond;
mod sync_mutex;
mod sync_once;
mod sync_pool;
mod sync_rwmutex;
mod sync_waitgroup;

mod time_sleep;
mod time_tick;

mod runtime_chan;
mod runtime_chanbarrier;
mod runtime_lockosthread;
mod runtime_proc;

mod context_context;
mod context_x;

mod net_conn;
mod net_mockserver;
mod net_net;
mod net_tcpsock;
mod net_tcpsock_unix;
mod net_timeout;
mod net_udpsock;
mod net_unixsock;
