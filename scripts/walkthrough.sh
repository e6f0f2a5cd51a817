#!/usr/bin/env bash
# Regenerates the pictures of docs/walkthrough.md: traces of skynet and
# ping-pong (runtime/examples/trace_walk.rs) under both spawn policies, on
# two Ps, as SVG files in docs/walkthrough/.
#
# Each run is a fresh schedule, so the pictures change in detail from one
# run to the next. skynet is over in about half a millisecond, and in some
# runs the second P never wakes up in time to steal; the script keeps the
# first of up to 10 runs in which it took part (the P1 row exists), and
# says how many runs that took.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p weft-runtime --example trace_walk
bin="${CARGO_TARGET_DIR:-target}/release/examples/trace_walk"
for prog in skynet pingpong; do
  for spawn in continuation child; do
    out="docs/walkthrough/$prog-$spawn.svg"
    for try in 1 2 3 4 5 6 7 8 9 10; do
      WEFT_SPAWN="$spawn" WEFT_MAXPROCS=2 "$bin" "$prog" "$out" >/dev/null
      if [ "$prog" = pingpong ] || grep -q '>P1<' "$out"; then
        break
      fi
    done
    echo "wrote $out (run $try)"
  done
done
