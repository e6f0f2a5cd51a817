#!/usr/bin/env bash
# The test suite: every crate's tests once, then the scheduler-sensitive
# tests (and Go's own, tests/golang) again under both spawn policies and
# under maxprocs 1 and 2.
# Release mode: the scale tests (a million goroutines) need it.
# `./test.sh asan` runs the suite under AddressSanitizer instead (nightly
# toolchain): scripts/asan.sh, explained in docs/stacks.md.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = asan ]; then
  exec scripts/asan.sh
fi
cargo test --workspace --release
for spawn in continuation child; do
  for procs in 1 2; do
    echo "== WEFT_SPAWN=$spawn WEFT_MAXPROCS=$procs"
    WEFT_SPAWN=$spawn WEFT_MAXPROCS=$procs cargo test --release -q \
      -p weft-runtime --test matrix --test sync_matrix --test sync_starvation --test blocking --test recycle --test net --test net_wakeups \
      --test thread_bound --test unwind_and_timers
    WEFT_SPAWN=$spawn WEFT_MAXPROCS=$procs cargo test --release -q \
      -p weft-channels --test matrix --test chan_races --test chan_dyn_select
    WEFT_SPAWN=$spawn WEFT_MAXPROCS=$procs cargo test --release -q \
      -p weft --test lib_context --test lib_errgroup --test lib_patterns
    # Go's own tests (tests/golang), without the slow_* ones: those ran
    # once above.
    WEFT_SPAWN=$spawn WEFT_MAXPROCS=$procs cargo test --release -q \
      -p weft --test golang -- --skip slow_
    # The seeded soak (tests/soak.rs), WEFT_SOAK_SECS seconds (3 by default)
    # per cell; a long run is on demand (see its module comment), and a
    # failing round prints its WEFT_SOAK_SEED.
    WEFT_SPAWN=$spawn WEFT_MAXPROCS=$procs cargo test --release -q \
      -p weft --test soak
  done
done
