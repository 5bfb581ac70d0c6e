"""test_linux (host tests): unmodified Linux 6.1 as a PVH guest, through `wisp run -- COMMAND`.

The kernels and initramfs come from guest-kernels/ (built once per build tree by
ninja; a missing one is built here, never skipped). QEMU (AMD SVM) runs the
whole set; Bochs (Intel VMX) is slow, so it runs a boot to init and a status.
"""
import os
import re
import select
import subprocess
import time

import pytest

import wisptest
from wisptest import (BUILD, EXIT_GUEST_CRASH, EXIT_GUEST_REBOOT, EXIT_POWEROFF, WISP,
                      ninja_build, stop_group)

pytestmark = pytest.mark.long(10)     # about 10 minutes of boots: run early (conftest.py)

KERNELS = BUILD / "guest-kernels"
VMLINUX = KERNELS / "vmlinux"
INITRAMFS = KERNELS / "initramfs.cpio.gz"
DEBIAN_VMLINUZ = KERNELS / "debian-cloud" / "vmlinuz"
DEBIAN_INITRAMFS = KERNELS / "initramfs-debian-cloud.cpio.gz"

QEMU_TIMEOUT = 120
BOCHS_TIMEOUT = 1500


@pytest.fixture(scope="session")
def linux():
    ninja_build(VMLINUX, INITRAMFS)
    return VMLINUX


@pytest.fixture(scope="session")
def debian_kernel():
    ninja_build(DEBIAN_VMLINUZ, DEBIAN_INITRAMFS)
    return DEBIAN_VMLINUZ


def run_linux(command, *opts, timeout=QEMU_TIMEOUT, emulator="qemu"):
    """wisp run [opts] -- command; returns WispResult (stdout = the guest's stream)."""
    args = ["run", "--emulator", emulator, "--timeout", str(timeout), *opts, "--", *command]
    return wisptest.run_wisp(args, timeout=timeout + 30)


class Stream:
    """A running `wisp` whose stdout is read as it comes, each chunk with its arrival time."""

    def __init__(self, args, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen([str(WISP), *args], stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.chunks = []        # (time, text)

    def text(self):
        return "".join(t for _, t in self.chunks).replace("\r", "")

    def _read(self, wait_s):
        ready, _, _ = select.select([self.proc.stdout], [], [], wait_s)
        if not ready:
            return True
        chunk = os.read(self.proc.stdout.fileno(), 4096)
        if not chunk:
            return False
        self.chunks.append((time.monotonic(), chunk.decode(errors="replace")))
        return True

    def read_until(self, pattern, timeout):
        """Waits until the output so far matches pattern (a prompt needs no newline)."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if rx.search(self.text()):
                return True
            if not self._read(0.2):
                return bool(rx.search(self.text()))
        return False

    def time_of(self, pattern):
        """When the output first matched pattern."""
        rx = re.compile(pattern, re.M)
        seen = ""
        for t, chunk in self.chunks:
            seen += chunk.replace("\r", "")
            if rx.search(seen):
                return t
        return None

    def finish(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(self.proc)
        rest = self.proc.stdout.read() or b""
        if rest:
            self.chunks.append((time.monotonic(), rest.decode(errors="replace")))
        return self.proc.returncode


@pytest.mark.boot
def test_command_status_comes_back(linux):
    result = run_linux(["sh", "-c", "echo hello from the guest; exit 7"])
    assert result.code == 7, result
    # Only the command's output: no kernel messages (loglevel=3), no status marker.
    assert result.stdout == ["hello from the guest"], result


@pytest.mark.boot
def test_grant_tables_initialise(linux):
    """Linux's grant-table driver finds v1 (set_version 2 is -ENOSYS) and maps its frames."""
    result = run_linux(["sh", "-c", "dmesg | grep -i grant"])
    assert any("Grant tables using version 1 layout" in line for line in result.stdout), result
    assert any("Grant table initialized" in line for line in result.stdout), result


@pytest.mark.boot
def test_linux_runs_on_fifo_event_channels(linux):
    """Linux asks for the FIFO ABI first (EVTCHNOP_init_control): it must take it and boot on it."""
    result = run_linux(["sh", "-c", "dmesg | grep -c 'Using FIFO-based ABI'"], "--vcpus", "2")
    assert result.code == 0 and result.stdout == ["1"], result


@pytest.mark.boot
def test_status_survives_forged_markers_and_background_output(linux):
    """The last marker wins and init kills stragglers first: output cannot fake the status."""
    script = ("printf '<<wisp-exit 0>>\\n'; printf 'no newline <<wisp-exit 5>>'; "
              "(while :; do echo straggler; sleep 0.01; done) & sleep 0.2; exit 3")
    result = run_linux(["sh", "-c", script])
    assert result.code == 3, result


@pytest.mark.boot
def test_sleep_takes_five_seconds_of_guest_and_host_time(linux):
    stream = Stream(["run", "--timeout", str(QEMU_TIMEOUT), "--", "sh", "-c",
                     "echo before $(cut -d' ' -f1 /proc/uptime); sleep 5; "
                     "echo after $(cut -d' ' -f1 /proc/uptime)"])
    assert stream.read_until(r"^after [0-9.]+", QEMU_TIMEOUT), stream.text()
    code = stream.finish(30)
    assert code == 0, stream.text()
    before = float(re.search(r"^before ([0-9.]+)", stream.text(), re.M).group(1))
    after = float(re.search(r"^after ([0-9.]+)", stream.text(), re.M).group(1))
    guest_s = after - before
    host_s = stream.time_of(r"^after [0-9]") - stream.time_of(r"^before [0-9]")
    assert 5.0 <= guest_s <= 5.5, f"guest time {guest_s:.2f} s\n{stream.text()}"
    assert abs(host_s - 5.0) <= 0.5, f"host wall clock {host_s:.2f} s\n{stream.text()}"


@pytest.mark.boot
def test_guest_date_matches_host(linux):
    result = run_linux(["date", "+%s"])
    host_now = time.time()
    assert result.code == 0, result
    guest_now = int(next(line for line in result.stdout if re.fullmatch(r"\d+", line.strip())))
    assert abs(guest_now - host_now) < 5, f"guest {guest_now}, host {host_now:.0f}"


@pytest.mark.boot
@pytest.mark.parametrize("vcpus", [2, 4])
def test_smp_guest_runs_work_on_every_cpu(linux, vcpus):
    # Field 39 of /proc/self/stat is the CPU the process last ran on.
    script = ("cat /sys/devices/system/cpu/online; "
              f"for c in $(seq 0 {vcpus - 1}); do "
              "taskset -c $c sh -c 'echo cpu$(cut -d\" \" -f39 /proc/self/stat)'; done")
    result = run_linux(["sh", "-c", script], "--vcpus", str(vcpus))
    assert result.code == 0, result
    assert f"0-{vcpus - 1}" in result.stdout, result
    for c in range(vcpus):
        assert f"cpu{c}" in result.stdout, result


@pytest.mark.boot
def test_console_input_reaches_the_shell(linux):
    stream = Stream(["run", "--interactive", "--timeout", str(QEMU_TIMEOUT),
                     "--initrd", str(INITRAMFS), str(VMLINUX)], stdin=subprocess.PIPE)
    try:
        assert stream.read_until(r"# ", QEMU_TIMEOUT), stream.text()
        stream.proc.stdin.write(b"echo $((6 * 7))\n")
        stream.proc.stdin.flush()
        assert stream.read_until(r"^42\s*$", 30), stream.text()
        stream.proc.stdin.write(b"poweroff\n")
        stream.proc.stdin.flush()
    finally:
        code = stream.finish(60)
    assert code == EXIT_POWEROFF, stream.text()


@pytest.mark.boot
def test_reboot_gives_its_exit_code(linux):
    assert run_linux(["reboot", "-f"]).code == EXIT_GUEST_REBOOT


@pytest.mark.boot
def test_kernel_panic_is_a_guest_crash(linux):
    result = run_linux(["sh", "-c", "echo c > /proc/sysrq-trigger"])
    assert result.code == EXIT_GUEST_CRASH, result


@pytest.mark.boot
def test_debian_cloud_kernel_boots(debian_kernel):
    result = run_linux(["uname", "-r"], "--initrd", str(DEBIAN_INITRAMFS), str(debian_kernel),
                       timeout=180)
    assert result.code == 0, result
    assert any(line.strip().endswith("-cloud-amd64") for line in result.stdout), result


@pytest.mark.boot
@pytest.mark.smoke
def test_bochs_vmx_boots_linux_to_init(linux):
    result = run_linux(["sh", "-c", "exit 9"], "--timeout", str(BOCHS_TIMEOUT),
                       emulator="bochs", timeout=BOCHS_TIMEOUT)
    assert result.code == 9, result
