"""test_service_io (host tests): Linux guests get disks and a network from the service domain.

Every machine here is what `wisp run --disk/--net` builds (docs/service-domain.md): the
xenstore domain, the service domain (our service kernel: xen-blkback, xen-netback, a bridge,
wisp-agent) and one or two Linux guests whose blkfront and netfront connect to it. Disk
images are boot modules that the hypervisor maps into the service domain as legacy pmem.

QEMU (AMD SVM) runs every case; Bochs (Intel VMX) is slow, so it runs the read-only disk and
the guest's network as far as the service domain.
Each guest's command prints `IO key value` lines that the test reads back.
"""
import hashlib
import os
import re
import subprocess

import pytest

import wisptest
from test_linux import VMLINUX, INITRAMFS
from wisptest import ninja_build
from wisptest import BUILD

pytestmark = pytest.mark.long(13)     # about 13 minutes of boots: run early (conftest.py)

SERVICE_VMLINUX = BUILD / "guest-kernels" / "service" / "vmlinux"
SERVICE_INITRAMFS = BUILD / "guest-kernels" / "service-initramfs.cpio.gz"

QEMU_TIMEOUT = 420
RW_TIMEOUT = 900            # 512 MiB through blkfront and blkback under TCG
BOCHS_TIMEOUT = 2400
IO_RE = re.compile(r"^(?:\[(guest\d+)\] )?IO (\S+) ?(.*)$")
MIB = 1 << 20


@pytest.fixture(scope="session")
def service_linux():
    ninja_build(VMLINUX, INITRAMFS, SERVICE_VMLINUX, SERVICE_INITRAMFS)


def run_devices(opts, script, emulator="qemu", timeout=QEMU_TIMEOUT):
    """wisp run --verbose OPTS -- sh -c SCRIPT; returns the WispResult."""
    args = ["run", "--emulator", emulator, "--timeout", str(timeout), "--verbose", *opts,
            "--", "sh", "-c", script]
    return wisptest.run_wisp(args, timeout=timeout + 60)


def io_lines(res):
    """{(guest or None, key): value} of every `IO key value` line on stdout."""
    found = {}
    for line in res.stdout:
        m = IO_RE.match(line.replace("\r", ""))
        if m:
            found[(m.group(1), m.group(2))] = m.group(3)
    return found


def explain(res):
    """The result, the end of Wisp's log and any stuck-vCPU report (irqoff_warn) in it."""
    stuck = res.stderr.find("interrupts off for")
    report = res.stderr[stuck - 60:stuck + 2500] if stuck >= 0 else "none"
    return (f"{res}\n--- stuck vCPU report ---\n{report}\n"
            f"--- stderr tail ---\n{res.stderr[-6000:]}")


def ext4_image(tmp_path, payload):
    """A 32 MiB ext4 image holding /data/file (payload) and its SHA-256 in /data/sum."""
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "file").write_bytes(payload)
    (root / "data" / "sum").write_text(hashlib.sha256(payload).hexdigest() + "\n")
    img = tmp_path / "ext4.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(root), str(img), "32M"], check=True,
                   stdout=subprocess.DEVNULL)
    return img


def raw_image(tmp_path, name, mib):
    img = tmp_path / name
    with open(img, "wb") as f:
        f.truncate(mib * MIB)
    return img


WAIT_FOR = r"""
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; }
"""

READ_ONLY_SCRIPT = WAIT_FOR + r"""
wait_for /dev/xvda
mkdir -p /mnt
mount -o ro /dev/xvda /mnt; echo "IO mount $?"
echo "IO file_sum $(sha256sum /mnt/data/file | cut -c1-64)"
echo "IO want_sum $(cat /mnt/data/sum)"
umount /mnt
dd if=/dev/zero of=/dev/xvda bs=4096 count=1 conv=fsync 2>/dev/null; echo "IO ro_write $?"
"""

# Two disks at once: xvda read-only ext4, xvdb a 64 MiB scratch disk written through four
# times with fresh random data (256 MiB written, 256 MiB read back past the page cache).
READ_WRITE_SCRIPT = READ_ONLY_SCRIPT + r"""
wait_for /dev/xvdb
echo "IO xvdb_bytes $(blockdev --getsize64 /dev/xvdb)"
for pass in 1 2 3 4; do
    start=$(date +%s)
    w=$(dd if=/dev/urandom bs=1M count=64 2>/dev/null | tee /dev/xvdb | sha256sum | cut -c1-64)
    sync; blockdev --flushbufs /dev/xvdb
    r=$(dd if=/dev/xvdb bs=1M count=64 iflag=direct 2>/dev/null | sha256sum | cut -c1-64)
    echo "IO pass$pass $w $r"
    echo "IO seconds$pass $(($(date +%s) - start))"
done
"""


def assert_read_only_disk(found, guest=None):
    assert found.get((guest, "mount")) == "0", found
    assert found[(guest, "file_sum")] == found[(guest, "want_sum")], found
    assert found[(guest, "ro_write")] != "0", "a write to a read-only disk succeeded"


@pytest.mark.boot
def test_disks_read_only_ext4_and_read_write_scratch(tmp_path, service_linux):
    payload = os.urandom(3 * MIB + 123)
    ext4 = ext4_image(tmp_path, payload)
    scratch = raw_image(tmp_path, "scratch.img", 64)
    res = run_devices(["--memory", "256", "--disk", f"{ext4},ro", "--disk", str(scratch)],
                      READ_WRITE_SCRIPT, timeout=RW_TIMEOUT)
    assert res.code == 0, explain(res)
    found = io_lines(res)
    assert_read_only_disk(found)
    assert found[(None, "file_sum")] == hashlib.sha256(payload).hexdigest()
    assert found[(None, "xvdb_bytes")] == str(64 * MIB), found
    for n in range(1, 5):
        written, read = found[(None, f"pass{n}")].split()
        assert written == read, f"pass {n}: wrote {written}, read back {read}"
    assert len({found[(None, f"pass{n}")] for n in range(1, 5)}) == 4, "passes repeated data"


# Under Bochs: the disk, and the network as far as the service domain (DHCP, then ping).
BOCHS_SCRIPT = READ_ONLY_SCRIPT + r"""
echo "IO addr $(ip -4 -o addr show eth0 | awk '{print $4}')"
ping -c 3 -w 60 10.77.255.254 >/dev/null 2>&1; echo "IO ping_service $?"
"""


@pytest.mark.boot
def test_bochs_guest_reads_a_disk_and_reaches_the_service_domain(tmp_path, service_linux):
    payload = os.urandom(256 * 1024)
    ext4 = ext4_image(tmp_path, payload)
    res = run_devices(["--disk", f"{ext4},ro", "--net"], BOCHS_SCRIPT, emulator="bochs",
                      timeout=BOCHS_TIMEOUT)
    assert res.code == 0, explain(res)
    found = io_lines(res)
    assert_read_only_disk(found)
    assert found[(None, "file_sum")] == hashlib.sha256(payload).hexdigest()
    assert found[(None, "addr")] == "10.77.0.3/16", found
    assert found[(None, "ping_service")] == "0", found


# guest1 serves 64 MiB of random data over HTTP (busybox httpd); guest2 fetches it (wget),
# both ping each other and the service domain, and guest2 tells guest1 it is done (nc).
NET_SCRIPT = r"""
peer=10.77.0.$((5 - WISP_GUEST))     # guest1 is 10.77.0.3, guest2 10.77.0.4
echo "IO addr $(ip -4 -o addr show eth0 | awk '{print $4}')"
ping -c 3 -w 20 10.77.255.254 >/dev/null 2>&1; echo "IO ping_service $?"
if [ "$WISP_GUEST" = 1 ]; then
    mkdir -p /www
    dd if=/dev/urandom of=/www/data bs=1M count=64 2>/dev/null
    echo "IO served $(sha256sum /www/data | cut -c1-64)"
    httpd -p 8080 -h /www
    echo ready >/www/ready
    ping -c 3 -w 60 "$peer" >/dev/null 2>&1; echo "IO ping_peer $?"
    nc -l -p 9000 >/tmp/done; echo "IO done $(cat /tmp/done)"
else
    ping -c 3 -w 60 "$peer" >/dev/null 2>&1; echo "IO ping_peer $?"
    i=0; while ! wget -q -O /dev/null "http://$peer:8080/ready" && [ $i -lt 120 ]; do
        sleep 1; i=$((i+1)); done
    echo "IO fetched $(wget -q -O - "http://$peer:8080/data" | sha256sum | cut -c1-64)"
    i=0; until echo fetched | nc "$peer" 9000 || [ $i -ge 60 ]; do sleep 1; i=$((i+1)); done
fi
"""


@pytest.mark.boot
def test_two_guests_talk_over_the_bridge(tmp_path, service_linux):
    res = run_devices(["--net", "--guests", "2", "--memory", "256"], NET_SCRIPT)
    assert res.code == 0, explain(res)
    found = io_lines(res)
    assert found[("guest1", "addr")] == "10.77.0.3/16", found
    assert found[("guest2", "addr")] == "10.77.0.4/16", found
    for g in ("guest1", "guest2"):
        assert found[(g, "ping_service")] == "0", found
        assert found[(g, "ping_peer")] == "0", found
    assert found[("guest2", "fetched")] == found[("guest1", "served")], found
    assert found[("guest1", "done")] == "fetched", found
