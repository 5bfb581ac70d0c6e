"""test_toolstack_linux (host tests): Linux guests made at run time (docs/toolstack.md), under QEMU.

`wisp up --preload` hands the minimal guest kernel and its initramfs to the service domain
at boot, so `wisp create` sends neither over the slow host channel (tens of megabytes
would take many minutes there: the create's 120 s limit would be far exceeded). Two guests
are made from xl.cfg files: "job" runs a command (wisp.cmd) and powers off, and its
on_poweroff destroy makes it go; "shell" is an interactive shell that `wisp console` types
a command into and then `poweroff`. While both run, `wisp list` shows them with the memory
and vCPUs their files asked for. "disky" has two disks and a vif: a preloaded read-write
image it reads and writes, a small read-only one sent over the channel, and an address from
the service domain's DHCP; once it has gone the agent has removed its three devices.
"""
import base64
import os
import subprocess
import time

import pytest

from test_linux_xenbus import INITRAMFS, VMLINUX
from test_toolstack import SERVICE_TARGETS, listed, wait_for, wisp, xl_cfg
from wisptest import BUILD, WISP, ninja_build

pytestmark = pytest.mark.long(3)

LINUX_CFG = """\
name = "{name}"
kernel = "{kernel}"
ramdisk = "{ramdisk}"
extra = "console=hvc0 quiet loglevel=3{extra}"
memory = 128
vcpus = 2
"""


def linux_cfg(tmp_path, name, extra=""):
    return xl_cfg(tmp_path, name, LINUX_CFG.format(name=name, kernel=VMLINUX, ramdisk=INITRAMFS,
                                                   extra=extra))


DISK_COMMAND = (
    "head -c 14 /dev/xvda; echo; head -c 8 /dev/xvdb; echo; "
    "echo WRITTEN | dd of=/dev/xvda bs=512 seek=8 conv=sync 2>/dev/null && "
    "dd if=/dev/xvda bs=512 skip=8 count=1 2>/dev/null | head -c 7; echo; "
    "echo W | dd of=/dev/xvdb 2>/dev/null || echo xvdb refused the write; "
    "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'")


def disky_cfg(tmp_path, big, small):
    command = base64.b64encode(DISK_COMMAND.encode()).decode()
    return xl_cfg(tmp_path, "disky", LINUX_CFG.format(
        name="disky", kernel=VMLINUX, ramdisk=INITRAMFS, extra=f" wisp.cmd={command}") +
        f"disk = [ 'format=raw, vdev=xvda, access=rw, target={big}',\n"
        f"         '{small},xvdb,r' ]\nvif = [ '' ]\n")


def console_log(run_dir):
    return (run_dir / "console.log").read_text(errors="replace")


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


@pytest.mark.boot
def test_linux_guests_made_at_run_time(tmp_path):
    ninja_build(VMLINUX, INITRAMFS, *(BUILD / t for t in SERVICE_TARGETS))
    run_dir = tmp_path / "run"
    env = dict(os.environ, WISP_RUN_DIR=str(run_dir))
    big, small = tmp_path / "big.img", tmp_path / "small.img"
    big.write_bytes(b"DISK-A-MARKER!".ljust(1 << 20, b"\0"))
    small.write_bytes(b"SMALLRO!".ljust(64 << 10, b"\0"))
    up = wisp(env, "up", "--emulator", "qemu", "--preload", str(VMLINUX), "--preload",
              str(INITRAMFS), "--preload", str(big), timeout=360)
    try:
        assert up.returncode == 0, up
        assert "wisp-agent: 3 preloaded files in the file cache" in console_log(run_dir)

        command = base64.b64encode(b'echo "made at run time: $(uname -s) $((6*7))"').decode()
        job = wisp(env, "create", linux_cfg(tmp_path, "job", f" wisp.cmd={command}"))
        assert job.returncode == 0 and job.stdout.strip().isdigit(), job
        shell = wisp(env, "create", linux_cfg(tmp_path, "shell"))
        assert shell.returncode == 0 and shell.stdout.strip().isdigit(), shell
        doms = listed(env)
        assert doms["shell"].group(3) in ("running", "blocked"), doms
        assert (int(doms["shell"].group(4)), int(doms["shell"].group(5))) == (128, 2), doms

        wait_for("the job's output", lambda: "[job] made at run time: Linux 42" in
                 console_log(run_dir), 240)
        wait_for("job gone after its poweroff", lambda: "job" not in listed(env), 120)

        wait_for("the shell's prompt", lambda: "type poweroff to leave" in console_log(run_dir),
                 240)
        got, err = type_into(env, "shell", b"echo typed=$((7*6))\n", b"typed=42")
        assert b"typed=42" in got, (got, err, console_log(run_dir)[-3000:])
        got, err = type_into(env, "shell", b"poweroff\n", b"", timeout=5)
        wait_for("shell gone after poweroff", lambda: "shell" not in listed(env), 120)
        assert set(listed(env)) == {"xenstore", "service"}

        disky = wisp(env, "create", disky_cfg(tmp_path, big, small))
        assert disky.returncode == 0 and disky.stdout.strip().isdigit(), disky
        domid = int(disky.stdout)
        wait_for("disky's end", lambda: "[disky] <<wisp-exit" in console_log(run_dir), 240)
        out = [line[len("[disky] "):] for line in console_log(run_dir).splitlines()
               if line.startswith("[disky] ")]
        for want in ("DISK-A-MARKER!", "SMALLRO!", "WRITTEN", "xvdb refused the write",
                     f"inet 10.77.0.{domid}", "<<wisp-exit 0>>"):
            assert want in out, (want, out)
        assert big.read_bytes()[4096:4103] != b"WRITTEN"     # the agent wrote to its copy
        wait_for("disky's devices removed", lambda: f"wisp-agent: d{domid} is gone: removed its "
                 "3 devices" in console_log(run_dir), 120)
    finally:
        down = wisp(env, "down", timeout=60)
    assert down.returncode == 0, down
