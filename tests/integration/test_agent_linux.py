"""test_agent_linux (host tests): wisp-agent in a real Linux domain, against Wisp's xenstore and control hypercall (QEMU and Bochs).

The minimal guest kernel (guest-kernels/) has /dev/xen/xenbus and /dev/xen/privcmd but no
backends, bridge or pmem, so this checks the agent's own part for real: the device list
through privcmd, the vif's nodes written through Linux's xenbus device in one transaction
into xenstored (compared with `wisp-agent --print-nodes`), a bounded wait for an interface
that never comes, the unpause of a guest built paused (it beats only after the agent says
so), and the teardown once that guest has ended. The kernel with backends (the service
domain of issue 10) runs the rest in the device tests.

Domains: xenstore 1, service 2 (Linux, roles control,backend, runs wisp-agent), guest 3 (a
canary with a vif, so built paused; it beats long enough to outlive the store dump: 30 s,
300 s under Bochs, where Linux is slow against guest time), keeper 4 (a canary that keeps the machine up).
"""
import base64
import gzip
import re

import pytest

import machine
from test_agent_fake import AGENT, print_nodes
from test_linux_xenbus import (BOCHS_TIMEOUT, INITRAMFS, QEMU_TIMEOUT, VMLINUX, XENSTORED_NAME,
                               find_xenstored)
from wisptest import ninja_build
from wisptest import BUILD

pytestmark = pytest.mark.long(4)     # about 4 minutes of boots: run early (conftest.py)

SERVICE_SCRIPT = r"""
export WISP_AGENT_DEVICE_WAIT_MS=1000
wisp-agent 2>&1 | tee /tmp/a &
t() { i=0; while ! grep -q "$1" /tmp/a && [ $i -lt 6000 ]; do sleep 0.1; i=$((i+1)); done; }
d() { for c in $(wisp-xs ls $1); do
  echo "N $1/$c|$(wisp-xs read $1/$c)|$(wisp-xs perms $1/$c | tr '\n' ' ')"; d $1/$c; done; }
t 'watching @releaseDomain'
d /local/domain/3/device/vif
d /local/domain/2/backend/vif
echo DUMPED
t 'is gone'
echo "GONE $(wisp-xs ls /local/domain/2/backend/vif | tr '\n' ,)"
echo AGENTTEST done
"""


def newc_member(name, data, mode):
    """One newc cpio entry (header, name, data, each padded to 4 bytes)."""
    fields = [0, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    pad = lambda n: b"\0" * (-n % 4)
    entry = head + name.encode() + b"\0"
    return entry + pad(len(entry)) + data + pad(len(data))


def agent_initramfs(tmp_path):
    """The guest initramfs with /bin/wisp-agent appended as a second gzip member: Linux
    unpacks concatenated archives, and the CLI's GRUB (the Bochs path) passes modules as
    they are (module2 --nounzip)."""
    extra = (newc_member("bin/wisp-agent", AGENT.read_bytes(), 0o100755) +
             newc_member("TRAILER!!!", b"", 0))
    out = tmp_path / "agent-initramfs.cpio.gz"
    out.write_bytes(INITRAMFS.read_bytes() + gzip.compress(extra))
    return out


def config(beats):
    cmd = base64.b64encode(SERVICE_SCRIPT.encode()).decode()
    return (f"domain xenstore\n  kernel {XENSTORED_NAME}\n  roles xenstore\n  memory 16\n"
            "domain service\n  kernel vmlinux\n  initrd agent-initramfs.cpio.gz\n"
            "  roles control,backend\n  memory 128\n"
            f"  cmdline console=hvc0 quiet xen_privcmd.unrestricted=1 wisp.cmd={cmd}\n"
            f"domain guest\n  kernel act64.elf\n  cmdline act=canary beats={beats}\n  memory 16\n"
            "  vif\n"
            "domain keeper\n  kernel act64.elf\n  cmdline act=canary beats=100000\n  memory 16\n")


@pytest.mark.boot
def test_agent_in_linux_writes_unpauses_and_tears_down(tmp_path, backend):
    ninja_build(VMLINUX, INITRAMFS, AGENT, BUILD / "tests" / "guests" / "act64.elf")
    files = {"vmlinux": VMLINUX, "agent-initramfs.cpio.gz": agent_initramfs(tmp_path),
             XENSTORED_NAME: find_xenstored()}
    timeout = QEMU_TIMEOUT if backend == "qemu" else BOCHS_TIMEOUT
    result = machine.run_config(tmp_path, config(300 if backend == "qemu" else 3000), emulator=backend, timeout=timeout,
                                until=r"AGENTTEST done", files=files)
    log = "\n".join(result.stdout)
    assert not result.timed_out, log
    service = [l.rstrip("\r") for l in machine.domain_lines(result.stdout, "service")]
    agent = [l for l in service if l.startswith("wisp-agent: ")]
    text = "\n".join(agent)

    # The device list came through privcmd; the nodes went in in one transaction.
    assert "wisp-agent: xenstore answers; this is domain 2" in text, log
    assert "wisp-agent: device 0: d3 vif3.0 (00:16:3e:00:03:00)" in text, log
    assert "wisp-agent: d3: wrote the nodes of 1 device in one transaction" in text, log
    assert "wisp-agent: vif3.0 did not appear in 1 s; vif not connected" in text, log

    # The store holds exactly libxl's table, values and permissions.
    got = {}
    for line in service:
        if line.startswith("N "):
            path, value, perms = line[2:].split("|")
            got[path] = (value, perms.split())
    rows = {r["path"]: r for r in print_nodes("vif:3:2:0") if r["phase"] == "setup"}
    extra = {p for p in set(got) - set(rows) if not any(r.startswith(p + "/") for r in rows)}
    assert not extra, f"nodes the table does not have: {sorted(extra)}\n{log}"
    for path, row in rows.items():
        assert path in got, f"missing {path}\n{log}"
        assert got[path][1] == row["perms"], (path, got[path], row)
        assert got[path][0] == row["value"], (path, got[path], row)

    # The guest was built paused: it beats only after the agent unpaused it.
    unpaused = next(i for i, l in enumerate(result.stdout) if "wisp-agent: d3: unpaused" in l)
    first_beat = next(i for i, l in enumerate(result.stdout)
                      if (m := machine.LABEL_RE.match(l)) and m.group(1) == "guest" and
                      "CANARY beat 1" in m.group(2))
    assert unpaused < first_beat, log

    # It ended; the agent removed its backend directory.
    assert "CANARY done" in "\n".join(machine.domain_lines(result.stdout, "guest")), log
    assert re.search(r"wisp-agent: d3 is gone: removed its 1 device ", text), log
    assert "GONE " in "\n".join(service) and not any(
        l.startswith("GONE 3") for l in service), log
