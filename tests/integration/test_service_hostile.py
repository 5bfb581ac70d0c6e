"""test_service_hostile (host tests): a guest that sends garbage to the service domain's backends
hurts neither the service domain nor another guest (issue 10).

The machine is the one `wisp run --disk --net` builds for two guests, written out by hand: the
xenstore domain (d1), the service domain (d2: xen-blkback, xen-netback, bridge br0,
wisp-agent), a Linux guest (d3, `guest1`) and hostile_front64.elf (d4, `hostile`), each guest
with a disk (vbd 51712) and a vif (handle 0). The agent writes both guests' device nodes and
unpauses them. Once guest1 answers pings (its command is about to start), the service domain's
`wisp.svc-cmd` writes `/local/domain/4/attack`, and the hostile guest then plays a malicious
blkfront and netfront (tests/guests/hostile_front.c): rings full of random requests (unknown
operations, nr_segments past 11, grant refs never granted or revoked, sectors past the end),
producer indexes far ahead of the consumer, bogus frontend keys (ungranted ring-ref, huge event
channel, garbage protocol), a flapping state, a revoked ring grant, seconds of back-to-back
notifications, and then crashes with the backends still attached.

All the while guest1 writes random blocks to its own xvda and reads them back past the page
cache (checksummed), and pings the service domain (10.77.255.254), one `IO pass` line per
round. The service domain's `wisp.svc-cmd` waits for the hostile guest's vbd to appear and
then to vanish (wisp-agent removes a dead guest's devices), says so, adds 10.77.255.253 to
br0 as a signal to guest1 (which does three more rounds once it answers, then ends), and dumps
its kernel log. Checked: every guest1 round passed (disk and ping, before and after the
hostile guest died), the hostile guest ran its whole attack, the agent tore its devices down,
the service kernel logged no Oops/BUG/WARNING/panic, and the machine ended with `free
frames: boot N, end M`, N == M. QEMU only: two Linux kernels under Bochs take too long.
"""
import base64
import re

import pytest

import machine
import wisptest
from test_linux import INITRAMFS, VMLINUX
from wisptest import BUILD, ninja_build

pytestmark = pytest.mark.long(2)     # about 2 minutes of boots: run early (conftest.py)

KERNELS = BUILD / "guest-kernels"
SERVICE_VMLINUX = KERNELS / "service" / "vmlinux"
SERVICE_INITRAMFS = KERNELS / "service-initramfs.cpio.gz"
TIMEOUT = 900
MIB = 1 << 20

SVC_SCRIPT = r"""
seen() { wisp-xs read backend/vbd/4/51712/state >/dev/null 2>&1; }
i=0; until seen || [ $i -ge 600 ]; do sleep 1; i=$((i+1)); done
echo "SVC hostile-vbd seen after $i s"
i=0; until ping -c1 -W1 10.77.0.3 >/dev/null 2>&1 || [ $i -ge 600 ]; do sleep 1; i=$((i+1)); done
sleep 5
wisp-xs write /local/domain/4/attack now; echo "SVC attack ordered after $i s"
i=0; while seen && [ $i -lt 900 ]; do sleep 1; i=$((i+1)); done
seen && echo "SVC hostile-vbd still there" || echo "SVC hostile-vbd gone after $i s"
ip addr add 10.77.255.253/16 dev br0; echo "SVC alias $?"
dmesg | grep -iE 'blkback|netback|vif|xen|bug|oops|warning|call trace|panic' | sed 's/^/SVC dmesg /'
echo "SVC end"
"""

GUEST_SCRIPT = r"""
i=0; while [ ! -b /dev/xvda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
pass=0; after=0
while [ $pass -lt 2000 ] && [ $after -lt 3 ]; do
    pass=$((pass+1))
    at=$((pass % 64 * 4))
    dd if=/dev/urandom of=/tmp/r bs=64k count=4 2>/dev/null
    want=$(sha256sum </tmp/r | cut -c1-64)
    dd if=/tmp/r of=/dev/xvda bs=64k seek=$at oflag=direct conv=fsync 2>/dev/null
    got=$(dd if=/dev/xvda bs=64k skip=$at count=4 iflag=direct 2>/dev/null | sha256sum | cut -c1-64)
    [ "$want" = "$got" ] && d=ok || d=bad
    ping -c1 -W3 10.77.255.254 >/dev/null 2>&1 && p=ok || p=bad
    ping -c1 -W1 10.77.255.253 >/dev/null 2>&1 && after=$((after+1))
    echo "IO pass $pass disk $d ping $p after $after"
done
echo "IO done $pass $after"
"""

PASS_RE = re.compile(r"^IO pass (\d+) disk (\S+) ping (\S+) after (\d+)$")
FREE_FRAMES_RE = re.compile(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", re.M)
BAD_RE = re.compile(r"Kernel panic|BUG:|Oops|WARNING:|Call Trace|general protection", re.I)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def config():
    return ("domain xenstore\n  kernel xenstored.elf\n  roles xenstore\n  memory 16\n"
            "domain service\n  kernel service-vmlinux\n"
            "  initrd service-initramfs.cpio.gz\n  roles control,backend\n  memory 256\n"
            "  cmdline console=hvc0 xen_privcmd.unrestricted=1 pci=conf1 quiet "
            f"wisp.svc-cmd={b64(SVC_SCRIPT)}\n"
            "domain guest1\n  kernel vmlinux\n  initrd initramfs.cpio.gz\n  memory 128\n"
            f"  cmdline console=hvc0 quiet loglevel=3 wisp.cmd={b64(GUEST_SCRIPT)}\n"
            "  disk format=raw, vdev=xvda, access=rw, target=guest1.img\n"
            "  vif\n"
            "domain hostile\n  kernel hostile_front64.elf\n  memory 16\n"
            "  disk format=raw, vdev=xvda, access=rw, target=hostile.img\n"
            "  vif\n")


@pytest.mark.boot
def test_hostile_frontend_hurts_neither_service_nor_guest(tmp_path):
    ninja_build(VMLINUX, INITRAMFS, SERVICE_VMLINUX, SERVICE_INITRAMFS)
    for name in ("guest1.img", "hostile.img"):
        with open(tmp_path / name, "wb") as f:
            f.truncate(16 * MIB)
    files = {"service-vmlinux": SERVICE_VMLINUX, "service-initramfs.cpio.gz": SERVICE_INITRAMFS,
             "vmlinux": VMLINUX, "initramfs.cpio.gz": INITRAMFS,
             "guest1.img": tmp_path / "guest1.img", "hostile.img": tmp_path / "hostile.img"}
    res = machine.run_config(tmp_path, config(), timeout=TIMEOUT, files=files,
                             extra=["--verbose"])
    (tmp_path / "stdout.txt").write_text("\n".join(res.stdout) + "\n" + res.stderr)
    out = "\n".join(res.stdout[-150:]) + "\n--- stderr tail ---\n" + res.stderr[-4000:]
    assert not res.timed_out, "timed out\n" + out

    hostile = machine.domain_lines(res.stdout, "hostile")
    wisptest.assert_checks(hostile)
    assert "HOSTILE attack done; crashing" in hostile, out

    service = machine.domain_lines(res.stdout, "service")
    bad = [line for line in service if BAD_RE.search(line)]
    assert not bad, "the service kernel complained:\n" + "\n".join(bad)
    assert any(re.search(r"wisp-agent: d4 is gone: removed its 2 devices", line)
               for line in service), out
    assert any(line.startswith("SVC hostile-vbd gone") for line in service), out
    assert "SVC end" in service, out

    rounds = [PASS_RE.match(line) for line in machine.domain_lines(res.stdout, "guest1")]
    rounds = [m.groups() for m in rounds if m]
    assert rounds, "guest1 ran no rounds\n" + out
    broken = [r for r in rounds if r[1] != "ok" or r[2] != "ok"]
    assert not broken, f"guest1 rounds failed: {broken}"
    assert int(rounds[-1][3]) == 3, f"guest1 ended before the hostile guest was gone: {rounds[-1]}"
    assert int(rounds[0][3]) == 0, "guest1 started only after the hostile guest was gone"

    frames = FREE_FRAMES_RE.findall(res.stderr + "\n".join(res.stdout))
    assert frames, "no 'free frames' line\n" + out
    boot, end = frames[-1]
    assert boot == end, f"frames leaked: boot {boot}, end {end}"
