"""test_toolstack_linux (host tests): Linux guests made at run time (docs/toolstack.md), under QEMU and Bochs.

`wisp up --preload` hands the minimal guest kernel, its initramfs and a 1 MiB disk image to
the service domain at boot, so `wisp create` sends none of them over the slow host channel
(tens of megabytes would take many minutes there, far beyond the creates' 120 s limit).
Three guests are made from xl.cfg files and run at once:

- "shell", an interactive shell with a disk: `wisp console` types a command into it,
  `wisp sched` changes its weight, it writes to its disk, `wisp reboot` reboots it (Linux
  obeys; on_reboot restart, xl's default: the agent builds it again and the disk keeps what
  it wrote), and `wisp shutdown` (xenstore control/shutdown) ends it (on_poweroff
  destroy: it goes);
- "io", with two disks and a vif: the preloaded image read-write, a small read-only one
  sent over the channel, an address from the service domain's DHCP; it reads and writes
  its disks, then reads xvda in a loop and is destroyed in the middle of that I/O, after
  which the agent removes its three devices;
- "clock", which prints the time every half second: paused for 5 s and unpaused, its
  clock has moved on by the pause, as the host's did; `wisp mem-set` takes its memory to
  96 MiB and back (Linux's balloon driver follows memory/target); then it is destroyed. (A guest running a wisp.cmd
  command ignores shutdown requests until the command ends: guest-kernels/init.)

`wisp list` shows every step under QEMU: all three with the memory and vCPUs their files asked for,
"paused", and in the end only the tool stack's own domains; `wisp info`'s free frames drop by
the guests' memory and come back to where they were before the first create, but for the few
frames the service domain's grant and event-channel tables grew into (Bochs too).

Under Bochs three Linux guests at once took over a quarter of an hour, so it runs "io"
alone, with one vCPU and the small disk preloaded too (Bochs paces the host channel).
"""
import base64
import os
import re
import subprocess
import time

import pytest

from test_linux_xenbus import INITRAMFS, VMLINUX
from test_toolstack import (SERVICE_TARGETS, UP_WAIT_S, console_text, free_frames, listed,
                            wait_for, wisp, xl_cfg)
from wisptest import BUILD, WISP, ninja_build

pytestmark = pytest.mark.long(6)     # Bochs boots a Linux guest at run time: run early

LINUX_CFG = """\
name = "{name}"
kernel = "{kernel}"
ramdisk = "{ramdisk}"
extra = "console=hvc0 quiet loglevel=3{extra}"
memory = 128
vcpus = 2
"""
IO_COMMAND = (
    "head -c 14 /dev/xvda; echo; head -c 8 /dev/xvdb; echo; "
    "echo WRITTEN | dd of=/dev/xvda bs=512 seek=8 conv=sync 2>/dev/null && "
    "dd if=/dev/xvda bs=512 skip=8 count=1 2>/dev/null | head -c 7; echo; "
    "echo W | dd of=/dev/xvdb 2>/dev/null || echo xvdb refused the write; "
    "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'; "
    "while :; do dd if=/dev/xvda of=/dev/null bs=64k iflag=direct 2>/dev/null; "
    "echo IO pass; done")
CLOCK_COMMAND = "while :; do echo CLOCK $(date +%s); sleep 0.5; done"
CLOCK_RE = re.compile(r"^\[clock\] CLOCK (\d+)$", re.M)


def linux_cfg(tmp_path, name, command=None, devices=""):
    extra = " wisp.cmd=" + base64.b64encode(command.encode()).decode() if command else ""
    return xl_cfg(tmp_path, name, LINUX_CFG.format(name=name, kernel=VMLINUX, ramdisk=INITRAMFS,
                                                   extra=extra) + devices)


def lines_of(run_dir, name):
    return [line[len(name) + 3:] for line in console_text(run_dir).splitlines()
            if line.startswith(f"[{name}] ")]


def create(env, cfg):
    made = wisp(env, "create", cfg, timeout=900)
    assert made.returncode == 0 and made.stdout.strip().isdigit(), made
    return int(made.stdout)


def type_into(env, name, keys, expect, timeout=120):
    """`wisp console NAME`: types KEYS, waits for EXPECT in what comes back, leaves with Ctrl-]."""
    con = subprocess.Popen([str(WISP), "console", name], env=env, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.set_blocking(con.stdout.fileno(), False)
    con.stdin.write(keys)
    con.stdin.flush()
    got, deadline = b"", time.monotonic() + timeout
    while expect not in got and time.monotonic() < deadline:
        time.sleep(0.2)
        got += con.stdout.read() or b""
    con.stdin.write(b"\x1d")
    con.stdin.close()
    con.wait(timeout=60)
    return got, con.stderr.read()


def check_clock_pause(env, run_dir):
    """Paused 5 s, "clock" prints nothing; unpaused, its clock has moved on as the host's did."""
    clock = lambda: [int(t) for t in CLOCK_RE.findall(console_text(run_dir))]
    wait_for("clock ticking", lambda: len(clock()) >= 2, 240)
    paused_at = time.time()
    assert wisp(env, "pause", "clock").returncode == 0
    assert listed(env)["clock"].group(3) == "paused"
    time.sleep(1)                           # a line already on its way may still come
    before = len(clock())
    time.sleep(5)
    assert len(clock()) == before, "it ran while paused"
    unpaused_at = time.time()
    assert wisp(env, "unpause", "clock").returncode == 0
    wait_for("clock again", lambda: len(clock()) > before + 1, 60)
    seen_at = time.time()
    # The lines just before and just after the pause, in the guest's own time, are as far
    # apart as the pause was in the host's (2 s for the whole seconds they print and for
    # drift: an emulated machine's clock may run a little off the host's). A clock that
    # stood still while paused would have moved half a second.
    moved = clock()[before] - clock()[before - 1]
    assert unpaused_at - paused_at - 2 <= moved <= seen_at - paused_at + 2, \
        (moved, unpaused_at - paused_at, seen_at - paused_at)


def check_balloon(env):
    """`wisp mem-set` moves "clock"'s memory/target; its balloon driver follows, down and up
    again, and `wisp list` shows its memory do so."""
    mem = lambda: int(listed(env)["clock"].group(4))
    assert wisp(env, "mem-set", "clock", "96").returncode == 0
    wait_for("clock ballooned down to 96 MiB", lambda: mem() <= 96, 120)
    assert wisp(env, "mem-set", "clock", "128").returncode == 0
    wait_for("clock ballooned up again", lambda: mem() >= 120, 120)


def check_reboot(env, run_dir, shell):
    """"shell" writes to its disk and is rebooted: it comes back (a new domain made from its
    file) and reads what it wrote."""
    got, err = type_into(env, "shell", b"echo KEPT-ACROSS-REBOOT | dd of=/dev/xvda bs=512 "
                         b"seek=16 conv=sync,fsync 2>/dev/null; echo wrote=$((40+2))\n", b"wrote=42")
    assert b"wrote=42" in got, (got, err, console_text(run_dir)[-3000:])
    assert wisp(env, "reboot", "shell").returncode == 0
    wait_for("shell restarted", lambda: re.search(rf"wisp-agent: d{shell} \(shell\) restarted as "
                                                 r"d\d+", console_text(run_dir)), 240)
    wait_for("the new shell's prompt",
             lambda: console_text(run_dir).count("[shell] Wisp Linux guest: type poweroff") == 2, 240)
    # Lower case on the way out: the typed command itself never shows what is looked for.
    got, err = type_into(env, "shell", b"dd if=/dev/xvda bs=512 skip=16 count=1 2>/dev/null | "
                         b"head -c 18 | tr A-Z a-z; echo\n", b"kept-across-reboot")
    assert b"kept-across-reboot" in got, (got, err, console_text(run_dir)[-3000:])


# The service domain keeps the maptrack frames (one per 256 grants it maps) and event-channel
# buckets (128 ports each) that its backends grew into, as Xen's dom0 does: a few frames that
# do not come back when a guest goes. Everything else does (test_control.py's end-of-machine
# count checks that exactly).
TOOL_STACK_GROWTH_FRAMES = 8


def assert_frames_back(env, free_at_start):
    """Every guest gone: the free frames are back where they were before the first create, but
    for what the tool stack's own domains grew into."""
    now = free_frames(env)
    assert free_at_start - TOOL_STACK_GROWTH_FRAMES <= now <= free_at_start, (free_at_start, now)


def check_io(run_dir, domid):
    out = lines_of(run_dir, "io")
    for want in ("DISK-A-MARKER!", "SMALLRO!", "WRITTEN", "xvdb refused the write",
                 f"inet 10.77.0.{domid}"):
        assert want in out, (want, out)


def start(tmp_path, emulator, with_small):
    """`wisp up` with the kernel, initramfs and disk images preloaded; (env, run_dir, big, small)."""
    ninja_build(VMLINUX, INITRAMFS, *(BUILD / t for t in SERVICE_TARGETS))
    run_dir = tmp_path / "run"
    env = dict(os.environ, WISP_RUN_DIR=str(run_dir))
    big, small = tmp_path / "big.img", tmp_path / "small.img"
    big.write_bytes(b"DISK-A-MARKER!".ljust(1 << 20, b"\0"))
    small.write_bytes(b"SMALLRO!".ljust(64 << 10, b"\0"))
    preload = [VMLINUX, INITRAMFS, big] + ([small] if with_small else [])
    # Three busy Linux guests on two CPUs: one TCG thread keeps QEMU's race away (docs/cli.md).
    threads = ["--tcg-threads", "single"] if emulator == "qemu" else []
    up = wisp(env, "up", "--emulator", emulator, *threads,
              *[a for f in preload for a in ("--preload", f)], timeout=UP_WAIT_S[emulator] + 60)
    if up.returncode:
        wisp(env, "down", timeout=60)
    assert up.returncode == 0, up
    assert f"wisp-agent: {len(preload)} preloaded files in the file cache" in console_text(run_dir)
    return env, run_dir, big, small


def io_devices(big, small):
    return (f"disk = [ 'format=raw, vdev=xvda, access=rw, target={big}',\n"
            f"         '{small},xvdb,r' ]\nvif = [ '' ]\n")


def destroy_mid_io(env, run_dir, big, io, slow):
    """"io" destroyed while it reads xvda: it goes, and so do its three devices."""
    assert wisp(env, "destroy", "io").returncode == 0
    wait_for("io gone", lambda: "io" not in listed(env), 120 * slow)
    wait_for("io's devices removed", lambda: f"wisp-agent: d{io} is gone: removed its "
             "3 devices" in console_text(run_dir), 120 * slow)
    assert big.read_bytes()[4096:4103] != b"WRITTEN"     # the agent wrote to its copy


@pytest.mark.boot
def test_three_linux_guests_made_at_run_time(tmp_path):
    env, run_dir, big, small = start(tmp_path, "qemu", with_small=False)
    try:
        free_at_start = free_frames(env)
        shell = create(env, linux_cfg(tmp_path, "shell", devices=f"disk = [ '{big},xvda,w' ]\n"))
        io = create(env, linux_cfg(tmp_path, "io", IO_COMMAND, io_devices(big, small)))
        create(env, linux_cfg(tmp_path, "clock", CLOCK_COMMAND))
        doms = listed(env)
        assert set(doms) == {"xenstore", "service", "shell", "io", "clock"}, doms
        for name in ("shell", "io", "clock"):       # memory now: Linux may give some back
            assert 120 <= int(doms[name].group(4)) <= 128 and int(doms[name].group(5)) == 2, doms
        assert free_frames(env) <= free_at_start - 3 * 120 * 256

        wait_for("the shell's prompt", lambda: "type poweroff to leave" in console_text(run_dir),
                 240)
        got, err = type_into(env, "shell", b"echo typed=$((7*6))\n", b"typed=42")
        assert b"typed=42" in got, (got, err, console_text(run_dir)[-3000:])
        sched = wisp(env, "sched", "shell", "--weight", "512")
        assert sched.returncode == 0 and "shell: weight 512" in sched.stdout, sched
        check_reboot(env, run_dir, shell)

        check_clock_pause(env, run_dir)
        check_balloon(env)

        wait_for("io in its read loop", lambda: lines_of(run_dir, "io").count("IO pass") >= 2, 240)
        check_io(run_dir, io)
        destroy_mid_io(env, run_dir, big, io, 1)

        assert wisp(env, "shutdown", "shell").returncode == 0
        wait_for("shell gone after its shutdown", lambda: "shell" not in listed(env), 120)
        assert wisp(env, "destroy", "clock").returncode == 0
        wait_for("clock gone", lambda: "clock" not in listed(env), 120)
        assert set(listed(env)) == {"xenstore", "service"}
        assert_frames_back(env, free_at_start)
    finally:
        down = wisp(env, "down", timeout=60)
    assert down.returncode == 0, down


@pytest.mark.boot
def test_linux_guest_with_devices_made_at_run_time_bochs(tmp_path):
    """Under Bochs (VMX), where three Linux guests at once take over a quarter of an hour:
    "io" alone (one vCPU), its disks and vif, paused (its I/O stops) and unpaused (it goes
    on), then destroyed mid-I/O."""
    env, run_dir, big, small = start(tmp_path, "bochs", with_small=True)
    try:
        free_at_start = free_frames(env)
        io = create(env, linux_cfg(tmp_path, "io", IO_COMMAND, io_devices(big, small))
                    .replace("vcpus = 2", "vcpus = 1"))
        assert listed(env)["io"].group(3) in ("running", "blocked")
        passes = lambda: lines_of(run_dir, "io").count("IO pass")
        wait_for("io in its read loop", lambda: passes() >= 2, 1800)
        check_io(run_dir, io)
        assert wisp(env, "pause", "io").returncode == 0
        time.sleep(10)                      # lines already on their way may still come
        before = passes()
        time.sleep(10)
        assert passes() == before, "it ran while paused"
        assert wisp(env, "unpause", "io").returncode == 0
        wait_for("io going on", lambda: passes() > before, 600)
        destroy_mid_io(env, run_dir, big, io, 10)
        assert set(listed(env)) == {"xenstore", "service"}
        assert_frames_back(env, free_at_start)
    finally:
        down = wisp(env, "down", timeout=60)
    assert down.returncode == 0, down
