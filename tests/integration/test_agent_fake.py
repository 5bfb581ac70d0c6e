"""test_agent_fake (host tests): wisp-agent's whole flow against a fake store, sysfs and hypervisor.

wisp-agent-fake is the agent linked with toolstack/agent/fake_ctl.c: the control hypercall
and the bridge ioctls come from files in a directory. The store is the far end of a
pseudo-terminal in raw mode served by a small in-memory xenstore here (values, permissions,
snapshot transactions whose first commit conflicts, one watch). sysfs is a directory tree.
The run inside a real service domain is tests/integration's Linux device tests.
"""
import json
import os
import pty
import struct
import subprocess
import threading
import time
import tty

import pytest

from wisptest import BUILD, ninja_build, read_exact

AGENT_DIR = BUILD / "toolstack" / "agent"
AGENT = AGENT_DIR / "wisp-agent"
FAKE = AGENT_DIR / "wisp-agent-fake"
HDR = struct.Struct("<IIII")
(XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH, XS_TX_START, XS_TX_END, XS_WRITE, XS_MKDIR,
 XS_RM, XS_SET_PERMS, XS_WATCH_EVENT, XS_ERROR) = 1, 2, 3, 4, 6, 7, 11, 12, 13, 14, 15, 16
BACKEND = 2


def message(kind, req_id, payload, tx_id=0):
    return HDR.pack(kind, req_id, tx_id, len(payload)) + payload


class FakeStore:
    """An in-memory xenstore on a pty. The first `conflicts` commits answer EAGAIN."""

    def __init__(self, conflicts=1):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.device = os.ttyname(self.slave)
        self.tree = {"/": ["", ["n0"]]}
        for dom in (2, 3, 4, 5):
            self._create(self.tree, f"/local/domain/{dom}", ["n0", f"r{dom}"])
            self.tree[f"/local/domain/{dom}/domid"] = [str(dom), ["n0", f"r{dom}"]]
            self._create(self.tree, f"/local/domain/{dom}/device", ["n0", f"r{dom}"])
        self.txs, self.next_tx = {}, 1
        self.conflicts, self.commits = conflicts, 0
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def _parent(path):
        return path.rsplit("/", 1)[0] or "/"

    def _create(self, tree, path, perms=None):
        if path in tree:
            return
        parent = self._parent(path)
        self._create(tree, parent)
        tree[path] = ["", list(perms or tree[parent][1])]

    def _remove(self, tree, path):
        for p in [p for p in tree if p == path or p.startswith(path + "/")]:
            del tree[p]

    def fire(self, path):
        with self.lock:
            os.write(self.master, message(XS_WATCH_EVENT, 0, path.encode() + b"\0wisp-agent\0"))

    def _read(self, n):
        return read_exact(self.master, n)

    def _serve(self):
        while (hdr := self._read(HDR.size)) is not None:
            kind, req_id, tx_id, length = HDR.unpack(hdr)
            payload = self._read(length) if length else b""
            reply = self._answer(kind, tx_id, payload)
            with self.lock:
                if isinstance(reply, str):
                    os.write(self.master, message(XS_ERROR, req_id, reply.encode() + b"\0"))
                else:
                    os.write(self.master, message(kind, req_id, reply, tx_id))
                    if kind == XS_WATCH:   # a new watch fires once at once
                        os.write(self.master, message(XS_WATCH_EVENT, 0, payload))

    def _answer(self, kind, tx_id, payload):
        if kind == XS_TX_START:
            self.txs[self.next_tx] = {p: [v, list(pe)] for p, (v, pe) in self.tree.items()}
            self.next_tx += 1
            return f"{self.next_tx - 1}".encode() + b"\0"
        words = payload.split(b"\0")
        path = words[0].decode()
        if not path.startswith("/"):
            path = f"/local/domain/{BACKEND}/{path}"
        if kind == XS_TX_END:
            snapshot = self.txs.pop(tx_id, None)
            if snapshot is None:
                return "ENOENT"
            if words[0] == b"T":
                self.commits += 1
                if self.commits <= self.conflicts:
                    return "EAGAIN"
                self.tree = snapshot
            return b"OK\0"
        tree = self.txs[tx_id] if tx_id else self.tree
        if kind == XS_WATCH:
            return b"OK\0"
        if kind == XS_READ:
            return tree[path][0].encode() if path in tree else "ENOENT"
        if kind == XS_WRITE:
            self._create(tree, path)
            tree[path][0] = payload[len(words[0]) + 1:].decode()
            return b"OK\0"
        if kind == XS_MKDIR:
            self._create(tree, path)
            return b"OK\0"
        if kind == XS_RM:
            if path not in tree:
                return "ENOENT"
            self._remove(tree, path)
            return b"OK\0"
        if kind == XS_SET_PERMS:
            if path not in tree:
                return "ENOENT"
            tree[path][1] = [w.decode() for w in words[1:] if w]
            return b"OK\0"
        return "EINVAL"

    def under(self, prefix):
        return {p: v for p, v in self.tree.items() if p == prefix or p.startswith(prefix + "/")}


class Agent:
    """wisp-agent-fake running, its stdout collected line by line."""

    def __init__(self, env):
        self.proc = subprocess.Popen([str(FAKE)], env=env, stdout=subprocess.PIPE, text=True)
        self.lines = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            time.sleep(0.05)
        raise AssertionError(f"no '{text}' in:\n" + "\n".join(self.lines))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module", autouse=True)
def built():
    ninja_build(AGENT, FAKE)


def print_nodes(*specs):
    res = subprocess.run([str(AGENT), "--print-nodes", *specs], capture_output=True, text=True,
                         timeout=10)
    assert res.returncode == 0, res
    return json.loads(res.stdout)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_sysfs(root):
    # pmem0: the namespace gives its start; pmem1: only the region does (the fallback).
    write(root / "block/pmem0/dev", "259:0\n")
    write(root / "block/pmem0/size", "131072\n")
    write(root / "block/pmem0/device/resource", "0x100000000\n")
    write(root / "devices/region1/resource", "0x108000000\n")
    (root / "devices/region1/namespace1.0").mkdir(parents=True)
    write(root / "block/pmem1/dev", "259:1\n")
    write(root / "block/pmem1/size", "4096\n")
    (root / "block/pmem1/device").symlink_to(root / "devices/region1/namespace1.0")
    (root / "class/net/vif3.0").mkdir(parents=True)
    (root / "class/net/br0").mkdir(parents=True)


DEVICES = [
    ("disk:3:2:xvda:rw:disk0.img", "100000000"),
    ("disk:3:2:xvdb:ro:data.img", "108000000"),
    ("vif:3:2:0", ""),
    ("vif:4:2:0:00:16:3e:00:04:00", ""),
    ("disk:4:2:xvda:rw:nowhere.img", "200000000"),   # no pmem starts there
    ("disk:5:2:sda:rw:x.img", ""),                   # malformed: skipped
]


@pytest.fixture
def machine(tmp_path):
    sysfs, ctl, run, bin_dir = (tmp_path / d for d in ("sys", "ctl", "run", "bin"))
    fake_sysfs(sysfs)
    write(ctl / "devices", "".join(f"{spec} {gpa}\n" for spec, gpa in DEVICES))
    write(bin_dir / "udhcpd", '#!/bin/sh\necho "$@" > "$WISP_AGENT_RUN/udhcpd.args"\n')
    (bin_dir / "udhcpd").chmod(0o755)
    store = FakeStore()
    env = dict(os.environ, WISP_AGENT_XENBUS=store.device, WISP_AGENT_PRIVCMD=str(ctl),
               WISP_AGENT_SYSFS=str(sysfs), WISP_AGENT_RUN=str(run),
               WISP_AGENT_DEVICE_WAIT_MS="1500", PATH=f"{bin_dir}:{os.environ['PATH']}")
    # vif4.0 comes late, as netback's interface does.
    threading.Timer(0.7, lambda: (sysfs / "class/net/vif4.0").mkdir()).start()
    agent = Agent(env)
    yield store, agent, ctl, run
    agent.stop()


def expected(store_rows, physical):
    """The table's rows by path (later rows win), with the run-time hotplug values filled in."""
    rows = {}
    for row in store_rows:
        if row["value"] is None:
            row = dict(row, value=physical[row["path"].rsplit("/", 1)[1]])
        rows[row["path"]] = row
    return rows


def assert_matches(store, rows, prefixes):
    got = {}
    for prefix in prefixes:
        got.update(store.under(prefix))
    # Parents made on the way (device/vbd, backend/vbd/3) are the store's, not the table's.
    extra = {p for p in set(got) - set(rows) if not any(r.startswith(p + "/") for r in rows)}
    assert not extra, f"nodes the table does not have: {sorted(extra)}"
    for path, row in rows.items():
        assert path in got, f"missing {path}"
        value, perms = got[path]
        assert perms == row["perms"], (path, perms, row["perms"])
        if not row["changes"]:
            assert value == row["value"], (path, value, row["value"])


def test_agent_sets_up_every_device_then_tears_a_dead_guest_down(machine):
    store, agent, ctl, run = machine
    agent.wait_for("watching @releaseDomain")
    log = "\n".join(agent.lines)

    # Guest 3: two disks and a vif, all connected, in one transaction retried after EAGAIN.
    assert store.commits >= 3, log   # one conflict, then d3 and d4
    assert "d3: wrote the nodes of 3 devices in one transaction" in log
    rows = expected(print_nodes("disk:3:2:xvda:rw:disk0.img"),
                    {"physical-device": "103:0", "physical-device-path": "/dev/pmem0"})
    rows.update(expected(print_nodes("disk:3:2:xvdb:ro:data.img"),
                         {"physical-device": "103:1", "physical-device-path": "/dev/pmem1"}))
    rows.update(expected(print_nodes("vif:3:2:0"), {}))
    assert_matches(store, rows, ["/local/domain/3/device", "/local/domain/2/backend/vbd/3",
                                 "/local/domain/2/backend/vif/3"])
    assert "physical-device 103:0" in log and "physical-device 103:1" in log, log

    # Guest 4: its vif (late interface) connects; its disk has no pmem and stays unconnected.
    d4 = print_nodes("vif:4:2:0:00:16:3e:00:04:00", "disk:4:2:xvda:rw:nowhere.img")
    d4 = [r for r in d4 if not (r["phase"] == "hotplug" and "/vbd/" in r["path"])]
    assert_matches(store, expected(d4, {}), ["/local/domain/4/device",
                                             "/local/domain/2/backend/vbd/4",
                                             "/local/domain/2/backend/vif/4"])
    assert "d4 xvda: no /dev/pmem* starts at 0x200000000" in log, log
    assert "device 5: malformed (kind 238, frontend 5, backend 2, devid 0), skipped" in log, log
    assert "d5: wrote" not in log, log

    calls = (ctl / "calls").read_text().split("\n")
    assert calls.index("bridge br0 vif3.0") < calls.index("unpause 3"), calls
    assert "bridge br0 vif4.0" in calls
    assert {"unpause 3", "unpause 4", "unpause 5"} <= set(calls), calls
    conf = (run / "udhcpd.conf").read_text()
    assert "static_lease 00:16:3e:00:03:00 10.77.0.3\n" in conf
    assert "static_lease 00:16:3e:00:04:00 10.77.0.4\n" in conf
    for _ in range(100):
        if (run / "udhcpd.args").exists():
            break
        time.sleep(0.05)
    assert (run / "udhcpd.args").read_text() == f"-f {run}/udhcpd.conf\n"

    # Guest 3 dies: its backends and frontend directory go; guest 4's stay.
    (ctl / "dead-3").write_text("")
    store.fire("@releaseDomain")
    agent.wait_for("d3 is gone")
    assert not store.under("/local/domain/2/backend/vbd/3")
    assert not store.under("/local/domain/2/backend/vif/3")
    assert not store.under("/local/domain/3/device")
    assert store.under("/local/domain/2/backend/vif/4/0/hotplug-status")
    assert agent.proc.poll() is None, "the agent must keep running"


def test_print_nodes_is_json_and_refuses_bad_devices():
    rows = print_nodes("vif:3:2:1")
    assert rows[0] == {"path": "/local/domain/3/device/vif/1", "value": "", "perms": ["n3", "r2"],
                       "dir": True, "changes": False, "phase": "setup"}
    assert rows[-1]["path"] == "/local/domain/2/backend/vif/3/1/hotplug-status"
    assert rows[-1]["value"] == "connected"
    res = subprocess.run([str(AGENT), "--print-nodes", "disk:3:3:xvda:rw:a"],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 2 and "bad device" in res.stderr, res


def test_agent_without_a_store_says_so_and_exits(tmp_path):
    env = dict(os.environ, WISP_AGENT_XENBUS=str(tmp_path / "none"),
               WISP_AGENT_PRIVCMD=str(tmp_path))
    res = subprocess.run([str(FAKE)], env=env, capture_output=True, text=True, timeout=10)
    assert res.returncode == 1, res
    assert f"wisp-agent: cannot open {tmp_path}/none: No such file or directory" in res.stdout


def test_destroy_and_list_verbs(tmp_path):
    """--destroy reaches the control hypercall once per domain and says what failed; the
    fake has no domain table, so --list shows its failure path (the real one runs in
    test_service_lifecycle)."""
    env = dict(os.environ, WISP_AGENT_PRIVCMD=str(tmp_path))

    def agent(*args):
        return subprocess.run([str(FAKE), *args], env=env, capture_output=True, text=True,
                              timeout=10)

    res = agent("--destroy", "3")
    assert res.returncode == 0 and res.stdout == "d3 destroyed\n", res
    assert (tmp_path / "calls").read_text() == "destroy 3\n"
    res = agent("--destroy", "3")
    assert res.returncode == 1, res
    assert res.stderr == "wisp-agent: destroying d3: no such domain\n", res
    for bad in ("x", "", "-1", "32752", "3x"):
        res = agent("--destroy", bad)
        assert res.returncode == 2 and f"bad domain id '{bad}'" in res.stderr, res
    res = agent("--list")
    assert res.returncode == 1 and res.stdout == "", res
    assert res.stderr == "wisp-agent: WISP_CTL_domain_list: Function not implemented\n", res
    res = subprocess.run([str(FAKE), "--list", "extra"], env=env, capture_output=True,
                         text=True, timeout=10)
    assert res.returncode == 2 and "usage" in res.stderr, res
    res = subprocess.run([str(FAKE), "--destroy"], env=env, capture_output=True, text=True,
                         timeout=10)
    assert res.returncode == 2, res
