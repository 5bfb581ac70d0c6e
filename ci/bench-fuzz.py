#!/usr/bin/python3
"""bench-fuzz (host benchmark): a long fuzz64 run beside a canary domain under QEMU.

Boots the same configuration as tests/integration/test_fuzz_guest.py with 10^6 calls
(by default), and prints the seed, the calls per second (host time from the fuzzer's
first line to its "FUZZ done" line), the canary's beats during the run, and the count of
hypervisor faults, which must be 0: hypervisor panics, FUZZ FAIL lines (a CPL 3
hypercall that did not give -EPERM), a fuzz domain that crashed or never finished, and a
canary that stopped beating. Not a test: it prints the numbers (exit status 1 if any
fault was seen). Replay a seed with the same --seed and --calls.

Usage: ci/bench-fuzz.py [--build DIR] [--seed S] [--calls N] [--known AREAS] [--timeout SECONDS]
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CONFIG = """\
domain canary
  kernel act64.elf
  cmdline act=canary beats=100000
  memory 16
domain fuzz
  kernel fuzz64.elf
  cmdline seed={seed} calls={calls} known={known}
  memory 32
"""


def run(build, seed, calls, known, timeout):
    """Boots the pair and returns [(host seconds, stdout line)], stderr text, exit code."""
    guests = build / "tests" / "guests"
    with tempfile.TemporaryDirectory(prefix="bench-fuzz.") as tmp:
        for name in ("act64.elf", "fuzz64.elf"):
            os.symlink(guests / name, Path(tmp) / name)
        cfg = Path(tmp) / "wisp.cfg"
        cfg.write_text(CONFIG.format(seed=seed, calls=calls, known=known))
        proc = subprocess.Popen(
            [str(build / "toolstack" / "wisp"), "run", "--emulator", "qemu", "--timeout",
             str(timeout), "--no-interactive", "--verbose", "--config", str(cfg)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, text=True, errors="replace")
        err = []

        def read_stderr():
            # Hypervisor lines; the fuzz domain's end (crash included) ends the run too.
            for line in proc.stderr:
                err.append(line)
                if re.search(r"\(fuzz\): shutdown", line) and proc.poll() is None:
                    time.sleep(0.5)     # its last stdout lines first
                    try:
                        os.killpg(proc.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        t0, lines = time.monotonic(), []
        for line in proc.stdout:
            lines.append((time.monotonic() - t0, line.rstrip("\n")))
            if re.match(r"^\[fuzz\] FUZZ done ", lines[-1][1]):
                break       # the canary would beat on for a long while: stop here
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        code = proc.wait()
        reader.join(timeout=5)
        return lines, "".join(err), code


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=Path(os.environ.get("WISP_BUILD_DIR", REPO / "build")))
    ap.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    ap.add_argument("--calls", type=int, default=1000000)
    ap.add_argument("--known", default="0",
                    help="fuzz64's known=: all, or timers,memory,exits,console (bugs fixed elsewhere)")
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1, 1 << 31)
    subprocess.run(["ninja", "-C", str(args.build), "tests/guests/fuzz64.elf",
                    "tests/guests/act64.elf", "toolstack/wisp", "xen/wisp.elf"],
                   check=True, stdout=subprocess.DEVNULL)

    print(f"bench-fuzz: seed={seed} calls={args.calls} known={args.known} (QEMU, beside a canary)")
    lines, err, code = run(args.build, seed, args.calls, args.known, args.timeout)
    text = [line for _, line in lines]
    start = next((t for t, line in lines if line.startswith("[fuzz] FUZZ seed=")), None)
    done = next((t for t, line in lines if line.startswith("[fuzz] FUZZ done ")), None)
    beats_during = [line for t, line in lines
                    if start is not None and line.startswith("[canary] CANARY beat")
                    and t >= start and (done is None or t <= done)]

    faults = {
        "hypervisor panic": err.count("PANIC"),
        "FUZZ FAIL lines": sum(line.startswith("[fuzz] FUZZ FAIL") for line in text),
        "fuzz domain crashed": len(re.findall(r"\(fuzz\): shutdown: crash", err)),
        "fuzz domain did not finish": int(done is None),
        "canary stopped beating": int(done is not None and not beats_during),
    }
    if done is not None and start is not None:
        seconds = max(done - start, 1e-6)
        print(f"  {args.calls} calls in {seconds:.1f} s: {args.calls / seconds:.0f} calls per second")
    print(f"  canary beats while fuzzing: {len(beats_during)}")
    exits = re.search(r"\(wisp\) d2: (\d+) VM exits", err)
    if exits:
        print(f"  fuzz domain VM exits: {exits.group(1)}")
    total = sum(faults.values())
    print(f"  hypervisor faults: {total}" + "".join(f"\n    {k}: {v}" for k, v in faults.items() if v))
    if total:
        print(f"  replay: ci/bench-fuzz.py --seed {seed} --calls {args.calls}"
              + f" --known {args.known} (wisp exit {code})")
        print("\n".join(err.splitlines()[-30:]), file=sys.stderr)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
