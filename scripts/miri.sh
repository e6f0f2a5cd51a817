#!/usr/bin/env bash
# Miri over every part of weft it can run (docs/HACKING.md, "Miri"): the
# code that parks plain OS threads and never switches stacks.
#   channels/tests/miri.rs   channels: send/recv, select!, Select, close,
#                            last-half drops, on plain threads
#   runtime/tests/miri.rs    park/unpark, the wait record, the sync types
#                            (their wait queues) on plain threads
#   runtime's unit tests     coro::thunk_tests (Thunk), park::tests
#   tests/miri_context.rs    the context tree on plain threads
# Each under Stacked Borrows and under Tree Borrows, each with
# WEFT_MIRI_SEEDS scheduling seeds (default 4; Miri's thread scheduler and
# weak-memory choices differ per seed).
#
# Isolation is off because the sync types ask num_cpus how many CPUs
# there are (it reads /proc and cgroup files); nothing else here touches
# the host.
#
# Needs the nightly toolchain's miri component. Without it the script says
# so and exits 0, unless WEFT_MIRI_REQUIRED=1 (then it fails).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "miri: no miri component in the nightly toolchain: Miri run skipped"
  echo "  (rustup +nightly component add miri rust-src; docs/HACKING.md, \"Miri\")"
  [ "${WEFT_MIRI_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi

seeds="${WEFT_MIRI_SEEDS:-4}"
# Its own directory: Miri's builds would evict the normal ones.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/miri"
cargo +nightly miri setup

run() {
  local model="$1" flags="-Zmiri-disable-isolation -Zmiri-many-seeds=0..$seeds"
  [ "$model" = tree ] && flags="$flags -Zmiri-tree-borrows"
  echo "== Miri, ${model} borrows, seeds 0..$seeds"
  export MIRIFLAGS="$flags"
  cargo +nightly miri test -q -p weft-channels --test miri
  cargo +nightly miri test -q -p weft-runtime --test miri
  cargo +nightly miri test -q -p weft-runtime --lib -- coro::thunk_tests park::tests
  cargo +nightly miri test -q -p weft --test miri_context
}

start=$(date +%s)
run stacked
run tree
echo "miri: done in $(($(date +%s) - start)) s"
