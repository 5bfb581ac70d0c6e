"""test_grub_pvh (host tests): GRUB's own PVH image (Debian's grub-xen-bin) as a Wisp guest.

grub-mkimage -O i386-xen_pvh makes a 32-bit PVH ELF; its embedded configuration prints a
marker and halts. Before it reads that configuration GRUB maps its grant table and
shared_info (XENMEM_add_to_physmap into the first holes of its memory map), sets grant
tables to v1 (GNTTABOP_set_version, setup_table) and asks the store for its disks
(XS_DIRECTORY device/vbd over its store ring), so the machine has a xenstore domain.
A failed add_to_physmap shows as "Memory_op hypercall failed!" on port 0xE9. GRUB's halt
is a poweroff, the xenstore domain stops with the last domain without a role, and the
machine must give back every frame ("free frames: boot N, end N").
"""
import os
import re
import shutil
import subprocess

import pytest

import machine
import wisptest
from test_linux_xenbus import XENSTORE_DOMAIN, XENSTORED_NAME, find_xenstored

GRUB_PVH_DIR = "/usr/lib/grub/i386-xen_pvh"
MARKER = "WISP-GRUB-OK"
# The embedded configuration: GRUB runs it before anything else; halt is a Xen poweroff.
EMBEDDED_CFG = f"echo {MARKER}\nhalt\n"
GRUB_MODULES = ["echo", "halt"]
TIMEOUTS = {"qemu": 120, "bochs": 600}
FREE_FRAMES_RE = re.compile(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", re.M)


@pytest.fixture(scope="session")
def grub_image(tmp_path_factory):
    """A fresh i386-xen_pvh image with the embedded configuration (a second's work)."""
    mkimage = shutil.which("grub-mkimage")
    assert mkimage, "grub-mkimage is missing (apt-get install grub-common)"
    assert os.path.isdir(GRUB_PVH_DIR), \
        f"{GRUB_PVH_DIR} is missing (apt-get install grub-xen-bin; ci/debian-packages lists it)"
    work = tmp_path_factory.mktemp("grub")
    (work / "embedded.cfg").write_text(EMBEDDED_CFG)
    image = work / "grub-pvh.elf"
    subprocess.run([mkimage, "-O", "i386-xen_pvh", "-d", GRUB_PVH_DIR,
                    "-c", str(work / "embedded.cfg"), "-p", "/boot/grub",
                    "-o", str(image), *GRUB_MODULES], check=True)
    return image


@pytest.mark.boot
def test_grub_pvh_image_runs_its_config(tmp_path, grub_image, backend):
    config = (XENSTORE_DOMAIN +
              "domain grub\n  kernel grub-pvh.elf\n  memory 32\n")
    result = machine.run_config(tmp_path, config, emulator=backend, timeout=TIMEOUTS[backend],
                                extra=["--verbose"],
                                files={"grub-pvh.elf": grub_image,
                                       XENSTORED_NAME: find_xenstored()})
    # GRUB starts its lines with a CR, which the text-mode pipe turns into a line break, so
    # the marker's line lost its "[grub] " label: look for it among the unlabelled lines.
    grub = [l for l in result.stdout if not l.startswith("[xenstore]")]
    assert not any("Memory_op hypercall failed" in l for l in grub), result
    assert any(MARKER in l for l in grub), result
    assert "d2 (grub): shutdown: poweroff" in result.stderr, result
    assert result.code == wisptest.EXIT_POWEROFF, result
    frames = FREE_FRAMES_RE.findall(result.stderr)
    assert frames and frames[-1][0] == frames[-1][1], f"frames leaked: {frames}\n{result}"
