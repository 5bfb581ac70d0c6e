"""test_cli_args (host tests): the wisp CLI's argument and input checks; boots nothing."""
import os
import subprocess
import re

import pytest

from wisptest import (EXIT_USAGE, EXIT_INFRA, exit_codes_from_header, make_elf)


def test_no_command_is_usage_error(run_wisp):
    result = run_wisp([])
    assert result.code == EXIT_USAGE, result
    assert "usage:" in result.stderr


def test_unknown_command(run_wisp):
    result = run_wisp(["frobnicate"])
    assert result.code == EXIT_USAGE, result
    assert "unknown command" in result.stderr


def test_version(run_wisp):
    result = run_wisp(["--version"])
    assert result.code == 0, result
    assert re.fullmatch(r"wisp \d+\.\d+\.\d+", result.stdout[0])


def test_help_lists_commands(run_wisp):
    result = run_wisp(["help"])
    assert result.code == 0, result
    text = "\n".join(result.stdout)
    for command in ("wisp run", "-- COMMAND", "wisp demo", "--minimal", "wisp help"):
        assert command in text


def test_help_run_lists_every_option(run_wisp):
    result = run_wisp(["help", "run"])
    assert result.code == 0, result
    text = "\n".join(result.stdout)
    for option in ("--emulator", "--boot", "--memory", "--vcpus", "--initrd", "--cmdline",
                   "--hv-cmdline", "--cpus", "--timeout", "--verbose", "--hypervisor", "--keep",
                   "--interactive", "--no-interactive", "-- COMMAND", "Ctrl-]"):
        assert option in text


def test_help_exit_codes_lists_every_code(run_wisp):
    codes = exit_codes_from_header()
    assert {0, 2, 120, 121, 122, 123, 124, 125, 130} <= set(codes)
    result = run_wisp(["help", "exit-codes"])
    assert result.code == 0, result
    listed = {}
    for line in result.stdout[1:]:
        code, desc = line.split(None, 1)
        listed[int(code)] = desc
    assert listed == codes


def test_missing_kernel(run_wisp):
    result = run_wisp(["run"])
    assert result.code == EXIT_USAGE, result
    assert "KERNEL" in result.stderr


def test_two_kernels(run_wisp, pvh_kernel):
    result = run_wisp(["run", pvh_kernel, pvh_kernel])
    assert result.code == EXIT_USAGE, result


def test_nonexistent_kernel(run_wisp, tmp_path):
    path = tmp_path / "nope.elf"
    result = run_wisp(["run", path])
    assert result.code == EXIT_USAGE, result
    assert result.stderr.startswith(f"wisp: {path}: ")
    assert len(result.stderr.splitlines()) == 1


def test_unreadable_kernel(wisp_cli, tmp_path):
    """Runs the CLI as an unprivileged user: root would read the file whatever its mode."""
    path = tmp_path / "secret.elf"
    path.write_bytes(make_elf())
    path.chmod(0)
    tmp_path.chmod(0o755)
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] \
        if os.geteuid() == 0 else []
    result = subprocess.run([*as_nobody, str(wisp_cli), "run", str(path)], capture_output=True,
                            text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == EXIT_USAGE, result
    assert result.stderr.startswith(f"wisp: {path}: "), result.stderr


def test_directory_as_kernel(run_wisp, tmp_path):
    result = run_wisp(["run", tmp_path])
    assert result.code == EXIT_USAGE, result
    assert f"wisp: {tmp_path}: " in result.stderr


@pytest.mark.parametrize("content", [b"", b"hello, world\n", b"\x7fELF", bytes(4096)],
                         ids=["empty", "text", "truncated-magic", "zeros"])
def test_non_elf_kernel(run_wisp, tmp_path, content):
    path = tmp_path / "kernel"
    path.write_bytes(content)
    result = run_wisp(["run", path])
    assert result.code == EXIT_USAGE, result
    assert result.stderr.startswith(f"wisp: {path}: ")


def test_elf_without_pvh_note(run_wisp, tmp_path):
    path = tmp_path / "plain.elf"
    path.write_bytes(make_elf(pvh_note=False))
    result = run_wisp(["run", path])
    assert result.code == EXIT_USAGE, result
    assert result.stderr.startswith(f"wisp: {path}: ")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [
    ["--memory", "0"], ["--memory", "1"], ["--memory", "65537"], ["--memory", "12x"],
    ["--memory", "-5"], ["--memory", ""], ["--memory", "99999999999999999999"],
    ["--vcpus", "0"], ["--vcpus", "9"], ["--cpus", "0"], ["--cpus", "9"], ["--cpus", "two"], ["--timeout", "soon"], ["--timeout", "-1"],
    ["--emulator", "kvm"], ["--boot", "pxe"], ["--emulator", "bochs", "--boot", "direct"],
    ["--cmdline", "two\nlines"], ["--cmdline", "x" * 2040],
    ["--hv-cmdline", "loglevel=debug; reboot"], ["--frobnicate"], ["--memory"],
])
def test_bad_option(run_wisp, pvh_kernel, args):
    result = run_wisp(["run", *args, pvh_kernel])
    assert result.code == EXIT_USAGE, result
    assert result.stderr.startswith("wisp"), result


def test_bad_initrd(run_wisp, pvh_kernel, tmp_path):
    result = run_wisp(["run", "--initrd", tmp_path / "missing.img", pvh_kernel])
    assert result.code == EXIT_USAGE, result
    assert "missing.img" in result.stderr


def test_given_hypervisor_missing_is_usage_error(run_wisp, pvh_kernel, tmp_path):
    result = run_wisp(["run", "--hypervisor", tmp_path / "nohv.elf", pvh_kernel])
    assert result.code == EXIT_USAGE, result
    result = run_wisp(["run", pvh_kernel], env={"WISP_HYPERVISOR": str(tmp_path / "nohv")})
    assert result.code == EXIT_USAGE, result


def test_missing_emulator_is_infrastructure_failure(run_wisp, pvh_kernel, tmp_path):
    result = run_wisp(["run", "--hypervisor", pvh_kernel, pvh_kernel],
                      env={"WISP_QEMU": str(tmp_path / "no-such-qemu")})
    assert result.code == EXIT_INFRA, result
    assert "no-such-qemu" in result.stderr


def test_help_option_of_run(run_wisp):
    result = run_wisp(["run", "--help"])
    assert result.code == 0, result
    assert result.stdout[0].startswith("usage: wisp run")
