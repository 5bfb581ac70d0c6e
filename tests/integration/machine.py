"""machine (host test helper): boots a whole boot configuration (several domains) with
`wisp run --config`, and reads each domain's console lines back out of wisp's stdout.

A hostile test boots a hostile domain beside a canary (act64's act=canary) and checks that
the canary's heartbeats kept coming: a guest may hurt itself, never another domain.
"""
import os
import re
import subprocess
import threading
import time

import wisptest

LABEL_RE = re.compile(r"^\[([^\]]+)\] (.*)$")
BEAT_RE = re.compile(r"^CANARY beat (\d+)$")


# Programs the build makes outside tests/guests that a configuration may name as a kernel.
BUILT_PROGRAMS = {
    "xenstored.elf": wisptest.BUILD / "toolstack" / "xenstored" / "xenstored.elf",
}


def _link_modules(tmp_path, config, files):
    """Every kernel/initrd the config names, next to it: from files, else the built programs
    (xenstored.elf) or the test guests."""
    names = re.findall(r"^\s*(?:kernel|initrd)\s+(\S+)\s*$", config, re.M)
    names += re.findall(r"target=([^\s,'\"\]]+)", config)     # disk images
    for name in names:
        target = files.get(name, BUILT_PROGRAMS.get(name, wisptest.GUESTS / name))
        link = tmp_path / name
        if not link.exists():
            os.symlink(target, link)


def run_config(tmp_path, config, emulator="qemu", timeout=60, until=None, files=None,
               extra=(), log=None):
    """Runs `wisp run --config` on CONFIG (text) under EMULATOR; returns a WispResult.

    until: a regex, or a function of the stdout lines so far; once a stdout line matches (or
           the function returns true), the run is stopped (code is then None). A machine
           with a xenstore domain never ends by itself, so its tests stop it this way.
    files: {module name: path} for modules that are not test guests in build/tests/guests.
    extra: more `wisp run` options (e.g. "--verbose", "--hv-cmdline", "loglevel=debug").
    log:   an open text file that gets every stdout and stderr line as it comes, so a run
           that has to be killed still leaves its story behind.
    """
    _link_modules(tmp_path, config, files or {})
    cfg = tmp_path / "wisp.cfg"
    cfg.write_text(config)
    args = [str(wisptest.WISP), "run", "--emulator", emulator, "--timeout", str(timeout),
            "--no-interactive", *map(str, extra), "--config", str(cfg)]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, text=True,
                            errors="replace")
    lines, err, hit, matched = [], [], [], threading.Event()
    done = until if callable(until) else (lambda seen: re.search(until, seen[-1]))

    log_lock = threading.Lock()

    def keep(line):
        if log:
            with log_lock:
                log.write(line)
                log.flush()

    def read_stdout():
        for line in proc.stdout:
            keep(line)
            lines.append(line.rstrip("\n"))
            if until and not hit and done(lines):
                hit.append(True)
                matched.set()
        matched.set()       # end of output

    def read_stderr():
        for line in proc.stderr:
            keep(line)
            err.append(line)

    readers = [threading.Thread(target=read_stdout, daemon=True),
               threading.Thread(target=read_stderr, daemon=True)]
    for r in readers:
        r.start()
    deadline = time.monotonic() + timeout + wisptest.HARNESS_MARGIN_S
    matched.wait(max(0, deadline - time.monotonic()))
    stopped = bool(hit) and proc.poll() is None
    if stopped or proc.poll() is None:
        wisptest.stop_group(proc, grace_s=3.0 if stopped else 0)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        wisptest.stop_group(proc, grace_s=0)
        code = proc.wait()
    for r in readers:
        r.join(timeout=5)
    return wisptest.WispResult(None if stopped else code, lines, "".join(err),
                               timed_out=not stopped and time.monotonic() > deadline)


def domain_lines(stdout, name):
    """The console lines of the domain called NAME, without their "[NAME] " label."""
    out = []
    for line in stdout:
        m = LABEL_RE.match(line)
        if m and m.group(1) == name:
            out.append(m.group(2))
    return out


def heartbeats(stdout, name="canary"):
    """The beat numbers of act=canary's "CANARY beat N" lines in domain NAME, in order."""
    return [int(m.group(1)) for m in map(BEAT_RE.match, domain_lines(stdout, name)) if m]
