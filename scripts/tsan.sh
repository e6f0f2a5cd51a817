#!/usr/bin/env bash
# The scheduler, channels and sync under ThreadSanitizer; docs/stacks.md
# ("ThreadSanitizer") says why each setting and what is left out.
#
# TSan needs std itself instrumented (`-Zbuild-std`), so a Rust whose std
# source matches its compiler: rustup's rust-src component where it is
# installed, else Debian's rustc-web with its rust-web-src, which this
# script unpacks (apt-get download, dpkg -x: nothing is installed) into
# target/tsan-toolchain, adding the TSan runtime of the rustup toolchain in
# use (the same LLVM major version). `--target` keeps build scripts and
# proc macros uninstrumented; target/tsan keeps these flags from
# rebuilding the ordinary target/.
#
# `scripts/tsan.sh build` only builds; `scripts/tsan.sh` builds, then runs
# the scheduler matrix under both spawn policies at maxprocs 1 and 2, then
# the runtime's unit tests, sync, timers, channels and Go's tests once.
# `scripts/tsan.sh ci` runs two cells of the matrix (continuation at
# maxprocs 2, child at 1: each policy, one and several Ps) and then the
# same once-only tests, sized for CI. Any TSan report fails the run (its
# exit code is 66).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
triple=x86_64-unknown-linux-gnu

# --- the toolchain ----------------------------------------------------------
if rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  cargo=(cargo +nightly)
  unset RUSTC
  echo "== TSan: $(rustc +nightly -V), with rust-src"
else
  tc=$target/tsan-toolchain
  if [ ! -x "$tc/rustc" ]; then
    echo "== TSan: unpacking Debian's rustc-web and its std source into $tc"
    command -v apt-get >/dev/null || { echo "no nightly rust-src and no apt-get: cannot build std for TSan" >&2; exit 1; }
    if ! apt-cache show rust-web-src >/dev/null 2>&1; then apt-get update -qq; fi
    # The std library package is named after its version, and the LLVM it
    # links after LLVM's: read both from the dependencies.
    std=$(apt-cache depends libstd-rust-web-dev | awk '/Depends: libstd-rust-web-[0-9]/ {print $2; exit}')
    llvm=$(apt-cache depends "$std" | awk '/Depends: libllvm[0-9]/ {print $2; exit}')
    rm -rf "$tc" && mkdir -p "$tc/debs"
    (cd "$tc/debs" && apt-get download -q rustc-web libstd-rust-web-dev rust-web-src "$std" "$llvm" 2>&1 \
      | grep -v '^W: Download is performed unsandboxed' || true)
    for deb in "$tc"/debs/*.deb; do dpkg -x "$deb" "$tc"; done
    rt=$(rustc --print sysroot)/lib/rustlib/$triple/lib
    cp "$(ls "$rt"/librustc-*_rt.tsan.a | head -1)" "$tc/usr/lib/rustlib/$triple/lib/librustc-stable_rt.tsan.a"
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' \
      "$tc/usr/lib/x86_64-linux-gnu" "$tc/usr/bin/rustc" >"$tc/rustc"
    chmod +x "$tc/rustc"
  fi
  cargo=(cargo)
  # Debian's rustc is a stable one: RUSTC_BOOTSTRAP lets it take -Z flags.
  export RUSTC=$tc/rustc RUSTC_BOOTSTRAP=1
  echo "== TSan: $("$RUSTC" -V), Debian's, with its std source"
fi

export RUSTFLAGS="-Zsanitizer=thread --cfg weft_tsan"
export CARGO_TARGET_DIR=$target/tsan
# Reports go to stderr and make the process exit 66 when it ends, so the
# cargo test that ran it fails. scripts/tsan.supp lists the one report
# hidden, crossbeam-deque's own, with its reason.
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
# TSan slows goroutines 5 to 20 times: they would pass the 50 ms long-run
# threshold and fill stderr with its reports.
export WEFT_DEBUG="${WEFT_DEBUG:-longrun=0}"
# recycle.rs pushes 10M goroutines through their records by default: 100k
# of them under TSan (10 s, where 10M take 10 min).
export WEFT_STRESS_CYCLES="${WEFT_STRESS_CYCLES:-100000}"
tsan=("${cargo[@]}" test --release -Zbuild-std --target $triple)

rt_matrix=(--test matrix --test sync_matrix --test sync_starvation --test blocking
  --test recycle --test net --test net_wakeups --test thread_bound --test unwind_and_timers --test life)
# blocking.rs's round_trips_go_on_while_one_goroutine_blocks asserts that
# 10,000 round trips finish within a 300 ms blocking call; under TSan on a
# loaded machine they took longer.
rt_matrix_skip=(--skip round_trips_go_on_while_one_goroutine_blocks)
ch_matrix=(--test matrix --test chan_races --test chan_dyn_select)
lib_matrix=(--test lib_context --test lib_errgroup --test lib_patterns)
rt_once=(--lib --test tsan --test sync --test timers --test timer_first --test idle --test maxprocs
  --test observe)
# timers.rs's cancelled_timers_never_fire assumes 100 timer adds and 50
# cancels take under 30 ms; under TSan, beside the file's other tests, they
# may not, and a timer fires before its cancel.
rt_once_skip=(--skip cancelled_timers_never_fire)
ch_once=(--test chan_semantics --test chan_model)
# Go's own tests (tests/golang), without the slow_* ones, as in test.sh.
lib_once=(--test golang)

if [ "${1:-}" = build ]; then
  "${tsan[@]}" --no-run -p weft-runtime "${rt_matrix[@]}" "${rt_once[@]}"
  "${tsan[@]}" --no-run -p weft-channels "${ch_matrix[@]}" "${ch_once[@]}"
  "${tsan[@]}" --no-run -p weft "${lib_matrix[@]}" "${lib_once[@]}"
  exit 0
fi

cells=(continuation:1 continuation:2 child:1 child:2)
[ "${1:-}" = ci ] && cells=(continuation:2 child:1)
for cell in "${cells[@]}"; do
  echo "== TSan: WEFT_SPAWN=${cell%:*} WEFT_MAXPROCS=${cell#*:}"
  export WEFT_SPAWN=${cell%:*} WEFT_MAXPROCS=${cell#*:}
  "${tsan[@]}" -q -p weft-runtime "${rt_matrix[@]}" -- "${rt_matrix_skip[@]}"
  "${tsan[@]}" -q -p weft-channels "${ch_matrix[@]}"
  "${tsan[@]}" -q -p weft "${lib_matrix[@]}"
done
unset WEFT_SPAWN WEFT_MAXPROCS
echo "== TSan: the runtime's unit tests, sync, timers, channels and Go's tests, once"
"${tsan[@]}" -q -p weft-runtime "${rt_once[@]}" -- "${rt_once_skip[@]}"
"${tsan[@]}" -q -p weft-channels "${ch_once[@]}"
"${tsan[@]}" -q -p weft "${lib_once[@]}" -- --skip slow_
