"""test_hostile_timers (host tests): timers and spinning vCPUs of a hostile guest cannot stop
the machine. Each hostile act64 action runs beside a canary domain (act=canary), whose
heartbeats must all come; where the hostile guest can measure its own timers it prints CHECK
lines too (a clamped period still fires, at no more than the clamped rate; a huge one never
fires early). Before the fixes, a huge VCPUOP period or a 1 ns periodic LAPIC timer
livelocked the scheduler (no domain ran again), and on VMX under Bochs a vCPU spinning with
interrupts off never gave its pCPU away.

QEMU (AMD SVM) boots one hostile domain at a time; Bochs (Intel VMX), which is slower, boots
them all in one machine.
"""
import re

import pytest

from machine import domain_lines, heartbeats, run_config
from wisptest import assert_checks

BEATS = 20
CANARY = f"""\
domain canary
  kernel act64.elf
  cmdline act=canary beats={BEATS}
  memory 16
"""
DONE = r"^\[canary\] CANARY done$"

# act64 action: (vCPUs, CHECK names it reports; None: it reports none, it only spins).
HOSTILE = {
    "periodic-huge": (1, ["periodic_uint64_max_refused", "periodic_2e62_refused",
                          "periodic_below_1ms_refused", "periodic_max_never_fires",
                          "singleshot_max_never_fires", "set_timer_op_huge_fires_in_100ms",
                          "periodic_1ms_rate"]),
    "lapic-periodic-x2apic": (1, ["lapic_periodic_initial_kept", "lapic_periodic_clamped_rate"]),
    "lapic-periodic-xapic": (1, ["lapic_periodic_initial_kept", "lapic_periodic_clamped_rate"]),
    "spin-cli": (1, None),
    "spin-sti": (1, None),
    "smp-spin": (3, ["smp_spin_started", "smp_spin_progress"]),
    "smp-spin-sti": (3, ["smp_spin_started", "smp_spin_progress"]),
}


def hostile_domain(name, act):
    vcpus, _ = HOSTILE[act]
    return f"domain {name}\n  kernel act64.elf\n  cmdline act={act}\n  memory 16\n  vcpus {vcpus}\n"


def all_done(hostiles, unmeasured=()):
    """An `until` for run_config: the canary has beaten to the end and every measured hostile
    domain has reported (a slow one may finish after the canary; stopping at the canary's end
    would cut its report off)."""
    waiting = [f"[{name}] CHECKS DONE" for name, act in hostiles.items()
               if HOSTILE[act][1] is not None and name not in unmeasured]

    def done(seen):
        return (any(re.match(DONE, line) for line in seen)
                and all(any(line.startswith(w) for line in seen) for w in waiting))
    return done


def assert_survived(res, hostiles, unmeasured=()):
    """The canary beat to the end; every hostile domain started and passed its own checks
    (but for those in UNMEASURED)."""
    assert heartbeats(res.stdout) == list(range(1, BEATS + 1)), res
    for name, act in hostiles.items():
        lines = domain_lines(res.stdout, name)
        assert f"ACT {act}" in lines, (name, res)
        expected = HOSTILE[act][1]
        if expected is not None and name not in unmeasured:
            assert_checks(lines, expected)


STUCK = "(hostile) v0: interrupts off for 1 s of its running time"


@pytest.mark.boot
@pytest.mark.parametrize("act", list(HOSTILE))
def test_hostile_beside_canary_qemu(tmp_path, act):
    res = run_config(tmp_path, CANARY + hostile_domain("hostile", act), emulator="qemu",
                     timeout=60, until=all_done({"hostile": act}),
                     extra=["--verbose", "--hv-cmdline", "irqoff_warn=1"])
    assert_survived(res, {"hostile": act})
    # A vCPU spinning with interrupts off after it once had them on is named, with its
    # registers (irqoff_warn=1: after 1 s of its running time); one that spins with them
    # on, sleeps, or polls without ever enabling them is not.
    assert (STUCK in res.stderr) == (act == "spin-cli"), res.stderr[-3000:]
    assert "(canary) v0: interrupts off" not in res.stderr
    if act == "spin-cli":
        report = res.stderr.split(STUCK, 1)[1]
        assert "rip " in report, res.stderr[-3000:]
        # The words RDI points at (a spinning vCPU's lock): the guest put "SPINLOCK" there.
        assert "[rdi]: 5350494e4c4f434b 0000000000000000" in report, res.stderr[-3000:]
        # The frame INT pushed: the code it stopped had interrupts on.
        assert re.search(r"interrupt frame at [0-9a-f]+: rip [0-9a-f]+ rflags 0+2[0-9a-f]{2} \(IF on\)",
                         report), res.stderr[-3000:]


@pytest.mark.boot
@pytest.mark.parametrize("act", ["spin-cli", "smp-spin", "periodic-huge"])
def test_hostile_on_another_cpu_qemu(tmp_path, act):
    """With two CPUs the canary has CPU 0 and the hostile guest CPU 1: its kicks, timers and
    spinning (interrupts off too) cross CPUs, and the canary still beats on time."""
    res = run_config(tmp_path, CANARY + hostile_domain("hostile", act), emulator="qemu",
                     timeout=60, until=all_done({"hostile": act}), extra=["--verbose", "--cpus", "2"])
    assert_survived(res, {"hostile": act})
    assert "(wisp) d2 (hostile): " in res.stderr and ", pCPU 1\n" in res.stderr, res.stderr[-3000:]


# One Bochs machine holds one domain of each kind that matters on VMX: the spinners (the
# preemption path), the huge VCPUOP period and the 1 ns x2APIC timer (the timer paths).
# Under Bochs one exit costs about 0.7 ms of guest time, more than the 100 us period the
# APIC timer is clamped to, so that guest spends all its own time in its timer handler and
# never gets to report: as on Xen, a guest may starve itself, and only the canary counts.
BOCHS_HOSTILES = {"spin": "smp-spin", "cli": "spin-cli", "huge": "periodic-huge",
                  "lapic": "lapic-periodic-x2apic"}


@pytest.mark.boot
@pytest.mark.parametrize("cpus", [1, 2])
def test_hostile_beside_canary_bochs(tmp_path, cpus):
    """With two CPUs the canary shares CPU 0 with the spin-cli and x2APIC-timer guests, and
    CPU 1 holds the SMP spinner and the huge-period one."""
    config = CANARY + "".join(hostile_domain(n, a) for n, a in BOCHS_HOSTILES.items())
    res = run_config(tmp_path, config, emulator="bochs", timeout=120,
                     until=all_done(BOCHS_HOSTILES, unmeasured=("lapic",)), extra=["--cpus", str(cpus)])
    assert_survived(res, BOCHS_HOSTILES, unmeasured=("lapic",))
