#!/usr/bin/python3
"""stress-smp (host stress run): every part of Wisp busy at once on several CPUs, for minutes.

The machine and its checks are tests/integration/stress.py's (its docstring says what
runs and what passes); `./wisp test` runs it for 120 s on 2 CPUs (test_stress.py). This
script runs it longer, with other CPU counts, seeds or hypervisor options, and keeps
the whole log. Run it on an otherwise idle machine. Exit status 0 if every check held.

Usage: ci/stress-smp.py [--build DIR] [--seconds S] [--cpus N] [--fuzz-calls N] [--seed S]
                        [--fuzz-known AREAS] [--hv-cmdline OPTS] [--log FILE]
                        [--timeout S] [--pin] [--tcg-threads single|multi]
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--seconds", type=int, default=180, help="the guests' work (default 180)")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--fuzz-calls", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fuzz-known", default="timers,memory,exits",
                    help="fuzz64's known= areas (docs/test-guests.md); 0 for none")
    ap.add_argument("--hv-cmdline", default="",
                    help="hypervisor options for the run, e.g. poison_free (docs/boot-config.md)")
    ap.add_argument("--log", type=Path, default=Path("stress-smp.log"),
                    help="where the whole run goes, line by line as it comes (Wisp's log "
                         "and the consoles interleaved), so a run that hangs leaves it too")
    ap.add_argument("--timeout", type=int, default=0,
                    help="stop the machine after this many seconds (default 4 x --seconds "
                         "+ 900)")
    ap.add_argument("--tcg-threads", choices=("single", "multi"), default="single",
                    help="QEMU's TCG threads (default single: multi meets QEMU's race, "
                         "docs/testing.md)")
    ap.add_argument("--pin", action="store_true",
                    help="pin each domain to CPU 0 or 1 (needs --cpus 2 or more): no vCPU moves")
    args = ap.parse_args()

    os.environ["WISP_BUILD_DIR"] = str(args.build.resolve())
    import stress       # after WISP_BUILD_DIR: wisptest reads it when imported

    with tempfile.TemporaryDirectory(prefix="wisp-stress.") as tmp, open(args.log, "w") as log:
        bad, took = stress.run(Path(tmp), log, seconds=args.seconds, cpus=args.cpus,
                               fuzz_calls=args.fuzz_calls, seed=args.seed,
                               fuzz_known=args.fuzz_known, hv_cmdline=args.hv_cmdline,
                               timeout=args.timeout, pin=args.pin,
                               tcg_threads=args.tcg_threads)
    print(f"stress-smp: {args.seconds} s of guest work on {args.cpus} CPUs, machine ran "
          f"{took:.0f} s; {'PASSED' if not bad else 'FAILED'}")
    for line in bad:
        print(f"  {line}")
    print(f"the whole run: {args.log}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
