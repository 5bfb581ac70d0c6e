#!/usr/bin/python3
"""bench-toolstack (host benchmark): how fast `wisp create` makes domains, in one run.

Under one `wisp up` (QEMU TCG), with a stripped act64 as the minimal PVH guest:

  create -> init     host time from starting `wisp create` until the guest's first console
                     line; the first create sends the kernel through the inbox (shared
                     RAM), the later ones find it in the agent's cache; one more sends a
                     copy over the host channel (inbox.img hidden, as under Bochs)
  reference          the same guest built at boot (in the `wisp up --config`, paused):
                     host time from `wisp unpause` until its first console line, which is
                     what a built domain needs to reach init without the build
  create+destroy/s   cycles of `wisp create` (cached kernel) and `wisp destroy` until the
                     domain is gone, per second
  Linux create->init the minimal Linux guest (guest-kernels/, 128 MiB), its kernel and
                     initramfs preloaded (`wisp up --preload`): host time from starting
                     `wisp create` until its init says "wisp-init: started", against the
                     same guest built at boot (paused) from `wisp unpause` to that line;
                     and once more with a kernel not preloaded, sent through the inbox

and compares them with issue 12's goals: create->init within 1.2x of the reference,
at least 50 create+destroy per second. Not a test: it prints the numbers, the ratio and
whether each goal is met (exit status 1 if one is missed).

Usage: ci/bench-toolstack.py [--build DIR] [--cycles N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CREATE_RATIO_GOAL = 1.2
CYCLES_GOAL = 50.0
POLL_S = 0.005
LINUX_CMDLINE = "console=hvc0 quiet loglevel=3 wisp.marker"
INIT_LINE = "wisp-init: started"


def wisp(build, env, *args):
    res = subprocess.run([str(build / "toolstack" / "wisp"), *args], env=env,
                         capture_output=True, text=True, timeout=600)
    if res.returncode:
        sys.exit(f"wisp {' '.join(args)} failed: {res.stderr.strip()}")
    return res.stdout


def first_line_after(console, name, start_len, since):
    """Seconds from `since` until console.log (past start_len) has a line of domain NAME."""
    prefix = f"[{name}] ".encode()
    while True:
        with open(console, "rb") as f:
            f.seek(start_len)
            if any(line.startswith(prefix) for line in f.read().splitlines()):
                return time.monotonic() - since
        if time.monotonic() - since > 300:
            sys.exit(f"{name} printed nothing in 300 s")
        time.sleep(POLL_S)


def line_after(console, text, start_len, since):
    """Seconds from `since` until console.log (past start_len) has a line ending in TEXT."""
    while True:
        with open(console, "rb") as f:
            f.seek(start_len)
            if any(line.endswith(text.encode()) for line in f.read().splitlines()):
                return time.monotonic() - since
        if time.monotonic() - since > 300:
            sys.exit(f"no '{text}' in 300 s")
        time.sleep(POLL_S)


def listed_names(build, env):
    return {line.split()[1] for line in wisp(build, env, "list").splitlines()[1:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--cycles", type=int, default=20)
    args = ap.parse_args()
    build = args.build.resolve()
    subprocess.run(["ninja", "-C", str(build), "toolstack/xenstored/xenstored.elf",
                    "guest-kernels/service/vmlinux", "guest-kernels/service-initramfs.cpio.gz",
                    "guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz"],
                   check=True, stdout=subprocess.DEVNULL)
    work = Path(tempfile.mkdtemp(prefix="wisp-bench-ts."))
    env = dict(os.environ, WISP_RUN_DIR=str(work / "run"))
    kernel = work / "guest.elf"
    subprocess.run(["strip", "-o", str(kernel), str(build / "tests/guests/act64.elf")], check=True)
    vmlinux, initramfs = build / "guest-kernels/vmlinux", build / "guest-kernels/initramfs.cpio.gz"
    os.symlink(vmlinux, work / "vmlinux")
    os.symlink(initramfs, work / "initramfs.cpio.gz")
    (work / "boot.cfg").write_text("domain ref\n  kernel guest.elf\n"
                                   "  cmdline act=canary beats=1000000\n  memory 16\n  paused\n"
                                   "domain lref\n  kernel vmlinux\n  initrd initramfs.cpio.gz\n"
                                   f"  cmdline {LINUX_CMDLINE}\n  memory 128\n  paused\n")
    console = work / "run" / "console.log"
    wisp(build, env, "up", "--config", str(work / "boot.cfg"), "--preload", str(vmlinux),
         "--preload", str(initramfs))
    try:
        start = console.stat().st_size
        t0 = time.monotonic()
        wisp(build, env, "unpause", "ref")
        reference = first_line_after(console, "ref", start, t0)

        creates = []
        for i in range(4):
            cfg = work / f"g{i}.cfg"
            cfg.write_text(f'name = "g{i}"\nkernel = "{kernel}"\n'
                           'extra = "act=canary beats=1000000"\nmemory = 16\n')
            start = console.stat().st_size
            t0 = time.monotonic()
            wisp(build, env, "create", str(cfg))
            creates.append(first_line_after(console, f"g{i}", start, t0))
            wisp(build, env, "destroy", f"g{i}")

        channel_kernel = work / "channel.elf"
        channel_kernel.write_bytes(kernel.read_bytes() + b"\0")    # not cached
        cfg = work / "channel.cfg"
        cfg.write_text(f'name = "ch"\nkernel = "{channel_kernel}"\n'
                       'extra = "act=canary beats=1000000"\nmemory = 16\n')
        inbox, hidden = work / "run" / "inbox.img", work / "inbox.hidden"
        inbox.rename(hidden)
        start = console.stat().st_size
        t0 = time.monotonic()
        wisp(build, env, "create", str(cfg))
        channel = first_line_after(console, "ch", start, t0)
        hidden.rename(inbox)
        wisp(build, env, "destroy", "ch")

        cfg = work / "cycle.cfg"
        cfg.write_text(f'name = "cycle"\nkernel = "{kernel}"\n'
                       'extra = "act=canary beats=1000000"\nmemory = 8\n')
        t0 = time.monotonic()
        for _ in range(args.cycles):
            wisp(build, env, "create", str(cfg))
            wisp(build, env, "destroy", "cycle")
            while "cycle" in listed_names(build, env):
                time.sleep(POLL_S)
        rate = args.cycles / (time.monotonic() - t0)

        start = console.stat().st_size
        t0 = time.monotonic()
        wisp(build, env, "unpause", "lref")
        linux_reference = line_after(console, INIT_LINE, start, t0)
        wisp(build, env, "destroy", "lref")
        linux_creates = []
        for i in range(2):
            cfg = work / f"lin{i}.cfg"
            cfg.write_text(f'name = "lin{i}"\nkernel = "{vmlinux}"\nramdisk = "{initramfs}"\n'
                           f'extra = "{LINUX_CMDLINE}"\nmemory = 128\n')
            start = console.stat().st_size
            t0 = time.monotonic()
            wisp(build, env, "create", str(cfg))
            linux_creates.append(line_after(console, INIT_LINE, start, t0))
            wisp(build, env, "destroy", f"lin{i}")
        sent_vmlinux = work / "vmlinux-sent"
        sent_vmlinux.write_bytes(vmlinux.read_bytes() + b"\0")      # not preloaded
        cfg = work / "linsent.cfg"
        cfg.write_text(f'name = "linsent"\nkernel = "{sent_vmlinux}"\nramdisk = "{initramfs}"\n'
                       f'extra = "{LINUX_CMDLINE}"\nmemory = 128\n')
        start = console.stat().st_size
        t0 = time.monotonic()
        wisp(build, env, "create", str(cfg))
        linux_sent = line_after(console, INIT_LINE, start, t0)
        wisp(build, env, "destroy", "linsent")
    finally:
        subprocess.run([str(build / "toolstack" / "wisp"), "down"], env=env,
                       capture_output=True, timeout=60)

    cached = statistics.median(creates[1:])
    ratio = cached / reference
    print(f"guest: stripped act64, {kernel.stat().st_size} bytes; QEMU TCG")
    print(f"reference (built at boot, unpause -> first line): {reference * 1000:.0f} ms")
    print(f"create -> first line, kernel through the inbox: {creates[0] * 1000:.0f} ms "
          f"({creates[0] / reference:.1f}x)")
    print(f"create -> first line, kernel over the host channel: {channel * 1000:.0f} ms "
          f"({channel / reference:.1f}x)")
    print(f"create -> first line, kernel cached:  {cached * 1000:.0f} ms (median of "
          f"{len(creates) - 1}; {ratio:.1f}x; goal <= {CREATE_RATIO_GOAL}x: "
          f"{'met' if ratio <= CREATE_RATIO_GOAL else 'MISSED'})")
    print(f"create+destroy: {rate:.2f} per second over {args.cycles} cycles "
          f"(goal >= {CYCLES_GOAL:.0f}: {'met' if rate >= CYCLES_GOAL else 'MISSED'})")
    linux = statistics.median(linux_creates)
    linux_ratio = linux / linux_reference
    print(f"Linux guest ({vmlinux.stat().st_size} bytes + {initramfs.stat().st_size} initramfs, "
          f"preloaded, 128 MiB): reference {linux_reference * 1000:.0f} ms, create -> init "
          f"{linux * 1000:.0f} ms (median of {len(linux_creates)}; {linux_ratio:.2f}x; goal <= "
          f"{CREATE_RATIO_GOAL}x: {'met' if linux_ratio <= CREATE_RATIO_GOAL else 'MISSED'})")
    print(f"Linux guest, its kernel through the inbox: create -> init {linux_sent * 1000:.0f} ms "
          f"({linux_sent / linux_reference:.2f}x)")
    return 0 if ratio <= CREATE_RATIO_GOAL and rate >= CYCLES_GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
