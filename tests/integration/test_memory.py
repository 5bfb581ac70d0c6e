"""test_memory (host tests): guests that balloon hostilely beside a canary domain, under QEMU
(SVM/NPT) and Bochs (VMX/EPT).

- act=balloon-churn splits and merges every 2 MiB p2m leaf of its RAM, half before the
  other half, so the hypervisor allocates and frees one table per region and the freed
  ones leave holes. Once both domains have ended and been torn down, Wisp logs
  "free frames: boot N, end M": N must equal M. Under QEMU the churning domain has over
  1 GiB (more than 512 regions: more holes than the old 256-entry free list had room
  for, which lost a frame per free from then on); under Bochs a small one proves the
  same accounting on EPT.
- act=balloon-huge asks for 2^40 extents, for the largest count Xen accepts, and for
  1024 pages in one call (which must come back continued), over and over: the canary's
  heartbeats must keep coming.
"""
import re

import pytest

from machine import domain_lines, heartbeats, run_config
from wisptest import EXIT_POWEROFF

FREE_FRAMES_RE = re.compile(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", re.M)

# emulator -> (churning domain's MiB, rounds)
CHURN = {"qemu": (1100, 1), "bochs": (48, 3)}

CHURN_CONFIG = """\
domain churn
  kernel act64.elf
  cmdline act=balloon-churn rounds={rounds}
  memory {memory}
domain canary
  kernel act64.elf
  cmdline act=canary beats={beats}
  memory 16
"""

HUGE_CONFIG = """\
domain huge
  kernel act64.elf
  cmdline act=balloon-huge
  memory 32
domain canary
  kernel act64.elf
  cmdline act=canary beats={beats}
  memory 16
"""


def free_frames(stderr):
    """(N, M) from the one "free frames: boot N, end M" line the hypervisor must log."""
    found = FREE_FRAMES_RE.findall(stderr)
    assert len(found) == 1, f"want exactly one free-frames line, got {found}\n{stderr[-3000:]}"
    return int(found[0][0]), int(found[0][1])


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_balloon_churn_gives_every_frame_back(tmp_path, emulator):
    memory, rounds = CHURN[emulator]
    config = CHURN_CONFIG.format(memory=memory, rounds=rounds, beats=10)
    res = run_config(tmp_path, config, emulator=emulator, timeout=120, extra=["--verbose"])
    assert res.code == EXIT_POWEROFF, res
    churn = domain_lines(res.stdout, "churn")
    assert f"BALLOON round {rounds}" in churn and "BALLOON done" in churn, res
    assert heartbeats(res.stdout) == list(range(1, 11)), res
    assert "free list full" not in res.stderr, res
    boot, end = free_frames(res.stderr)
    assert boot == end, f"{boot - end} frames lost\n{res.stderr[-3000:]}"


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_huge_extent_counts_do_not_stall_others(tmp_path, emulator):
    res = run_config(tmp_path, HUGE_CONFIG.format(beats=10), emulator=emulator, timeout=90,
                     until=r"^\[canary\] CANARY done$")
    assert res.code is None and not res.timed_out, res
    assert heartbeats(res.stdout) == list(range(1, 11)), res
    huge = domain_lines(res.stdout, "huge")
    # Refused at once, as Xen refuses counts its continuation cannot encode.
    assert "BALLOON huge: 2^40 extents: 0 done" in huge, res
    assert any(line.startswith("BALLOON huge round 1 (continued") for line in huge), res
    assert not any("FAIL" in line for line in huge), res
