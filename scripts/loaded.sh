#!/usr/bin/env bash
# The scheduler matrix under load: cells of ./test.sh's matrix (the
# scheduler-sensitive tests, `./test.sh cell SPAWN PROCS`) with two
# CPU-bound processes running beside them, as on a busy CI box or laptop.
# A test that passes on a quiet machine must pass here too.
#
#   scripts/loaded.sh                      # continuation:2 and child:1
#   scripts/loaded.sh continuation:1 ...   # cells of your choice, SPAWN:PROCS
#   scripts/loaded.sh all                  # the whole ./test.sh
#
# The two hogs are bounded twice: a trap stops them when this script exits,
# whatever the reason, and each runs under `timeout`, which ends it after
# WEFT_LOADED_TIMEOUT seconds (3600 by default) even if this script is
# killed with SIGKILL and the trap never runs. A hog that is gone before
# the last cell ends fails the run: part of it ran without the load.
set -euo pipefail
cd "$(dirname "$0")/.."

cells=("$@")
[ ${#cells[@]} -gt 0 ] || cells=(continuation:2 child:1)
limit=${WEFT_LOADED_TIMEOUT:-3600}

# Build first: the hogs are there to load the tests, not the compiler.
if [ "${cells[0]}" = all ]; then
  cargo test --workspace --release --no-run -q
else
  ./test.sh cell "${cells[0]%:*}" "${cells[0]#*:}" --no-run
fi

hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${hogs[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in 1 2; do
  timeout "$limit" bash -c 'while :; do :; done' &
  hogs+=($!)
done
echo "== two CPU hogs running (pids ${hogs[*]}, ended after ${limit}s at the latest)"

start=$SECONDS
for c in "${cells[@]}"; do
  t=$SECONDS
  if [ "$c" = all ]; then
    ./test.sh
  else
    ./test.sh cell "${c%:*}" "${c#*:}"
  fi
  echo "== loaded $c: $((SECONDS - t)) s"
done
for pid in "${hogs[@]}"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "loaded.sh: hog $pid ended before the tests did (WEFT_LOADED_TIMEOUT=${limit}s)" >&2
    exit 1
  fi
done
echo "== loaded matrix (${cells[*]}): passed in $((SECONDS - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
