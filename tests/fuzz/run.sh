#!/bin/sh
# run.sh (host, test runner): runs one libFuzzer binary for a bounded time over its seed corpus.
# usage: run.sh FUZZER SEED_DIR WORK_DIR SECONDS [libFuzzer options...]
# New inputs go to WORK_DIR/corpus (never into the committed seeds), crashes to WORK_DIR/crash-*;
# the exit status is the fuzzer's (non-zero when it found a crash or leak).
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
shift 4
mkdir -p "$work/corpus"
# -timeout: one input taking over 10 s is a hang, a failure like a crash. libFuzzer's own
# failure status is 77, which meson reads as "skipped": every failure must exit 1.
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -artifact_prefix="$work/" "$@" "$work/corpus" "$seeds"
