#!/bin/sh
# fuzz-long.sh (host, CI script): runs every host fuzzer (tests/fuzz) for longer than `./wisp test`.
# usage: ci/fuzz-long.sh [SECONDS_PER_TARGET [TARGET...]]     (default 300 s, all targets)
# The corpus grown in build/tests/fuzz/work/<target>/corpus is kept between runs, so each run
# starts where the last one stopped. A crash leaves build/tests/fuzz/work/<target>/crash-* and
# makes this script exit 1; see docs/testing.md for turning it into a regression test.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${WISP_BUILD_DIR:-$ROOT/build}
SECONDS_EACH=${1:-300}
[ $# -gt 0 ] && shift
TARGETS=${*:-"bootconfig cmdline multiboot elf start_info guest_walk hypercall_abi evtchn vlapic"}

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT"
for t in $TARGETS; do
    ninja -C "$BUILD" "tests/fuzz/fuzz.$t" >/dev/null
done

failed=""
for t in $TARGETS; do
    echo "fuzz-long: $t for $SECONDS_EACH s"
    if ! "$ROOT/tests/fuzz/run.sh" "$BUILD/tests/fuzz/fuzz.$t" "$ROOT/tests/fuzz/corpus/$t" \
            "$BUILD/tests/fuzz/work/$t" "$SECONDS_EACH" >"$BUILD/tests/fuzz/work/$t.log" 2>&1; then
        failed="$failed $t"
        tail -n 40 "$BUILD/tests/fuzz/work/$t.log"
    fi
    grep -E '^(Done|stat::number_of_executed_units)' "$BUILD/tests/fuzz/work/$t.log" || true
done
if [ -n "$failed" ]; then
    echo "fuzz-long: FAILED:$failed"
    exit 1
fi
echo "fuzz-long: all targets ran clean"
