"""test_cpu_interface (host tests): what the CPU interface keeps between domains, under QEMU (SVM)
and Bochs (VMX). The per-instruction checks (XSETBV, CR4, EFER, MSRs, INVD/WBINVD/RDPMC, the
device hole) are in the checks guests (tests/guests/cpu_checks.c, test_guests.py).

Debug registers: DR0-DR3 are in neither the VMCB nor the VMCS. One domain sets them and yields
the pCPU 200 times; another on the same pCPU reads them after each of its own yields. The first
must get its values back every time, the second must never see them.
"""
import pytest

from machine import domain_lines, run_config

DR_CONFIG = """\
domain setter
  kernel act64.elf
  cmdline act=dr-set rounds=200
  memory 16
domain peeker
  kernel act64.elf
  cmdline act=dr-peek rounds=200
  memory 16
"""


@pytest.mark.boot
def test_debug_registers_stay_with_their_vcpu(backend, tmp_path):
    res = run_config(tmp_path, DR_CONFIG, emulator=backend, timeout=120)
    setter, peeker = domain_lines(res.stdout, "setter"), domain_lines(res.stdout, "peeker")
    assert "DR kept" in setter, str(res)
    assert "DR clean" in peeker, str(res)
    assert res.code == 0, str(res)
