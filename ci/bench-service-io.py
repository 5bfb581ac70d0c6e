#!/usr/bin/python3
"""bench-service-io (host benchmark): a guest's disk and network through the service domain,
each against a reference measured in the same run on the same emulator.

  disk  seq-write, seq-read (1 MiB blocks), rand-write, rand-read (4 KiB blocks) on /dev/xvda
        in a Linux guest (`wisp run --disk IMAGE`: xen-blkfront -> grant-shared ring ->
        xen-blkback in the service domain -> /dev/pmem0 there)
        reference: the same workload on /dev/pmem0 inside the service domain itself (the
        backend's own speed), run by the service /init from `wisp.svc-cmd=BASE64`
  net   tcp-send (throughput) and tcp-rtt (1-byte ping-pong) from guest1 to guest2
        (`wisp run --net --guests 2`: netfront -> netback -> bridge br0 -> netback ->
        netfront, guest1 10.77.0.3, guest2 10.77.0.4 by DHCP)
        reference: the same between two processes of one guest over its loopback
  boot  host wall time of `wisp run --disk IMAGE -- true` (xenstore and service domains
        too) against `wisp run -- true` (the median of --runs each)

Every number but boot time is the guest's own (wisp-bench, CLOCK_MONOTONIC on pvclock).
It prints one table: metric, value, reference, ratio = value / reference. For MB/s and
IOPS, below 1 is slower than the reference; for microseconds and seconds, above 1 is.
Not a test: it measures and prints; the exit status is 1 only when a run failed (its
reason is printed under the table).

Usage: ci/bench-service-io.py [--build DIR] [--emulator qemu|bochs] [--only disk,net,boot]
           [--mib N] [--rand-mib N] [--tcp-mib N] [--pings N] [--runs N] [--timeout SEC]
"""
import argparse
import base64
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

IMAGE_MIB = 64
PORT = 5001
SERVER_IP = "10.77.0.4"         # guest2 (domain 4) by the agent's DHCP plan
DISK_MODES = ["seq-write", "seq-read", "rand-write", "rand-read"]
SVC_DONE = "BENCH SVC DONE"
# wisp-bench's lines, maybe behind a "[NAME] " label (several domains or guests).
LINE_RE = re.compile(r"^(?:\[[^\]]+\] )?(BENCH .*)$")
DISK_RE = re.compile(r"^BENCH disk (\S+) MBps=([0-9.]+) iops=([0-9]+) ")
SEND_RE = re.compile(r"^BENCH tcp-send MBps=([0-9.]+) ")
RTT_RE = re.compile(r"^BENCH tcp-rtt usec=([0-9.]+) ")
FAILED_RE = re.compile(r"^BENCH (.*) FAILED (.*)$")


class RunFailed(Exception):
    """A run that gave no numbers: why, and the end of what it printed."""


def b64(text):
    return base64.b64encode(text.encode()).decode()


def disk_script(dev, mib, rand_mib):
    """What the guest or the service domain runs: the four disk workloads on DEV."""
    sizes = {"seq-write": mib, "seq-read": mib, "rand-write": rand_mib, "rand-read": rand_mib}
    return "; ".join(f"wisp-bench disk {m} {dev} {sizes[m]}" for m in DISK_MODES)


def wait_script(test, seconds, what):
    """Shell that waits until TEST holds (once a second, at most SECONDS), else says so."""
    return (f"i=0; until {test}; do [ $i -ge {seconds} ] && "
            f"{{ echo 'BENCH note: {what} after {seconds} s'; break; }}; "
            f"sleep 1; i=$((i+1)); done")


# The service domain (d2) serves guest1 (d3) xvda (vbd 51712); blkback's state 4 is
# Connected (xen/io/xenbus.h). Waiting for it means guest1 has booted and gone idle
# (it only sleeps), so it does not take the CPU from the reference workload.
GUEST_DISK_CONNECTED = '[ "$(wisp-xs read backend/vbd/3/51712/state 2>/dev/null)" = 4 ]'


def tcp_client_script(host, tcp_mib, pings):
    return (f"wisp-bench tcp-send {host} {PORT} {tcp_mib}; "
            f"wisp-bench tcp-rtt {host} {PORT} {pings}")


def bench_lines(stdout_lines):
    return [m.group(1) for m in map(LINE_RE.match, stdout_lines) if m]


def tail(lines, n=25):
    lines = [line for line in lines if line.strip()]
    return "\n".join(["    " + line for line in lines[-n:]])


def check_lines(lines, wanted, result_lines, what):
    """Raises RunFailed naming the FAILED lines when a wanted result is missing."""
    missing = [w for w in wanted if w not in result_lines]
    if not missing:
        return
    failures = [f"{m.group(1)}: {m.group(2)}" for m in map(FAILED_RE.match, lines) if m]
    raise RunFailed(f"{what}: no result for {', '.join(missing)}"
                    + (f" ({'; '.join(failures)})" if failures else ""))


def parse_disk(lines, what):
    got = {}
    for line in lines:
        m = DISK_RE.match(line)
        if m:
            got[m.group(1)] = (float(m.group(2)), int(m.group(3)))
    check_lines(lines, DISK_MODES, got, what)
    return got


def parse_tcp(lines, what):
    got = {}
    for line in lines:
        if m := SEND_RE.match(line):
            got["tcp-send"] = float(m.group(1))
        if m := RTT_RE.match(line):
            got["tcp-rtt"] = float(m.group(1))
    check_lines(lines, ["tcp-send", "tcp-rtt"], got, what)
    return got


class Bench:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.build = args.build.resolve()
        self.wisp = self.build / "toolstack" / "wisp"
        self.image = tmp / "disk0.img"
        with open(self.image, "wb") as f:       # sparse: the CLI reads it into a module
            f.truncate(IMAGE_MIB << 20)

    def wisp_run(self, options, command, what):
        """`wisp run OPTIONS -- sh -c COMMAND`: (host seconds, stdout lines); RunFailed
        when it does not end with status 0."""
        cmd = [str(self.wisp), "run", "--emulator", self.args.emulator, "--no-interactive",
               "--timeout", str(self.args.timeout), *options, "--", "sh", "-c", command]
        start = time.monotonic()
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=self.args.timeout + 60)
        secs = time.monotonic() - start
        lines = proc.stdout.splitlines()
        if proc.returncode != 0:
            raise RunFailed(f"{what}: `wisp run {' '.join(options)}` exited "
                            f"{proc.returncode}\n{tail(lines + proc.stderr.splitlines())}")
        return secs, lines

    # ---- disk ----

    def disk_in_guest(self):
        script = (wait_script("[ -b /dev/xvda ]", 30, "no /dev/xvda") + "; "
                  + disk_script("/dev/xvda", self.args.mib, self.args.rand_mib))
        _, lines = self.wisp_run(["--disk", str(self.image)], script, "disk in the guest")
        return parse_disk(bench_lines(lines), "disk in the guest")

    def service_config(self):
        """The machine of `wisp run --disk` (docs/boot-config.md), but with the disk
        workload on the service domain's command line for its /init, and a guest that
        only holds the disk (its pmem region exists because the guest has the disk)."""
        svc = (wait_script(GUEST_DISK_CONNECTED, 600, "guest1 disk not connected")
               + "; sleep 5; "
               + disk_script("/dev/pmem0", self.args.mib, self.args.rand_mib)
               + f"; echo {SVC_DONE}")
        return ("domain xenstore\n  kernel xenstored.elf\n  roles xenstore\n  memory 16\n"
                "domain service\n  kernel service-vmlinux\n"
                "  initrd service-initramfs.cpio.gz\n  roles control,backend\n  memory 256\n"
                "  cmdline console=hvc0 xen_privcmd.unrestricted=1 pci=conf1 quiet "
                f"wisp.svc-cmd={b64(svc)}\n"
                "domain guest1\n  kernel vmlinux\n  initrd initramfs.cpio.gz\n  memory 128\n"
                f"  cmdline console=hvc0 quiet loglevel=3 wisp.cmd={b64('sleep 3600')}\n"
                f"  disk format=raw, vdev=xvda, access=rw, target={self.image.name}\n")

    def disk_in_service(self):
        """The reference: the service /init runs wisp.svc-cmd after its setup and prints
        its output on hvc0 ([service] lines); the machine is stopped at SVC_DONE (a
        machine with a xenstore domain never ends by itself while the guest sleeps).
        Needs `wisp run --config` to pass `disk ... target=` images as boot modules, read
        from the configuration's directory like kernels."""
        import machine      # reads WISP_BUILD_DIR when imported
        kernels = self.build / "guest-kernels"
        files = {"service-vmlinux": kernels / "service" / "vmlinux",
                 "service-initramfs.cpio.gz": kernels / "service-initramfs.cpio.gz",
                 "vmlinux": kernels / "vmlinux",
                 "initramfs.cpio.gz": kernels / "initramfs.cpio.gz"}
        result = machine.run_config(self.tmp, self.service_config(), emulator=self.args.emulator,
                                    timeout=self.args.timeout, until=re.escape(SVC_DONE),
                                    files=files)
        lines = machine.domain_lines(result.stdout, "service")
        if SVC_DONE not in lines:
            raise RunFailed(f"disk in the service domain: no '{SVC_DONE}' line (wisp "
                            f"{result.code})\n{tail(result.stdout + result.stderr.splitlines())}")
        return parse_disk(bench_lines(lines), "disk in the service domain")

    # ---- net ----

    def net_between_guests(self):
        script = (f'if [ "$WISP_GUEST" = 2 ]; then wisp-bench tcp-server {PORT} 2; '
                  f"else {tcp_client_script(SERVER_IP, self.args.tcp_mib, self.args.pings)}; fi")
        _, lines = self.wisp_run(["--net", "--guests", "2"], script, "net between guests")
        return parse_tcp(bench_lines(lines), "net between guests")

    def net_loopback(self):
        script = (f"ifconfig lo 127.0.0.1 up; wisp-bench tcp-server {PORT} 2 & "
                  f"{tcp_client_script('127.0.0.1', self.args.tcp_mib, self.args.pings)}; wait")
        _, lines = self.wisp_run([], script, "net over loopback")
        return parse_tcp(bench_lines(lines), "net over loopback")

    # ---- boot ----

    def boot_times(self):
        """Medians of --runs boots each, alternating so drift hits both alike."""
        with_disk, plain = [], []
        for _ in range(self.args.runs):
            with_disk.append(self.wisp_run(["--disk", str(self.image)], "true",
                                           "boot with a disk")[0])
            plain.append(self.wisp_run([], "true", "plain boot")[0])
        return statistics.median(with_disk), statistics.median(plain)


def measure(name, fn, failures):
    try:
        return fn()
    except RunFailed as e:
        failures.append(str(e))
    except subprocess.TimeoutExpired as e:
        failures.append(f"{name}: `wisp` did not end {e.timeout} s after its start")
    return None


def row(metric, value, ref, fmt):
    if value is None or ref is None:
        v = "-" if value is None else format(value, fmt)
        r = "-" if ref is None else format(ref, fmt)
        print(f"{metric:34}{v:>12}{r:>12}{'-':>8}")
    else:
        print(f"{metric:34}{value:12{fmt}}{ref:12{fmt}}{value / ref if ref else 0:8.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu")
    ap.add_argument("--only", default="disk,net,boot", help="comma-separated: disk, net, boot")
    ap.add_argument("--mib", type=int, default=IMAGE_MIB, help="sequential MiB per workload")
    ap.add_argument("--rand-mib", type=int, default=16,
                    help="4 KiB random traffic and range, MiB")
    ap.add_argument("--tcp-mib", type=int, default=32)
    ap.add_argument("--pings", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3, help="boots of each kind")
    ap.add_argument("--timeout", type=int, default=None,
                    help="per run, seconds (default 900 QEMU, 3600 Bochs)")
    args = ap.parse_args()
    if args.timeout is None:
        args.timeout = 900 if args.emulator == "qemu" else 3600
    parts = set(args.only.split(","))
    if not parts <= {"disk", "net", "boot"}:
        ap.error("--only takes disk, net, boot")
    if not (1 <= args.rand_mib <= IMAGE_MIB and 1 <= args.mib <= IMAGE_MIB):
        ap.error(f"--mib and --rand-mib must be 1 to {IMAGE_MIB} (the image's size)")
    build = args.build.resolve()
    os.environ["WISP_BUILD_DIR"] = str(build)
    targets = ["toolstack/wisp", "xen/wisp.elf", "toolstack/xenstored/xenstored.elf",
               "guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz",
               "guest-kernels/service/vmlinux", "guest-kernels/service-initramfs.cpio.gz"]
    failures = []
    for target in targets:  # one by one: a missing target must not stop the others
        made = subprocess.run(["ninja", "-C", str(build), target], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if made.returncode:     # the runs that need it fail and say so
            failures.append(f"ninja {target}: exit {made.returncode}\n"
                            f"{tail(made.stdout.splitlines(), 3)}")

    with tempfile.TemporaryDirectory(prefix="wisp-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        disk = disk_ref = net = net_ref = boot = None
        if "disk" in parts:
            disk = measure("disk in the guest", bench.disk_in_guest, failures)
            disk_ref = measure("disk in the service domain", bench.disk_in_service, failures)
        if "net" in parts:
            net = measure("net between guests", bench.net_between_guests, failures)
            net_ref = measure("net over loopback", bench.net_loopback, failures)
        if "boot" in parts:
            boot = measure("boot", bench.boot_times, failures)

    print(f"service I/O on {args.emulator}; guest times from wisp-bench (pvclock), boot "
          f"times on the host; ratio = value / reference")
    print(f"{'metric':34}{'value':>12}{'reference':>12}{'ratio':>8}")
    if "disk" in parts:
        print(f"disk: xvda in the guest vs pmem0 in the service domain "
              f"(seq {args.mib} MiB, 4 KiB random {args.rand_mib} MiB)")
        for mode in DISK_MODES:
            unit, idx = ("IOPS", 1) if mode.startswith("rand") else ("MB/s", 0)
            row(f"  {mode} {unit}", disk and disk[mode][idx], disk_ref and disk_ref[mode][idx],
                ".1f" if unit == "MB/s" else ".0f")
    if "net" in parts:
        print(f"net: guest1 -> guest2 vs loopback in one guest "
              f"({args.tcp_mib} MiB, {args.pings} pings)")
        row("  tcp-send MB/s", net and net["tcp-send"], net_ref and net_ref["tcp-send"], ".1f")
        row("  tcp-rtt usec", net and net["tcp-rtt"], net_ref and net_ref["tcp-rtt"], ".1f")
    if "boot" in parts:
        print(f"boot: `wisp run --disk IMAGE -- true` vs `wisp run -- true` "
              f"(median of {args.runs})")
        row("  wall time s", boot and boot[0], boot and boot[1], ".2f")
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
