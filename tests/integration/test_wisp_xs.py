"""test_wisp_xs (host tests): the wisp-xs client (toolstack/xs-client) against a fake store.

wisp-xs talks to whatever WISP_XS_DEVICE names instead of /dev/xen/xenbus. Here that is
the far end of a pseudo-terminal in raw mode: the test reads each request wisp-xs writes
and answers as a store would, or would not (errors, watch events, broken replies,
silence). The guest side is in test_linux_xenbus.py.
"""
import os
import pty
import struct
import subprocess
import threading
import tty

import pytest

from wisptest import BUILD, ninja_build, read_exact

WISP_XS = BUILD / "toolstack" / "xs-client" / "wisp-xs"
XS_DIRECTORY, XS_READ, XS_WATCH, XS_GET_DOMAIN_PATH, XS_WRITE = 1, 2, 4, 10, 11
XS_WATCH_EVENT, XS_ERROR = 15, 16
HDR = struct.Struct("<IIII")


def message(kind, req_id, payload):
    return HDR.pack(kind, req_id, 0, len(payload)) + payload


class FakeStore:
    """One pty pair; `answer(request) -> bytes` makes the reply to each whole request."""

    def __init__(self, answer):
        # The test keeps the slave open too: with no slave open, reads of the master fail.
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.device = os.ttyname(self.slave)
        self.answer, self.requests = answer, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _read(self, n):
        return read_exact(self.master, n)

    def _serve(self):
        while (hdr := self._read(HDR.size)) is not None:
            kind, req_id, tx_id, length = HDR.unpack(hdr)
            payload = self._read(length) if length else b""
            self.requests.append((kind, req_id, tx_id, payload))
            os.write(self.master, self.answer(kind, req_id, payload))


def run(store, *args):
    env = dict(os.environ, WISP_XS_DEVICE=store.device if store else "/nonexistent")
    return subprocess.run([str(WISP_XS), "-t", "2", *args], env=env, capture_output=True,
                          text=True, timeout=30)


@pytest.fixture(scope="module", autouse=True)
def built():
    ninja_build(WISP_XS)


def test_read_sends_the_path_and_prints_the_value():
    store = FakeStore(lambda k, r, p: message(XS_READ, r, b"linux"))
    res = run(store, "read", "name")
    assert (res.returncode, res.stdout) == (0, "linux\n"), res
    assert store.requests == [(XS_READ, 1, 0, b"name\0")]


def test_write_value_goes_without_nul():
    store = FakeStore(lambda k, r, p: message(XS_WRITE, r, b"OK\0"))
    res = run(store, "write", "data/x", "a b")
    assert res.returncode == 0, res
    assert store.requests[0][3] == b"data/x\0a b"


def test_refusal_names_the_error_and_exits_1():
    store = FakeStore(lambda k, r, p: message(XS_ERROR, r, b"EACCES\0"))
    res = run(store, "read", "/local/domain/3/name")
    assert res.returncode == 1, res
    assert res.stderr == "wisp-xs: read /local/domain/3/name: EACCES\n"


def test_ls_prints_one_child_a_line():
    store = FakeStore(lambda k, r, p: message(XS_DIRECTORY, r, b"device\0data\0control\0"))
    res = run(store, "ls", "/local/domain/2")
    assert (res.returncode, res.stdout) == (0, "device\ndata\ncontrol\n"), res


def test_domain_path_reads_domid_first():
    def answer(kind, req_id, payload):
        if kind == XS_READ:
            return message(XS_READ, req_id, b"7")
        return message(XS_GET_DOMAIN_PATH, req_id, b"/local/domain/7\0")
    store = FakeStore(answer)
    res = run(store, "domain-path")
    assert (res.returncode, res.stdout) == (0, "/local/domain/7\n"), res
    assert [(k, p) for k, _, _, p in store.requests] == [(XS_READ, b"domid\0"),
                                                          (XS_GET_DOMAIN_PATH, b"7\0")]


def test_watch_counts_its_events_and_ignores_other_tokens():
    def answer(kind, req_id, payload):
        # An event of someone else's, ours before the reply, then ours after it.
        return (message(XS_WATCH_EVENT, 0, b"data/w\0other\0") +
                message(XS_WATCH_EVENT, 0, b"data/w\0wisp-xs\0") +
                message(XS_WATCH, req_id, b"OK\0") +
                message(XS_WATCH_EVENT, 0, b"data/w/x\0wisp-xs\0"))
    res = run(FakeStore(answer), "watch", "data/w", "2")
    assert (res.returncode, res.stdout) == (0, "data/w\ndata/w/x\n"), res


def test_watch_without_enough_events_times_out():
    store = FakeStore(lambda k, r, p: message(XS_WATCH, r, b"OK\0"))
    res = run(store, "watch", "data/w", "1")
    assert res.returncode == 3 and "no answer from the store" in res.stderr, res


@pytest.mark.parametrize("reply,why", [
    (lambda r: message(XS_WRITE, r, b"OK\0"), "reply of type 11"),
    (lambda r: message(XS_READ, r + 1, b"x"), "reply to request"),
    (lambda r: HDR.pack(XS_READ, r, 0, 4097), "over 4096 bytes"),
    (lambda r: b"", "no answer from the store"),
])
def test_broken_replies_exit_3(reply, why):
    res = run(FakeStore(lambda k, r, p: reply(r)), "read", "name")
    assert res.returncode == 3 and why in res.stderr, res


def test_no_device_and_bad_usage():
    res = run(None, "read", "name")
    assert res.returncode == 3 and "cannot open /nonexistent" in res.stderr, res
    for args in ([], ["read"], ["write", "a"], ["frobnicate", "x"], ["watch", "a", "x"]):
        res = run(None, *args)
        assert res.returncode == 2, (args, res)
    res = run(None, "read", "p" * 3073)
    assert res.returncode == 2, res
