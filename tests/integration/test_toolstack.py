"""test_toolstack (host tests): `wisp up`, the broker and the agent's request loop
(docs/toolstack.md, docs/control-protocol.md), under QEMU (SVM) and Bochs (VMX).

`wisp up --config` starts Wisp in the background with its xenstore and service domains and
two guests of the test's (act64 canaries); the commands then list them, pause and unpause
one (it beats again), change its share, destroy the other (an event reports it), refuse
what they must (the tool stack's own domains, unknown names, a second `up`), the broker
survives hostile clients (garbage, an oversized line, a request without an id, a client
that leaves mid-request, a second client at once), `wisp create` makes domains from xl.cfg
files (on_poweroff destroy and preserve, on_reboot restart until a guest rebooting at once is
given up, create/destroy cycles reusing one id, configs with
every kind of error leaving nothing behind; Bochs one create, its channel being slow),
`wisp console` types into a guest and shows its answer, files reach the agent through the
inbox (QEMU's shared RAM: two creates at once, a file in chunks, the host channel when there
is no inbox or it is not found, takes that do not add up refused), and
`wisp down` ends it all. `--preload` puts the unstripped act64.elf in the service domain's
initramfs: creates of it send nothing (Bochs creates only it), and the agent says so.
"""
import hashlib
import os
import pathlib
import re
import socket
import subprocess
import time

import pytest

from wisptest import BUILD, EXIT_INFRA, EXIT_USAGE, GUESTS, WISP, ninja_build

GUESTS_CFG = """\
domain canary
  kernel act64.elf
  cmdline act=canary beats=1000000
  memory 16
domain victim
  kernel act64.elf
  cmdline act=canary beats=1000000
  memory 16
"""
SERVICE_TARGETS = ("toolstack/xenstored/xenstored.elf", "guest-kernels/service/vmlinux",
                   "guest-kernels/service-initramfs.cpio.gz")
UP_WAIT_S = {"qemu": 300, "bochs": 1800}
LIST_RE = re.compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+([\d.]+)$")
BEAT_RE = re.compile(r"^\[canary\] CANARY beat (\d+)$", re.M)


def wisp(env, *args, timeout=120):
    return subprocess.run([str(WISP), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def listed(env):
    res = wisp(env, "list")
    assert res.returncode == 0, res
    return {m.group(2): m for m in map(LIST_RE.match, res.stdout.splitlines()[1:]) if m}


INFO_RE = re.compile(r"^nr_domains  : (\d+)\nfree_memory : (\d+)\nfree_frames : (\d+)\n$")


def free_frames(env):
    """`wisp info`'s free_frames (its free_memory agreeing): the hypervisor's free 4 KiB frames."""
    res = wisp(env, "info")
    m = INFO_RE.match(res.stdout)
    assert res.returncode == 0 and m, res
    assert int(m.group(2)) == int(m.group(3)) // 256, res.stdout
    return int(m.group(3))


def console_text(run_dir):
    """Every domain's console lines so far, as `wisp up` logs them (a Linux guest may
    print bytes that are no UTF-8)."""
    return (run_dir / "console.log").read_text(errors="replace")


def beats(run_dir):
    return [int(b) for b in BEAT_RE.findall(console_text(run_dir))]


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


class Raw:
    """A client speaking the protocol by hand."""

    def __init__(self, run_dir):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(str(run_dir / "control.sock"))
        self.s.settimeout(1.0)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self, timeout=120):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf and time.monotonic() < deadline:
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def until(self, prefix, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.line(max(1, deadline - time.monotonic()))
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no {prefix!r}")

    def close(self):
        self.s.close()


def xl_cfg(tmp_path, name, text):
    path = tmp_path / f"{name}.cfg"
    path.write_text(text)
    return str(path)


def check_ram_zeroed(tmp_path, run_dir, env, kernel):
    """A domain made where another one filled its RAM sees only zeros (the build's scrub)."""
    filler = xl_cfg(tmp_path, "filler", f'name = "filler"\nkernel = "{kernel}"\n'
                    'extra = "act=fill"\nmemory = 16\n')
    assert wisp(env, "create", filler).returncode == 0
    wait_for("filler's fill", lambda: "[filler] FILL done" in console_text(run_dir), 120)
    assert wisp(env, "destroy", "filler").returncode == 0
    zeroed = xl_cfg(tmp_path, "zeroed", f'name = "zeroed"\nkernel = "{kernel}"\n'
                    'extra = "act=ram-zeroed"\nmemory = 16\n')
    assert wisp(env, "create", zeroed).returncode == 0
    wait_for("zeroed's count", lambda: "[zeroed] ZEROED" in console_text(run_dir), 120)
    counted = re.search(r"\[zeroed\] ZEROED (\d+) non-zero bytes in (\d+) regions",
                        console_text(run_dir))
    assert counted and counted.group(1) == "0" and int(counted.group(2)) >= 4, counted


def check_create(tmp_path, run_dir, env, kernel, thorough):
    """wisp create: a domain from an xl.cfg runs, ends, and its on_poweroff is done."""
    beater = xl_cfg(tmp_path, "beater", f'name = "beater"\nkernel = "{kernel}"\n'
                    'extra = "act=canary beats=3"\nmemory = 16\non_poweroff = "destroy"\n')
    made = wisp(env, "create", beater, timeout=600)
    assert made.returncode == 0 and made.stdout.strip().isdigit(), made
    wait_for("beater's beats", lambda: "[beater] CANARY done" in
             console_text(run_dir), 300)
    wait_for("beater destroyed by on_poweroff", lambda: "beater" not in listed(env), 120)
    if not thorough:
        return
    keeper = xl_cfg(tmp_path, "keeper", f'name = "keeper"\nkernel = "{kernel}"\n'
                    'extra = "act=canary beats=1"\nmemory = 16\non_poweroff = "preserve"\n')
    assert wisp(env, "create", keeper, timeout=600).returncode == 0
    wait_for("keeper kept shut down", lambda: listed(env).get("keeper") is not None and
             listed(env)["keeper"].group(3) == "shutdown", 120)
    assert wisp(env, "destroy", "keeper").returncode == 0
    assert "keeper" not in listed(env)      # destroy returns once the domain has gone
    check_restart(tmp_path, run_dir, env, kernel)
    ids, free_before = set(), free_frames(env)
    for i in range(5):                      # create/destroy cycles reuse the id, and leak nothing
        cycled = wisp(env, "create", xl_cfg(tmp_path, f"c{i}", f'name = "c{i}"\n'
                      f'kernel = "{kernel}"\nextra = "act=canary beats=1000000"\nmemory = 8\n'))
        assert cycled.returncode == 0, cycled
        assert free_frames(env) <= free_before - 8 * 256     # its 8 MiB of RAM at least
        ids.add(cycled.stdout.strip())
        assert wisp(env, "destroy", f"c{i}").returncode == 0
        assert f"c{i}" not in listed(env)
    assert len(ids) == 1, ids
    assert free_frames(env) == free_before
    check_ram_zeroed(tmp_path, run_dir, env, kernel)
    bad = {
        "unknown": ('name = "u"\nkernel = "k"\nfoo = 1\n', 2, "line 3: unknown key 'foo'"),
        "nokernel": ('name = "n"\nkernel = "/nonexistent/k"\n', 2, "kernel /nonexistent/k: No such file"),
        "notpvh": (f'name = "p"\nkernel = "{beater}"\n', 2, "not a PVH kernel"),
        "taken": (f'name = "canary"\nkernel = "{kernel}"\n', 1, "File exists (EEXIST)"),
        "huge": (f'name = "h"\nkernel = "{kernel}"\nmemory = 60000\n', 1, "ENOMEM"),
        "vif": (f'name = "v"\nkernel = "{kernel}"\nvif = [ "mac=01:16:3e:00:00:09" ]\n', 2,
                "is not a unicast"),
        "disk": (f'name = "d"\nkernel = "{kernel}"\ndisk = [ "/nonexistent.img,xvda,w" ]\n', 2,
                 "disk /nonexistent.img: No such file"),
    }
    for name, (text, code, message) in bad.items():
        res = wisp(env, "create", xl_cfg(tmp_path, name, text))
        assert res.returncode == code and message in res.stderr, (name, res)
    assert set(listed(env)) == {"xenstore", "service", "canary"}, "a failed create left something"


def check_restart(tmp_path, run_dir, env, kernel):
    """on_reboot restart (xl's default): act=reboot reboots at once, so the agent builds it
    again and again, until the sixth reboot within a minute, which it destroys instead."""
    rebooter = xl_cfg(tmp_path, "rebooter", f'name = "rebooter"\nkernel = "{kernel}"\n'
                      'extra = "act=reboot"\nmemory = 16\n')
    assert wisp(env, "create", rebooter, timeout=600).returncode == 0
    log = lambda: console_text(run_dir)
    wait_for("the rebooter given up", lambda: "restarted 5 times within 60 s, so destroyed "
             "instead" in log(), 120)
    wait_for("rebooter gone", lambda: "rebooter" not in listed(env), 120)
    assert log().count("[rebooter] ACT reboot") == 6, log()[-3000:]
    assert len(re.findall(r"wisp-agent: d\d+ \(rebooter\) restarted as d\d+", log())) == 5


def check_console(tmp_path, env, kernel):
    """wisp console: keys reach the guest (act=echo says each line back), its output comes
    to the client, Ctrl-] leaves; the guest's "quit" ends it (on_poweroff destroy)."""
    echo = xl_cfg(tmp_path, "echo", f'name = "echo"\nkernel = "{kernel}"\nextra = "act=echo"\n'
                  'memory = 16\n')
    assert wisp(env, "create", echo, timeout=600).returncode == 0
    con = subprocess.Popen([str(WISP), "console", "echo"], env=env, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    con.stdin.write(b"hello there\n")
    con.stdin.flush()
    got, deadline = b"", time.monotonic() + 120
    os.set_blocking(con.stdout.fileno(), False)
    while b"ECHO hello there" not in got and time.monotonic() < deadline:
        time.sleep(0.2)
        got += con.stdout.read() or b""
    con.stdin.write(b"quit\n\x1d")
    con.stdin.close()
    con.wait(timeout=60)
    err = con.stderr.read()
    assert b"ECHO hello there" in got, (got, err)
    assert con.returncode == 0 and b"left echo's console" in err, (con.returncode, err)
    wait_for("echo gone after quit", lambda: "echo" not in listed(env), 120)
    nobody = wisp(env, "console", "nosuch")
    assert nobody.returncode == 1 and "no domain is called 'nosuch'" in nobody.stderr


def check_hostile_clients(run_dir, env):
    bad = Raw(run_dir)
    bad.send(b"garbage\x01\n")
    assert bad.line().startswith("error message=malformed")
    bad.send(b"x" * 5000 + b"\n")
    assert "longer%20than%204096" in bad.line()
    bad.send(b"req op=list\n")                              # no id
    assert bad.line().startswith("error message=want")
    bad.send(b"req id=1 op=nope\n")
    assert bad.until("reply id=1") == \
        "reply id=1 status=-38 error=ENOSYS message=Function%20not%20implemented"
    second = Raw(run_dir)                                   # two clients at once
    second.send(b"req id=two op=list\n")
    bad.send(b"req id=one op=list\n")
    assert re.fullmatch(r"reply id=two status=0 free_kib=\d+", second.until("reply id=two"))
    assert re.fullmatch(r"reply id=one status=0 free_kib=\d+", bad.until("reply id=one"))
    kernel = hashlib.sha256((GUESTS / "act64.elf").read_bytes()).hexdigest()   # preloaded
    for devices, status in ((f"disk0=xvda:rw:{'0' * 64}", "-2"),     # an image it lacks
                            ("disk0=hda:rw:" + kernel, "-22"), ("vif0=zz", "-22"),
                            ("disk0=xvda:rw:junk:" + kernel, "-22"),
                            ("vif0=01:00:00:00:00:01", "-22")):
        bad.send(f"req id=dev op=create name=baddev kernel={kernel} memory=16 vcpus=1 "
                 f"{devices}\n".encode())
        reply = bad.until("reply id=dev", timeout=300)
        assert reply.startswith(f"reply id=dev status={status} "), (devices, reply)
    assert "baddev" not in listed(env)                      # destroyed again
    # A missing image is answered before anything is built (the agent's check of its files).
    assert console_text(run_dir).count(
        "create baddev: the kernel, ramdisk or a disk image was not put in whole") == 1
    leaver = Raw(run_dir)                                   # leaves before its answer
    leaver.send(b"req id=gone op=list\n")
    leaver.close()
    bad.close()
    second.close()
    assert "canary" in listed(env)                          # the broker is still there


def taken_from_inbox(run_dir, path):
    digest = hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
    return f"wisp-agent: file {digest[:12]}... " in console_text(run_dir)


def check_digest_cache(tmp_path, run_dir, env, kernel):
    """The CLI remembers a file's digest while the file stays as it was: a kernel rewritten
    in place with other bytes of the same size and its old modification time put back is
    hashed again (its change time moved), so the agent gets the new bytes."""
    path = tmp_path / "rewritten.elf"
    first = pathlib.Path(kernel).read_bytes() + b"1"
    path.write_bytes(first)
    time.sleep(2.1)                             # a file changed within 2 s is not remembered
    cfg = xl_cfg(tmp_path, "rw", f'name = "rw"\nkernel = "{path}"\n'
                 'extra = "act=canary beats=1"\nmemory = 16\n')
    assert wisp(env, "create", cfg, timeout=600).returncode == 0
    digest = hashlib.sha256(first).hexdigest()
    assert f"{digest}" in (run_dir / "digests").read_text()
    wait_for("rw gone", lambda: "rw" not in listed(env), 120)
    stat = path.stat()
    with open(path, "r+b") as f:                # same inode, same size, other bytes
        f.seek(len(first) - 1)
        f.write(b"2")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_mtime_ns == stat.st_mtime_ns and path.stat().st_size == stat.st_size
    assert wisp(env, "create", cfg, timeout=600).returncode == 0
    assert taken_from_inbox(run_dir, path), "the old digest was used for new bytes"
    wait_for("rw gone", lambda: "rw" not in listed(env), 120)


def check_inbox(tmp_path, run_dir, env, kernel):
    """Under QEMU, wisp create hands files over through the inbox (shared RAM): two creates
    at once take turns, a file larger than the inbox goes in chunks; without the inbox, or
    with one that is not where its header says, the host channel carries them; and the
    agent refuses takes that do not add up."""
    def variant(name, extra):
        path = tmp_path / name
        path.write_bytes(pathlib.Path(kernel).read_bytes() + extra)
        return path

    kernels = [variant(f"inbox{i}.elf", bytes([i]) * (i + 1)) for i in range(4)]
    ramdisk = tmp_path / "ramdisk.bin"
    ramdisk.write_bytes(os.urandom(20 << 20))           # two chunks of the 16 MiB inbox
    cfgs = [xl_cfg(tmp_path, f"in{i}", f'name = "in{i}"\nkernel = "{kernels[i]}"\n'
                   'extra = "act=canary beats=1"\nmemory = 48\n' +
                   (f'ramdisk = "{ramdisk}"\n' if i == 0 else "")) for i in range(4)]
    both = [subprocess.Popen([str(WISP), "create", c], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for c in cfgs[:2]]
    for p in both:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0 and "inbox" not in err, (out, err)
    assert taken_from_inbox(run_dir, kernels[0]) and taken_from_inbox(run_dir, kernels[1])
    assert taken_from_inbox(run_dir, ramdisk)
    for name in ("in0", "in1"):
        wait_for(f"{name} done", lambda: f"[{name}] CANARY done" in console_text(run_dir), 300)

    image = run_dir / "inbox.img"
    saved = image.read_bytes()[:4096]
    image.write_bytes(saved.replace(b"wisp-inbox 1 ", b"wisp-inbox 1 f", 1)[:4096])
    wrong = wisp(env, "create", cfgs[2], timeout=600)   # a header found nowhere in RAM
    assert wrong.returncode == 0 and "the inbox cannot be used (it is not in the machine's " \
        "RAM); sending over the host channel" in wrong.stderr, wrong
    image.unlink()                                      # no inbox at all: as under Bochs
    assert wisp(env, "create", cfgs[3], timeout=600).returncode == 0
    with open(image, "wb") as f:
        f.write(saved)
        f.truncate(4096 + (16 << 20))
    assert not taken_from_inbox(run_dir, kernels[2]) and not taken_from_inbox(run_dir, kernels[3])
    for name in ("in2", "in3"):
        wait_for(f"{name} done", lambda: f"[{name}] CANARY done" in console_text(run_dir), 300)

    check_digest_cache(tmp_path, run_dir, env, kernel)
    raw, junk = Raw(run_dir), "a" * 64
    for args, status in ((f"size=20971520 offset=0 length=20971520", "-22"),  # above the inbox
                         (f"size=10 offset=0 length=10", "-5"),       # not what its name says
                         (f"size=10 offset=5 length=5", "-22"),       # not where the last ended
                         (f"size=10 offset=0 length=0", "-22"),
                         (f"size=10 offset=0 length=11", "-22"),
                         (f"size=70000000 offset=0 length=10", "-22")):  # above 64 MiB
        raw.send(f"req id=t op=take file={junk} {args}\n".encode())
        reply = raw.until("reply id=t")
        assert reply.startswith(f"reply id=t status={status} "), (args, reply)
    raw.send(f"req id=h op=have file={junk} size=10\n".encode())
    assert raw.until("reply id=h").startswith("reply id=h status=-2 "), "a bad file was kept"
    raw.close()
    for i in range(4):
        wait_for(f"in{i} gone", lambda: f"in{i}" not in listed(env), 120)


def test_up_preload_refusals(tmp_path):
    """--preload's bad files are refused before anything starts."""
    ninja_build(*(BUILD / t for t in SERVICE_TARGETS))
    env = dict(os.environ, WISP_RUN_DIR=str(tmp_path / "run"))
    missing = wisp(env, "up", "--preload", str(tmp_path / "nothere"))
    assert missing.returncode == EXIT_USAGE and "nothere: No such file" in missing.stderr, missing
    five = wisp(env, "up", *[a for _ in range(5) for a in ("--preload", str(GUESTS / "act64.elf"))])
    assert five.returncode == EXIT_USAGE and "at most 4 files" in five.stderr, five
    big = tmp_path / "big"
    big.write_bytes(b"\0" * (40 << 20))
    both = wisp(env, "up", "--preload", str(big), "--preload", str(big))
    assert both.returncode == EXIT_USAGE and "more than 64 MiB" in both.stderr, both
    assert not (tmp_path / "run" / "control.sock").exists()
    assert not os.path.lexists(tmp_path / "run" / "ram"), "a refused up left its RAM file"


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_up_list_control_down(tmp_path, emulator):
    ninja_build(*(BUILD / t for t in SERVICE_TARGETS))
    run_dir = tmp_path / "run"
    env = dict(os.environ, WISP_RUN_DIR=str(run_dir))
    cfg = tmp_path / "guests.cfg"
    cfg.write_text(GUESTS_CFG)
    os.symlink(GUESTS / "act64.elf", tmp_path / "act64.elf")

    assert wisp(env, "list").returncode == EXIT_INFRA          # not up yet
    preloaded = str(GUESTS / "act64.elf")
    up = wisp(env, "up", "--emulator", emulator, "--config", str(cfg), "--preload", preloaded,
              timeout=UP_WAIT_S[emulator] + 60)
    try:
        assert up.returncode == 0, up
        assert os.stat(run_dir).st_mode & 0o777 == 0o700
        assert os.stat(run_dir / "control.sock").st_mode & 0o777 == 0o600
        again = wisp(env, "up", "--emulator", emulator)
        assert again.returncode == EXIT_INFRA and "already up" in again.stderr, again

        assert "wisp-agent: 1 preloaded files in the file cache" in \
            console_text(run_dir)
        doms = listed(env)
        assert {n: (int(m.group(1)), m.group(3)) for n, m in doms.items()} == {
            "xenstore": (1, "running"), "service": (2, "running"),
            "canary": (3, "running"), "victim": (4, "running")}, doms
        assert int(doms["canary"].group(4)) == 16 and int(doms["canary"].group(5)) == 1

        watcher = Raw(run_dir)
        watcher.send(b"req id=w op=watch\n")
        assert watcher.until("reply id=w").startswith("reply id=w status=0")

        assert wisp(env, "pause", "canary").returncode == 0
        assert listed(env)["canary"].group(3) == "paused"
        paused_at = len(beats(run_dir))
        assert wisp(env, "unpause", "3").returncode == 0
        wait_for("beats after unpause", lambda: len(beats(run_dir)) > paused_at + 2, 120)

        sched = wisp(env, "sched", "canary", "--weight", "512", "--cap", "50")
        assert sched.returncode == 0 and sched.stdout.strip() == \
            "canary: weight 512, cap 50", sched
        assert wisp(env, "sched", "canary", "--weight", "0").returncode == 1

        top = wisp(env, "top", "--count", "1", "--interval", "0.5")
        assert top.returncode == 0 and top.stdout.splitlines()[0].split()[3:6] == \
            ["CPU%", "EXITS/s", "EVENTS/s"] and "canary" in top.stdout, top
        mem = wisp(env, "mem-set", "canary", "8")
        assert mem.returncode == 0 and "memory target 8192 KiB" in mem.stdout, mem
        assert wisp(env, "mem-set", "canary", "64").returncode == 1     # above what it has
        assert "EPERM" in wisp(env, "mem-set", "service", "8").stderr

        refused = wisp(env, "destroy", "service")
        assert refused.returncode == 1 and "EPERM" in refused.stderr, refused
        unknown = wisp(env, "pause", "nosuch")
        assert unknown.returncode == 1 and "no domain is called 'nosuch'" in unknown.stderr

        assert wisp(env, "destroy", "victim").returncode == 0
        event = watcher.until("event domid=4", timeout=60)
        assert "name=victim" in event and re.search(r"state=(dying|gone)", event), event
        assert "victim" not in listed(env)
        watcher.close()

        if emulator == "qemu":              # the inbox carries this one
            kernel = tmp_path / "act64-stripped.elf"
            subprocess.run(["strip", "-o", str(kernel), preloaded], check=True)
            check_create(tmp_path, run_dir, env, str(kernel), thorough=True)
            assert taken_from_inbox(run_dir, kernel)
            check_inbox(tmp_path, run_dir, env, str(kernel))
        else:                               # Bochs paces the channel: 160 KB would take minutes
            check_create(tmp_path, run_dir, env, preloaded, thorough=False)
        check_console(tmp_path, env, preloaded)
        check_hostile_clients(run_dir, env)
    finally:
        ram = os.readlink(run_dir / "ram") if os.path.lexists(run_dir / "ram") else None
        down = wisp(env, "down", timeout=60)
    assert down.returncode == 0, down
    assert not (run_dir / "control.sock").exists()
    assert (ram is not None) == (emulator == "qemu"), "QEMU's RAM is a shared file, Bochs' not"
    assert not os.path.lexists(run_dir / "ram") and not (ram and os.path.exists(ram))
    assert wisp(env, "list").returncode == EXIT_INFRA
    broker_log = (run_dir / "broker.log").read_text()
    assert "shutting down: asked by a client" in broker_log, broker_log
