"""test_cli_fake_emulator (host tests): the wisp CLI end to end against a scripted fake
QEMU/Bochs (fake_emulator.py): serial parsing, exit statuses, timeouts, cleanup."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import wisptest
from wisptest import (EXIT_POWEROFF, EXIT_GUEST_CRASH, EXIT_GUEST_REBOOT, EXIT_HV_PANIC,
                      EXIT_TIMEOUT, EXIT_INFRA, EXIT_INTERRUPTED, assert_checks)

FAKE = Path(__file__).with_name("fake_emulator.py")
GOOD_SERIAL = ("(wisp) Wisp starting\r\n"
               "(d1) hello\r\n"
               "(d1) CHECK one PASS\n"
               "(d1) CHECK two PASS\r\n"
               "(d1) CHECKS DONE 2\r\n"
               "(wisp) end: poweroff\r\n")


@pytest.fixture
def fake(tmp_path):
    """Environment that makes wisp run the fake for both emulators, recording into tmp_path."""
    record = tmp_path / "record"
    record.mkdir()
    work = tmp_path / "tmpdir"
    work.mkdir()
    return {"WISP_QEMU": str(FAKE), "WISP_BOCHS": str(FAKE), "FAKE_RECORD": str(record),
            "TMPDIR": str(work)}


def run_fake(run_wisp, kernel, env, *extra, emulator="qemu", timeout=30):
    # Any readable file will do as the hypervisor image: the fake never reads it.
    args = ["run", "--emulator", emulator, "--hypervisor", kernel, *extra, kernel]
    return run_wisp(args, timeout=timeout, env=env)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead, it only waits for its parent to reap it.
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_poweroff_streams_guest_lines(run_wisp, pvh_kernel, fake, emulator):
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=GOOD_SERIAL),
                      emulator=emulator)
    assert result.code == EXIT_POWEROFF, result
    assert result.stdout == ["hello", "CHECK one PASS", "CHECK two PASS", "CHECKS DONE 2"]
    assert "(wisp)" not in result.stderr
    assert_checks(result.stdout, expected=["one", "two"])


def test_verbose_shows_hypervisor_lines_on_stderr(run_wisp, pvh_kernel, fake):
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=GOOD_SERIAL), "--verbose")
    assert result.code == EXIT_POWEROFF, result
    assert "(wisp) Wisp starting\n" in result.stderr
    assert "(wisp) end: poweroff\n" in result.stderr
    assert all(not line.startswith("(wisp)") for line in result.stdout)


@pytest.mark.parametrize("status,code", [("poweroff", EXIT_POWEROFF),
                                         ("crash", EXIT_GUEST_CRASH),
                                         ("reboot", EXIT_GUEST_REBOOT),
                                         ("panic", EXIT_HV_PANIC)])
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_end_status_sets_exit_code(run_wisp, pvh_kernel, fake, emulator, status, code):
    # Bochs may stop before the UART sent the final newline: no "\n" after the end line.
    serial = f"(wisp) up\n(d1) bye\n(wisp) end: {status}"
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=serial, FAKE_EXIT="33"),
                      emulator=emulator)
    assert result.code == code, result
    assert result.stdout == ["bye"]


def test_end_line_wins_over_lingering_emulator(run_wisp, pvh_kernel, fake):
    """The emulator does not exit after the end line: wisp kills it after the grace time."""
    serial = "(d1) done\n(wisp) end: crash\n"
    start = time.monotonic()
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=serial, FAKE_HANG="1"),
                      "--timeout", "20")
    assert result.code == EXIT_GUEST_CRASH, result
    assert time.monotonic() - start < 10
    pid = int((Path(fake["FAKE_RECORD"]) / "pid.txt").read_text())
    assert not pid_alive(pid)


def test_guest_cannot_fake_end_line(run_wisp, pvh_kernel, fake):
    serial = "(d1) (wisp) end: poweroff\n(wisp) end: crash\n"
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=serial))
    assert result.code == EXIT_GUEST_CRASH, result
    assert result.stdout == ["(wisp) end: poweroff"]


def test_lines_after_end_are_ignored(run_wisp, pvh_kernel, fake):
    serial = "(d1) a\n(wisp) end: poweroff\n(d1) late\n"
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=serial))
    assert result.code == EXIT_POWEROFF, result
    assert result.stdout == ["a"]


def test_other_domains_and_noise(run_wisp, pvh_kernel, fake):
    serial = ("SeaBIOS noise\n(d2) from two\n(d12345) big id\n(dx) not a guest\n"
              "(d1)no space\n(wisp) end: poweroff\n")
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=serial))
    assert result.code == EXIT_POWEROFF, result
    assert result.stdout == ["from two", "big id"]


def test_very_long_line_is_kept_whole(run_wisp, pvh_kernel, fake):
    """The CLI reads serial lines in 4096-byte cuts; a guest line's cuts join up again."""
    serial = "(d1) " + "x" * 10000 + "\n(wisp) " + "y" * 5000 + "\n(wisp) end: poweroff\n"
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=serial), "--verbose")
    assert result.code == EXIT_POWEROFF, result
    assert result.stdout == ["x" * 10000]
    assert "y" * 4000 in result.stderr


def test_exit_without_end_line_is_panic(run_wisp, pvh_kernel, fake):
    serial = "(wisp) starting\n(d1) CHECK a PASS\n"
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL=serial, FAKE_EXIT="0"))
    assert result.code == EXIT_HV_PANIC, result
    assert "end line" in result.stderr


def test_emulator_failing_silently_is_infrastructure(run_wisp, pvh_kernel, fake):
    env = dict(fake, FAKE_EXIT="1", FAKE_STDERR="qemu: could not load PC BIOS\n")
    result = run_fake(run_wisp, pvh_kernel, env)
    assert result.code == EXIT_INFRA, result
    assert "could not load PC BIOS" in result.stderr


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_timeout_kills_emulator(run_wisp, pvh_kernel, fake, emulator):
    env = dict(fake, FAKE_SERIAL="(wisp) starting\n(d1) stuck\n", FAKE_HANG="1")
    start = time.monotonic()
    result = run_fake(run_wisp, pvh_kernel, env, "--timeout", "2", emulator=emulator)
    assert result.code == EXIT_TIMEOUT, result
    assert 2 <= time.monotonic() - start < 10
    assert result.stdout == ["stuck"]
    pid = int((Path(fake["FAKE_RECORD"]) / "pid.txt").read_text())
    assert not pid_alive(pid)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_kills_emulator(wisp_cli, pvh_kernel, fake, sig):
    env = dict(os.environ, **fake, FAKE_SERIAL="(d1) waiting\n", FAKE_HANG="1")
    proc = subprocess.Popen([wisp_cli, "run", "--hypervisor", pvh_kernel, pvh_kernel],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    try:
        assert proc.stdout.readline() == "waiting\n"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
    finally:
        wisptest.stop_group(proc, grace_s=0)
    assert proc.returncode == EXIT_INTERRUPTED, err
    pid = int((Path(fake["FAKE_RECORD"]) / "pid.txt").read_text())
    assert not pid_alive(pid)
    assert list(Path(fake["TMPDIR"]).iterdir()) == []


def test_qemu_direct_arguments_and_config(run_wisp, pvh_kernel, fake, tmp_path):
    keep = tmp_path / "media"
    initrd = tmp_path / "initrd.cpio"
    initrd.write_bytes(b"070701")
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL="(wisp) end: poweroff\n"),
                      "--memory", "200", "--vcpus", "2", "--initrd", initrd,
                      "--cmdline", "quiet answer=42", "--hv-cmdline", "loglevel=debug",
                      "--keep", keep)
    assert result.code == EXIT_POWEROFF, result
    argv = (Path(fake["FAKE_RECORD"]) / "argv.txt").read_text().splitlines()
    opt = {argv[i]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("-")}
    # 200 MiB guest + 2 alignment slack + 64 for Wisp + 1 each (rounded up) for two modules
    assert opt["-m"] == "268"
    assert opt["-cpu"] == "max" and opt["-accel"] == "tcg"
    assert opt["-smp"] == "1"
    assert opt["-kernel"] == str(pvh_kernel)
    assert opt["-append"] == "config=wisp.cfg loglevel=debug"
    assert opt["-initrd"] == (f"{keep}/guest.elf guest.elf,{keep}/initrd.img initrd.img,"
                              f"{keep}/wisp.cfg wisp.cfg")
    assert "isa-debug-exit,iobase=0xf4,iosize=0x04" in argv
    assert "-no-reboot" in argv and "-nodefaults" in argv
    assert (keep / "wisp.cfg").read_text() == (
        "domain guest\n"
        "  kernel guest.elf\n"
        "  initrd initrd.img\n"
        "  cmdline quiet answer=42\n"
        "  memory 200\n"
        "  vcpus 2\n")
    assert (keep / "guest.elf").resolve() == pvh_kernel.resolve()
    assert (keep / "initrd.img").read_bytes() == b"070701"


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_grub_iso(run_wisp, pvh_kernel, fake, tmp_path, emulator):
    keep = tmp_path / "media"
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL="(wisp) end: poweroff\n"),
                      "--boot", "grub", "--keep", keep, emulator=emulator, timeout=60)
    assert result.code == EXIT_POWEROFF, result
    assert (keep / "wisp.iso").stat().st_size > 0
    grub_cfg = (keep / "iso/boot/grub/grub.cfg").read_text()
    assert "multiboot2 /boot/wisp.elf config=wisp.cfg\n" in grub_cfg
    assert "module2 --nounzip /boot/guest.elf guest.elf\n" in grub_cfg
    assert "module2 --nounzip /boot/wisp.cfg wisp.cfg\n" in grub_cfg
    argv = (Path(fake["FAKE_RECORD"]) / "argv.txt").read_text().splitlines()
    if emulator == "qemu":
        assert argv[argv.index("-cdrom") + 1] == str(keep / "wisp.iso")
    else:
        bochsrc = (keep / "bochsrc").read_text()
        assert "cpu: model=tigerlake\n" in bochsrc
        assert f"path={keep}/wisp.iso" in bochsrc
        assert "megs: 195\n" in bochsrc       # 128 + 2 + 64 + 1 for the kernel module


@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_cpus_sets_the_emulated_machines_cpu_count(run_wisp, pvh_kernel, fake, tmp_path,
                                                   emulator):
    keep = tmp_path / "media"
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL="(wisp) end: poweroff\n"),
                      "--cpus", "4", "--keep", keep, emulator=emulator, timeout=60)
    assert result.code == EXIT_POWEROFF, result
    argv = (Path(fake["FAKE_RECORD"]) / "argv.txt").read_text().splitlines()
    if emulator == "qemu":
        assert argv[argv.index("-smp") + 1] == "4"
    else:
        assert "cpu: model=tigerlake, count=4\n" in (keep / "bochsrc").read_text()


def test_ram_file_backs_qemus_ram_and_is_refused_where_it_cannot(run_wisp, pvh_kernel, fake,
                                                                 tmp_path):
    ram = tmp_path / "machine.ram"
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL="(wisp) end: poweroff\n"),
                      "--ram-file", ram, timeout=60)
    assert result.code == EXIT_POWEROFF, result
    argv = (Path(fake["FAKE_RECORD"]) / "argv.txt").read_text().splitlines()
    mib = argv[argv.index("-m") + 1]
    assert argv[argv.index("-object") + 1] == \
        f"memory-backend-file,id=wisp-ram,size={mib}M,mem-path={ram},share=on"
    assert argv[argv.index("-machine") + 1] == "memory-backend=wisp-ram"
    for extra, emulator, message in ((["--ram-file", tmp_path / "a,b"], "qemu", "without commas"),
                                     (["--ram-file", ram], "bochs", "bochs cannot share")):
        refused = run_fake(run_wisp, pvh_kernel, fake, *extra, emulator=emulator)
        assert refused.code == wisptest.EXIT_USAGE and message in refused.stderr, refused


def test_temp_dir_removed(run_wisp, pvh_kernel, fake):
    result = run_fake(run_wisp, pvh_kernel, dict(fake, FAKE_SERIAL="(wisp) end: poweroff\n"),
                      "--boot", "grub", timeout=60)
    assert result.code == EXIT_POWEROFF, result
    assert list(Path(fake["TMPDIR"]).iterdir()) == []


def test_comma_in_work_dir_is_reported(run_wisp, pvh_kernel, fake, tmp_path):
    odd = tmp_path / "a,b"
    odd.mkdir()
    result = run_fake(run_wisp, pvh_kernel, dict(fake, TMPDIR=str(odd)))
    assert result.code == EXIT_INFRA, result
    assert "comma" in result.stderr
    assert list(odd.iterdir()) == []


def test_bochs_screen_pty_is_read_so_bochs_never_blocks(run_wisp, pvh_kernel, fake):
    # Bochs' curses screen goes into a pty of its own: with 64 KiB unread on its slave the
    # fake (like Bochs) blocks in write() and never reaches COM1; wisp must read it dry.
    env = dict(fake, FAKE_SERIAL=GOOD_SERIAL, FAKE_SCREEN=str(64 << 10))
    result = run_fake(run_wisp, pvh_kernel, env, "--timeout", "10", emulator="bochs")
    assert result.code == EXIT_POWEROFF, result
    assert result.stdout[-1] == "CHECKS DONE 2", result


def test_bochs_rejects_direct_boot(run_wisp, pvh_kernel, fake):
    result = run_fake(run_wisp, pvh_kernel, fake, "--boot", "direct", emulator="bochs")
    assert result.code == wisptest.EXIT_USAGE, result


def kept_config(run_wisp, kernel, fake, tmp_path, *extra):
    keep = tmp_path / "media"
    result = run_fake(run_wisp, kernel, dict(fake, FAKE_SERIAL="(wisp) end: poweroff\n"),
                      "--keep", keep, *extra)
    assert result.code == EXIT_POWEROFF, result
    argv = (Path(fake["FAKE_RECORD"]) / "argv.txt").read_text().splitlines()
    return (keep / "wisp.cfg").read_text(), argv[argv.index("-m") + 1]


def test_cmdline_is_exact_for_a_non_linux_guest(run_wisp, pvh_kernel, fake, tmp_path):
    config, _ = kept_config(run_wisp, pvh_kernel, fake, tmp_path, "--cmdline", "-a b=c --")
    assert "  cmdline -a b=c --\n" in config
    config, _ = kept_config(run_wisp, pvh_kernel, fake, tmp_path)
    assert "cmdline" not in config


def test_linux_elf_gets_console_first(run_wisp, fake, tmp_path):
    kernel = tmp_path / "vmlinux"
    kernel.write_bytes(wisptest.make_elf(guest_os="linux"))
    config, _ = kept_config(run_wisp, kernel, fake, tmp_path, "--cmdline", "ro")
    assert "  cmdline console=hvc0 ro\n" in config


def test_machine_holds_the_modules(run_wisp, pvh_kernel, fake, tmp_path):
    big = tmp_path / "big.initrd"
    with open(big, "wb") as f:       # sparse: 100 MiB and 1 byte
        f.truncate(100 * 1024 * 1024 + 1)
    _, memory = kept_config(run_wisp, pvh_kernel, fake, tmp_path, "--memory", "32",
                            "--initrd", big)
    # 32 guest + 2 slack + 64 Wisp + 1 kernel + 101 initrd
    assert memory == "200"


def write_config_dir(tmp_path, pvh_kernel, text):
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "k.elf").write_bytes(pvh_kernel.read_bytes())
    (cfg_dir / "rd.img").write_bytes(b"x" * 10)
    (cfg_dir / "wisp.cfg").write_text(text)
    return cfg_dir / "wisp.cfg"


def run_config_fake(run_wisp, cfg, fake, *extra, serial="(wisp) end: poweroff\n"):
    # --hypervisor: any readable file; the fake never reads it.
    return run_wisp(["run", "--hypervisor", str(cfg), *extra, "--config", str(cfg)],
                    timeout=30, env=dict(fake, FAKE_SERIAL=serial))


def test_config_modules_memory_and_labels(run_wisp, pvh_kernel, fake, tmp_path):
    cfg = write_config_dir(tmp_path, pvh_kernel, "domain one\n  kernel k.elf\n  memory 10\n"
                           "domain two\n  kernel k.elf\n  initrd rd.img\n  memory 20\n")
    keep = tmp_path / "media"
    res = run_config_fake(run_wisp, cfg, fake, "--keep", keep,
                          serial="(d1) hello\n(d2) there\n(d2+) part\n(d1) again\n"
                                 "(wisp) end: poweroff\n")
    assert res.code == EXIT_POWEROFF, res
    # A partial line is ended when another domain speaks; its rest is labelled again.
    assert res.stdout == ["[one] hello", "[two] there", "[two] part", "[one] again"]
    argv = (Path(fake["FAKE_RECORD"]) / "argv.txt").read_text().splitlines()
    assert argv[argv.index("-initrd") + 1] == (f"{keep}/k.elf k.elf,{keep}/rd.img rd.img,"
                                               f"{keep}/wisp.cfg wisp.cfg")
    # 10 + 20 guests, 2 slack each, 64 for Wisp, 1 each for the two distinct modules
    assert argv[argv.index("-m") + 1] == "100"
    assert (keep / "wisp.cfg").read_text() == cfg.read_text()


@pytest.mark.parametrize("text, extra, message", [
    ("domain a\n  kernel missing.elf\n", [], "missing.elf: No such file"),
    ("domain a\n  kernel k.elf\n  colour blue\n", [], "line 3: unknown key 'colour'"),
    ("domain a\n  kernel ../k.elf\n", [], "line 2: module names have no '/'"),
    ("domain a\n  kernel a,b.elf\n", [], "must be a plain file name without ','"),
    ("domain a\n  kernel k.elf\n  initrd nope.img\n", [], "nope.img: No such file"),
    ("domain a\n  kernel rd.img\n", [], "rd.img"),
    ("domain a\n  kernel k.elf\n", ["--memory", "64"], "drop --memory"),
    ("domain a\n  kernel k.elf\n", ["--cmdline", "x"], "drop --cmdline"),
])
def test_config_errors(run_wisp, pvh_kernel, fake, tmp_path, text, extra, message):
    cfg = write_config_dir(tmp_path, pvh_kernel, text)
    res = run_config_fake(run_wisp, cfg, fake, *extra)
    assert res.code == wisptest.EXIT_USAGE, res
    assert message in res.stderr, res
    assert not (Path(fake["FAKE_RECORD"]) / "argv.txt").exists()


def test_config_excludes_kernel(run_wisp, pvh_kernel, fake, tmp_path):
    cfg = write_config_dir(tmp_path, pvh_kernel, "domain a\n  kernel k.elf\n")
    res = run_wisp(["run", "--config", str(cfg), str(pvh_kernel)], timeout=30, env=fake)
    assert res.code == wisptest.EXIT_USAGE and "drop KERNEL" in res.stderr, res
