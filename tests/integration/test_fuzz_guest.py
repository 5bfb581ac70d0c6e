"""test_fuzz_guest (host tests): the fuzz64 guest fires seeded hypercalls and exits beside a
canary domain; the oracle is that the canary keeps beating while the fuzzer runs, the
fuzzer finishes (no CPL 3 hypercall got anything but -EPERM), the hypervisor never
panics and no free frame is lost by the time the machine ends.

Replay a failure: the assertion message names the seed; boot the same configuration
(FUZZ_CONFIG below) with that seed, or run fuzz64.elf alone:
  build/toolstack/wisp run --verbose build/tests/guests/fuzz64.elf --cmdline "seed=S calls=N trace=1"
(trace=1 prints each call's generator before it runs; docs/testing.md, "Fuzz tier").
"""
import re

import pytest

from machine import domain_lines, heartbeats, run_config
from wisptest import EXIT_HV_PANIC, EXIT_POWEROFF

# The generators for the bugs issue 8 fixed (docs/test-guests.md, fuzz64): a comma list
# of areas (timers, memory, exits, console). console stays off: once the fuzzer scribbles
# in its PV console ring, its console_io lines (FUZZ done included) go to the debug log,
# as for XTF and Mini-OS, and the oracle loses them.
KNOWN = "timers,memory,exits"

FUZZ_CONFIG = """\
domain canary
  kernel act64.elf
  cmdline act=canary beats={beats}
  memory 16
domain fuzz
  kernel fuzz64.elf
  cmdline seed={seed} calls={calls} known={known}{builder}
  memory 32{roles}
"""

FREE_FRAMES_RE = re.compile(r"free frames: boot (\d+), end (\d+)")


def fuzz_beside_canary(tmp_path, emulator, seed, calls, beats, timeout, cpus=1, builder=False):
    """builder: fuzz64 gets the control role and fuzzes the run-time build commands on
    domains of its own (which may run garbage and crash themselves) instead of the
    no-role promise."""
    config = FUZZ_CONFIG.format(seed=seed, calls=calls, beats=beats, known=KNOWN,
                                builder=" builder=1" if builder else "",
                                roles="\n  roles control" if builder else "")
    res = run_config(tmp_path, config, emulator=emulator, timeout=timeout,
                     extra=["--verbose", "--cpus", str(cpus)])
    replay = f"seed={seed} calls={calls} known={KNOWN} on {emulator}"
    fuzz = domain_lines(res.stdout, "fuzz")

    # The hypervisor survived and ended the machine itself, both domains done.
    assert "PANIC" not in res.stderr, f"{replay}: hypervisor panic\n{res.stderr[-3000:]}"
    assert res.code != EXIT_HV_PANIC, f"{replay}: {res}"
    assert res.code == EXIT_POWEROFF, f"{replay}: {res}"
    assert f"FUZZ done calls={calls} seed={seed}" in fuzz, f"{replay}: {fuzz[-20:]}"
    assert not [line for line in fuzz if line.startswith("FUZZ FAIL")], f"{replay}: {fuzz}"

    # The canary kept beating while the fuzzer ran, and to the end.
    assert heartbeats(res.stdout, "canary") == list(range(1, beats + 1)), f"{replay}: {res}"
    start = res.stdout.index(f"[fuzz] FUZZ seed={seed} calls={calls} known={KNOWN}")
    done = res.stdout.index(f"[fuzz] FUZZ done calls={calls} seed={seed}")
    during = [line for line in res.stdout[start:done] if line.startswith("[canary] CANARY beat")]
    assert during, f"{replay}: no canary beat while the fuzzer ran"

    # Every frame the domains took came back (printed by the hypervisor at the machine's end).
    frames = FREE_FRAMES_RE.search(res.stderr)
    assert frames, f"{replay}: no 'free frames: boot N, end M' line\n{res.stderr[-2000:]}"
    assert frames.group(1) == frames.group(2), f"{replay}: {frames.group(0)}"
    return res


@pytest.mark.boot
@pytest.mark.parametrize("seed", [1, 7])
def test_fuzz_guest_qemu(tmp_path, seed):
    # 20,000 calls take about 2 s of QEMU time; 40 beats (4 s of guest time) outlast them.
    fuzz_beside_canary(tmp_path, "qemu", seed, calls=20000, beats=40, timeout=90)


@pytest.mark.boot
def test_fuzz_guest_on_another_cpu_qemu(tmp_path):
    """Two CPUs: the canary on CPU 0, the fuzzer on CPU 1, both in the hypervisor at once."""
    fuzz_beside_canary(tmp_path, "qemu", 11, calls=20000, beats=40, timeout=90, cpus=2)


@pytest.mark.boot
def test_fuzz_guest_bochs(tmp_path):
    # About 1,000 calls a second under Bochs; the canary's first line comes some 800 calls
    # in, so 3,000 calls overlap its beats.
    fuzz_beside_canary(tmp_path, "bochs", 3, calls=3000, beats=40, timeout=240)


@pytest.mark.boot
@pytest.mark.parametrize("seed", [5, 9])
def test_fuzz_builder_qemu(tmp_path, seed):
    """fuzz64 with the control role fuzzes domain_create/scrub/write/start on domains of
    its own, starting some at random entries: they crash themselves at most, the canary
    beats on, every answer is a documented one and every frame comes back."""
    res = fuzz_beside_canary(tmp_path, "qemu", seed, calls=20000, beats=40, timeout=120,
                             builder=True)
    assert re.search(r"^\(wisp\) d\d+ \(\w+\): created by d2", res.stderr, re.M), \
        "the builder created no domain"
