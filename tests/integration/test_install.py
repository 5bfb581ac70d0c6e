"""test_install (host tests): `ninja -C build install` gives a wisp that boots from its prefix.

The install goes to a DESTDIR under tmp_path; the installed wisp finds its files in
<prefix>/lib/wisp (toolstack/install-files.sh, files_dir() in toolstack/cli/args.c) and
never in the build tree: each test below would fail if it read the build tree instead.
"""
import fcntl
import hashlib
import os
import subprocess

import pytest

import wisptest
from wisptest import BUILD

# What the installed wisp boots, under the names the build tree gives them.
BOOT_FILES = ["xen/wisp.elf", "tests/guests/demo.elf", "toolstack/xenstored/xenstored.elf",
              "guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz",
              "guest-kernels/service/vmlinux", "guest-kernels/service-initramfs.cpio.gz"]
PREFIX = "usr/local"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A DESTDIR install of this build tree; returns (installed wisp, its lib/wisp)."""
    dest = tmp_path_factory.mktemp("install")
    # The install script runs ninja for the kernels: one ninja at a time (wisptest.ninja_build).
    with open(BUILD / ".wisptest-ninja.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(["meson", "install", "-C", str(BUILD), "--no-rebuild",
                               "--destdir", str(dest)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return dest / PREFIX / "bin" / "wisp", dest / PREFIX / "lib" / "wisp"


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_install_puts_the_cli_pages_and_boot_files_under_the_prefix(installed):
    wisp, files = installed
    assert os.access(wisp, os.X_OK)
    assert (wisp.parents[1] / "share" / "man" / "man1" / "wisp.1").is_file()
    for name in BOOT_FILES:
        assert digest(files / name) == digest(BUILD / name), name


def test_installed_wisp_runs_a_command_in_the_linux_guest(installed):
    wisp, _ = installed
    res = wisptest.run_wisp(["run", "--timeout", "120", "--", "sh", "-c",
                             "echo installed-ok; exit 7"], timeout=150, wisp=wisp)
    assert res.code == 7, res
    assert "installed-ok" in res.stdout, res


def test_installed_wisp_boots_the_service_domain_for_a_disk(installed, tmp_path):
    wisp, _ = installed
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"wisp-install-disk".ljust(1 << 20, b"\0"))
    res = wisptest.run_wisp(["run", "--timeout", "240", "--disk", f"{disk},ro", "--", "sh",
                             "-c", "head -c 17 /dev/xvda; echo"], timeout=270, wisp=wisp)
    assert res.code == 0, res
    assert "wisp-install-disk" in res.stdout, res


def test_installed_wisp_names_a_missing_boot_file_in_its_prefix(installed, tmp_path):
    """A broken install is reported where it is broken (not patched from a build tree)."""
    wisp, files = installed
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(wisp.parents[1]), str(copy)], check=True)
    missing = copy / "lib" / "wisp" / "guest-kernels" / "vmlinux"
    missing.unlink()
    res = wisptest.run_wisp(["run", "--", "true"], timeout=60, wisp=copy / "bin" / "wisp")
    assert res.code == wisptest.EXIT_INFRA, res
    assert f"{missing}: No such file or directory" in res.stderr, res
