#!/usr/bin/env bash
# The suite under AddressSanitizer, on the nightly toolchain; docs/stacks.md
# ("AddressSanitizer") says why each setting. Every test file of weft,
# weft-runtime and weft-channels (examples, deadlock and overflow child
# processes and doctests included) under the default spawn policy, then the
# scheduler matrix again under the other one. Not sched-bench: its one test
# runs the benchmark report, and its dev-dependencies (criterion, tokio)
# would double the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="-Zsanitizer=address --cfg weft_asan"
export RUSTDOCFLAGS="$RUSTFLAGS"
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# ASan slows everything several times: goroutines then pass the 50 ms
# long-run threshold (WEFT_DEBUG=longrun) and its reports would fill
# stderr, which examples_run requires empty. runtime/tests/longrun.rs sets
# WEFT_DEBUG for its own children.
export WEFT_DEBUG="${WEFT_DEBUG:-longrun=0}"
# Its own directory: nightly and the sanitizer would rebuild the normal one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/asan"
asan=(+nightly test --release --target x86_64-unknown-linux-gnu
  --workspace --exclude sched-bench)
echo "== ASan: WEFT_SPAWN=continuation, every test"
WEFT_SPAWN=continuation cargo "${asan[@]}" --no-fail-fast
echo "== ASan: WEFT_SPAWN=child, the scheduler matrix"
WEFT_SPAWN=child cargo "${asan[@]}" -q \
  --test matrix --test sync_matrix --test sync_starvation --test blocking
