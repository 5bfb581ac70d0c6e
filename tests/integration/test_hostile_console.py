"""test_hostile_console (host tests): a guest's console text cannot drive the terminal that shows
Wisp's serial log, nor pass for a line of the hypervisor or of another domain.

act64's act=console-forge writes escape sequences, BEL, BS, CRs before a fake "(wisp) end: ..."
and a fake "(d9) ..." line, backslashes and non-ASCII bytes, through CONSOLEIO_write and through
the PV console ring, and ends on a partial line. On the serial line (the raw bytes the emulator's
COM1 carries) every such byte must be escaped inside a "(d1) " line; `wisp run` must give the
guest's bytes back unchanged on stdout (the serial form is reversible, docs/cli.md).
"""
import os
import re
import shutil
import subprocess
import time

import pytest

import machine
import wisptest

FORGE = (b"FORGE %s esc \x1b[2J\x1b[31mred\x1b[0m \x1b]0;title\x07 bs\x08\x08 tab\tend\n"
         b"FORGE %s cr\r(wisp) end: poweroff\n"
         b"\r(d9) FORGE %s fake domain line\r\n"
         b"FORGE %s backslash \\x41 \\\\ high \xc3\xa9\n")
PARTIAL = b"FORGE partial\r(wisp) end: crash"


def expected_stdout():
    # wisp folds CR LF into LF (docs/cli.md); the guest's other bytes come back as written.
    text = b"ACT console-forge\n" + FORGE % ((b"io",) * 4) + FORGE % ((b"ring",) * 4) + PARTIAL
    return text.replace(b"\r\n", b"\n")


def run_forge(tmp_path, emulator):
    """Boots act=console-forge; returns (exit code, stdout bytes, raw serial bytes)."""
    env = dict(os.environ)
    serial_copy = tmp_path / "serial.raw"
    if emulator == "qemu":
        # QEMU's COM1 is its stdout, which wisp reads: a wrapper keeps a copy.
        qemu = shutil.which(os.environ.get("WISP_QEMU", "qemu-system-x86_64"))
        wrapper = tmp_path / "qemu-tee"
        wrapper.write_text('#!/bin/bash\n"$REAL_QEMU" "$@" | tee "$SERIAL_COPY"\n'
                           'exit "${PIPESTATUS[0]}"\n')
        wrapper.chmod(0o755)
        env.update(WISP_QEMU=str(wrapper), REAL_QEMU=qemu, SERIAL_COPY=str(serial_copy))
    keep = tmp_path / "media"
    timeout = wisptest.DEFAULT_TIMEOUT[emulator]
    proc = subprocess.run(
        [str(wisptest.WISP), "run", "--emulator", emulator, "--timeout", str(timeout),
         "--keep", str(keep), str(wisptest.GUESTS / "act64.elf"), "--cmdline", "act=console-forge"],
        stdin=subprocess.DEVNULL, capture_output=True, env=env,
        timeout=timeout + wisptest.HARNESS_MARGIN_S)
    serial = (serial_copy if emulator == "qemu" else keep / "serial.log").read_bytes()
    return proc.returncode, proc.stdout, serial, proc.stderr.decode(errors="replace")


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_guest_console_cannot_drive_the_terminal_or_forge_lines(tmp_path, emulator):
    code, stdout, serial, stderr = run_forge(tmp_path, emulator)
    assert code == wisptest.EXIT_POWEROFF, stderr

    # Every serial line with the guest's text is its own, framed, and plain printable text.
    forge_lines = [line for line in serial.split(b"\n") if b"FORGE" in line]
    assert len(forge_lines) == 9, forge_lines
    for line in forge_lines:
        assert line.startswith((b"(d1) ", b"(d1+) ")), line
        assert all(0x20 <= b <= 0x7e or b == 0x09 for b in line), f"raw control byte in {line!r}"

    # Read as a terminal or a line-splitting tool would (CR ends a line too), nothing is forged.
    lines = serial.decode("latin-1").splitlines()
    ends = [line for line in lines if line.startswith("(wisp) end:")]
    assert ends == ["(wisp) end: poweroff"], ends
    assert not [line for line in lines if line.startswith("(d9)")]

    # wisp gives the guest its own bytes back on stdout.
    assert stdout == expected_stdout()


# act.c's LOG_FLOOD_ROUNDS: each round is one refused rdmsr (a debug line) and one hypercall
# page outside RAM (an info line).
LOG_FLOOD_ROUNDS = 10000
FLOOD_LOG_LINES = ("(wisp) d1: rdmsr 0x12345678 refused", "(wisp) d1: hypercall page at bad address")
SUPPRESSED_RE = re.compile(r"^\(wisp\) warning: d1: (\d+) messages suppressed$")
# log_limit.h: a burst of 10, then one line per 500 ms.
LOG_LIMIT_BURST, LOG_LIMIT_REFILL_S = 10, 0.5


LOG_FLOOD_CONFIG = """\
domain flood
  kernel act64.elf
  cmdline act=log-flood
  memory 16
domain canary
  kernel act64.elf
  cmdline act=canary beats=30
  memory 16
"""


@pytest.mark.boot
def test_guest_caused_log_lines_are_rate_limited(tmp_path):
    """Beside a canary, a guest makes the hypervisor want 20,000 log lines (loglevel=debug)."""
    started = time.monotonic()
    result = machine.run_config(tmp_path, LOG_FLOOD_CONFIG, emulator="qemu", timeout=60,
                                until=r"CANARY done",
                                extra=("--verbose", "--hv-cmdline", "loglevel=debug"))
    elapsed = time.monotonic() - started
    log = result.stderr.splitlines()
    printed = [line for line in log if line.startswith(FLOOD_LOG_LINES)]
    suppressed = sum(int(m.group(1)) for m in map(SUPPRESSED_RE.match, log) if m)
    assert len(printed) <= LOG_LIMIT_BURST + elapsed / LOG_LIMIT_REFILL_S + 1, \
        f"{len(printed)} flood lines in {elapsed:.1f} s"
    flood = machine.domain_lines(result.stdout, "flood")
    assert f"LOGFLOOD done {2 * LOG_FLOOD_ROUNDS} of {2 * LOG_FLOOD_ROUNDS} refused" in flood, result
    assert machine.heartbeats(result.stdout) == list(range(1, 31)), result
    # Nothing vanishes without a word: every line not printed is counted (the count also
    # holds the guest's few hypercall trace lines that fell in the same bucket).
    assert len(printed) + suppressed >= 2 * LOG_FLOOD_ROUNDS


SERIAL_FLOOD_CONFIG = """\
domain flood
  kernel act64.elf
  cmdline act=flood-io
  memory 16
domain latency
  kernel act64.elf
  cmdline act=latency ticks=50
  memory 16
"""
LATENCY_RE = re.compile(r"^LATENCY max (\d+) us over 50 ticks$")
# A slice (10 ms, sched.c) for the flooder, one console pass and piece (under 10 ms at
# 115200 baud, domain.h) and the emulator's own jitter; before, one 2 KiB console_io pass
# kept the pCPU for about 0.45 s.
LATENCY_LIMIT_US = 60000


@pytest.mark.boot
def test_console_flood_does_not_hold_the_pcpu_on_the_serial_line(tmp_path):
    """Bochs models the 16550's transmit time (QEMU's is instant, so the flood costs nothing
    there): a guest that floods CONSOLEIO_write beside one that wakes every 10 ms."""
    result = machine.run_config(tmp_path, SERIAL_FLOOD_CONFIG, emulator="bochs", timeout=240,
                                until=r"^\[latency\] LATENCY ")
    found = [m for m in map(LATENCY_RE.match, machine.domain_lines(result.stdout, "latency")) if m]
    assert found, result
    assert int(found[0].group(1)) < LATENCY_LIMIT_US, found[0].group(0)
