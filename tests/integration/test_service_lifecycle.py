"""test_service_lifecycle (host tests): a guest dies mid-I/O, and the store matches libxl's.

One machine serves both tests under QEMU: the xenstore domain (d1),
the service domain (d2: roles control,backend, wisp-agent) and two Linux guests, guest1 (d3)
and guest2 (d4), each with a raw disk (xvda, a boot module) and a vif. The service domain's
`wisp.svc-cmd` script drives it and prints one `SVC key value` line per fact:

1. it waits until both guests' vbd and vif are connected at both ends (state 4), pings both
   guests (10.77.0.3, 10.77.0.4), then has guest2 ping guest1 (nc to port 9002; guest2 says
   it did on port 9001), and dumps the
   backend and frontend directories of guest1's vbd and vif: every key with its
   permissions (`wisp-xs perms`) and value;
2. guest1 writes its xvda in an endless loop; once blkback's wr_req counter for it grows, the
   script destroys guest1 (`wisp-agent --destroy 3`) and waits until its backend directories
   are gone from the store and from /sys/bus/xen-backend, vif3.0 is gone, and guest1 is no
   longer in `wisp-agent --list` (freed, not dying: no foreign mapping of it is left, so
   blkback and netback unmapped its grants, and its memory went back to the allocator);
3. it tells guest2 to go on (nc to port 9000); guest2 writes 8 MiB to its disk, reads them
   back past the page cache, pings the service domain, prints `IO key value` lines and
   powers off. The machine then ends by itself (every role-less domain has ended) and
   --verbose's `free frames: boot N, end N` line shows nothing leaked.

The xenstore test compares the dump with a table written here from what Xen's libxl writes
(libxl_device.c: libxl__device_generic_add and libxl__device_add_async; libxl_disk.c:
device_disk_add; libxl_nic.c: libxl__set_xenstore_nic) and what its hotplug scripts write
(block: physical-device, physical-device-path; both: hotplug-status). Keys that the drivers
write (frontends: ring-ref, event-channel...; backends: feature-*, sectors...) are checked by
pattern. Deliberate differences from libxl are in docs/agent.md.

QEMU runs both tests on one boot (about a minute here). Bochs (VMX) runs the dies-mid-I/O
test once more on a boot of its own, without the dump (about 17 minutes: four domains, three
of them Linux, on one emulated CPU).
"""
import base64
import gzip
import re

import pytest

import machine
from test_control import FREE_FRAMES_RE
from test_service_domain import BAD_RE
from test_linux import VMLINUX, INITRAMFS
from wisptest import BUILD, ninja_build

pytestmark = pytest.mark.long(18)     # about 18 minutes of boots: run early (conftest.py)

KERNELS = BUILD / "guest-kernels"
SERVICE_VMLINUX = KERNELS / "service" / "vmlinux"
SERVICE_INITRAMFS = KERNELS / "service-initramfs.cpio.gz"

QEMU_TIMEOUT = 1200
BOCHS_TIMEOUT = 2400
MIB = 1 << 20
DISK_MIB = 16
SVC_RE = re.compile(r"^SVC (\S+) ?(.*)$")
IO_RE = re.compile(r"^IO (\S+) ?(.*)$")

BACKEND = "/local/domain/2/backend"
VBD3_BACK = f"{BACKEND}/vbd/3/51712"
VIF3_BACK = f"{BACKEND}/vif/3/0"
VBD3_FRONT = "/local/domain/3/device/vbd/51712"
VIF3_FRONT = "/local/domain/3/device/vif/0"

WAIT_FOR = r"""
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; }
"""

# guest1: writes its whole disk, again and again, until it is destroyed (the service domain
# destroys it only once the writes are seen, and once guest2 has pinged it).
GUEST1 = WAIT_FOR + r"""
wait_for /dev/xvda
echo "IO writing $(blockdev --getsize64 /dev/xvda)"
while :; do dd if=/dev/zero of=/dev/xvda bs=64k count=256 conv=fsync 2>/dev/null; done
"""

# guest2: once the service domain says both guests answer (a guest pinged before it has its
# address got no DHCP lease under Bochs until the pings stopped, whichever guest came up
# first: an open question, see docs/service-domain.md), pings guest1 across the bridge and
# tells the service domain so, then waits for its go and does its own disk and network I/O.
GUEST2 = WAIT_FOR + r"""
wait_for /dev/xvda
nc -l -p 9002 >/dev/null
ping -c 3 -w 120 10.77.0.3 >/dev/null 2>&1; echo "IO ping_guest1 $?"
i=0; until echo pinged | nc 10.77.255.254 9001 || [ $i -ge 120 ]; do sleep 1; i=$((i+1)); done
nc -l -p 9000 >/tmp/go; echo "IO go $(cat /tmp/go)"
w=$(dd if=/dev/urandom bs=1M count=8 2>/dev/null | tee /dev/xvda | sha256sum | cut -c1-64)
sync; blockdev --flushbufs /dev/xvda
r=$(dd if=/dev/xvda bs=1M count=8 iflag=direct 2>/dev/null | sha256sum | cut -c1-64)
echo "IO written $w"
echo "IO read $r"
ping -c 3 -w 30 10.77.255.254 >/dev/null 2>&1; echo "IO ping_service $?"
"""

# The service domain's part; see the module docstring. The kernel command line holds 2047
# characters, this script among them: it goes gzipped (packed()) and terse. w SECONDS TEST...
# retries TEST once a second; c NAME TEST... prints `SVC NAME yes|no`.
SERVICE = r"""B=/local/domain/2/backend
X=/sys/bus/xen-backend/devices
F=/local/domain/3/device
s() { echo "SVC $*"; }
w() { n=$1; shift; i=0; until "$@"; do [ $i -ge $n ] && return 1; sleep 1; i=$((i+1)); done; }
is() { [ "$(wisp-xs -t 30 read $1 2>/dev/null)" = $2 ]; }
up() { for p in $B/vbd/$1/51712 $B/vif/$1/0 /local/domain/$1/device/vbd/51712 \
  /local/domain/$1/device/vif/0; do is $p/state 4 || return 1; done; }
for d in 3 4; do w 900 up $d; s connected_d$d $?; done
for d in 3 4; do w 300 ping -c1 -W2 10.77.0.$d >/dev/null; s ping_d$d $?; done
nc -l -p 9001 >/tmp/pinged &
i=0; until echo ping | nc 10.77.0.4 9002 || [ $i -ge 120 ]; do sleep 1; i=$((i+1)); done
w 300 [ -s /tmp/pinged ]; s guest2_pinged $?
DUMP
S=$X/vbd-3-51712/statistics/wr_req
g() { a=$(cat $S); sleep 2; b=$(cat $S); [ $b -gt $a ]; }
w 300 g; s wr_req_growing $? $a $b
DESTROY
wisp-agent --list | sed 's/^/SVC listed_at_destroy /'
no() { wisp-xs read $1 >/dev/null 2>&1; [ $? = 1 ]; }
l() { wisp-agent --list | grep -q "^$1 "; }
down() { no $B/vbd/3 && no $B/vif/3 && ! l 3 &&
  [ ! -e $X/vbd-3-51712 -a ! -e $X/vif-3-0 -a ! -e /sys/class/net/vif3.0 ]; }
w 120 down; s torn_down $?
c() { n=$1; shift; if "$@"; then s $n yes; else s $n no; fi; }
c store_vbd3_gone no $B/vbd/3
c store_vif3_gone no $B/vif/3
c store_frontend3_gone no $F
c sysfs_vbd3_gone [ ! -e $X/vbd-3-51712 ]
c sysfs_vif3_gone [ ! -e $X/vif-3-0 ]
c netdev_vif3_gone [ ! -e /sys/class/net/vif3.0 ]
c d3_listed l 3
c d4_listed l 4
s vbd4_state $(wisp-xs read $B/vbd/4/51712/state)
wisp-agent --list | sed 's/^/SVC list /'
i=0; until echo go | nc 10.77.0.4 9000 || [ $i -ge 120 ]; do sleep 1; i=$((i+1)); done
s go_sent $i
"""
DESTROY = "wisp-agent --destroy 3; s destroy_status $?"
# The four device directories, every node with its permissions and value: for the libxl table.
DUMP = r"""pm() { wisp-xs perms $1 | tr '\n' ,; }
for p in $B/vbd/3/51712 $B/vif/3/0 $F/vbd/51712 $F/vif/0; do s dir $p $(pm $p)
 for k in $(wisp-xs ls $p); do s node $p/$k $(pm $p/$k) $(wisp-xs read $p/$k); done
done
s dumped"""


def b64(text):
    return b64_bytes(text.encode())


def packed(script):
    """A shell command that runs SCRIPT, sent gzipped: base64 of the base64 still fits a
    kernel command line where the plain script would not."""
    return f"echo {b64_bytes(gzip.compress(script.encode(), mtime=0))} | base64 -d | zcat | sh"


def b64_bytes(data):
    return base64.b64encode(data).decode()


def config(service_script):
    guests = ""
    for n, script in ((1, GUEST1), (2, GUEST2)):
        guests += (f"domain guest{n}\n  kernel vmlinux\n  initrd initramfs.cpio.gz\n"
                   f"  memory 128\n  cmdline console=hvc0 quiet loglevel=3 wisp.cmd={b64(script)}\n"
                   f"  disk format=raw, vdev=xvda, access=rw, target=disk{n}.img\n  vif\n")
    return ("domain xenstore\n  kernel xenstored.elf\n  roles xenstore\n  memory 16\n"
            "domain service\n  kernel service-vmlinux\n"
            "  initrd service-initramfs.cpio.gz\n  roles control,backend\n  memory 256\n"
            "  cmdline console=hvc0 xen_privcmd.unrestricted=1 pci=conf1 quiet "
            f"wisp.svc-cmd={b64(packed(service_script))}\n" + guests)


def svc_failed(lines):
    """Stops the run early when the service script ended badly, guest1 was not torn down or
    guest2 got no address: the machine would not end by itself (guest2 waits for its go, or
    guest1 runs on)."""
    return re.search(r"^\[service\] (wisp-service: svc-cmd status|SVC torn_down) [1-9]|"
                     r"^\[guest2\] wisp-init: eth0: no DHCP lease", lines[-1]) is not None


def run_machine(tmp_path, destroy=DESTROY, dump=DUMP, emulator="qemu", timeout=QEMU_TIMEOUT):
    """Boots the machine; returns (WispResult, {key: value} of SVC lines, of the guests' IO
    lines, [(path, perms, value)] of the dump)."""
    for n in (1, 2):
        with open(tmp_path / f"disk{n}.img", "wb") as f:
            f.truncate(DISK_MIB * MIB)
    files = {"service-vmlinux": SERVICE_VMLINUX, "service-initramfs.cpio.gz": SERVICE_INITRAMFS,
             "vmlinux": VMLINUX, "initramfs.cpio.gz": INITRAMFS,
             "disk1.img": tmp_path / "disk1.img", "disk2.img": tmp_path / "disk2.img"}
    cfg = config(SERVICE.replace("DESTROY", destroy, 1).replace("DUMP", dump, 1))
    longest = max(len(line) for line in cfg.splitlines())
    assert longest < 2048 - len("cmdline"), f"a command line of {longest} characters"
    res = machine.run_config(tmp_path, cfg, emulator=emulator, timeout=timeout,
                             until=svc_failed, files=files, extra=["--verbose"])
    # Kept beside the configuration for whoever reads a failure.
    (tmp_path / "machine.out").write_text("\n".join(res.stdout) + "\n")
    (tmp_path / "machine.err").write_text(res.stderr)
    svc, nodes, lists = {}, [], []
    for line in machine.domain_lines(res.stdout, "service"):
        m = SVC_RE.match(line.replace("\r", ""))
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        if key == "node":
            path, perms, value = (value.split(" ", 2) + ["", ""])[:3]
            nodes.append((path, perms.rstrip(",").split(","), value))
        elif key == "dir":
            path, _, perms = value.partition(" ")
            svc["dir " + path] = perms
        elif key in ("list", "listed_at_destroy"):
            lists.append(value)
        else:
            svc[key] = value
    svc["list"] = "\n".join(lists)
    io = {}     # both guests' IO lines; their keys differ
    for line in machine.domain_lines(res.stdout, "guest1") + machine.domain_lines(res.stdout,
                                                                                 "guest2"):
        m = IO_RE.match(line.replace("\r", ""))
        if m:
            io[m.group(1)] = m.group(2)
    return res, svc, io, nodes


def explain(res):
    return (f"{res}\n--- stdout tail ---\n" + "\n".join(res.stdout[-150:]) +
            f"\n--- stderr tail ---\n{res.stderr[-3000:]}")


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory):
    ninja_build(VMLINUX, INITRAMFS, SERVICE_VMLINUX, SERVICE_INITRAMFS)
    return run_machine(tmp_path_factory.mktemp("lifecycle"))


@pytest.mark.boot
def test_a_guest_dies_mid_io(lifecycle):
    check_guest_died_mid_io(*lifecycle[:3])


@pytest.mark.boot
def test_bochs_a_guest_dies_mid_io(tmp_path):
    # The same machine under VMX, without the xenstore dump (the libxl table is QEMU's test).
    ninja_build(VMLINUX, INITRAMFS, SERVICE_VMLINUX, SERVICE_INITRAMFS)
    check_guest_died_mid_io(*run_machine(tmp_path, dump="s dumped", emulator="bochs",
                                         timeout=BOCHS_TIMEOUT)[:3])


def check_guest_died_mid_io(res, svc, io):
    why = f"{svc}\n{io}\n{explain(res)}"
    assert svc.get("connected_d3") == "0" and svc.get("connected_d4") == "0", why
    # The service domain reaches both guests over br0.
    assert svc.get("ping_d3") == "0" and svc.get("ping_d4") == "0", why
    # The guests reach each other over br0 (guest1 pings guest2 before its writes).
    assert svc.get("guest2_pinged") == "0" and io.get("ping_guest1") == "0", why
    # guest1 was writing through blkback when it died.
    assert svc.get("wr_req_growing", "").split()[:1] == ["0"], why
    assert svc.get("destroy_status") == "0", why
    # The agent tore its devices down: store, backend bus, netback's interface.
    assert svc.get("torn_down") == "0", why
    for fact in ("store_vbd3_gone", "store_vif3_gone", "store_frontend3_gone",
                 "sysfs_vbd3_gone", "sysfs_vif3_gone", "netdev_vif3_gone"):
        assert svc.get(fact) == "yes", f"{fact}\n{why}"
    # Freed, not dying: nothing maps guest1 any more (grants unmapped), memory freed.
    assert svc.get("d3_listed") == "no", why
    assert svc.get("d4_listed") == "yes", why
    assert svc.get("vbd4_state") == "4", why
    assert any("d3 is gone: removed its 2 devices" in line
               for line in machine.domain_lines(res.stdout, "service")), why
    # guest2 went on: its disk and the network still work.
    assert io.get("go") == "go", why
    assert re.fullmatch(r"[0-9a-f]{64}", io.get("written", "")), why
    assert io["written"] == io.get("read"), why
    assert io.get("ping_service") == "0", why
    # The machine ended by itself, with every frame back.
    assert res.code == 0, why
    found = FREE_FRAMES_RE.findall(res.stderr)
    assert len(found) == 1 and found[0][0] == found[0][1], f"free frames {found}\n{why}"
    bad = [line for line in res.stdout if BAD_RE.search(line)]
    assert not bad, bad


# ---- what libxl writes (current libxl, /work/shared/reference/xen-split-drivers.md, with
# xl's defaults for a PVH guest) ----

ANY_NUMBER = re.compile(r"\d+")
# Exact values, or a compiled pattern for what depends on the run or on the hotplug step.
# Permissions: the backend directory {n<backend>, r<frontend>}, the frontend directory
# {n<frontend>, r<backend>} (libxl__device_generic_add); every key in it has the same.
LIBXL_VBD_BACKEND = {
    "frontend": VBD3_FRONT, "frontend-id": "3", "online": "1", "state": "4",
    "params": "disk1.img",               # pdev_path as the user gave it: our module name
    "script": "/etc/xen/scripts/block", "removable": "0", "bootable": "1", "dev": "xvda",
    "type": "phy", "mode": "w", "device-type": "disk", "discard-enable": "1",
    "specification": "xen",              # newer libxl (virtio disks); older ones lack it
    # block's hotplug script (block-common.sh write_dev, xen-hotplug-common.sh success)
    "physical-device": re.compile(r"[0-9a-f]+:[0-9a-f]+"),
    "physical-device-path": re.compile(r"/dev/pmem\d+"),
    "hotplug-status": "connected",
}
LIBXL_VBD_FRONTEND = {
    "backend": VBD3_BACK, "backend-id": "2", "state": "4", "virtual-device": "51712",
    "device-type": "disk", "trusted": "1",   # trusted: newer libxl, as specification
}
LIBXL_VIF_BACKEND = {
    "frontend": VIF3_FRONT, "frontend-id": "3", "online": "1", "state": "4",
    "script": "/etc/xen/scripts/vif-bridge", "mac": "00:16:3e:00:03:00",
    "bridge": "br0",                     # libxl's default is xenbr0; ours is br0 (agent.md)
    "handle": "0", "type": "vif",
    "hotplug-status": "connected",       # "" from libxl, "connected" from vif-bridge
}
LIBXL_VIF_FRONTEND = {
    "backend": VIF3_BACK, "backend-id": "2", "state": "4", "handle": "0",
    "mac": "00:16:3e:00:03:00", "trusted": "1",
    "mtu": "1500",                       # libxl's read-only frontend key: {n<backend>, r<frontend>}
}
# What Linux's drivers add (xen-blkback, xen-blkfront, xen-netback, xen-netfront).
DRIVER_KEYS = {
    VBD3_BACK: re.compile(r"feature-[\w-]+|discard-[\w-]+|max-ring-page-order|sectors|info|"
                          r"sector-size|physical-sector-size|multi-queue-max-queues"),
    VBD3_FRONT: re.compile(r"ring-ref\d*|event-channel|protocol|feature-persistent|"
                           r"ring-page-order|multi-queue-num-queues|queue-\d+"),
    VIF3_BACK: re.compile(r"feature-[\w-]+|multi-queue-max-queues"),
    VIF3_FRONT: re.compile(r"tx-ring-ref|rx-ring-ref|event-channel(-tx|-rx)?|request-rx-copy|"
                           r"feature-[\w-]+|multi-queue-num-queues|queue-\d+|xdp-headroom"),
}
DRIVER_VALUES = {"protocol": "x86_64-abi"}   # blkfront's XEN_IO_PROTO_ABI_NATIVE on x86_64
TABLES = {VBD3_BACK: (LIBXL_VBD_BACKEND, "2", "3"), VBD3_FRONT: (LIBXL_VBD_FRONTEND, "3", "2"),
          VIF3_BACK: (LIBXL_VIF_BACKEND, "2", "3"), VIF3_FRONT: (LIBXL_VIF_FRONTEND, "3", "2")}
# Keys whose permissions differ from their directory's (libxl's ro_front: the backend owns it).
OWN_PERMS = {f"{VIF3_FRONT}/mtu": ["n2", "r3"]}


def store_differences(svc, nodes):
    """Every way the dumped store differs from the libxl table, as readable lines."""
    diffs = []
    by_dir = {d: {} for d in TABLES}
    for path, perms, value in nodes:
        d, _, key = path.rpartition("/")
        if d in by_dir:
            by_dir[d][key] = (perms, value)
    for d, (table, owner, reader) in TABLES.items():
        dir_perms = svc.get("dir " + d)
        want_perms = [f"n{owner}", f"r{reader}"]
        if dir_perms is not None and dir_perms.rstrip(",").split(",") != want_perms:
            diffs.append(f"{d}: permissions {dir_perms}, libxl {want_perms}")
        found = by_dir[d]
        for key, want in table.items():
            if key not in found:
                diffs.append(f"{d}/{key}: missing (libxl writes {want!r})")
                continue
            value = found[key][1]
            ok = want.fullmatch(value) if isinstance(want, re.Pattern) else value == want
            if not ok:
                diffs.append(f"{d}/{key}: {value!r}, libxl {want!r}")
        for key, (perms, value) in found.items():
            if key not in table and not DRIVER_KEYS[d].fullmatch(key):
                diffs.append(f"{d}/{key} = {value!r}: libxl writes no such key")
            if key in DRIVER_VALUES and value != DRIVER_VALUES[key]:
                diffs.append(f"{d}/{key}: {value!r}, want {DRIVER_VALUES[key]!r}")
            want = OWN_PERMS.get(f"{d}/{key}", want_perms)
            if perms != want:
                diffs.append(f"{d}/{key}: permissions {perms}, libxl {want}")
    return diffs


@pytest.mark.boot
def test_the_xenstore_state_matches_what_libxl_writes(lifecycle):
    res, svc, _, nodes = lifecycle
    assert "dumped" in svc, f"{svc}\n{explain(res)}"
    for d in TABLES:
        assert svc.get("dir " + d) is not None or any(p.startswith(d + "/") for p, _, _ in nodes)
    diffs = store_differences(svc, nodes)
    assert not diffs, "\n".join(diffs)
