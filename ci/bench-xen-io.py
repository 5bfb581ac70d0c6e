#!/usr/bin/python3
"""bench-xen-io (host benchmark): xenstore requests and grant operations per second, each
against a loop of no-op hypercalls measured in the same guest in the same run.

One machine under the emulator: the xenstore domain, a granter (bench_io64 role=granter)
that grants a page of its own, and the bench guest (bench_io64 role=bench), which times
with its pvclock N rounds of each loop:

  xenstore     XS_READ "domid" through its store ring (request, event, reply)
               reference: xen_version(XENVER_version), a hypercall that does no work
  map+unmap    GNTTABOP_map_grant_ref of the granter's page, then unmap_grant_ref
               reference: GNTTABOP_query_size, a grant-table call that does no work
  copy         GNTTABOP_copy of the 4 KiB granted page into a page of its own
               reference: GNTTABOP_query_size

It prints operations per second and the ratio to the reference (1.0 = as cheap as a
hypercall that does nothing). Not a test: it measures and prints; the exit status is 1
only when a loop could not run.

Usage: ci/bench-xen-io.py [--build DIR] [--emulator qemu|bochs] [--n N]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

BENCH_RE = re.compile(r"^BENCH (\S+) (\d+) (\d+)$")
FAILED_RE = re.compile(r"^BENCH (\S+) FAILED (.*)$")
# (what, its loop, the reference loop)
COMPARISONS = [
    ("xenstore read", "xenstore", "xen_version"),
    ("grant map+unmap", "map_unmap", "query_size"),
    ("grant copy 4 KiB", "copy", "query_size"),
]


def config(n):
    return ("domain xenstore\n  kernel xenstored.elf\n  roles xenstore\n  memory 16\n"
            "domain granter\n  kernel bench_io64.elf\n  cmdline role=granter peer=3\n"
            "  memory 16\n"
            "domain bench\n  kernel bench_io64.elf\n"
            f"  cmdline role=bench peer=2 n={n}\n  memory 16\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu")
    ap.add_argument("--n", type=int, default=2000, help="rounds of each loop")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()
    build = args.build.resolve()
    os.environ["WISP_BUILD_DIR"] = str(build)
    import machine       # reads WISP_BUILD_DIR when imported
    import wisptest

    subprocess.run(["ninja", "-C", str(build)], check=True, stdout=subprocess.DEVNULL)
    xenstored = machine.BUILT_PROGRAMS["xenstored.elf"]
    if not xenstored.exists():
        sys.exit(f"bench-xen-io: {xenstored} is missing")
    with tempfile.TemporaryDirectory() as tmp:
        result = machine.run_config(Path(tmp), config(args.n), emulator=args.emulator,
                                    timeout=args.timeout, until=r"^\[bench\] BENCH DONE",
                                    files={"bench_io64.elf": wisptest.GUESTS / "bench_io64.elf"})
    lines = [line.rstrip("\r") for line in machine.domain_lines(result.stdout, "bench")]
    rates, failed = {}, {}
    for line in lines:
        m = BENCH_RE.match(line)
        if m:
            rates[m.group(1)] = int(m.group(2)) / (int(m.group(3)) / 1e9)
        m = FAILED_RE.match(line)
        if m:
            failed[m.group(1)] = m.group(2)
    if "BENCH DONE" not in lines:
        print("\n".join(result.stdout[-40:]))
        sys.exit(f"bench-xen-io: the bench guest did not finish ({result.code})")

    print(f"bench_io64 on {args.emulator}, {args.n} rounds per loop, guest pvclock time")
    print(f"{'operation':20}{'ops/s':>12}   {'reference':14}{'ops/s':>12}{'ratio':>8}")
    ok = True
    for what, loop, ref in COMPARISONS:
        if loop not in rates or ref not in rates:
            why = failed.get(loop) or failed.get(ref) or "no result"
            print(f"{what:20}{'-':>12}   {ref:14}{'-':>12}{'-':>8}  ({why})")
            ok = False
            continue
        print(f"{what:20}{rates[loop]:12.0f}   {ref:14}{rates[ref]:12.0f}"
              f"{rates[loop] / rates[ref]:8.3f}")
    for loop, why in failed.items():
        if loop not in {c[1] for c in COMPARISONS}:
            print(f"{loop}: FAILED {why}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
