"""wisptest (host test helper): runs the wisp CLI, builds test ELF files, reads guest verdicts."""
import fcntl
import os
import re
import signal
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("WISP_BUILD_DIR", REPO / "build")).resolve()
WISP = BUILD / "toolstack" / "wisp"
HYPERVISOR = BUILD / "xen" / "wisp.elf"
GUESTS = BUILD / "tests" / "guests"
EXIT_CODES_HEADER = REPO / "toolstack" / "cli" / "exit_codes.h"

# The CLI's exit statuses (toolstack/cli/exit_codes.h; a test checks they agree).
EXIT_POWEROFF = 0
EXIT_USAGE = 2
EXIT_GUEST_CRASH = 121
EXIT_GUEST_REBOOT = 122
EXIT_HV_PANIC = 123
EXIT_TIMEOUT = 124
EXIT_INFRA = 125
EXIT_INTERRUPTED = 130

# wisp's own default timeouts (docs/cli.md); the harness allows a margin on top.
DEFAULT_TIMEOUT = {"qemu": 60, "bochs": 300}
HARNESS_MARGIN_S = 30


@dataclass
class WispResult:
    code: int
    stdout: list = field(default_factory=list)   # lines, without "\n"
    stderr: str = ""
    timed_out: bool = False                      # the harness had to kill wisp

    def __str__(self):
        return (f"wisp exit {self.code}{' (killed by harness)' if self.timed_out else ''}\n"
                f"--- stdout ---\n" + "\n".join(self.stdout) +
                f"\n--- stderr ---\n{self.stderr}")


def stop_group(proc, grace_s=3.0):
    """SIGTERM lets wisp kill its emulator; SIGKILL the group if it does not stop."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def ninja_build(*targets):
    """Builds targets of the build tree (cached by ninja: a no-op once built), never skipped.
    One ninja at a time: the test workers share the build tree (a kernel built twice at once
    would be built wrong)."""
    rel = [str(t.relative_to(BUILD)) for t in targets]
    with open(BUILD / ".wisptest-ninja.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["ninja", "-C", str(BUILD), *rel], check=True, stdout=subprocess.DEVNULL)
    for t in targets:
        assert t.exists(), f"ninja did not produce {t}"


def read_exact(fd, n):
    """n bytes from fd (a pty or pipe), or None once it ends or fails first."""
    data = b""
    while len(data) < n:
        try:
            chunk = os.read(fd, n - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


def run_wisp(args, timeout, env=None, wisp=WISP):
    """Runs `wisp ARGS...` with a hard timeout; always ends its process group."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen([str(wisp), *map(str, args)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=full_env, start_new_session=True, text=True,
                            errors="replace")
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        stop_group(proc)
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            stop_group(proc, grace_s=0)
            proc.wait()
    return WispResult(proc.returncode, out.splitlines(), err, timed_out)


def run_guest(kernel, backend, *extra, timeout=None, env=None):
    """Boots KERNEL on Wisp under BACKEND; the harness timeout exceeds wisp's own."""
    wisp_timeout = timeout or DEFAULT_TIMEOUT[backend]
    args = ["run", "--emulator", backend, "--timeout", wisp_timeout, *extra, kernel]
    return run_wisp(args, timeout=wisp_timeout + HARNESS_MARGIN_S, env=env)


CHECK_RE = re.compile(r"^CHECK (\S+) (PASS|FAIL)(?: (.*))?$")
DONE_RE = re.compile(r"^CHECKS DONE (\d+)$")


def parse_checks(lines):
    """Returns ({name: (verdict, detail)}, done_count or None) from a guest's console."""
    checks, done = {}, None
    for line in lines:
        m = CHECK_RE.match(line)
        if m:
            name, verdict, detail = m.groups()
            if name in checks:
                raise AssertionError(f"check {name!r} reported twice")
            checks[name] = (verdict, detail or "")
            continue
        m = DONE_RE.match(line)
        if m:
            if done is not None:
                raise AssertionError("CHECKS DONE printed twice")
            done = int(m.group(1))
    return checks, done


def assert_checks(lines, expected=None):
    """A guest passed: no FAIL, "CHECKS DONE <n>" seen (no early EOF or timeout), n matches.

    expected: an optional count or list of check names the guest must have reported.
    """
    checks, done = parse_checks(lines)
    failed = {n: d for n, (v, d) in checks.items() if v == "FAIL"}
    assert not failed, "failed checks: " + "; ".join(f"{n}: {d}" for n, d in failed.items())
    assert done is not None, ("no 'CHECKS DONE' line: the guest stopped early or timed out "
                              f"after {len(checks)} check(s)")
    assert done == len(checks), f"CHECKS DONE {done}, but {len(checks)} CHECK lines"
    if isinstance(expected, int):
        assert done == expected, f"expected {expected} checks, guest ran {done}"
    elif expected is not None:
        missing = set(expected) - set(checks)
        assert not missing, f"checks never reported: {sorted(missing)}"
    return checks


# Minimal ELF images for input checks and for fake-emulator runs.
ELFNOTE_PHYS32_ENTRY = 18       # XEN_ELFNOTE_PHYS32_ENTRY, xen/include/public/elfnote.h
ELFNOTE_GUEST_OS = 6            # XEN_ELFNOTE_GUEST_OS: "linux" for Linux
PT_LOAD, PT_NOTE = 1, 4


def make_elf(pvh_note=True, entry=0x100000, paddr=0x100000, guest_os=None):
    """An ELF64 x86-64 executable with one PT_LOAD and, if pvh_note, a PT_NOTE
    holding the Xen PVH entry note (and a guest-OS note naming guest_os)."""
    ehsize, phentsize = 64, 56
    phnum = 2 if pvh_note else 1
    note = b""
    if pvh_note:
        note = struct.pack("<III", 4, 4, ELFNOTE_PHYS32_ENTRY) + b"Xen\0" + \
            struct.pack("<I", entry)
        if guest_os:
            name = guest_os.encode() + b"\0"
            name += bytes(-len(name) % 4)
            note += struct.pack("<III", 4, len(guest_os) + 1, ELFNOTE_GUEST_OS) + b"Xen\0" + name
    code = b"\xf4\xeb\xfd"          # hlt; jmp .-1
    note_off = ehsize + phnum * phentsize
    code_off = note_off + len(note)
    total = code_off + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, paddr + code_off,
                               ehsize, 0, 0, ehsize, phentsize, phnum, 64, 0, 0)
    phdrs = struct.pack("<IIQQQQQQ", PT_LOAD, 5, 0, paddr, paddr, total, total, 0x1000)
    if pvh_note:
        phdrs += struct.pack("<IIQQQQQQ", PT_NOTE, 4, note_off, paddr + note_off,
                             paddr + note_off, len(note), len(note), 4)
    return ehdr + phdrs + note + code


def exit_codes_from_header(path=EXIT_CODES_HEADER):
    """{code: description} from the X-macro list in exit_codes.h."""
    text = path.read_text()
    codes = {}
    for m in re.finditer(r'X\((\d+),\s*(\w+),\s*((?:"[^"]*"\s*\\?\s*)+)\)', text):
        desc = "".join(re.findall(r'"([^"]*)"', m.group(3)))
        codes[int(m.group(1))] = desc
    return codes
