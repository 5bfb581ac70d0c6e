"""test_stress_smp (host tests): issue 11's stress run, shortened: ci/stress-smp.py on a
2-CPU QEMU machine with the xenstore and service domains, two 2-vCPU Linux guests moving
data over their disks and the bridge with checksums, fuzz64 and a canary. It fails on
corruption, a missed beat, an unfinished guest or fuzzer, a panic or a leaked frame
(docs/testing.md). Run the script itself for longer stretches.
"""
import subprocess
import sys

import pytest

from test_service_io import SERVICE_INITRAMFS, SERVICE_VMLINUX
from test_linux import INITRAMFS, VMLINUX
from wisptest import BUILD, REPO, ninja_build

SECONDS = 60


@pytest.mark.boot
def test_everything_at_once_on_two_cpus_qemu(tmp_path):
    ninja_build(VMLINUX, INITRAMFS, SERVICE_VMLINUX, SERVICE_INITRAMFS,
                BUILD / "tests" / "guests" / "fuzz64.elf", BUILD / "tests" / "guests" / "act64.elf")
    log = tmp_path / "stress-smp.log"
    done = subprocess.run([sys.executable, str(REPO / "ci" / "stress-smp.py"), "--build", str(BUILD),
                           "--seconds", str(SECONDS), "--fuzz-calls", "50000", "--log", str(log)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=SECONDS * 4 + 1200)
    tail = log.read_text()[-6000:] if log.exists() else "(no log written)"
    assert done.returncode == 0, f"{done.stdout}\n--- end of the run ---\n{tail}"
