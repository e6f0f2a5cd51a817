#!/usr/bin/env bash
# Miri over every part of weft it can run (docs/HACKING.md, "Miri"): the
# code that parks plain OS threads and never switches stacks.
#   channels/tests/miri.rs   channels: send/recv buffered and unbuffered,
#                            select!, Select, close, last-half drops, on
#                            plain threads
#   runtime/tests/miri.rs    park/unpark, the wait record, the sync types
#                            (their wait queues, waitq.rs), a thread's
#                            goroutine-local map (local.rs)
#   runtime's unit tests     coro::thunk_tests (Thunk), park::tests (park on
#                            threads), lockrank::, trace::buf (the trace's
#                            lock-free event buffer)
#   tests/miri_context.rs    the context tree on plain threads
# Each under Stacked Borrows and under Tree Borrows, each with
# WEFT_MIRI_SEEDS scheduling seeds (default 8; Miri's thread scheduler and
# weak-memory choices differ per seed; Miri runs seeds in parallel).
#
# Isolation stays on: nothing here touches the host (Miri answers the
# sync types' CPU count itself, and its clock is virtual). Off, each
# caught panic alone costs seconds.
#
# Needs the nightly toolchain's miri and rust-src components; the script
# adds them (rustup, network). If that fails and they are not there, it
# says so and exits 0, unless WEFT_MIRI_REQUIRED=1 (then it fails).
set -euo pipefail
cd "$(dirname "$0")/.."

# No Miri here: say why, then skip (exit 0) or, under WEFT_MIRI_REQUIRED=1, fail.
unavailable() {
  echo "miri: $1"
  echo "  (rustup component add miri rust-src --toolchain nightly; docs/HACKING.md, \"Miri\")"
  if [ "${WEFT_MIRI_REQUIRED:-0}" = 1 ]; then
    echo "miri: FAILED: WEFT_MIRI_REQUIRED=1"
    exit 1
  fi
  echo "miri: Miri run SKIPPED"
  exit 0
}

if ! rustup component add miri rust-src --toolchain nightly; then
  echo "miri: 'rustup component add miri rust-src --toolchain nightly' failed (see above)"
fi
cargo +nightly miri --version || unavailable "the nightly toolchain has no miri component"

seeds="${WEFT_MIRI_SEEDS:-8}"
# cargo-miri builds in the target directory's miri/, apart from the normal builds.
TIMEFORMAT="miri: setup (Miri's own std): %0R s wall, %0U+%0S s CPU"
time cargo +nightly miri setup || unavailable "cargo +nightly miri setup failed (rust-src missing?)"

# Each step's wall and CPU time (children included) on its own line.
step() {
  local TIMEFORMAT="miri: ($model) $*: %0R s wall, %0U+%0S s CPU"
  time cargo +nightly miri test -q "$@"
}

run() {
  model="$1"
  local flags="-Zmiri-many-seeds=0..$seeds"
  [ "$model" = tree ] && flags="$flags -Zmiri-tree-borrows"
  echo "== Miri, ${model} borrows, seeds 0..$seeds"
  export MIRIFLAGS="$flags"
  step -p weft-channels --test miri
  step -p weft-runtime --test miri
  step -p weft-runtime --lib -- coro::thunk_tests park::tests lockrank:: trace::buf
  step -p weft --test miri_context
}

TIMEFORMAT="miri: all clean, ${seeds} seeds x 2 models: %0R s wall, %0U+%0S s CPU"
time {
  run stacked
  run tree
}
