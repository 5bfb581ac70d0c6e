"""test_multi_domain (host tests): three guests in one machine under QEMU (SVM). Two of them flood
the console without pause, one through the PV console ring as Linux's hvc_xen does, one through
16 KiB CONSOLEIO_write calls; the third runs the events64 checks, whose timers must fire within
500 ms. The flooders must not starve it, nor lose or tear a line of their own.

`wisp run` boots one guest, so this test writes the boot configuration itself and starts QEMU
with the command line docs/cli.md gives for `--boot direct`.
"""
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

import wisptest
from test_events import (EVTCHN_64_CHECKS, EVTCHN_CHECKS, TIME_CHECKS, UPCALL_CHECKS,
                         assert_expected_pass)

CONFIG = """\
domain ring
  kernel act64.elf
  cmdline act=flood-ring
  memory 16
domain io
  kernel act64.elf
  cmdline act=flood-io
  memory 16
domain worker
  kernel events64.elf
  memory 32
"""
MACHINE_MIB = 64 + 16 + 16 + 32
WORKER_DONE = "(wisp) d3 (worker): shutdown: poweroff"
DEADLINE_S = 180
# act.c's flood_line: "<tag> <8 digits> <filler>", 64 bytes with the newline.
FLOOD_RE = re.compile(r"^\(d([12])\) (ring|io) (\d{8}) [a-z ]+$")
FLOOD_LINE_LEN = len("(dN) ") + 63


def boot_three_domains(tmp_path):
    """Starts QEMU on the three-domain configuration; returns (process, lines, worker_done)."""
    for name in ("act64.elf", "events64.elf"):
        os.symlink(wisptest.GUESTS / name, tmp_path / name)
    (tmp_path / "wisp.cfg").write_text(CONFIG)
    modules = ",".join(f"{tmp_path / n} {n}" for n in ("act64.elf", "events64.elf", "wisp.cfg"))
    qemu = shutil.which(os.environ.get("WISP_QEMU", "qemu-system-x86_64"))
    assert qemu, "qemu-system-x86_64 is missing (./wisp installs it)"
    proc = subprocess.Popen(
        [qemu, "-accel", "tcg", "-cpu", "max", "-m", str(MACHINE_MIB), "-nodefaults",
         "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
         "-kernel", str(wisptest.HYPERVISOR), "-append", "config=wisp.cfg", "-initrd", modules],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True, text=True, errors="replace")
    lines, done = [], threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip("\r\n"))
            if lines[-1] == WORKER_DONE:
                done.set()
    threading.Thread(target=read, daemon=True).start()
    return proc, lines, done


def flood_sequences(lines):
    """{tag: [line numbers in order]}; every flooder line must be whole."""
    seqs = {"ring": [], "io": []}
    for line in lines:
        if line.startswith(("(d1)", "(d2)")) and " ACT " not in line:
            m = FLOOD_RE.match(line)
            assert m and len(line) == FLOOD_LINE_LEN, f"a torn or foreign flood line: {line!r}"
            assert (m.group(1) == "1") == (m.group(2) == "ring"), line
            seqs[m.group(2)].append(int(m.group(3)))
    return seqs


@pytest.mark.boot
def test_console_floods_do_not_starve_another_guest(tmp_path):
    proc, lines, done = boot_three_domains(tmp_path)
    started = time.monotonic()
    try:
        finished = done.wait(DEADLINE_S)
    finally:
        wisptest.stop_group(proc, grace_s=0)
        proc.wait()
    elapsed = time.monotonic() - started
    log = "\n".join(lines[-40:])
    assert finished, f"the worker did not finish within {DEADLINE_S} s; last lines:\n{log}"

    worker = [line[len("(d3) "):] for line in lines if line.startswith("(d3) ")]
    assert_expected_pass(worker, EVTCHN_CHECKS + EVTCHN_64_CHECKS + UPCALL_CHECKS + TIME_CHECKS,
                         set())

    seqs = flood_sequences(lines[:lines.index(WORKER_DONE)])
    for tag, seq in seqs.items():
        # Both floods ran the whole time the worker did, and lost nothing on the way.
        assert len(seq) >= 1000, f"{tag}: only {len(seq)} lines in {elapsed:.1f} s"
        assert seq == list(range(len(seq))), f"{tag}: lines lost or out of order"
    print(f"worker done after {elapsed:.1f} s; flood lines meanwhile: "
          f"ring {len(seqs['ring'])}, io {len(seqs['io'])}")


FOCUS_CONFIG = """\
domain tools
  kernel act64.elf
  cmdline act=idle
  roles control
  memory 16
domain guest
  kernel act64.elf
  cmdline act=await-input
  memory 16
"""


@pytest.mark.boot
def test_console_input_goes_to_the_guest_not_a_role_domain(tmp_path):
    """Typed input reaches the first domain without roles, even when a xenstore, control
    or service domain is listed before it (as `wisp run --disk/--net` lists them)."""
    guests = wisptest.BUILD / "tests" / "guests"
    (tmp_path / "act64.elf").symlink_to(guests / "act64.elf")
    cfg = tmp_path / "wisp.cfg"
    cfg.write_text(FOCUS_CONFIG)
    proc = subprocess.Popen([str(wisptest.WISP), "run", "--emulator", "qemu", "--timeout", "60",
                             "--interactive", "--config", str(cfg)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out = b""
        deadline = time.monotonic() + 60
        while b"AWAIT ready" not in out and time.monotonic() < deadline:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                break
            out += chunk
        assert b"AWAIT ready" in out, out.decode(errors="replace")
        proc.stdin.write(b"x")
        proc.stdin.flush()
        rest, err = proc.communicate(timeout=60)
    finally:
        wisptest.stop_group(proc)
    out += rest
    assert b"[guest] AWAIT input" in out, (out + err).decode(errors="replace")
    assert proc.returncode == wisptest.EXIT_POWEROFF, err.decode(errors="replace")
