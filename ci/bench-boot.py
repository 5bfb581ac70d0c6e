#!/usr/bin/python3
"""bench-boot (host benchmark): one Linux kernel and initramfs booted two ways in one run.

  reference  QEMU TCG boots the vmlinux directly through its own PVH loader
  wisp       QEMU TCG boots Wisp (AMD SVM + NPT, under TCG), which boots the same vmlinux

For each it prints, as the median of --runs boots:
  - host time from launching the emulator to the guest's init marker;
  - guest time from kernel entry to init (the guest's /proc/uptime when init runs);
and for Wisp the VM exits of a whole boot and the exits per second of an idle
guest (from the per-domain, per-reason counters the hypervisor prints when the
domain ends). It compares them with the targets: kernel-entry-to-init ratio
<= 1.3, idle guest <= 50 exits/s. Not a test: it prints numbers and says
whether each target is met (exit status 1 if one is missed).

Usage: ci/bench-boot.py [--build DIR] [--runs N] [--idle-seconds S]
"""
import argparse
import base64
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENTRY_TO_INIT_TARGET = 1.3
IDLE_EXITS_TARGET = 50.0
MARKER = "wisp-init: started"
UPTIME_RE = re.compile(r"^uptime ([0-9.]+)", re.M)
EXITS_RE = re.compile(r"\(wisp\) d1: (\d+) VM exits")
REASON_RE = re.compile(r"\(wisp\) d1:\s{3}(.+?)\s{2,}(\d+)$", re.M)

# What init runs: the guest's own clock when userspace starts.
PRINT_UPTIME = "echo uptime $(cut -d' ' -f1 /proc/uptime)"


def build_inputs(build):
    subprocess.run(["ninja", "-C", str(build), "guest-kernels/vmlinux",
                    "guest-kernels/initramfs.cpio.gz", "toolstack/wisp", "xen/wisp.elf"],
                   check=True, stdout=subprocess.DEVNULL)
    return build / "guest-kernels" / "vmlinux", build / "guest-kernels" / "initramfs.cpio.gz"


def watch(cmd, until, timeout=300):
    """Runs cmd, returns (seconds until `until` first appears on stdout, all output)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen_at, out = None, []
    try:
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            out.append(line)
            if seen_at is None and until in line:
                seen_at = time.monotonic() - start
            if "uptime " in line and seen_at is not None and cmd[0].startswith("qemu"):
                break       # the direct boot never powers off by itself (no ACPI S5)
            if time.monotonic() - start > timeout:
                break
    finally:
        proc.kill()
        proc.wait()
    return seen_at, "".join(out)


def guest_uptime(text):
    m = UPTIME_RE.search(text)
    return float(m.group(1)) if m else None


def run_direct(vmlinux, initramfs):
    cmd64 = base64.b64encode(PRINT_UPTIME.encode()).decode()
    cmd = ["qemu-system-x86_64", "-M", "pc", "-cpu", "max", "-accel", "tcg", "-m", "256",
           "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
           "-kernel", str(vmlinux), "-initrd", str(initramfs),
           "-append", f"console=ttyS0 quiet wisp.marker wisp.cmd={cmd64}"]
    host_s, out = watch(cmd, MARKER)
    return host_s, guest_uptime(out), out


def run_wisp(build, vmlinux, initramfs, command):
    cmd = [str(build / "toolstack" / "wisp"), "run", "--verbose", "--no-interactive",
           "--memory", "256", "--cmdline", "wisp.marker", "--initrd", str(initramfs),
           str(vmlinux), "--", "sh", "-c", command]
    host_s, out = watch(cmd, MARKER)
    return host_s, guest_uptime(out), out


def exits_of(text):
    m = EXITS_RE.search(text)
    return int(m.group(1)) if m else None


def median(values, what):
    values = [v for v in values if v is not None]
    if not values:
        sys.exit(f"bench-boot: no measurement of {what}")
    return statistics.median(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--idle-seconds", type=int, default=10)
    args = ap.parse_args()
    vmlinux, initramfs = build_inputs(args.build.resolve())

    direct, wisp, boots = [], [], []
    for _ in range(args.runs):
        direct.append(run_direct(vmlinux, initramfs))
        wisp.append(run_wisp(args.build, vmlinux, initramfs, PRINT_UPTIME))
    for _, _, out in wisp:
        boots.append(exits_of(out))
    _, _, idle_out = run_wisp(args.build, vmlinux, initramfs,
                              f"{PRINT_UPTIME}; sleep {args.idle_seconds}")

    d_host = median([r[0] for r in direct], "direct boot time")
    w_host = median([r[0] for r in wisp], "Wisp boot time")
    d_guest = median([r[1] for r in direct], "direct kernel-to-init time")
    w_guest = median([r[1] for r in wisp], "Wisp kernel-to-init time")
    boot_exits = median(boots, "exits of a boot")
    idle_exits = exits_of(idle_out)
    if idle_exits is None:
        sys.exit("bench-boot: the idle run printed no exit counters")
    idle_rate = (idle_exits - boot_exits) / args.idle_seconds
    entry_ratio = w_guest / d_guest

    print(f"kernel {vmlinux} ({args.runs} runs each, medians; QEMU TCG)")
    print(f"{'':34}{'direct QEMU':>14}{'Wisp':>10}{'ratio':>8}")
    print(f"{'launch to init marker (host s)':34}{d_host:14.2f}{w_host:10.2f}{w_host / d_host:8.2f}")
    print(f"{'kernel entry to init (guest s)':34}{d_guest:14.2f}{w_guest:10.2f}{entry_ratio:8.2f}")
    print(f"VM exits during a boot: {boot_exits:.0f}")
    reasons = REASON_RE.findall(wisp[len(wisp) // 2][2])
    for name, count in reasons:
        print(f"  {name:30} {count}")
    print(f"VM exits per second of idle guest: {idle_rate:.1f} "
          f"({idle_exits} exits with {args.idle_seconds} s of sleep, minus a boot)")
    ok_entry = entry_ratio <= ENTRY_TO_INIT_TARGET
    ok_idle = idle_rate <= IDLE_EXITS_TARGET
    print(f"target kernel-entry-to-init ratio <= {ENTRY_TO_INIT_TARGET}: "
          f"{'met' if ok_entry else 'MISSED'}")
    print(f"target idle exits/s <= {IDLE_EXITS_TARGET:.0f}: {'met' if ok_idle else 'MISSED'}")
    return 0 if ok_entry and ok_idle else 1


if __name__ == "__main__":
    sys.exit(main())
