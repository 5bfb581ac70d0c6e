#!/usr/bin/python3
"""bench-smp (host benchmark): a parallel workload in a 2-vCPU Linux guest, three ways in one run.

  wisp-1     Wisp on a 1-CPU QEMU machine: the guest's two vCPUs share one pCPU
  wisp-2     Wisp on a 2-CPU QEMU machine: the balancer gives each vCPU a pCPU
  reference  QEMU TCG with -smp 2 boots the same vmlinux directly (no Wisp)

The workload is two shell loops run at once; the guest times it with its own
clock (/proc/uptime before and after). Each is the median of --runs. It prints
the speed-up of wisp-2 over wisp-1 (target >= 1.8) and wisp-2 against the
reference (target <= 1.2), then par64's event-channel round trip between two
vCPUs on different pCPUs, each asleep in HLT when its event comes (a remote
wake-up each way). Not a test: it prints numbers and says whether each target
is met (exit status 1 if one is missed). Run it on an otherwise idle machine:
QEMU's two CPUs need two host cores.

Usage: ci/bench-smp.py [--build DIR] [--runs N] [--loops N]
"""
import argparse
import base64
import re
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEEDUP_TARGET = 1.8
REFERENCE_TARGET = 1.2
WORK_RE = re.compile(r"\bwork ([0-9.]+) ([0-9.]+)")   # SeaBIOS's last line may precede it
RTT_RE = re.compile(r"event round trip between vCPUs: mean (\d+) us, worst (\d+) us over (\d+)")


def workload(loops):
    one = f'(i=0; while [ $i -lt {loops} ]; do i=$((i+1)); done)'
    return (f'a=$(cut -d" " -f1 /proc/uptime); {one} & {one} & wait; '
            f'b=$(cut -d" " -f1 /proc/uptime); echo "work $a $b"')


def build_inputs(build):
    subprocess.run(["ninja", "-C", str(build), "guest-kernels/vmlinux",
                    "guest-kernels/initramfs.cpio.gz", "toolstack/wisp", "xen/wisp.elf",
                    "tests/guests/par64.elf"], check=True, stdout=subprocess.DEVNULL)
    return build / "guest-kernels" / "vmlinux", build / "guest-kernels" / "initramfs.cpio.gz"


def seconds_of(text):
    m = WORK_RE.search(text)
    return float(m.group(2)) - float(m.group(1)) if m else None


def run(cmd, timeout=900):
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)
        return done.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return (e.stdout or b"").decode(errors="replace")


def run_wisp(build, cpus, command):
    return seconds_of(run([str(build / "toolstack" / "wisp"), "run", "--no-interactive",
                           "--timeout", "900", "--vcpus", "2", "--cpus", str(cpus), "--",
                           "sh", "-c", command]))


def run_direct(vmlinux, initramfs, command):
    """QEMU's own PVH loader; the initramfs's init runs wisp.cmd, then powers off."""
    cmd64 = base64.b64encode(command.encode()).decode()
    proc = subprocess.Popen(
        ["qemu-system-x86_64", "-M", "pc", "-cpu", "max", "-accel", "tcg", "-smp", "2",
         "-m", "256", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
         "-kernel", str(vmlinux), "-initrd", str(initramfs),
         "-append", f"console=ttyS0 quiet wisp.cmd={cmd64}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = []
    try:
        for raw in proc.stdout:
            out.append(raw.decode(errors="replace"))
            if WORK_RE.search(out[-1]):
                break
    finally:
        proc.kill()
        proc.wait()
    return seconds_of("".join(out))


def median(values, what):
    values = [v for v in values if v is not None]
    if not values:
        sys.exit(f"bench-smp: no measurement of {what}")
    return statistics.median(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--loops", type=int, default=150000)
    args = ap.parse_args()
    build = args.build.resolve()
    vmlinux, initramfs = build_inputs(build)
    command = workload(args.loops)

    one, two, ref = [], [], []
    for _ in range(args.runs):
        one.append(run_wisp(build, 1, command))
        two.append(run_wisp(build, 2, command))
        ref.append(run_direct(vmlinux, initramfs, command))
    t1, t2, tr = (median(one, "wisp-1"), median(two, "wisp-2"), median(ref, "reference"))
    speedup, against = t1 / t2, t2 / tr

    print(f"two loops of {args.loops} in a 2-vCPU Linux guest ({args.runs} runs each, medians, "
          "guest seconds; QEMU TCG)")
    print(f"  Wisp, 1 pCPU:            {t1:8.2f}")
    print(f"  Wisp, 2 pCPUs:           {t2:8.2f}   speed-up {speedup:.2f} (target >= "
          f"{SPEEDUP_TARGET}: {'met' if speedup >= SPEEDUP_TARGET else 'MISSED'})")
    print(f"  QEMU -smp 2, no Wisp:    {tr:8.2f}   Wisp 2 pCPUs / this {against:.2f} (target <= "
          f"{REFERENCE_TARGET}: {'met' if against <= REFERENCE_TARGET else 'MISSED'})")

    par = run([str(build / "toolstack" / "wisp"), "run", "--no-interactive", "--vcpus", "2",
               "--cpus", "2", "--cmdline", "pcpus=2", str(build / "tests" / "guests" / "par64.elf")])
    m = RTT_RE.search(par)
    if not m:
        sys.exit("bench-smp: par64 printed no round trip")
    print(f"event-channel round trip between vCPUs on two pCPUs (par64, {m.group(3)} trips): "
          f"mean {m.group(1)} us, worst {m.group(2)} us; a remote wake-up is about half")
    return 0 if speedup >= SPEEDUP_TARGET and against <= REFERENCE_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
