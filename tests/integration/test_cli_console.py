"""test_cli_console (host tests): the guest console through the wisp CLI, with a fake emulator:
serial framing reassembly, the <<wisp-exit N>> marker of `run -- COMMAND`, and console input
(stdin to COM1, raw terminal mode, Ctrl-]). Boots nothing."""
import os
import select
import signal
import subprocess
import termios
import time
from pathlib import Path

import pytest

import wisptest
from clitest import fake_env, run_raw, serial
from wisptest import (EXIT_POWEROFF, EXIT_GUEST_CRASH, EXIT_TIMEOUT, EXIT_INTERRUPTED,
                      exit_codes_from_header)

END = "(wisp) end: poweroff\n"
EXIT_NO_STATUS = 120


@pytest.fixture
def env(tmp_path):
    return fake_env(tmp_path)


def run_plain(kernel, env, text, *extra, **kw):
    """`wisp run KERNEL` with COM1 carrying text."""
    return run_raw(["run", "--hypervisor", kernel, *extra, kernel],
                   env=dict(env, FAKE_SERIAL_HEX=serial(text)), **kw)


def run_command(kernel, env, text, *extra, command=("true",), **kw):
    """`wisp run KERNEL -- COMMAND` (explicit kernel and initrd: no build products needed)."""
    return run_raw(["run", "--hypervisor", kernel, "--initrd", kernel, *extra, kernel, "--",
                    *command], env=dict(env, FAKE_SERIAL_HEX=serial(text)), **kw)


def test_no_status_code_is_listed():
    assert exit_codes_from_header()[EXIT_NO_STATUS].startswith("run -- COMMAND")


# --- framing --------------------------------------------------------------------------

@pytest.mark.parametrize("text,shown", [
    ("(d1) hello\n" + END, b"hello\n"),
    ("(d1+) / # \n(d1) ls\n" + END, b"/ # ls\n"),
    ("(d1+) a\n(d1+) b\n(d1+) c\n" + END, b"abc"),
    ("(d1+) \n(d1) \n(d1) \n" + END, b"\n\n"),
    # A CR LF pair is one newline, even across pieces; a lone CR stays.
    ("(d1) a\r\n(d1+) b\r\n(d1) \n(d1) c\rd\n(d1+) e\r\n" + END, b"a\nb\nc\rd\ne\r"),
    # Only line starts are framing: hypervisor-looking text is the guest's.
    ("(d1+) x\n(d1) (wisp) end: crash\n(d1) (d2) y\n" + END, b"x(wisp) end: crash\n(d2) y\n"),
    # Not guest prefixes: ignored (shown with --verbose only).
    ("(d1+)no space\n(d+) a\n(d1++) b\n(d1 +) c\n(d123456) d\n" + END, b""),
    # Other domains' streams are shown too, each reassembled on its own.
    ("(d1+) one\n(d2) two\n(d1) !\n" + END, b"onetwo\n!\n"),
])
def test_framing_is_reassembled(pvh_kernel, env, text, shown):
    result = run_plain(pvh_kernel, env, text)
    assert result.code == EXIT_POWEROFF, result
    assert result.out == shown


def test_binary_guest_bytes_pass_unchanged(pvh_kernel, env):
    junk = bytes(b for b in range(256) if b not in (0x0A, 0x0D)) * 3
    text = b"garbage \xff\xfe without prefix\n(d1+) " + junk + b"\n(d1) " + junk + b"\n" + \
        END.encode()
    result = run_plain(pvh_kernel, env, text)
    assert result.code == EXIT_POWEROFF, result
    assert result.out == junk + junk + b"\n"


def test_partial_line_is_shown_at_once(wisp_cli, pvh_kernel, env):
    """A prompt without a newline reaches stdout while the guest is still running."""
    full_env = dict(os.environ, **env, FAKE_SERIAL_HEX=serial("(d1) boot\n(d1+) / # \n"),
                    FAKE_HANG="1")
    proc = subprocess.Popen([wisp_cli, "run", "--hypervisor", pvh_kernel, pvh_kernel],
                            env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        got = b""
        deadline = time.monotonic() + 10
        while not got.endswith(b"/ # ") and time.monotonic() < deadline:
            if select.select([proc.stdout], [], [], 0.5)[0]:
                got += os.read(proc.stdout.fileno(), 4096)
        assert got == b"boot\n/ # "
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    finally:
        wisptest.stop_group(proc, grace_s=0)
    assert proc.returncode == EXIT_INTERRUPTED


# --- the exit marker of run -- COMMAND -----------------------------------------------

@pytest.mark.parametrize("text,code,shown", [
    # init prints "\n<<wisp-exit N>>\n": output ending in a newline...
    ("(d1) hello\n(d1) \n(d1) <<wisp-exit 3>>\n", 3, b"hello\n"),
    # ... or not, and no output at all
    ("(d1) hello\n(d1) <<wisp-exit 0>>\n", 0, b"hello"),
    ("(d1) \n(d1) <<wisp-exit 255>>\n", 255, b""),
    ("(d1) <<wisp-exit 7>>\n", 7, b""),
    # CR LF from the guest's tty
    ("(d1) a\r\n(d1) \r\n(d1) <<wisp-exit 4>>\r\n", 4, b"a\n"),
    # The command printed a marker itself: only the last one counts.
    ("(d1) <<wisp-exit 7>>\n(d1) more\n(d1) \n(d1) <<wisp-exit 0>>\n", 0,
     b"<<wisp-exit 7>>\nmore\n"),
    ("(d1) x\n(d1) <<wisp-exit 9>>\n(d1) <<wisp-exit 8>>\n", 8, b"x\n<<wisp-exit 9>>"),
    # A marker cut into partial pieces is still one line.
    ("(d1) out\n(d1+) <<wisp-ex\n(d1+) it 5>\n(d1) >\n", 5, b"out"),
    ("(d1+) out\n(d1) \n(d1+) <\n(d1) <wisp-exit 6>>\n", 6, b"out"),
    # The guest's power-off messages after the marker are not the command's output.
    ("(d1) ok\n(d1) \n(d1) <<wisp-exit 1>>\n(d1) [ 9.1] reboot: Power down\n", 1, b"ok\n"),
    # A marker line cut short by the end of the stream still counts.
    ("(d1) ok\n(d1+) <<wisp-exit 2>>\n", 2, b"ok"),
])
def test_marker_sets_status_and_is_hidden(pvh_kernel, env, text, code, shown):
    result = run_command(pvh_kernel, env, text + END)
    assert result.code == code, result
    assert result.out == shown


@pytest.mark.parametrize("text,shown", [
    ("(d1) plain output\n", b"plain output\n"),
    ("(d1+) no newline\n", b"no newline"),
    ("(d1) x<<wisp-exit 5>>\n", b"x<<wisp-exit 5>>\n"),       # not at a line start
    ("(d1) <<wisp-exit 5>> \n", b"<<wisp-exit 5>> \n"),       # more on the line
    ("(d1) <<wisp-exit 256>>\n", b"<<wisp-exit 256>>\n"),     # out of range
    ("(d1) <<wisp-exit 1000>>\n", b"<<wisp-exit 1000>>\n"),
    ("(d1) <<wisp-exit >>\n", b"<<wisp-exit >>\n"),
    ("(d1) <<wisp-exit -1>>\n", b"<<wisp-exit -1>>\n"),
    ("(d1) <<wisp-exit 5>\n", b"<<wisp-exit 5>\n"),
    ("(d1) <<wisp-exit 5\n", b"<<wisp-exit 5\n"),
    ("(d1) <<wisp\n", b"<<wisp\n"),
    ("(d2) <<wisp-exit 5>>\n", b"<<wisp-exit 5>>\n"),         # another domain's console
    ("(d1) \xff\x00\x1b[0m<<\n", b"\xff\x00\x1b[0m<<\n"),
])
def test_no_marker_is_its_own_status(pvh_kernel, env, text, shown):
    result = run_command(pvh_kernel, env, text.encode("latin-1") + END.encode())
    assert result.code == EXIT_NO_STATUS, result
    assert result.out == shown
    assert "without reporting" in result.err


def test_marker_needs_run_with_command(pvh_kernel, env):
    result = run_plain(pvh_kernel, env, "(d1) \n(d1) <<wisp-exit 3>>\n" + END)
    assert result.code == EXIT_POWEROFF, result
    assert result.out == b"\n<<wisp-exit 3>>\n"


def test_marker_with_much_output_after_it_is_text(pvh_kernel, env, tmp_path):
    """Init powers off right after its marker: one followed by over 64 KiB is the command's."""
    lines = tmp_path / "serial"
    lines.write_text("".join(f"(d1) {'z' * 99}\n" for _ in range(700)) + END)
    result = run_command(pvh_kernel, dict(env, FAKE_SERIAL_FILE=str(lines)),
                         "(d1) <<wisp-exit 4>>\n")
    assert result.code == EXIT_NO_STATUS, result
    assert result.out == b"<<wisp-exit 4>>\n" + (b"z" * 99 + b"\n") * 700


def test_tail_after_marker_goes_to_stderr_with_verbose(pvh_kernel, env):
    text = "(d1) ok\n(d1) \n(d1) <<wisp-exit 0>>\n(d1) reboot: Power down\n" + END
    quiet = run_command(pvh_kernel, env, text)
    assert quiet.code == 0 and quiet.out == b"ok\n", quiet
    assert "Power down" not in quiet.err
    verbose = run_command(pvh_kernel, env, text, "--verbose")
    assert verbose.code == 0 and verbose.out == b"ok\n", verbose
    assert "reboot: Power down\n" in verbose.err


@pytest.mark.parametrize("end,code", [("crash", EXIT_GUEST_CRASH), ("reboot", 122),
                                      ("panic", 123)])
def test_end_status_beats_marker(pvh_kernel, env, end, code):
    text = "(d1) \n(d1) <<wisp-exit 0>>\n(d1) Kernel panic - not syncing\n(wisp) end: " + end
    result = run_command(pvh_kernel, env, text + "\n")
    assert result.code == code, result
    assert "Kernel panic - not syncing" in result.err


def test_timeout_beats_marker(pvh_kernel, env):
    result = run_raw(["run", "--hypervisor", pvh_kernel, "--initrd", pvh_kernel,
                      "--timeout", "1", pvh_kernel, "--", "true"],
                     env=dict(env, FAKE_SERIAL_HEX=serial("(d1) <<wisp-exit 0>>\n"),
                              FAKE_HANG="1"))
    assert result.code == EXIT_TIMEOUT, result


def test_emulator_exit_after_marker_without_end_line(pvh_kernel, env):
    result = run_command(pvh_kernel, env, "(d1) \n(d1) <<wisp-exit 0>>\n")
    assert result.code == 123, result


def read_live(proc, wanted, timeout=5):
    """stdout of a running wisp until wanted has come; the time that took."""
    got, start = b"", time.monotonic()
    while not got.endswith(wanted) and time.monotonic() < start + timeout:
        if select.select([proc.stdout], [], [], 0.05)[0]:
            got += os.read(proc.stdout.fileno(), 4096)
    return got, time.monotonic() - start


def test_look_ahead_is_short(wisp_cli, pvh_kernel, env):
    """A line's newline, and a line start that reads like a marker, are held back only
    while more may follow at once: output stays live for line-by-line readers."""
    full_env = dict(os.environ, **env, FAKE_HANG="1",
                    FAKE_SERIAL_HEX=serial("(d1) before\n(d1+) <<wisp\n"))
    proc = subprocess.Popen([wisp_cli, "run", "--hypervisor", pvh_kernel, "--initrd", pvh_kernel,
                             pvh_kernel, "--", "true"], env=full_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        got, took = read_live(proc, b"before\n<<wisp")
        assert got == b"before\n<<wisp"
        assert took < 2
    finally:
        wisptest.stop_group(proc)
        proc.wait()


def test_marker_after_a_pause_still_counts(pvh_kernel, env):
    """If init's newline and marker come apart, the newline shows; the status holds."""
    result = run_command(pvh_kernel, dict(env, FAKE_DELAY="0.5", FAKE_LATER_HEX=serial(
        "(d1) <<wisp-exit 3>>\n(d1) after\n" + END)), "(d1) out\n(d1) \n")
    assert result.code == 3, result
    assert result.out == b"out\n\n"


# --- console input --------------------------------------------------------------------

def echo_reports(out):
    """[(bytes, arrival ms or None)] the fake reported receiving."""
    reports = []
    for line in out.split(b"\n"):
        if line.startswith(b"in ") and line != b"in-eof":
            data, _, when = line[3:].decode().partition(" @")
            reports.append((bytes.fromhex(data), int(when) if when else None))
    return reports


def echoed(out):
    """The input bytes the fake reported receiving, joined."""
    return b"".join(data for data, _ in echo_reports(out))


KEYS = bytes([0x03, 0x04, 0x1A, 0x1D, 0x01, 0x7F, 0x00, 0xFF, 0x0D, 0x0A, 0x1B]) + b"[A ok\r"


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_interactive_forwards_stdin_unchanged(pvh_kernel, env, emulator):
    """Every byte arrives as it was sent: no line buffering, no escape or signal keys."""
    result = run_raw(["run", "--emulator", emulator, "--interactive", "--hypervisor",
                      pvh_kernel, pvh_kernel], env=dict(env, FAKE_ECHO="quit"),
                     stdin=KEYS + b"quit", timeout=60)
    assert result.code == EXIT_POWEROFF, result
    assert echoed(result.out) == KEYS + b"quit"


@pytest.mark.parametrize("emulator,paced", [("qemu", False), ("bochs", True)])
def test_bochs_input_is_paced(wisp_cli, pvh_kernel, env, emulator, paced):
    """Bochs drops what overflows its UART's 16-byte FIFO (QEMU waits for room), and Wisp
    polls serial input every 20 ms: 32 bytes go to Bochs in 8-byte bursts, 20 ms apart."""
    full_env = dict(os.environ, **env, FAKE_ECHO="quit", FAKE_ECHO_TIMES="1",
                    FAKE_SERIAL_HEX=serial("(d1+) ready\n"))
    proc = subprocess.Popen([wisp_cli, "run", "--emulator", emulator, "--interactive",
                             "--hypervisor", pvh_kernel, pvh_kernel], env=full_env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        got, _ = read_live(proc, b"ready", timeout=60)
        assert got == b"ready"      # the fake now waits for input
        out, err = proc.communicate(b"x" * 28 + b"quit", timeout=60)
    finally:
        wisptest.stop_group(proc, grace_s=0)
    reports = echo_reports(out)
    assert b"".join(data for data, _ in reports) == b"x" * 28 + b"quit", out
    span = reports[-1][1] - reports[0][1]
    if paced:
        assert span >= 3 * 20 - 5, reports
    else:
        assert span < 3 * 20 - 5, reports


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_stdin_not_forwarded_unless_interactive(pvh_kernel, env, emulator):
    result = run_raw(["run", "--emulator", emulator, "--hypervisor", pvh_kernel, pvh_kernel],
                     env=dict(env, FAKE_ECHO="quit"), stdin=b"quit", timeout=60)
    assert result.code == EXIT_POWEROFF, result
    assert result.out == b"in-eof\n"


def test_interactive_session_survives_stdin_eof(pvh_kernel, env):
    """Input that ends (a pipe) does not end the session: the guest still decides."""
    result = run_raw(["run", "--interactive", "--timeout", "2", "--hypervisor", pvh_kernel,
                      pvh_kernel], env=dict(env, FAKE_ECHO="quit", FAKE_HANG="1"),
                     stdin=b"abc")
    assert result.code == EXIT_TIMEOUT, result
    assert echoed(result.out) == b"abc"


class Terminal:
    """wisp run with a pseudo-terminal as its stdin, the way a user runs it. Use the
    `terminal` fixture, which ends wisp and its emulator whatever the test does."""

    def __init__(self, wisp_cli, args, env):
        self.master, self.slave = os.openpty()
        self.before = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen([wisp_cli, *map(str, args)], env=dict(os.environ, **env),
                                     stdin=self.slave, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.out = b""

    def read_until(self, done, timeout=10):
        """Reads stdout until done(out) (or, for bytes, until they appear)."""
        if isinstance(done, bytes):
            wanted = done
            done = lambda out: wanted in out        # noqa: E731
        deadline = time.monotonic() + timeout
        while not done(self.out) and time.monotonic() < deadline:
            if select.select([self.proc.stdout], [], [], 0.2)[0]:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                self.out += chunk
        return done(self.out)

    def is_raw(self):
        lflag = termios.tcgetattr(self.slave)[3]
        return not lflag & (termios.ICANON | termios.ECHO | termios.ISIG)

    def finish(self, timeout=10):
        try:
            rest, err = self.proc.communicate(timeout=timeout)
        finally:
            wisptest.stop_group(self.proc, grace_s=0)
        self.out += rest
        return self.proc.returncode, err.decode(errors="replace"), \
            termios.tcgetattr(self.slave)

    def close(self):
        """SIGTERM lets wisp kill its emulator (its own group); then the pty goes."""
        if self.proc.poll() is None:
            wisptest.stop_group(self.proc)
            self.proc.wait()
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None


@pytest.fixture
def terminal(wisp_cli):
    """terminal(args, env) -> a running Terminal; always cleaned up."""
    started = []

    def start(args, env):
        started.append(Terminal(wisp_cli, args, env))
        return started[-1]
    yield start
    for term in started:
        term.close()


def test_terminal_raw_mode_and_ctrl_bracket(terminal, pvh_kernel, env):
    """On a terminal: raw mode, Ctrl-C goes to the guest, Ctrl-] ends with 130, and the
    terminal gets its settings back."""
    term = terminal(["run", "--hypervisor", pvh_kernel, pvh_kernel],
                    dict(env, FAKE_ECHO="never", FAKE_SERIAL_HEX=serial("(d1+) $ \n")))
    assert term.read_until(b"$ "), term.out
    assert term.is_raw()
    os.write(term.master, b"ls\x03")                # Ctrl-C: a byte for the guest
    assert term.read_until(lambda out: echoed(out.split(b"$ ", 1)[1]) == b"ls\x03"), term.out
    os.write(term.master, b"x\x1dy")
    code, err, after = term.finish()
    assert code == EXIT_INTERRUPTED, err
    assert "Ctrl-]" in err
    assert after == term.before
    assert b"in 1d" not in term.out
    pid = int((Path(env["FAKE_RECORD"]) / "pid.txt").read_text())
    assert not Path(f"/proc/{pid}").exists() or \
        Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_terminal_restored_after_signal(terminal, pvh_kernel, env, sig):
    term = terminal(["run", "--hypervisor", pvh_kernel, pvh_kernel],
                    dict(env, FAKE_HANG="1", FAKE_SERIAL_HEX=serial("(d1+) $ \n")))
    assert term.read_until(b"$ "), term.out
    assert term.is_raw()
    term.proc.send_signal(sig)
    code, err, after = term.finish()
    assert code == EXIT_INTERRUPTED, err
    assert after == term.before


def test_terminal_restored_after_guest_ends(terminal, pvh_kernel, env):
    term = terminal(["run", "--hypervisor", pvh_kernel, pvh_kernel],
                    dict(env, FAKE_ECHO="poweroff", FAKE_SERIAL_HEX=serial("(d1+) $ \n")))
    assert term.read_until(b"$ "), term.out
    os.write(term.master, b"poweroff\r")
    code, err, after = term.finish()
    assert code == EXIT_POWEROFF, err
    assert after == term.before
    assert echoed(term.out.split(b"$ ", 1)[1]) == b"poweroff\r"


def test_no_interactive_leaves_terminal_alone(terminal, pvh_kernel, env):
    term = terminal(["run", "--no-interactive", "--hypervisor", pvh_kernel, pvh_kernel],
                    dict(env, FAKE_ECHO="quit"))
    code, err, after = term.finish()
    assert code == EXIT_POWEROFF, err
    assert term.out == b"in-eof\n"
    assert after == term.before


def test_closed_terminal_ends_session(terminal, pvh_kernel, env):
    """The terminal going away (its master closed) ends an interactive session: nobody
    is left to type Ctrl-] and there is no timeout."""
    term = terminal(["run", "--hypervisor", pvh_kernel, pvh_kernel],
                    dict(env, FAKE_HANG="1", FAKE_SERIAL_HEX=serial("(d1+) $ \n")))
    assert term.read_until(b"$ "), term.out
    os.close(term.master)
    term.master = None
    term.proc.wait(timeout=10)
    assert term.proc.returncode == EXIT_INTERRUPTED
    assert "terminal closed" in term.proc.stderr.read().decode()
    pid = int((Path(env["FAKE_RECORD"]) / "pid.txt").read_text())
    assert not Path(f"/proc/{pid}").exists() or \
        Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
