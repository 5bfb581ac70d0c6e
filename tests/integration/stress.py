"""stress (host test library): every part of Wisp busy at once on several CPUs.

One machine (QEMU, CPUS CPUs) boots the xenstore and service domains, two 2-vCPU
Linux guests, each with its own read-write disk and a vif on the bridge, the fuzz64
guest and a canary. For SECONDS each Linux guest writes random data to its disk
and reads it back (direct I/O, checksums compared), and guest2 fetches a file from
guest1's web server over and over (checksums compared), then pings it;
meanwhile fuzz64 fires its seeded hypercalls and exits and the canary beats every
100 ms. The run passes when:

  - every Linux guest did at least one disk and one network pass and no pass
    mismatched (no corruption),
  - fuzz64 finished its calls and the canary beat every beat in order (no hang, no
    lost timer event),
  - the machine ended by itself with every domain powered off and no hypervisor
    panic (stuck-vCPU reports are counted, not failed: see check()),
  - the hypervisor's `free frames: boot N, end M` has N == M (nothing leaked).

Used by test_stress.py (in `./wisp test`) and ci/stress-smp.py (longer runs by hand).
"""
import base64
import re
import time

import wisptest
from machine import domain_lines, heartbeats, run_config

DISK_MIB = 32
PASS_MIB = 8
FREE_FRAMES_RE = re.compile(r"free frames: boot (\d+), end (\d+)")
STRESS_RE = re.compile(r"^STRESS (\w+) (\d+)$")

# Each Linux guest, WISP_GUEST 1 or 2 (addresses 10.77.0.3 and .4: the agent's DHCP
# plan by domain id). Counters are lines in files, so background loops can add to them.
# guest1 serves and waits (nc) until guest2 says it has stopped fetching.
GUEST_SCRIPT = r"""
peer=10.77.0.$((5 - WISP_GUEST))
now() { cut -d. -f1 /proc/uptime; }
end=$(($(now) + SECONDS_OF_WORK))
count() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
disk_loop() {
    while [ "$(now)" -lt "$end" ]; do
        w=$(dd if=/dev/urandom bs=1M count=PASS_MIB 2>/dev/null | tee /dev/xvda | sha256sum | cut -c1-64)
        sync; blockdev --flushbufs /dev/xvda
        r=$(dd if=/dev/xvda bs=1M count=PASS_MIB iflag=direct 2>/dev/null | sha256sum | cut -c1-64)
        if [ "$w" = "$r" ]; then echo . >> /tmp/disk_passes; else echo . >> /tmp/disk_bad; fi
    done
}
disk_loop &
if [ "$WISP_GUEST" = 1 ]; then
    mkdir -p /www
    dd if=/dev/urandom of=/www/data bs=1M count=PASS_MIB 2>/dev/null
    sha256sum /www/data | cut -c1-64 > /www/sum
    httpd -p 8080 -h /www
    nc -l -p 9000 > /tmp/done &
    wait
else
    i=0; while ! wget -q -O /dev/null "http://$peer:8080/sum" && [ $i -lt 120 ]; do
        sleep 1; i=$((i+1)); done
    want=$(wget -q -O - "http://$peer:8080/sum")
    while [ "$(now)" -lt "$end" ]; do
        got=$(wget -q -O - "http://$peer:8080/data" | sha256sum | cut -c1-64)
        if [ -n "$want" ] && [ "$got" = "$want" ]; then echo . >> /tmp/net_passes
        else echo . >> /tmp/net_bad; fi
    done
    wait
    ping -c 3 -w 60 "$peer" >/dev/null 2>&1; echo "STRESS ping_peer $?"
    i=0; until echo done | nc "$peer" 9000 || [ $i -ge 60 ]; do sleep 1; i=$((i+1)); done
    echo "STRESS net_passes $(count /tmp/net_passes)"
    echo "STRESS net_bad $(count /tmp/net_bad)"
fi
echo "STRESS disk_passes $(count /tmp/disk_passes)"
echo "STRESS disk_bad $(count /tmp/disk_bad)"
"""

CONFIG = """\
domain xenstore
  kernel xenstored.elf
  roles xenstore
  memory 16
domain service
  kernel service-vmlinux
  initrd service-initramfs.cpio.gz
  roles control,backend
  memory 256
  cmdline console=hvc0 xen_privcmd.unrestricted=1 pci=conf1 quiet
{guests}domain canary
  kernel act64.elf
  cmdline act=canary beats={beats}
  memory 16
domain fuzz
  kernel fuzz64.elf
  cmdline seed={seed} calls={calls} known={known}
  memory 32
"""

GUEST = """\
domain guest{n}
  kernel guest.elf
  initrd initrd.img
  cmdline console=hvc0 quiet loglevel=3 wisp.cmd={cmd} wisp.guest={n}/2
  memory 256
  vcpus 2
  disk format=raw, vdev=xvda, access=rw, target=disk{n}.img
  vif
"""


def guest_script(seconds):
    """The script without indentation or blank lines: its base64 must fit a 2 KiB cmdline."""
    text = GUEST_SCRIPT.replace("SECONDS_OF_WORK", str(seconds)).replace("PASS_MIB", str(PASS_MIB))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip()) + "\n"


# --pin: each domain on one CPU of two, so no vCPU ever moves (docs/smp.md, "Stress").
PINNED = {"xenstore": 0, "service": 1, "guest1": 0, "guest2": 1, "canary": 0, "fuzz": 1}


def pin_domains(config):
    """config with a `cpus` line after each domain line PINNED names."""
    out = []
    for line in config.splitlines():
        out.append(line)
        words = line.split()
        if len(words) == 2 and words[0] == "domain" and words[1] in PINNED:
            out.append(f"  cpus {PINNED[words[1]]}")
    return "\n".join(out) + "\n"


def make_config(seconds, seed, calls, known="timers,memory,exits", pin=False):
    cmd = base64.b64encode(guest_script(seconds).encode()).decode()
    guests = "".join(GUEST.format(n=n, cmd=cmd) for n in (1, 2))
    config = CONFIG.format(guests=guests, beats=seconds * 10, seed=seed, calls=calls,
                           known=known)
    return pin_domains(config) if pin else config


def check(res, seconds, seed, calls):
    """The list of what went wrong (empty: the run passed)."""
    bad = []
    if res.code != wisptest.EXIT_POWEROFF:
        bad.append(f"the machine ended with {res.code} (timed out: {res.timed_out})")
    if "PANIC" in res.stderr:
        bad.append("hypervisor panic")
    stuck = res.stderr.count("interrupts off for")
    if stuck:
        # Not a failure by itself: the watch samples at exits, and on an overloaded host a
        # vCPU's only exits can be the timer hypercalls its interrupt handler makes. A real
        # hang also leaves work undone, which the checks below catch.
        print(f"note: {stuck} stuck-vCPU report(s) in the log")
    for n in (1, 2):
        found = {}
        for line in domain_lines(res.stdout, f"guest{n}"):
            m = STRESS_RE.match(line.replace("\r", ""))
            if m:
                found[m.group(1)] = int(m.group(2))
        wanted = ["disk_passes"] + (["net_passes"] if n == 2 else [])
        print(f"guest{n}: {found}")
        for key in wanted:
            if found.get(key, 0) < 1:
                bad.append(f"guest{n}: no {key}")
        for key in ("disk_bad", "net_bad", "ping_peer"):
            if found.get(key, 0):
                bad.append(f"guest{n}: {key} {found[key]}")
    fuzz = domain_lines(res.stdout, "fuzz")
    if f"FUZZ done calls={calls} seed={seed}" not in fuzz:
        bad.append(f"fuzz64 did not finish: {fuzz[-3:]}")
    if [line for line in fuzz if line.startswith("FUZZ FAIL")]:
        bad.append("fuzz64 reported FUZZ FAIL")
    beats = heartbeats(res.stdout, "canary")
    if beats != list(range(1, seconds * 10 + 1)):
        bad.append(f"canary beats: {len(beats)} of {seconds * 10}, in order: "
                   f"{beats == sorted(beats)}")
    frames = FREE_FRAMES_RE.search(res.stderr)
    if not frames or frames.group(1) != frames.group(2):
        bad.append(f"frames: {frames.group(0) if frames else 'no free-frames line'}")
    return bad


def run(tmp, log, seconds=60, cpus=2, fuzz_calls=200000, seed=1,
        fuzz_known="timers,memory,exits", hv_cmdline="", timeout=0, pin=False,
        tcg_threads="single"):
    """One stress machine in directory TMP, its whole output to the open file LOG.
    Returns (what went wrong: empty if it passed, the machine's wall seconds).

    tcg_threads "single" by default: with one host thread per emulated CPU, QEMU 7.2
    corrupts the boot CPU's SVM state from the other CPUs' FPU restores within
    seconds of this load (docs/testing.md, "QEMU's multi-threaded TCG race")."""
    kernels = wisptest.BUILD / "guest-kernels"
    for n in (1, 2):
        with open(tmp / f"disk{n}.img.data", "wb") as f:
            f.truncate(DISK_MIB << 20)
    files = {"guest.elf": kernels / "vmlinux", "initrd.img": kernels / "initramfs.cpio.gz",
             "service-vmlinux": kernels / "service" / "vmlinux",
             "service-initramfs.cpio.gz": kernels / "service-initramfs.cpio.gz",
             "disk1.img": tmp / "disk1.img.data", "disk2.img": tmp / "disk2.img.data"}
    config = make_config(seconds, seed, fuzz_calls, fuzz_known, pin=pin)
    started = time.monotonic()
    res = run_config(tmp, config, timeout=timeout or seconds * 4 + 900, files=files,
                     extra=["--verbose", "--cpus", str(cpus), "--tcg-threads", tcg_threads] +
                     (["--hv-cmdline", hv_cmdline] if hv_cmdline else []),
                     log=log)
    return check(res, seconds, seed, fuzz_calls), time.monotonic() - started
