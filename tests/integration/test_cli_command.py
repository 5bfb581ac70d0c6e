"""test_cli_command (host tests): `wisp run -- COMMAND` and `wisp demo` without booting: the
guest command line (shell quoting, base64), the default Linux guest from the build directory,
the demo's modes and `wisp guest-targets` (used by ./wisp). Fake emulator throughout."""
import base64
import re
import subprocess

import pytest

from clitest import fake_env, private_build, run_raw, serial
from wisptest import EXIT_POWEROFF, EXIT_USAGE, EXIT_INFRA, make_elf

END = "(wisp) end: poweroff\n"
NINJA_HINT = "ninja -C build guest-kernels/vmlinux guest-kernels/initramfs.cpio.gz"


@pytest.fixture
def env(tmp_path):
    return fake_env(tmp_path)


def guest_cmdline(keep):
    line = next(l for l in (keep / "wisp.cfg").read_text().splitlines()
                if l.strip().startswith("cmdline "))
    return line.strip()[len("cmdline "):]


def command_of(cmdline):
    """The shell text that wisp.cmd= carries."""
    m = re.fullmatch(r"console=hvc0 quiet loglevel=3 wisp\.cmd=([A-Za-z0-9+/=]+)(?: (.*))?", cmdline)
    assert m, cmdline
    return base64.b64decode(m.group(1), validate=True), m.group(2)


def run_keep(pvh_kernel, env, tmp_path, command, *extra):
    tmp_path.mkdir(exist_ok=True)
    keep = tmp_path / "media"
    result = run_raw(["run", "--hypervisor", pvh_kernel, "--initrd", pvh_kernel, "--keep",
                      keep, *extra, pvh_kernel, "--", *command],
                     env=dict(env, FAKE_SERIAL_HEX=serial("(d1) <<wisp-exit 0>>\n" + END)))
    assert result.code == 0, result
    return guest_cmdline(keep)


WORDS = ["printf", "%s\\0", "plain", "two words", "it's", "'", "''", "", "$HOME", "`id`",
         "$(id)", "a\\b", '"q"', "*", "~", "#", ";", "&&", "|", "\t", "line\nbreak",
         "-n", "--", "é\u00fc", "\x01\x1b[0m"]


def test_command_round_trips_through_sh(pvh_kernel, env, tmp_path):
    """The guest's shell gets back exactly the words we were given."""
    text, extra = command_of(run_keep(pvh_kernel, env, tmp_path, WORDS))
    assert extra is None
    assert text.startswith(b"'printf' ")
    out = subprocess.run(["/bin/sh", "-c", text], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [w.encode() for w in WORDS[2:]]


def test_command_status_round_trips(pvh_kernel, env, tmp_path):
    text, _ = command_of(run_keep(pvh_kernel, env, tmp_path, ["sh", "-c", "exit 3"]))
    assert text == b"'sh' '-c' 'exit 3'"
    assert subprocess.run(["/bin/sh", "-c", text]).returncode == 3


def test_user_cmdline_follows_the_command(pvh_kernel, env, tmp_path):
    cmdline = run_keep(pvh_kernel, env, tmp_path, ["uname", "-a"], "--cmdline", "loglevel=7")
    text, extra = command_of(cmdline)
    assert text == b"'uname' '-a'" and extra == "loglevel=7"


def test_base64_is_standard_and_padded(pvh_kernel, env, tmp_path):
    for words, encoded in ([["a"]], "J2En"), ([["ab"]], "J2FiJw=="), ([["abc"]], "J2FiYyc="):
        cmdline = run_keep(pvh_kernel, env, tmp_path / words[0][0], words[0])
        assert cmdline == f"console=hvc0 quiet loglevel=3 wisp.cmd={encoded}"
    # non-ASCII bytes
    text, _ = command_of(run_keep(pvh_kernel, env, tmp_path / "x", ["\xfb\xff"]))
    assert text == "'\xfb\xff'".encode()


@pytest.mark.parametrize("size,ok", [(1400, True), (1600, False)])
def test_cmdline_limit(pvh_kernel, env, tmp_path, size, ok):
    """2047 bytes in all: 'console=hvc0 quiet loglevel=3 wisp.cmd=' and base64 (4/3) of "'x...'"."""
    args = ["run", "--hypervisor", pvh_kernel, "--initrd", pvh_kernel, pvh_kernel, "--",
            "x" * size]
    result = run_raw(args, env=dict(env, FAKE_SERIAL_HEX=serial(END)))
    if ok:
        assert result.code == 120, result
    else:
        assert result.code == EXIT_USAGE, result
        assert "2047" in result.err


def test_exact_cmdline_limit(pvh_kernel, env, tmp_path):
    head = len("console=hvc0 quiet loglevel=3 wisp.cmd=")
    # the quoted word "'x...'" of n+2 bytes encodes to 4 * ceil((n + 2) / 3)
    fits = max(n for n in range(2000) if head + 4 * -(-(n + 2) // 3) <= 2047)
    for n, code in ((fits, 120), (fits + 3, EXIT_USAGE)):
        result = run_raw(["run", "--hypervisor", pvh_kernel, "--initrd", pvh_kernel,
                          pvh_kernel, "--", "x" * n], env=dict(env, FAKE_SERIAL_HEX=serial(END)))
        assert result.code == code, (n, result)


@pytest.mark.parametrize("args,why", [
    (["--"], "COMMAND"),
    (["KERNEL", "--"], "COMMAND"),
    (["KERNEL", "extra", "--", "ls"], "unexpected 'extra'"),
])
def test_command_argument_errors(pvh_kernel, args, why):
    args = [str(pvh_kernel) if a == "KERNEL" else a for a in args]
    result = run_raw(["run", *args])
    assert result.code == EXIT_USAGE, result
    assert why in result.err


def test_options_may_follow_kernel(pvh_kernel, env, tmp_path):
    keep = tmp_path / "media"
    result = run_raw(["run", pvh_kernel, "--hypervisor", pvh_kernel, "--keep", keep, "--vcpus",
                      "3", "--initrd", pvh_kernel, "--", "ls", "--vcpus", "4"],
                     env=dict(env, FAKE_SERIAL_HEX=serial("(d1) <<wisp-exit 0>>\n" + END)))
    assert result.code == 0, result
    assert "  vcpus 3\n" in (keep / "wisp.cfg").read_text()
    assert command_of(guest_cmdline(keep))[0] == b"'ls' '--vcpus' '4'"


def test_option_argument_may_be_dashdash(pvh_kernel, env, tmp_path):
    """`--cmdline --` is an option's argument, not the start of a COMMAND."""
    keep = tmp_path / "media"
    result = run_raw(["run", "--hypervisor", pvh_kernel, "--keep", keep, "--cmdline", "--",
                      pvh_kernel], env=dict(env, FAKE_SERIAL_HEX=serial(END)))
    assert result.code == EXIT_POWEROFF, result
    assert guest_cmdline(keep) == "--"       # not Linux: exactly --cmdline


# --- the default Linux guest from the build directory ---------------------------------

def add_guest_kernels(build):
    (build / "guest-kernels" / "vmlinux").write_bytes(make_elf(pvh_note=True))
    (build / "guest-kernels" / "initramfs.cpio.gz").write_bytes(b"\x1f\x8b initramfs")


def test_command_uses_build_guest(env, tmp_path):
    build, wisp = private_build(tmp_path)
    add_guest_kernels(build)
    keep = tmp_path / "media"
    result = run_raw(["run", "--keep", keep, "--", "uname", "-a"], wisp=wisp,
                     env=dict(env, FAKE_SERIAL_HEX=serial("(d1) Linux\n(d1) <<wisp-exit 0>>\n"
                                                          + END)))
    assert result.code == 0, result
    assert result.out == b"Linux"
    assert (keep / "guest.elf").resolve() == (build / "guest-kernels" / "vmlinux").resolve()
    assert (keep / "initrd.img").resolve() == \
        (build / "guest-kernels" / "initramfs.cpio.gz").resolve()
    assert command_of(guest_cmdline(keep))[0] == b"'uname' '-a'"


@pytest.mark.parametrize("missing", ["vmlinux", "initramfs.cpio.gz"])
def test_missing_build_guest_names_ninja_targets(env, tmp_path, missing):
    build, wisp = private_build(tmp_path)
    add_guest_kernels(build)
    (build / "guest-kernels" / missing).unlink()
    result = run_raw(["run", "--", "true"], wisp=wisp, env=env)
    assert result.code == EXIT_INFRA, result
    assert missing in result.err and NINJA_HINT in result.err


def test_explicit_kernel_and_initrd_need_no_build_guest(pvh_kernel, env, tmp_path):
    build, wisp = private_build(tmp_path)
    result = run_raw(["run", "--initrd", pvh_kernel, pvh_kernel, "--", "true"], wisp=wisp,
                     env=dict(env, FAKE_SERIAL_HEX=serial("(d1) <<wisp-exit 5>>\n" + END)))
    assert result.code == 5, result


# --- demo -------------------------------------------------------------------------------

def test_demo_boots_linux_interactively(env, tmp_path):
    build, wisp = private_build(tmp_path)
    add_guest_kernels(build)
    keep = tmp_path / "media"
    result = run_raw(["demo", "--keep", keep], wisp=wisp, stdin=b"poweroff\n",
                     env=dict(env, FAKE_ECHO="poweroff", FAKE_SERIAL_HEX=serial("(d1+) / # \n")))
    assert result.code == EXIT_POWEROFF, result
    assert result.out == b"/ # in " + b"poweroff\n".hex().encode() + b"\n"
    assert guest_cmdline(keep) == "console=hvc0 quiet loglevel=3"
    assert (keep / "initrd.img").exists()
    assert "poweroff" in result.err and "Ctrl-]" in result.err


def test_demo_passes_run_options(env, tmp_path):
    build, wisp = private_build(tmp_path)
    add_guest_kernels(build)
    keep = tmp_path / "media"
    result = run_raw(["demo", "--vcpus", "2", "--memory", "256", "--cmdline", "loglevel=4",
                      "--keep", keep], wisp=wisp, env=dict(env, FAKE_SERIAL_HEX=serial(END)))
    assert result.code == EXIT_POWEROFF, result
    cfg = (keep / "wisp.cfg").read_text()
    assert "  vcpus 2\n" in cfg and "  memory 256\n" in cfg
    assert guest_cmdline(keep) == "console=hvc0 quiet loglevel=3 loglevel=4"


def test_demo_without_linux_suggests_minimal(env, tmp_path):
    _, wisp = private_build(tmp_path)
    result = run_raw(["demo"], wisp=wisp, env=env)
    assert result.code == EXIT_INFRA, result
    assert NINJA_HINT in result.err and "demo --minimal" in result.err


def test_demo_minimal_boots_pvh_demo_guest(env, tmp_path):
    build, wisp = private_build(tmp_path)
    guests = build / "tests" / "guests"
    guests.mkdir(parents=True)
    demo = make_elf(pvh_note=True, entry=0x100004)
    (guests / "demo.elf").write_bytes(demo)
    (guests / "checks64.elf").write_bytes(make_elf(pvh_note=True))
    result = run_raw(["demo", "--minimal"], wisp=wisp,
                     env=dict(env, FAKE_SERIAL_HEX=serial("(wisp) hi\n(d1) hello\n" + END)))
    assert result.code == EXIT_POWEROFF, result
    assert result.out == b"hello\n"
    assert "(wisp) hi" in result.err            # the minimal demo is verbose
    assert (tmp_path / "record" / "guest.elf").read_bytes() == demo


@pytest.mark.parametrize("args", [["vmlinux"], ["--", "ls"], ["--frobnicate"]])
def test_demo_takes_options_only(env, tmp_path, args):
    build, wisp = private_build(tmp_path)
    add_guest_kernels(build)
    result = run_raw(["demo", *args], wisp=wisp, env=env)
    assert result.code == EXIT_USAGE, result


# --- wisp guest-targets: what ./wisp must build first ------------------------------------

@pytest.mark.parametrize("args,targets", [
    (["run", "--", "ls"], ["guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz"]),
    (["run", "--vcpus", "2", "--", "ls", "-l"],
     ["guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz"]),
    (["run", "/boot/vmlinuz", "--", "ls"], ["guest-kernels/initramfs.cpio.gz"]),
    (["run", "--initrd", "my.cpio", "--", "ls"], ["guest-kernels/vmlinux"]),
    (["run", "--initrd=my.cpio", "k", "--", "ls"], []),
    (["run", "k", "--initrd", "my.cpio", "--", "ls"], []),
    (["run", "k", "--vcpus", "2", "--", "ls", "--initrd", "x"],
     ["guest-kernels/initramfs.cpio.gz"]),
    (["run", "k"], []),
    (["run", "--cmdline", "--", "k"], []),
    (["run", "--bogus", "--", "ls"], []),
    (["run", "--help", "--", "ls"], []),
    (["demo", "--help"], []),
    (["demo"], ["guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz"]),
    (["demo", "--emulator", "bochs"], ["guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz"]),
    (["demo", "--minimal"], []),
    (["help"], []),
])
def test_guest_targets(wisp_cli, args, targets):
    result = subprocess.run([wisp_cli, "guest-targets", *args], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=30)
    assert result.returncode == 0, result
    assert result.stdout.split() == targets
    assert result.stderr == ""

