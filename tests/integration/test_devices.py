"""test_devices (host tests): disks and vifs of the boot configuration, under QEMU (SVM) and
Bochs (VMX): WISP_CTL_device_list lists them as configured, and each disk's image appears in
the backend domain as legacy pmem (memmap type 12) byte for byte, zero-padded to 2 MiB, with
no p2m operation able to take or free its frames. ctl64.elf (tests/guests/control.c):
act=service in the backend, act=noperm in the guests (device_list is -EPERM without the
control role). Nothing may leak: free frames boot N == end M. Config errors: unit.bootconfig.
"""
import re
import struct

import pytest

from machine import domain_lines, run_config
from test_control import assert_no_leak, checks_of
from wisptest import EXIT_HV_PANIC, EXIT_POWEROFF

MIB = 1 << 20
PMEM_BASE = 4 << 30         # the backend has 32 MiB of RAM: regions start at 4 GiB

# The xenstore domain (d1) and a stand-in service domain (d2) that every machine here has.
SERVICE_DOMAINS = """\
domain xs
  kernel ctl64.elf
  cmdline act=xs-role
  roles xenstore
  memory 16
domain svc
  kernel ctl64.elf
  cmdline act=service self=2
  roles control,backend
  memory 32
"""

CONFIG = SERVICE_DOMAINS + """\
domain g1
  kernel ctl64.elf
  cmdline act=noperm
  memory 16
  disk format=raw, vdev=xvda, access=rw, target=d0.img
  disk = [ 'target=d1.img,vdev=xvdq,access=ro' ]
  vif
domain g2
  kernel ctl64.elf
  cmdline act=noperm
  memory 16
  vif = [ 'mac=02:11:22:33:44:55', '' ]
  disk vdev=xvdb, target=d2.img, access=r
"""

# Sizes: not a page multiple; exactly 2 MiB (no padding); a little over 2 MiB (two regions).
IMAGES = {"d0.img": MIB + 1234, "d1.img": 2 * MIB, "d2.img": 2 * MIB + 3 * 4096}

# Lines stay short: the console sends lines over 96 bytes in pieces, which another domain's
# output may separate.
DEV_RE = re.compile(r"^DEV (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\S+) (\S+)$")
DEVP_RE = re.compile(r"^DEVP (\d+) 0x([0-9a-f]+) 0x([0-9a-f]+) (\d+) (\S+)$")
PMEM_RE = re.compile(r"^PMEM 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (\d+)$")


def image_bytes(name, size):
    """A pattern no two images or offsets share: seeded by the name, a byte per offset."""
    seed = sum(name.encode())
    return bytes(((i * 131 + (i >> 12) * 7 + seed) & 0xff) ^ 0x5a for i in range(size))


def fnv_words(data):
    """The guest's hash: FNV-1a over little-endian 64-bit words."""
    h = 0xcbf29ce484222325
    for (w,) in struct.iter_unpack("<Q", data):
        h = ((h ^ w) * 0x100000001b3) & 0xffffffffffffffff
    return h


def region_size(size):
    return (size + 2 * MIB - 1) // (2 * MIB) * (2 * MIB)


def expected_devices():
    """(front, back, kind, ro, handle, devid, vdev, mac, gpa, bytes, image, target) in list order."""
    gpa, out = PMEM_BASE, []
    for front, handle, vdev, devid, ro, target in ((3, 0, "xvda", 51712, 0, "d0.img"),
                                                   (3, 1, "xvdq", (1 << 28) | (16 << 8), 1,
                                                    "d1.img")):
        out.append((front, 2, 1, ro, handle, devid, vdev, "00:00:00:00:00:00", gpa,
                    region_size(IMAGES[target]), IMAGES[target], target))
        gpa += region_size(IMAGES[target])
    out.append((3, 2, 2, 0, 0, 0, "", "00:16:3e:00:03:00", 0, 0, 0, ""))
    out.append((4, 2, 1, 1, 0, 51728, "xvdb", "00:00:00:00:00:00", gpa,
                region_size(IMAGES["d2.img"]), IMAGES["d2.img"], "d2.img"))
    out.append((4, 2, 2, 0, 0, 0, "", "02:11:22:33:44:55", 0, 0, 0, ""))
    out.append((4, 2, 2, 0, 1, 1, "", "00:16:3e:00:04:01", 0, 0, 0, ""))
    return out


def write_images(tmp_path):
    files = {}
    for name, size in IMAGES.items():
        path = tmp_path / f"src-{name}"
        path.write_bytes(image_bytes(name, size))
        files[name] = path
    return files


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_devices_listed_and_mapped(tmp_path, emulator):
    res = run_config(tmp_path, CONFIG, emulator=emulator, timeout=240,
                     files=write_images(tmp_path), extra=["--verbose"])
    assert res.code == EXIT_POWEROFF, res
    assert_no_leak(res)

    svc = checks_of(res, "svc")
    for name in ("dev_list", "dev_list_window", "dev_list_past_end", "dev_list_huge_max",
                 "dev_list_bad_buffer", "dev_list_wrapping_buffer", "dev_list_stable",
                 "pmem_regions", "pmem_matches_list", "pmem_padding_zero", "pmem_no_balloon",
                 "pmem_no_grant_frame", "pmem_no_grant_map", "pmem_no_grant_copy",
                 "pmem_intact"):
        assert name in svc, f"{name} did not run\n{res}"
    for guest in ("g1", "g2"):
        assert "noperm_every_command" in checks_of(res, guest)
    assert "xs_may_not_control" in checks_of(res, "xs")

    lines = domain_lines(res.stdout, "svc")
    dev = [m.groups() for m in map(DEV_RE.match, lines) if m]
    devp = {m.group(1): m.groups()[1:] for m in map(DEVP_RE.match, lines) if m}
    got = [(int(f), int(b), int(k), int(ro), int(h), int(d), v.strip("-"), mac,
            int(devp[i][0], 16), int(devp[i][1], 16), int(devp[i][2]), devp[i][3].strip("-"))
           for i, f, b, k, ro, h, d, v, mac in dev]
    assert [int(d[0]) for d in dev] == list(range(6))
    assert got == expected_devices()

    # The images, byte for byte, then zeros to the 2 MiB boundary.
    pmem = {int(g, 16): (int(s, 16), int(h, 16)) for g, s, h, tail in
            (m.groups() for m in map(PMEM_RE.match, lines) if m) if tail == "0"}
    disks = [d for d in expected_devices() if d[2] == 1]
    assert sorted(pmem) == [d[8] for d in disks]
    for d in disks:
        size, digest = pmem[d[8]]
        want = image_bytes(d[11], d[10]) + bytes(d[9] - d[10])
        assert size == d[9] and digest == fnv_words(want), d[11]

    # The guests ran only after the service domain unpaused them.
    out = res.stdout
    done = next(i for i, l in enumerate(out) if l.startswith("[svc] CHECKS DONE"))
    assert done < out.index("[g1] ACT noperm") and done < out.index("[g2] ACT noperm")


MISSING = SERVICE_DOMAINS + """\
domain g1
  kernel ctl64.elf
  initrd alt.cfg
  cmdline act=noperm
  memory 16
  disk target=d0.img,vdev=xvda
"""


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_disk_module_missing_stops_the_boot(tmp_path, emulator):
    """The CLI checks the configuration it is given; the hypervisor is told (config=) to read
    another one, a module too, whose disk names a module the loader did not load."""
    alt = tmp_path / "src-alt.cfg"
    alt.write_text(MISSING.replace("initrd alt.cfg\n", "").replace("d0.img", "nothere.img"))
    files = write_images(tmp_path)
    files["alt.cfg"] = alt
    res = run_config(tmp_path, MISSING, emulator=emulator, timeout=120, files=files,
                     extra=["--verbose", "--hv-cmdline", "config=alt.cfg"])
    assert res.code == EXIT_HV_PANIC, res
    assert "d3 (g1): disk xvda: no module named 'nothere.img'" in res.stderr, res.stderr[-2000:]
    assert "a disk's image is missing or unusable" in res.stderr
    assert not domain_lines(res.stdout, "svc"), "a domain ran"
