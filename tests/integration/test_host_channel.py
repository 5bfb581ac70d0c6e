"""test_host_channel (host tests): the host channel (docs/host-channel.md) under QEMU (SVM)
and Bochs (VMX): `wisp run --host-channel PATH` gives the machine a second serial port
(COM2) relayed to the Unix socket PATH; ctl64's act=hostio (a control domain) reads it
with WISP_CTL_host_read, woken by its VIRQ, and writes every byte back with
WISP_CTL_host_write. The test talks to it over the socket: every byte must come back in
order, hostile arguments are refused, and a canary beside it beats on.
"""
import os
import random
import socket
import stat
import threading
import time

import pytest

from machine import domain_lines, heartbeats, run_config
from wisptest import EXIT_INFRA, GUESTS, run_wisp

HOSTIO = """\
domain ctl
  kernel ctl64.elf
  cmdline act=hostio
  roles control
  memory 16
domain canary
  kernel act64.elf
  cmdline act=canary beats=100000
  memory 16
"""
HOSTIO_CHECKS = {
    "hostio_pad", "hostio_sizes", "hostio_bad_pointer", "hostio_hello",
    "hostio_read_fault_keeps_bytes", "hostio_echoed_to_quit", "hostio_virq"}
READY = b"HOSTIO ready\n"
QUIT = b"quit\n"

# Bochs' 16550 drops what overflows its FIFO, so the relay paces bytes into it (400 B/s):
# a short payload there, about 200 KiB of every byte value under QEMU.
PAYLOAD_LINES = {"qemu": 2000, "bochs": 12}


def payload(lines, seed):
    """LINES lines of random bytes (every value but newline), 1 to 200 bytes each."""
    rng = random.Random(seed)
    out = bytearray()
    for _ in range(lines):
        out += bytes(rng.choice([b for b in range(256) if b != 10])
                     for _ in range(rng.randint(1, 200)))
        out += b"\n"
    return bytes(out)


def read_until(sock, want, deadline):
    """Bytes from SOCK until WANT is among them (or the deadline: what came so far)."""
    got = b""
    while want not in got and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        got += chunk
    return got


def talk(path, data, out, timeout):
    """The host's side: waits for the socket and the guest's hello, sends DATA and QUIT,
    collects the echo into out["echo"] (and the socket's mode into out["mode"])."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    out["mode"] = stat.S_IMODE(os.stat(path).st_mode)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        s.settimeout(1.0)
        out["hello"] = read_until(s, READY, deadline)
        s.sendall(data + QUIT)
        out["echo"] = read_until(s, data + QUIT, deadline)


def beats_after_checks(lines):
    """Once ctl is done, the canary has beaten twice more: nothing the channel did stopped it."""
    done = [i for i, line in enumerate(lines) if line.startswith("[ctl] CHECKS DONE")]
    return bool(done) and len(heartbeats(lines[done[0]:])) >= 2


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_host_channel_echo(tmp_path, emulator):
    path = str(tmp_path / "host.sock")
    data = payload(PAYLOAD_LINES[emulator], seed=12)
    out = {}
    host = threading.Thread(target=talk, args=(path, data, out, 500), daemon=True)
    host.start()
    res = run_config(tmp_path, HOSTIO, emulator=emulator, timeout=500,
                     until=beats_after_checks, extra=["--host-channel", path])
    host.join(timeout=10)
    ctl = domain_lines(res.stdout, "ctl")
    checks = {l.split()[1]: l for l in ctl if l.startswith("CHECK ")}
    failed = [l for l in checks.values() if " PASS" not in l]
    assert not failed and set(checks) == HOSTIO_CHECKS, f"{failed or sorted(checks)}\n{res}"
    assert out.get("mode") == 0o600, out
    assert out.get("hello") == READY, out.get("hello")
    assert out.get("echo") == data + QUIT, (len(out.get("echo", b"")), len(data) + len(QUIT))
    lines = data.count(b"\n") + 1
    assert f"HOSTIO {lines} lines" in " ".join(ctl), ctl
    assert beats_after_checks(res.stdout), "the canary did not beat on after the exchange"
    assert not os.path.exists(path), "the socket outlived the run"


def test_host_channel_refused(tmp_path):
    """--host-channel on a file that is not a socket: a clear error before anything boots."""
    plain = tmp_path / "not-a-socket"
    plain.write_text("keep me")
    res = run_wisp(["run", "--host-channel", str(plain), str(GUESTS / "act64.elf")], timeout=60)
    assert res.code == EXIT_INFRA, res
    assert "a file that is not a socket is there" in res.stderr, res.stderr
    assert plain.read_text() == "keep me"
