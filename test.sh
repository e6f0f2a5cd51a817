#!/usr/bin/env bash
# The test suite: every crate's tests once, then the scheduler-sensitive
# tests (and Go's own, tests/golang) again under both spawn policies and
# under maxprocs 1 and 2.
# Release mode: the scale tests (a million goroutines) need it.
# `./test.sh asan` runs the suite under AddressSanitizer instead (nightly
# toolchain): scripts/asan.sh, explained in docs/stacks.md.
# `./test.sh cell SPAWN PROCS [CARGO-ARGS...]` runs one cell of the matrix
# (the scheduler-sensitive tests under WEFT_SPAWN=SPAWN
# WEFT_MAXPROCS=PROCS; `--no-run` only builds them): scripts/loaded.sh
# runs cells of it beside two CPU hogs.
set -euo pipefail
cd "$(dirname "$0")"

# One cell of the matrix: the scheduler-sensitive tests under one spawn
# policy and maxprocs; further arguments go to each `cargo test`.
cell() {
  local spawn=$1 procs=$2
  shift 2
  echo "== WEFT_SPAWN=$spawn WEFT_MAXPROCS=$procs"
  export WEFT_SPAWN=$spawn WEFT_MAXPROCS=$procs
  cargo test --release -q "$@" \
    -p weft-runtime --test matrix --test sync_matrix --test sync_starvation --test blocking --test recycle --test net --test net_wakeups \
    --test thread_bound --test unwind_and_timers --test life
  cargo test --release -q "$@" \
    -p weft-channels --test matrix --test chan_races --test chan_dyn_select
  cargo test --release -q "$@" \
    -p weft --test lib_context --test lib_errgroup --test lib_patterns
  # Go's own tests (tests/golang), without the slow_* ones: those ran
  # once in the full run.
  cargo test --release -q "$@" \
    -p weft --test golang -- --skip slow_
  # The seeded soak (tests/soak.rs), WEFT_SOAK_SECS seconds (3 by default)
  # per cell; a long run is on demand (see its module comment), and a
  # failing round prints its WEFT_SOAK_SEED.
  cargo test --release -q "$@" \
    -p weft --test soak
  unset WEFT_SPAWN WEFT_MAXPROCS
}

case "${1:-}" in
  asan) exec scripts/asan.sh ;;
  cell)
    shift
    cell "$@"
    exit
    ;;
esac
cargo test --workspace --release
for spawn in continuation child; do
  for procs in 1 2; do
    cell $spawn $procs
  done
done
