"""test_cli_devices (host tests): `wisp run --disk/--net/--guests` without booting: the boot
configuration it generates (exact text), the boot modules and machine RAM on the QEMU and
Bochs command lines, the errors caught before anything boots, and the exit status of several
guests. Fake emulators throughout (fake_console_emulator.py)."""
import base64
import os
import subprocess
from pathlib import Path

import pytest

from clitest import fake_env, private_build, run_raw, serial
from wisptest import EXIT_INFRA, EXIT_POWEROFF, EXIT_USAGE, assert_checks, make_elf

END = "(wisp) end: poweroff\n"
EXIT_NO_STATUS = 120
SERVICE_HINT = ("ninja -C build toolstack/xenstored/xenstored.elf guest-kernels/service/vmlinux "
                "guest-kernels/service-initramfs.cpio.gz")
SERVICE_DOMAINS = ("domain xenstore\n"
                   "  kernel xenstored.elf\n"
                   "  roles xenstore\n"
                   "  memory 16\n"
                   "domain service\n"
                   "  kernel service-vmlinux\n"
                   "  initrd service-initramfs.cpio.gz\n"
                   "  roles control,backend\n"
                   "  memory 256\n"
                   "  cmdline console=hvc0 xen_privcmd.unrestricted=1 pci=conf1 quiet\n")


@pytest.fixture
def env(tmp_path):
    return fake_env(tmp_path)


@pytest.fixture
def machine(tmp_path):
    """(build dir, wisp) with the default Linux guest and the xenstore and service domains."""
    build, wisp = private_build(tmp_path)
    kernels = build / "guest-kernels"
    (kernels / "vmlinux").write_bytes(make_elf(pvh_note=True, guest_os="linux"))
    (kernels / "initramfs.cpio.gz").write_bytes(b"\x1f\x8b guest initramfs")
    (kernels / "service").mkdir()
    (kernels / "service" / "vmlinux").write_bytes(make_elf(pvh_note=True, guest_os="linux"))
    (kernels / "service-initramfs.cpio.gz").write_bytes(b"\x1f\x8b service initramfs")
    (build / "toolstack" / "xenstored").mkdir()
    (build / "toolstack" / "xenstored" / "xenstored.elf").write_bytes(make_elf(pvh_note=True))
    return build, wisp


def image(tmp_path, name, size=4096):
    """A sparse file of size bytes: a raw disk image as far as wisp can tell."""
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def b64(text):
    return base64.b64encode(text.encode()).decode()


def recorded_argv(env):
    return (Path(env["FAKE_RECORD"]) / "argv.txt").read_text().splitlines()


def option(argv, name):
    return argv[argv.index(name) + 1]


def run_devices(wisp, env, tmp_path, args, com1=END, **kw):
    keep = tmp_path / "media"
    result = run_raw(["run", "--keep", keep, *args], wisp=wisp,
                     env=dict(env, FAKE_SERIAL_HEX=serial(com1)), **kw)
    return result, keep


# --- the generated boot configuration --------------------------------------------------

def test_disks_and_net_config_modules_and_memory(machine, env, tmp_path):
    build, wisp = machine
    data = image(tmp_path, "data.img", 3 * 1024 * 1024)       # 3 MiB
    ro = image(tmp_path, "ro.img", 1)
    result, keep = run_devices(wisp, env, tmp_path,
                               ["--disk", data, "--disk", f"{ro},ro", "--net", "--",
                                "sh", "-c", "cat /mnt/hello"],
                               com1="(d1) xenstored up\n(d2) wisp-agent: ready\n(d3) hello\n"
                                    "(d3) <<wisp-exit 0>>\n" + END)
    assert result.code == 0, result
    assert result.out == b"hello"        # one guest: no label; service domains hidden
    assert "xenstored up" not in result.err and "wisp-agent" not in result.err
    cmd = b64("'sh' '-c' 'cat /mnt/hello'")
    assert (keep / "wisp.cfg").read_text() == SERVICE_DOMAINS + (
        "domain guest1\n"
        "  kernel guest.elf\n"
        "  initrd initrd.img\n"
        f"  cmdline console=hvc0 quiet loglevel=3 wisp.cmd={cmd}\n"
        "  memory 128\n"
        "  vcpus 1\n"
        "  disk format=raw, vdev=xvda, access=rw, target=disk0.img\n"
        "  disk format=raw, vdev=xvdb, access=ro, target=disk1.img\n"
        "  vif mac=00:16:3e:00:03:00\n")
    argv = recorded_argv(env)
    names = ["guest.elf", "initrd.img", "xenstored.elf", "service-vmlinux",
             "service-initramfs.cpio.gz", "disk0.img", "disk1.img", "wisp.cfg"]
    assert option(argv, "-initrd") == ",".join(f"{keep}/{n} {n}" for n in names)
    assert (keep / "disk0.img").resolve() == data.resolve()
    assert (keep / "disk1.img").resolve() == ro.resolve()
    assert (keep / "service-vmlinux").resolve() == \
        (build / "guest-kernels" / "service" / "vmlinux").resolve()
    # Wisp 64; modules rounded up to MiB: 5 small ones + 3 + 1; guest 128 + 2;
    # xenstore 16 + 2; service 256 + 2; 2 MiB of padding for each disk.
    assert option(argv, "-m") == str(64 + 5 + 3 + 1 + 130 + 18 + 258 + 2 * 2)


def test_net_only_and_several_guests(machine, env, tmp_path):
    _, wisp = machine
    disk = image(tmp_path, "d.img")
    com1 = "".join(f"(d{d}) <<wisp-exit 0>>\n" for d in (3, 4)) + END
    result, keep = run_devices(wisp, env, tmp_path,
                               ["--net", "--guests", "2", "--disk", disk, "--memory", "64",
                                "--", "true"], com1=com1)
    assert result.code == 0, result
    cmd = b64("'true'")
    guest = ("domain guest{i}\n"
             "  kernel guest.elf\n"
             "  initrd initrd.img\n"
             f"  cmdline console=hvc0 quiet loglevel=3 wisp.cmd={cmd} wisp.guest={{i}}/2\n"
             "  memory 64\n"
             "  vcpus 1\n")
    assert (keep / "wisp.cfg").read_text() == (
        SERVICE_DOMAINS
        + guest.format(i=1)
        + "  disk format=raw, vdev=xvda, access=rw, target=disk0.img\n"
        + "  vif mac=00:16:3e:00:03:00\n"
        + guest.format(i=2)
        + "  vif mac=00:16:3e:00:04:00\n")
    # 6 modules of 1 MiB; two guests 64 + 2; xenstore, service; one disk's padding
    assert option(recorded_argv(env), "-m") == str(64 + 6 + 2 * 66 + 18 + 258 + 2)


def test_guests_without_devices(machine, env, tmp_path):
    """No device: no xenstore or service domain, guests are d1..dN."""
    build, wisp = machine
    (build / "guest-kernels" / "service" / "vmlinux").unlink()     # not needed
    com1 = "(d1) one\n(d2) two\n(d1) <<wisp-exit 0>>\n(d2) <<wisp-exit 0>>\n" + END
    result, keep = run_devices(wisp, env, tmp_path, ["--guests", "2", "--cmdline", "x=1",
                                                     "--", "true"], com1=com1)
    assert result.code == 0, result
    assert result.out == b"[guest1] one\n[guest2] two\n"
    cfg = (keep / "wisp.cfg").read_text()
    assert cfg.startswith("domain guest1\n") and "domain guest2\n" in cfg
    assert "xenstore" not in cfg and "disk" not in cfg and "vif" not in cfg
    assert f"  cmdline console=hvc0 quiet loglevel=3 wisp.cmd={b64(chr(39) + 'true' + chr(39))}" \
           " x=1 wisp.guest=2/2\n" in cfg
    assert option(recorded_argv(env), "-initrd").count(",") == 2     # kernel, initrd, config


def test_pvh_kernel_guests_get_exact_cmdline(machine, env, tmp_path, pvh_kernel):
    """Not Linux, no COMMAND: the same KERNEL twice, command line exactly --cmdline."""
    _, wisp = machine
    result, keep = run_devices(wisp, env, tmp_path, ["--hypervisor", pvh_kernel, "--guests",
                                                     "2", "--cmdline", "act=x", pvh_kernel])
    assert result.code == EXIT_POWEROFF, result
    assert (keep / "wisp.cfg").read_text() == "".join(
        f"domain guest{i}\n  kernel guest.elf\n  cmdline act=x\n  memory 128\n  vcpus 1\n"
        for i in (1, 2))


@pytest.mark.parametrize("extra", [[], ["--guests", "1"]])
def test_plain_run_is_unchanged(env, tmp_path, pvh_kernel, extra):
    """No device and one guest: the configuration of before, no service files needed."""
    _, wisp = private_build(tmp_path)      # no service domain files at all
    result, keep = run_devices(wisp, env, tmp_path, ["--hypervisor", pvh_kernel, *extra,
                                                     "--initrd", pvh_kernel, pvh_kernel,
                                                     "--", "echo", "hi"],
                               com1="(d1) hi\n(d1) <<wisp-exit 0>>\n" + END)
    assert result.code == 0, result
    assert result.out == b"hi"
    assert (keep / "wisp.cfg").read_text() == (
        "domain guest\n"
        "  kernel guest.elf\n"
        "  initrd initrd.img\n"
        f"  cmdline console=hvc0 quiet loglevel=3 wisp.cmd={b64(chr(39) + 'echo' + chr(39) + ' ' + chr(39) + 'hi' + chr(39))}\n"
        "  memory 128\n"
        "  vcpus 1\n")
    argv = recorded_argv(env)
    assert option(argv, "-initrd") == (f"{keep}/guest.elf guest.elf,{keep}/initrd.img "
                                       f"initrd.img,{keep}/wisp.cfg wisp.cfg")
    assert option(argv, "-m") == str(64 + 1 + 1 + 130)


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_grub_media_hold_the_disks(machine, env, tmp_path, emulator):
    _, wisp = machine
    disk = image(tmp_path, "my disk.img", 2 * 1024 * 1024)
    result, keep = run_devices(wisp, env, tmp_path,
                               ["--emulator", emulator, "--boot", "grub", "--disk",
                                f"{disk},ro", "--", "true"],
                               com1="(d3) <<wisp-exit 0>>\n" + END, timeout=120)
    assert result.code == 0, result
    grub_cfg = (keep / "iso/boot/grub/grub.cfg").read_text()
    for name in ("guest.elf", "initrd.img", "xenstored.elf", "service-vmlinux",
                 "service-initramfs.cpio.gz", "disk0.img", "wisp.cfg"):
        assert f"  module2 --nounzip /boot/{name} {name}\n" in grub_cfg
    assert (keep / "iso/boot/disk0.img").stat().st_size == 2 * 1024 * 1024
    megs = 64 + 5 + 2 + 130 + 18 + 258 + 2
    if emulator == "bochs":
        assert f"megs: {megs}\n" in (keep / "bochsrc").read_text()
    else:
        assert option(recorded_argv(env), "-m") == str(megs)


# --- several guests: output and exit status --------------------------------------------

@pytest.mark.parametrize("statuses,code", [
    ((0, 0, 0), 0),
    ((0, 4, 5), 4),
    ((3, 0, 1), 3),
    ((0, None, 7), EXIT_NO_STATUS),     # guest2 reported nothing: it counts as 120
    ((0, 0, None), EXIT_NO_STATUS),
])
def test_exit_status_is_first_nonzero_in_guest_order(machine, env, tmp_path, statuses, code):
    _, wisp = machine
    # The guests end in reverse order: the order that counts is guest order, not time.
    com1 = "".join(f"(d{d}) out{d}\n" for d in (1, 2, 3))
    com1 += "".join(f"(d{d}) <<wisp-exit {s}>>\n" for d, s in reversed(list(enumerate(statuses, 1)))
                    if s is not None)
    result, _ = run_devices(wisp, env, tmp_path, ["--guests", "3", "--", "true"],
                            com1=com1 + END)
    assert result.code == code, result
    assert result.out == b"[guest1] out1\n[guest2] out2\n[guest3] out3\n"
    for i, s in enumerate(statuses, 1):
        assert (f"guest{i}: the guest powered off without reporting" in result.err) == (s is None)
    if code:
        first = next(i for i, s in enumerate(statuses, 1) if s != 0)
        assert f"guest{first}'s command ended with status {code}" in result.err


def test_guest_outputs_interleave_with_labels(machine, env, tmp_path):
    _, wisp = machine
    com1 = ("(d3+) prompt$ \n(d4) line\n(d3) rest\n(d3) <<wisp-exit 0>>\n"
            "(d4) <<wisp-exit 0>>\n" + END)
    result, _ = run_devices(wisp, env, tmp_path, ["--net", "--guests", "2", "--", "true"],
                            com1=com1)
    assert result.code == 0, result
    assert result.out == b"[guest1] prompt$ \n[guest2] line\n[guest1] rest\n"


def test_verbose_shows_service_domains_on_stderr(machine, env, tmp_path):
    _, wisp = machine
    disk = image(tmp_path, "d.img")
    com1 = ("(d1) xenstored up\n(d2) wisp-agent: vbd 3/51712 connected\n(d3) hi\n"
            "(d3) <<wisp-exit 0>>\n" + END)
    result, _ = run_devices(wisp, env, tmp_path, ["-v", "--disk", disk, "--", "true"],
                            com1=com1)
    assert result.code == 0, result
    assert result.out == b"hi"
    assert "[xenstore] xenstored up\n" in result.err
    assert "[service] wisp-agent: vbd 3/51712 connected\n" in result.err


def test_missing_marker_hints_at_verbose(machine, env, tmp_path):
    _, wisp = machine
    result, _ = run_devices(wisp, env, tmp_path, ["--net", "--", "true"],
                            com1="(d2) wisp-agent: failed\n" + END)
    assert result.code == EXIT_NO_STATUS, result
    assert "--verbose shows the consoles of the xenstore and service domains" in result.err
    assert "wisp-agent" not in result.err


# --- errors before anything boots ------------------------------------------------------

def assert_not_booted(result, env, code=EXIT_USAGE):
    assert result.code == code, result
    assert len(result.err.splitlines()) >= 1
    assert not (Path(env["FAKE_RECORD"]) / "argv.txt").exists(), result


def test_missing_image(machine, env, tmp_path):
    _, wisp = machine
    path = tmp_path / "nope.img"
    result = run_raw(["run", "--disk", path, "--", "true"], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert result.err == f"wisp: {path}: No such file or directory\n"


def test_directory_as_image(machine, env, tmp_path):
    _, wisp = machine
    result = run_raw(["run", "--disk", tmp_path, "--", "true"], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert result.err == f"wisp: {tmp_path}: Is a directory\n"


def test_unreadable_image(machine, env, tmp_path):
    """As an unprivileged user: root would read the file whatever its mode."""
    _, wisp = machine
    path = image(tmp_path, "secret.img")
    path.chmod(0)
    for p in (tmp_path, *tmp_path.parents):
        if p == Path("/"):
            break
        if os.geteuid() == 0:
            p.chmod(p.stat().st_mode | 0o005)
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] \
        if os.geteuid() == 0 else []
    result = subprocess.run([*as_nobody, str(wisp), "run", "--disk", str(path), "--", "true"],
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, **env))
    assert result.returncode == EXIT_USAGE, result
    assert result.stderr == f"wisp: {path}: Permission denied\n"


def test_empty_image(machine, env, tmp_path):
    _, wisp = machine
    path = image(tmp_path, "empty.img", 0)
    result = run_raw(["run", "--disk", path, "--", "true"], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert result.err.startswith(f"wisp: {path}: empty file")


def test_image_too_big(machine, env, tmp_path):
    _, wisp = machine
    path = image(tmp_path, "big.img", 1024 * 1024 * 1024 + 1)
    result = run_raw(["run", "--disk", path, "--", "true"], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert result.err.startswith(f"wisp: {path}: too big: the disk images would take 1025 MiB "
                                 "together, more than 1024 MiB")


def test_images_too_big_together(machine, env, tmp_path):
    _, wisp = machine
    a = image(tmp_path, "a.img", 512 * 1024 * 1024)
    b = image(tmp_path, "b.img", 512 * 1024 * 1024 + 4096)
    exact = run_raw(["run", "--disk", a, "--disk", a, "--", "true"], wisp=wisp,
                    env=dict(env, FAKE_SERIAL_HEX=serial("(wisp) end: crash\n")))
    assert exact.code != EXIT_USAGE, exact          # exactly 1024 MiB fits
    (Path(env["FAKE_RECORD"]) / "argv.txt").unlink()
    result = run_raw(["run", "--disk", a, "--disk", b, "--", "true"], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert result.err.startswith(f"wisp: {b}: too big")


@pytest.mark.parametrize("args,message", [
    (["--disk", "IMG,xx"], "--disk takes IMAGE or IMAGE,ro: unknown suffix in 'IMG,xx'"),
    (["--disk", "IMG,"], "unknown suffix"),
    (["--disk", ",ro"], "--disk needs an IMAGE file"),
    (["--disk", "IMG"] * 9, "at most 8 --disk options"),
    (["--guests", "0"], "--guests takes 1 to 6, not '0'"),
    (["--guests", "7"], "--guests takes 1 to 6, not '7'"),
    (["--guests", "two"], "--guests takes 1 to 6"),
])
def test_argument_errors(machine, env, tmp_path, args, message):
    _, wisp = machine
    img = str(image(tmp_path, "ok.img"))
    args = [a.replace("IMG", img) for a in args]
    result = run_raw(["run", *args, "--", "true"], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert message.replace("IMG", img) in result.err


def test_eight_disks_are_xvda_to_xvdh(machine, env, tmp_path):
    _, wisp = machine
    args = []
    for i in range(8):
        args += ["--disk", image(tmp_path, f"d{i}.img")]
    result, keep = run_devices(wisp, env, tmp_path, [*args, "--", "true"],
                               com1="(d3) <<wisp-exit 0>>\n" + END)
    assert result.code == 0, result
    disks = [l for l in (keep / "wisp.cfg").read_text().splitlines() if "disk " in l]
    assert disks == [f"  disk format=raw, vdev=xvd{'abcdefgh'[i]}, access=rw, target=disk{i}.img"
                     for i in range(8)]


@pytest.mark.parametrize("extra,message", [
    (["--disk", "IMG"], "put disk and vif lines in the file (docs/boot-config.md) instead of --disk"),
    (["--net"], "instead of --net"),
    (["--guests", "2"], "name each guest's domain in the file instead of --guests"),
])
def test_devices_with_config(machine, env, tmp_path, pvh_kernel, extra, message):
    _, wisp = machine
    cfg = tmp_path / "wisp.cfg"
    cfg.write_text("domain a\n  kernel kernel.elf\n")
    extra = [str(image(tmp_path, "x.img")) if a == "IMG" else a for a in extra]
    result = run_raw(["run", *extra, "--config", cfg], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert message in result.err


@pytest.mark.parametrize("missing", ["toolstack/xenstored/xenstored.elf",
                                     "guest-kernels/service/vmlinux",
                                     "guest-kernels/service-initramfs.cpio.gz"])
def test_missing_service_domain_is_a_build_problem(machine, env, tmp_path, missing):
    build, wisp = machine
    (build / missing).unlink()
    result = run_raw(["run", "--net", "--", "true"], wisp=wisp, env=env)
    assert_not_booted(result, env, code=EXIT_INFRA)
    assert f"{build / missing}: No such file" in result.err and SERVICE_HINT in result.err


def test_service_kernel_must_be_pvh(machine, env, tmp_path):
    build, wisp = machine
    kernel = build / "guest-kernels" / "service" / "vmlinux"
    kernel.write_bytes(make_elf(pvh_note=False))
    result = run_raw(["run", "--net", "--", "true"], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert result.err.startswith(f"wisp: {kernel}: ")


@pytest.mark.parametrize("args, why", [
    (["--guests", "2"], "demo boots one guest"),
    (["--minimal", "--guests", "2"], "demo boots one guest"),
    (["--minimal", "--net"], "the minimal demo has no disk or network drivers"),
])
def test_demo_boots_one_guest(machine, env, tmp_path, args, why):
    build, wisp = machine
    (build / "tests" / "guests").mkdir(parents=True)
    (build / "tests" / "guests" / "demo.elf").write_bytes(make_elf(pvh_note=True))
    result = run_raw(["demo", *args], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert why in result.err


def test_cmdline_limit_counts_the_guest_word(machine, env, tmp_path):
    """2047 bytes in all: with --guests N > 1 each guest's line ends in ' wisp.guest=I/N'."""
    _, wisp = machine
    head = len("console=hvc0 quiet loglevel=3 wisp.cmd=")
    word = len(" wisp.guest=1/2")
    # "'x...'" of n + 2 bytes encodes to 4 * ceil((n + 2) / 3) bytes of base64
    n = max(n for n in range(2000) if head + 4 * -(-(n + 2) // 3) <= 2047 - word)
    ok = run_raw(["run", "--guests", "2", "--", "x" * n], wisp=wisp,
                 env=dict(env, FAKE_SERIAL_HEX=serial(END)))
    assert ok.code == EXIT_NO_STATUS, ok
    (Path(env["FAKE_RECORD"]) / "argv.txt").unlink()
    too_long = run_raw(["run", "--guests", "2", "--", "x" * (n + 3)], wisp=wisp, env=env)
    assert_not_booted(too_long, env)
    assert "2047" in too_long.err
    one = run_raw(["run", "--", "x" * (n + 3)], wisp=wisp,
                  env=dict(env, FAKE_SERIAL_HEX=serial(END)))
    assert one.code == EXIT_NO_STATUS, one              # one guest: no word, it fits


# --- help and ./wisp's build targets ---------------------------------------------------

def test_help_run_documents_devices(wisp_cli):
    text = subprocess.run([wisp_cli, "help", "run"], capture_output=True, text=True,
                          timeout=30).stdout
    for words in ("--disk IMAGE[,ro]", "--net", "--guests N", "WISP_GUEST=I",
                  "gone when it stops", "10.77.255.254", "give guest1"):
        assert words in text, words


@pytest.mark.parametrize("args,targets", [
    (["run", "--disk", "x.img", "--", "ls"],
     ["guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz",
      "toolstack/xenstored/xenstored.elf", "guest-kernels/service/vmlinux",
      "guest-kernels/service-initramfs.cpio.gz"]),
    (["run", "--net", "k"],
     ["toolstack/xenstored/xenstored.elf", "guest-kernels/service/vmlinux",
      "guest-kernels/service-initramfs.cpio.gz"]),
    (["run", "--guests", "3", "--", "ls"],
     ["guest-kernels/vmlinux", "guest-kernels/initramfs.cpio.gz"]),
])
def test_guest_targets_include_service_domain(wisp_cli, args, targets):
    result = subprocess.run([wisp_cli, "guest-targets", *args], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=30)
    assert result.returncode == 0, result
    assert result.stdout.split() == targets


# --- --config with disk and vif lines ---------------------------------------------------

def test_generated_config_passes_the_hypervisor_parser(machine, env, tmp_path):
    """What --disk/--net/--guests writes, booted again with --config: the hypervisor's own
    parser (linked into wisp) accepts it, and the same modules and RAM come out."""
    _, wisp = machine
    disk = image(tmp_path, "d.img", 3 * 1024 * 1024)
    first, keep = run_devices(wisp, env, tmp_path, ["--disk", disk, "--disk", f"{disk},ro",
                                                    "--net", "--guests", "2", "--", "true"],
                              com1=END)
    assert first.code == EXIT_NO_STATUS, first
    argv = recorded_argv(env)
    again = run_raw(["run", "--hypervisor", disk, "--config", keep / "wisp.cfg"], wisp=wisp,
                    env=dict(env, FAKE_SERIAL_HEX=serial(END)))
    assert again.code == EXIT_POWEROFF, again
    argv2 = recorded_argv(env)
    names = lambda a: [m.split(" ")[1] for m in option(a, "-initrd").split(",")]
    assert sorted(names(argv2)) == sorted(names(argv))
    assert option(argv2, "-m") == option(argv, "-m")


def config_dir(tmp_path, pvh_kernel, text, disks=("a.img",)):
    d = tmp_path / "cfg"
    d.mkdir()
    for name in ("xs.elf", "svc.elf", "k.elf"):
        (d / name).write_bytes(pvh_kernel.read_bytes())
    for name in disks:
        image(d, name, 1024 * 1024)
    (d / "wisp.cfg").write_text(text)
    return d / "wisp.cfg"


DEVICE_CONFIG = ("domain xenstore\n  kernel xs.elf\n  roles xenstore\n  memory 16\n"
                 "domain service\n  kernel svc.elf\n  roles control,backend\n  memory 64\n"
                 "domain g\n  kernel k.elf\n  memory 32\n{lines}")


def test_config_disks_become_modules(machine, env, tmp_path, pvh_kernel):
    _, wisp = machine
    cfg = config_dir(tmp_path, pvh_kernel, DEVICE_CONFIG.format(
        lines="  disk = [ 'vdev=xvda, target=a.img', 'vdev=xvdb, access=ro, target=b.img' ]\n"
              "  vif\n"), disks=("a.img", "b.img"))
    keep = tmp_path / "media"
    result = run_raw(["run", "--hypervisor", cfg, "--keep", keep, "--config", cfg], wisp=wisp,
                     env=dict(env, FAKE_SERIAL_HEX=serial(END)))
    assert result.code == EXIT_POWEROFF, result
    argv = recorded_argv(env)
    names = ["xs.elf", "svc.elf", "k.elf", "a.img", "b.img", "wisp.cfg"]
    assert option(argv, "-initrd") == ",".join(f"{keep}/{n} {n}" for n in names)
    # 64 Wisp; 5 modules of 1 MiB; domains 16 + 64 + 32, 2 each; 2 MiB per disk
    assert option(argv, "-m") == str(64 + 5 + 112 + 6 + 4)


@pytest.mark.parametrize("lines,disks,message", [
    ("  disk vdev=xvda, target=gone.img\n", (), "gone.img: No such file"),
    ("  disk vdev=xvda, target=a.img\n", ("a.img:empty",), "a.img: empty file"),
    ("  vif mac=00:16:3e:00:03\n", (), "line 12: bad MAC '00:16:3e:00:03'"),
    ("  vif mac=01:16:3e:00:03:00\n", (), "line 12: multicast MAC"),
    ("  disk vdev=xvda, target=a.img\n  disk vdev=xvda, target=b.img\n", ("a.img", "b.img"),
     "line 13: vdev xvda twice"),
    ("  disk vdev=xvda, target=a.img\n  disk vdev=xvdb, target=a.img\n", ("a.img",),
     "line 13: "),
])
def test_config_device_errors(machine, env, tmp_path, pvh_kernel, lines, disks, message):
    _, wisp = machine
    cfg = config_dir(tmp_path, pvh_kernel, DEVICE_CONFIG.format(lines=lines),
                     disks=[d.split(":")[0] for d in disks])
    for d in disks:
        if d.endswith(":empty"):
            (cfg.parent / d.split(":")[0]).write_bytes(b"")
    result = run_raw(["run", "--hypervisor", cfg, "--config", cfg], wisp=wisp, env=env)
    assert_not_booted(result, env)
    assert message in result.err, result


# --- a real boot: several guests on Wisp ------------------------------------------------

@pytest.mark.boot
def test_guests_boot_side_by_side(run_wisp, backend, guest):
    """Three copies of checks64 as guest1..guest3, each one's lines labelled and complete.
    (Their XCR0 changes interleave: smp64's smp_xcr0_shrink_across_switch pins down the
    hypervisor panic this once found.)"""
    result = run_wisp(["run", "--emulator", backend, "--no-interactive", "--guests", "3",
                       "--memory", "16", guest("checks64")], timeout=600)
    assert result.code == EXIT_POWEROFF, result
    for i in (1, 2, 3):
        prefix = f"[guest{i}] "
        own = [l[len(prefix):] for l in result.stdout if l.startswith(prefix)]
        assert_checks(own)
    assert all(l.startswith("[guest") for l in result.stdout), result.stdout
