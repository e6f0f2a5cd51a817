#!/usr/bin/env bash
# One report cell, weft and Go alternating in fresh processes, medians of
# N runs each: the A/B measurement the closing notes quote (one cell in a
# few seconds, where the whole report takes minutes). Needs the report's
# binaries: run `cargo run --release -p sched-bench` once first (it builds
# Go's program into target/sched-bench/gobench).
#
#   sched-bench/ab.sh N WORKLOAD SIZE PROCS [POLICY]
#   sched-bench/ab.sh 7 ring 500000 2              # POLICY: continuation (default) or child
#
# Prints each weft run, then the medians and weft/Go. Workload names are the
# worker's (spawn, pingpong, select, ring, skynet, fib, mutex, timers,
# echo, ...); an echo run prints round trips/s (higher is better).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 4 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
n=$1 workload=$2 size=$3 procs=$4 policy=${5:-continuation}
weft=target/release/sched-bench go=target/sched-bench/gobench
for b in "$weft" "$go"; do
  [ -x "$b" ] || { echo "missing $b: run cargo run --release -p sched-bench first" >&2; exit 1; }
done
value() { sed -n 's/^value=//p'; }
ws=() gs=()
for _ in $(seq "$n"); do
  ws+=("$("$weft" --worker "weft-$policy" "$workload" "$size" "$procs" | value)")
  gs+=("$(GOMAXPROCS=$procs "$go" "$workload" "$size" | value)")
done
python3 - "$workload $size @${procs}P ($policy)" "${ws[*]}" "${gs[*]}" <<'PY'
import statistics as st, sys
name, w, g = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
mw, mg = st.median(w), st.median(g)
print(f"{name}: weft {mw:.1f}  Go {mg:.1f}  weft/Go {mw / mg:.2f}   (weft runs: {' '.join(f'{x:.0f}' for x in w)}; Go runs: {' '.join(f'{x:.0f}' for x in g)})")
PY
