#!/usr/bin/python3
"""bench-wrapper (host benchmark): what the ./wisp wrapper costs before it runs anything.

In one run it times, as the median of --runs calls each:
  reference  the built CLI itself: build/toolstack/wisp help
  cold       ./wisp help with its stamp removed: one dpkg-query for every package in
             ci/debian-packages, then meson/ninja's check (nothing to rebuild)
  warm       ./wisp help with the stamp in place (nothing changed since the last run)
and prints each one's overhead over the reference (seconds) and its time as a ratio
of the reference. Target: the warm overhead is under 0.1 s. Not a test: it prints the
numbers and whether the target is met (exit status 1 if not).

Usage: ci/bench-wrapper.py [--build DIR] [--runs N]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WARM_OVERHEAD_TARGET = 0.1


def timed(cmd, env):
    start = time.monotonic()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    build = args.build.resolve()
    env = dict(os.environ, WISP_BUILD_DIR=str(build))
    wrapper = [str(REPO / "wisp"), "help"]
    bare = [str(build / "toolstack" / "wisp"), "help"]
    stamps = build / ".wisp-stamps"

    subprocess.run(wrapper, env=env, check=True, stdout=subprocess.DEVNULL)  # build, stamp
    ref, cold, warm = [], [], []
    for _ in range(args.runs):          # interleaved, so load changes hit all three alike
        ref.append(timed(bare, env))
        shutil.rmtree(stamps, ignore_errors=True)
        cold.append(timed(wrapper, env))
        warm.append(timed(wrapper, env))
    r, c, w = (statistics.median(x) for x in (ref, cold, warm))

    print(f"./wisp help against {bare[0]} help ({args.runs} runs each, medians)")
    print(f"{'':30}{'seconds':>10}{'overhead':>10}{'ratio':>8}")
    print(f"{'reference (the CLI itself)':30}{r:10.3f}{0:10.3f}{1:8.1f}")
    print(f"{'cold (no stamp)':30}{c:10.3f}{c - r:10.3f}{c / r:8.1f}")
    print(f"{'warm (stamp, nothing changed)':30}{w:10.3f}{w - r:10.3f}{w / r:8.1f}")
    ok = w - r < WARM_OVERHEAD_TARGET
    print(f"target warm overhead < {WARM_OVERHEAD_TARGET} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
