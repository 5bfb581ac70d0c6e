"""Closing many event channels is bounded (hypervisor work a guest causes): a domain binds
FIFO ports by the ten thousand, then resets them (EVTCHNOP_reset) or dies, beside
act=latency, the canary that reports how late it woke."""
import re

import pytest

from machine import domain_lines, run_config
from test_grants import LATE_RE, LATENCY_LIMIT_US, assert_no_leak

# d2 binds `ports` IPI ports under FIFO (fifo64 flood=N), optionally resets them all, and
# crashes. Before the bound, the reset and the death each closed every port in one go.
PORT_FLOOD = """\
domain latency
  kernel act64.elf
  cmdline act=latency ticks={ticks} report=5000
  memory 16
domain flood
  kernel fifo64.elf
  cmdline flood={ports}{reset}
  memory 16
"""
BOUND_RE = re.compile(r"^PORTS bound (\d+) of \d+ in \d+ ms \(rc 0\)$")
RESET_RE = re.compile(r"^PORTS reset at (\d+) ms: 0 in \d+ ms$")
CRASH_RE = re.compile(r"^PORTS crashing at (\d+) ms$")
# (ports, latency ticks of 10 ms or more): QEMU all 2^17 - 1 a domain may bind (7-18 s
# on a loaded machine); Bochs 16,384 (bound in 61 s of guest time, the ticks run to ~95 s).
# Before the bound, under Bochs: the reset held the neighbour 455 ms (this test fails);
# after: reset 46 ms, crash 53 ms (most of it the crash's log and the teardown pass, as in
# test_grants.py). QEMU closes 131,071 ports in about 30 ms, so it cannot show the failure.
SIZES = {"qemu": (131071, 3000), "bochs": (16384, 4000)}


def first(regex, lines):
    return next((m for m in map(regex.match, lines) if m), None)


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
@pytest.mark.parametrize("how", ["crash", "reset"])
def test_closing_many_ports_does_not_hold_the_pcpu(tmp_path, emulator, how):
    ports, ticks = SIZES[emulator]
    res = run_config(tmp_path, PORT_FLOOD.format(ports=ports, ticks=ticks,
                                                 reset=" reset=1" if how == "reset" else ""),
                     emulator=emulator, timeout=900,
                     extra=["--verbose", "--hv-cmdline", "loglevel=debug"])
    flood, latency = domain_lines(res.stdout, "flood"), domain_lines(res.stdout, "latency")
    bound = first(BOUND_RE, flood)
    assert bound and int(bound.group(1)) == ports, res
    start = first(RESET_RE if how == "reset" else CRASH_RE, flood)
    assert start, res
    assert any(line.startswith("LATENCY max") for line in latency), res
    # The flood domain was torn down while the latency domain still measured.
    torn, ended = res.stderr.find("d2 (flood): torn down"), res.stderr.find("d1 (latency): shutdown")
    assert 0 <= torn < ended, res.stderr[-3000:]
    # How long each late wake-up was held up after the closing began.
    start_ms = int(start.group(1))
    held = [min(int(m.group(1)), (int(m.group(2)) - start_ms) * 1000)
            for m in map(LATE_RE.match, latency) if m and int(m.group(2)) > start_ms]
    print(f"{emulator} {how}: {bound.group(0)}; {start.group(0)}; longest hold after: "
          f"{max(held, default=0)} us")
    assert max(held, default=0) < LATENCY_LIMIT_US, f"held {max(held)} us after {how}"
    assert_no_leak(res)
