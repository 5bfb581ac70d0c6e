"""test_smp_boot (host tests): Wisp starts the machine's other CPUs.

With `wisp run --cpus N` the emulated machine has N CPUs; Wisp finds them in the ACPI
MADT, starts each (INIT and start-up IPIs, its own tables, stack and SVM or VMX), checks
that their TSCs agree with the boot CPU's, and logs both. `maxcpus=` bounds how many
start. Guests still run on the boot CPU only, so the smp64 guest (two vCPUs) must pass
as before, and the frames the other CPUs took at boot are not counted against domains:
the free-frame balance still holds. QEMU drives the xAPIC, Bochs the x2APIC, so both
ways of sending IPIs are covered.
"""
import re

import pytest

import wisptest

CPUS_RE = re.compile(r"^\(wisp\) CPUs: (\d+) running of (\d+) in the ACPI MADT "
                     r"\(APIC IDs((?: \d+)+)\)", re.M)
FRAMES_RE = re.compile(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", re.M)


def boot_smp64(guest, backend, *extra):
    result = wisptest.run_guest(guest("smp64"), backend, "--verbose", "--vcpus", "2", *extra)
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    wisptest.assert_checks(result.stdout)
    frames = FRAMES_RE.findall(result.stderr)
    assert len(frames) == 1 and frames[0][0] == frames[0][1], str(result)
    found = CPUS_RE.findall(result.stderr)
    assert len(found) == 1, f"no single 'CPUs:' line in the boot log:\n{result.stderr}"
    running, listed, ids = found[0]
    return int(running), int(listed), ids.split(), result.stderr


@pytest.mark.boot
def test_every_listed_cpu_starts_and_tscs_agree(backend, guest):
    running, listed, ids, log = boot_smp64(guest, backend, "--cpus", "2")
    assert (running, listed, ids) == (2, 2, ["0", "1"]), log
    assert "(wisp) TSCs agree across 2 CPUs" in log
    assert "guests run on the boot CPU only" in log
    assert "did not start" not in log and "left out" not in log


@pytest.mark.boot
@pytest.mark.parametrize("cpus, hv_cmdline, boot, expect", [
    (4, None, "direct", (4, 4, ["0", "1", "2", "3"])),
    (4, "maxcpus=2", "direct", (2, 4, ["0", "1"])),
    (2, "maxcpus=1", "direct", (1, 2, ["0"])),
    (1, None, "direct", (1, 1, ["0"])),
    (2, None, "grub", (2, 2, ["0", "1"])),      # the RSDP from the multiboot2 loader's copy
], ids=["4cpus", "maxcpus2", "maxcpus1", "1cpu", "grub"])
def test_cpu_count_and_maxcpus_qemu(guest, cpus, hv_cmdline, boot, expect):
    extra = ["--cpus", str(cpus), "--boot", boot]
    if hv_cmdline:
        extra += ["--hv-cmdline", hv_cmdline]
    running, listed, ids, log = boot_smp64(guest, "qemu", *extra)
    assert (running, listed, ids) == expect, log
    assert ("(wisp) TSCs agree" in log) == (running > 1), log
