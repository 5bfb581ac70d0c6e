"""test_host_events (host tests): NMIs and machine checks that the platform raises belong to Wisp.

QEMU's monitor commands `nmi` and `mce` raise them on the emulated CPU while act64's
act=await-input guest runs (SVM: the NMI exits the guest and is taken by Wisp's IDT when the
hypervisor sets GIF again). A host NMI is counted and ignored; an uncorrected machine check is
never reflected into the guest: Wisp logs the banks and stops with a panic (mce_policy.h).
`wisp run` starts QEMU with -monitor none, so this test starts QEMU itself, with the command
line docs/cli.md gives for `--boot direct`, and a monitor on a Unix socket. Bochs has no way to
raise either event: there the decision logic is covered by unit.mce_policy.
"""
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

import wisptest

CONFIG = """\
domain guest
  kernel act64.elf
  cmdline act={act}
  memory 16
"""
MACHINE_MIB = 64 + 16
READY = "(d1) AWAIT ready"
IDLE = "(d1) IDLE ready"
# `mce CPU BANK STATUS MCG_STATUS ADDR MISC`: bank 1 holds a valid, uncorrected, enabled
# error (MCi_STATUS VAL|UC|EN); MCG_STATUS says a machine check is in progress (MCIP) and
# the interrupted code could resume (RIPV). SDM vol 3B, 16.3.
MCE_COMMAND = "mce 0 1 0xb000000000000000 0x5 0x1234000 0"


class Machine:
    """Wisp in QEMU with one act64 domain, a monitor socket and the serial on stdin/stdout."""

    def __init__(self, tmp_path, act):
        os.symlink(wisptest.GUESTS / "act64.elf", tmp_path / "act64.elf")
        (tmp_path / "wisp.cfg").write_text(CONFIG.format(act=act))
        self.monitor_path = str(tmp_path / "monitor.sock")
        modules = ",".join(f"{tmp_path / n} {n}" for n in ("act64.elf", "wisp.cfg"))
        qemu = shutil.which(os.environ.get("WISP_QEMU", "qemu-system-x86_64"))
        assert qemu, "qemu-system-x86_64 is missing (./wisp installs it)"
        self.proc = subprocess.Popen(
            [qemu, "-accel", "tcg", "-cpu", "max", "-m", str(MACHINE_MIB), "-nodefaults",
             "-display", "none", "-monitor", f"unix:{self.monitor_path},server=on,wait=off",
             "-serial", "stdio", "-no-reboot",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-kernel", str(wisptest.HYPERVISOR), "-append", "config=wisp.cfg",
             "-initrd", modules],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, text=True, errors="replace")
        self.lines, self.cond = [], threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\r\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)     # EOF
            self.cond.notify_all()

    def wait_for(self, prefix, timeout=60):
        with self.cond:
            ok = self.cond.wait_for(
                lambda: None in self.lines or any(l and l.startswith(prefix) for l in self.lines),
                timeout)
        return ok and any(l and l.startswith(prefix) for l in self.lines)

    def monitor(self, command):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.monitor_path)
            s.settimeout(10)
            s.sendall(command.encode() + b"\n")
            time.sleep(0.3)             # the monitor runs it before we hang up

    def type(self, text):
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def stop(self):
        wisptest.stop_group(self.proc, grace_s=0)
        self.proc.wait()

    def log(self):
        return "\n".join(l for l in self.lines[-40:] if l is not None)


@pytest.fixture
def machine(tmp_path, request):
    m = Machine(tmp_path, request.param)
    yield m
    m.stop()


@pytest.mark.boot
@pytest.mark.parametrize("machine", ["await-input"], indirect=True)
def test_host_nmis_are_counted_and_ignored(machine):
    """The guest spins without exits: each NMI exits it (SVM NMI intercept) and waits, held by
    GIF=0, until Wisp's STGI, where Wisp's own IDT takes it."""
    assert machine.wait_for(READY), machine.log()
    for _ in range(3):
        machine.monitor("nmi")
        time.sleep(0.2)
    machine.type("x")
    assert machine.wait_for("(wisp) end:"), machine.log()
    lines = machine.lines
    assert "(wisp) end: poweroff" in lines, machine.log()
    assert "(d1) AWAIT input" in lines, machine.log()
    assert "(wisp) warning: 3 host NMIs were ignored" in lines, machine.log()
    assert not [l for l in lines if l and ("PANIC" in l or "host exception" in l)], machine.log()


@pytest.mark.boot
@pytest.mark.parametrize("machine", ["idle"], indirect=True)
def test_machine_check_reaches_the_hypervisor(machine):
    """The guest sleeps, so the #MC strikes while Wisp idles. (QEMU 7.2 TCG raises an injected
    #MC through its interrupt path, which takes no SVM exception intercept: in guest mode it
    would go straight to the guest's IDT, which real hardware with the intercept set never does.
    The guest exit paths, SVM's #MC intercept and VMX exit reason 0 with vector 18 or 41, are
    written from the manuals and end in the same mce_handle.)"""
    assert machine.wait_for(IDLE), machine.log()
    machine.monitor(MCE_COMMAND)
    assert machine.wait_for("(wisp) end:"), machine.log()
    lines = [l for l in machine.lines if l is not None]
    after = lines[lines.index(IDLE) + 1:]
    # The guest neither saw it (its own #MC handler would print and crash) nor went on.
    assert not [l for l in after if l.startswith("(d1")], machine.log()
    context = r"machine check (in the hypervisor|in d1 v0)"
    assert [l for l in after if re.fullmatch(
        r"\(wisp\) error: " + context + r": MCG_STATUS 0000000000000005", l)], machine.log()
    assert ("(wisp) error: machine check bank 1: status b000000000000000 addr 0000000000000000 "
            "misc 0000000000000000") in after, machine.log()
    assert [l for l in after if re.fullmatch(
        r"\(wisp\) error: PANIC: " + context + r": uncorrected hardware error", l)], machine.log()
    assert after[-1] == "(wisp) end: panic", machine.log()
