"""test_wisp_bench (host tests): wisp-bench (toolstack/bench) run on the host, seconds.

The disk modes run against a temporary regular file (the guest runs them on /dev/xvda and
the service domain on /dev/pmem0; ci/bench-service-io.py), the TCP modes over the host's
loopback, against wisp-bench's own server or a fake one that misbehaves. Checked: the
output lines the benchmark script parses, what the writes leave in the file, the
O_DIRECT fallback, and the failure lines and exit statuses.
"""
import os
import re
import socket
import subprocess
import threading

import pytest

from wisptest import BUILD, ninja_build

WISP_BENCH = BUILD / "toolstack" / "bench" / "wisp-bench"
MIB = 1024 * 1024
DISK_RE = re.compile(r"^BENCH disk (\S+) MBps=([0-9.]+) iops=([0-9]+) bytes=([0-9]+) "
                     r"secs=([0-9.]+)( direct=no)?$")
SEND_RE = re.compile(r"^BENCH tcp-send MBps=([0-9.]+) bytes=([0-9]+) secs=([0-9.]+)$")
RTT_RE = re.compile(r"^BENCH tcp-rtt usec=([0-9.]+) n=([0-9]+) secs=([0-9.]+)$")


@pytest.fixture(scope="module", autouse=True)
def built():
    ninja_build(WISP_BENCH)


def bench(*args, env=None):
    return subprocess.run([str(WISP_BENCH), *map(str, args)], capture_output=True, text=True,
                          timeout=30, env=dict(os.environ, **(env or {})))


def zero_file(tmp_path, mib, name="disk.img"):
    path = tmp_path / name
    path.write_bytes(bytes(mib * MIB))
    return path


def takes_o_direct(path):
    """Whether PATH's file system opens files with O_DIRECT (ext4 does; tmpfs before 6.6 not)."""
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_DIRECT))
        return True
    except OSError:
        return False


def pattern(length):
    """What wisp-bench writes: byte i of each 1 MiB block is (i * 131 + 7) mod 256."""
    return bytes((i * 131 + 7) & 0xFF for i in range(length))


@pytest.mark.parametrize("mode", ["seq-read", "seq-write", "rand-read", "rand-write"])
def test_disk_mode_prints_one_line(tmp_path, mode):
    img = zero_file(tmp_path, 4)
    res = bench("disk", mode, img, 2)
    assert res.returncode == 0, res
    m = DISK_RE.match(res.stdout.strip())
    assert m, res.stdout
    assert m.group(1) == mode
    assert int(m.group(4)) == 2 * MIB
    assert (m.group(6) is None) == takes_o_direct(img), "fallback exactly when refused"
    secs, ops = float(m.group(5)), int(m.group(3))
    block = MIB if mode.startswith("seq") else 4096
    assert secs > 0
    # iops and MBps agree with bytes / secs (rounding aside).
    assert abs(float(m.group(2)) - 2 * MIB / 1e6 / secs) < 0.02 * float(m.group(2)) + 0.01
    assert abs(ops - 2 * MIB / block / secs) <= 0.01 * ops + 1


def test_seq_write_writes_its_pattern_and_nothing_past_mib(tmp_path):
    img = zero_file(tmp_path, 4)
    assert bench("disk", "seq-write", img, 3).returncode == 0
    data = img.read_bytes()
    assert data[:3 * MIB] == pattern(MIB) * 3
    assert data[3 * MIB:] == bytes(MIB)


def test_rand_write_stays_inside_mib_and_repeats_its_offsets(tmp_path):
    blocks = []
    for name in ("a.img", "b.img"):
        img = zero_file(tmp_path, 4, name)
        assert bench("disk", "rand-write", img, 1).returncode == 0
        data = img.read_bytes()
        assert data[MIB:] == bytes(3 * MIB), "a random write left the first MiB"
        written = [i for i in range(256) if data[i * 4096:(i + 1) * 4096] != bytes(4096)]
        for i in written:
            assert data[i * 4096:(i + 1) * 4096] == pattern(4096)
        blocks.append(written)
    # 256 writes over 256 blocks: random, so some blocks twice and some never.
    assert 100 < len(blocks[0]) < 256
    assert blocks[0] == blocks[1], "the seed is fixed: both runs hit the same blocks"


def test_refused_o_direct_falls_back_with_a_note(tmp_path):
    img = zero_file(tmp_path, 2)
    res = bench("disk", "seq-read", img, 2, env={"WISP_BENCH_REFUSE_DIRECT": "1"})
    assert res.returncode == 0, res
    note, line = res.stdout.splitlines()
    assert note == (f"BENCH note: {img} refuses O_DIRECT (Invalid argument); "
                    "measuring through the page cache")
    m = DISK_RE.match(line)
    assert m and m.group(6) == " direct=no", line


@pytest.mark.parametrize("args, why", [
    (("seq-read", "{img}", 5), "{img} holds 4194304 bytes, fewer than 5 MiB"),
    (("rand-write", "{img}", 5), "{img} holds 4194304 bytes, fewer than 5 MiB"),
    (("seq-read", "{tmp}/missing", 1), "cannot open {tmp}/missing: No such file or directory"),
    (("seq-write", "/dev/null", 1), "/dev/null is neither a regular file nor a block device"),
    (("rand-read", "{tmp}", 1), "{tmp} is neither a regular file nor a block device"),
])
def test_disk_failure_lines(tmp_path, args, why):
    img = zero_file(tmp_path, 4)
    subst = {"img": img, "tmp": tmp_path}
    res = bench("disk", *(str(a).format(**subst) for a in args))
    assert res.returncode == 1, res
    assert res.stdout == f"BENCH disk {args[0]} FAILED {why.format(**subst)}\n"


@pytest.mark.parametrize("args, why", [
    ((), "no MODE"),
    (("disk", "seq-read", "x"), "disk takes MODE DEV MIB"),
    (("disk", "read", "x", "1"), "disk MODE is seq-read, seq-write, rand-read or rand-write"),
    (("disk", "seq-read", "x", "0"), "MIB must be a number from 1 to 65536, not '0'"),
    (("disk", "seq-read", "x", "-1"), "MIB must be a number from 1 to 65536, not '-1'"),
    (("disk", "seq-read", "x", "1M"), "MIB must be a number from 1 to 65536, not '1M'"),
    (("tcp-send", "localhost", "1", "1"), "HOST must be an IPv4 address (a.b.c.d)"),
    (("tcp-rtt", "127.0.0.1", "70000", "1"), "PORT must be a number from 1 to 65535, not '70000'"),
    (("tcp-server",), "tcp-server takes PORT [COUNT]"),
    (("-w", "x", "tcp-rtt"), "-w SECONDS must be a number from 0 to 86400, not 'x'"),
    (("net",), "MODE is disk, tcp-server, tcp-send or tcp-rtt"),
])
def test_usage_errors(args, why):
    res = bench(*args)
    assert res.returncode == 2, res
    assert res.stdout == ""
    assert res.stderr.startswith(f"wisp-bench: {why}\nusage: wisp-bench "), res.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_loopback_send_and_rtt_against_its_own_server():
    port = free_port()
    server = subprocess.Popen([str(WISP_BENCH), "tcp-server", str(port), "2"],
                              stdout=subprocess.PIPE, text=True)
    try:
        send = bench("tcp-send", "127.0.0.1", port, 8)
        rtt = bench("tcp-rtt", "127.0.0.1", port, 200)
        out, _ = server.communicate(timeout=10)
    finally:
        server.kill()
    assert send.returncode == 0 and rtt.returncode == 0, (send, rtt)
    m = SEND_RE.match(send.stdout.strip())
    assert m and int(m.group(2)) == 8 * MIB and float(m.group(1)) > 0, send.stdout
    m = RTT_RE.match(rtt.stdout.strip())
    assert m and int(m.group(2)) == 200 and float(m.group(1)) > 0, rtt.stdout
    assert abs(float(m.group(1)) - float(m.group(3)) * 1e6 / 200) < 0.1
    assert server.returncode == 0
    assert out.splitlines() == [f"BENCH tcp-server listening port={port}",
                                f"BENCH tcp-server sink bytes={8 * MIB}",
                                "BENCH tcp-server ping count=200"]


def test_client_waits_for_a_late_server():
    port = free_port()
    late = threading.Timer(0.5, lambda: subprocess.run(
        [str(WISP_BENCH), "tcp-server", str(port)], capture_output=True, timeout=10))
    late.start()
    res = bench("-w", 5, "tcp-rtt", "127.0.0.1", port, 10)
    late.join()
    assert res.returncode == 0, res


def test_nobody_listening_fails_after_the_wait():
    res = bench("-w", 0, "tcp-send", "127.0.0.1", free_port(), 1)
    assert res.returncode == 1
    assert re.fullmatch(r"BENCH tcp-send FAILED connect to 127\.0\.0\.1:\d+: "
                        r"Connection refused\n", res.stdout), res.stdout


class FakeServer:
    """One connection; `serve(conn)` plays the server, however badly."""

    def __init__(self, serve):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.first = None
        threading.Thread(target=self._run, args=(serve,), daemon=True).start()

    def _run(self, serve):
        conn, _ = self.sock.accept()
        with conn:
            self.first = conn.recv(1)
            serve(conn)


def drain(conn):
    total = 0
    while chunk := conn.recv(65536):
        total += len(chunk)
    return total


def test_send_fails_when_the_server_counts_short():
    fake = FakeServer(lambda c: c.sendall((drain(c) - 1).to_bytes(8, "little")))
    res = bench("tcp-send", "127.0.0.1", fake.port, 1)
    assert fake.first == b"S"
    assert (res.returncode, res.stdout) == (
        1, f"BENCH tcp-send FAILED the server got {MIB - 1} bytes of {MIB}\n"), res


def test_send_fails_when_the_server_closes_without_a_count():
    fake = FakeServer(drain)
    res = bench("tcp-send", "127.0.0.1", fake.port, 1)
    assert (res.returncode, res.stdout) == (
        1, "BENCH tcp-send FAILED the server closed without a byte count\n"), res


def test_rtt_fails_on_a_wrong_echo():
    def bad_echo(conn):
        conn.recv(1)
        conn.sendall(b"\x99")
        conn.recv(1)
    fake = FakeServer(bad_echo)
    res = bench("tcp-rtt", "127.0.0.1", fake.port, 5)
    assert fake.first == b"P"
    assert (res.returncode, res.stdout) == (
        1, "BENCH tcp-rtt FAILED ping 0 came back as 0x99, not 0x00\n"), res


def test_server_refuses_an_unknown_request():
    port = free_port()
    server = subprocess.Popen([str(WISP_BENCH), "tcp-server", str(port)],
                              stdout=subprocess.PIPE, text=True)
    conn = None
    try:
        for _ in range(50):
            try:
                conn = socket.create_connection(("127.0.0.1", port))
                break
            except ConnectionRefusedError:
                threading.Event().wait(0.1)
        assert conn, "the server never listened"
        with conn:
            conn.sendall(b"X")
        out, _ = server.communicate(timeout=10)
    finally:
        server.kill()
    assert server.returncode == 1
    assert out.splitlines()[-1] == "BENCH tcp-server FAILED unknown request byte 0x58"
