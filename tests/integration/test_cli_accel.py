"""test_cli_accel (host tests): `wisp run --accel auto|kvm|tcg` against fake host trees
(WISP_HOST_ROOT) and a fake QEMU that records its argv: which accelerator and CPU model
QEMU gets, the one-line note on stderr, and the errors; and `--tcg-threads`. These
machines cannot run KVM guests, so the KVM side is only ever seen in QEMU's argv here
(docs/cli.md)."""
from pathlib import Path

import pytest

from wisptest import EXIT_POWEROFF, EXIT_INFRA, EXIT_USAGE

FAKE = Path(__file__).with_name("fake_emulator.py")
SERIAL = "(wisp) up\r\n(d1) hello\r\n(wisp) end: poweroff\r\n"

NESTED_AMD = {
    "dev/kvm": "",
    "proc/cpuinfo": "vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm npt\n",
    "sys/module/kvm_amd/parameters/nested": "1\n",
    "sys/module/kvm_amd/parameters/npt": "1\n",
}


def host_tree(tmp_path, files):
    root = tmp_path / "host"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    return root


def run_accel(run_wisp, tmp_path, kernel, files, *options, emulator="qemu"):
    record = tmp_path / "record"
    record.mkdir(exist_ok=True)
    env = {"WISP_QEMU": str(FAKE), "WISP_BOCHS": str(FAKE), "FAKE_RECORD": str(record),
           "FAKE_SERIAL": SERIAL, "WISP_HOST_ROOT": str(host_tree(tmp_path, files))}
    result = run_wisp(["run", "--emulator", emulator, "--hypervisor", kernel, *options,
                       kernel], env=env, timeout=30)
    argv = record / "argv.txt"
    return result, argv.read_text().splitlines() if argv.exists() else None


def option(argv, name):
    return argv[argv.index(name) + 1]


def test_auto_takes_kvm_on_a_nested_host(run_wisp, tmp_path, pvh_kernel):
    result, argv = run_accel(run_wisp, tmp_path, pvh_kernel, NESTED_AMD)
    assert result.code == EXIT_POWEROFF, result
    assert (option(argv, "-accel"), option(argv, "-cpu")) == ("kvm", "host")
    assert result.stderr == ("wisp: accel KVM: the host's AMD SVM with nested paging "
                             "(--accel tcg to emulate instead)\n")
    assert result.stdout == ["hello"]


@pytest.mark.parametrize("missing,why", [
    ("dev/kvm", "there is no /dev/kvm"),
    ("sys/module/kvm_amd/parameters/nested",
     "kvm_amd's nested is not there (/sys/module/kvm_amd/parameters/nested)"),
    ("proc/cpuinfo", "the host CPU is neither AMD nor Intel (/proc/cpuinfo vendor_id)"),
])
def test_auto_falls_back_to_tcg_and_says_why(run_wisp, tmp_path, pvh_kernel, missing, why):
    files = {k: v for k, v in NESTED_AMD.items() if k != missing}
    result, argv = run_accel(run_wisp, tmp_path, pvh_kernel, files)
    assert result.code == EXIT_POWEROFF, result
    assert (option(argv, "-accel"), option(argv, "-cpu")) == ("tcg", "max")
    assert result.stderr == f"wisp: accel TCG: {why}\n"


def test_tcg_asked_for_is_quiet(run_wisp, tmp_path, pvh_kernel):
    result, argv = run_accel(run_wisp, tmp_path, pvh_kernel, NESTED_AMD, "--accel", "tcg")
    assert result.code == EXIT_POWEROFF, result
    assert (option(argv, "-accel"), option(argv, "-cpu")) == ("tcg", "max")
    assert result.stderr == ""


def test_kvm_asked_for_on_a_host_without_it(run_wisp, tmp_path, pvh_kernel):
    files = dict(NESTED_AMD, **{"sys/module/kvm_amd/parameters/nested": "0\n"})
    result, argv = run_accel(run_wisp, tmp_path, pvh_kernel, files, "--accel", "kvm")
    assert result.code == EXIT_INFRA, result
    assert argv is None                         # nothing started
    assert result.stderr == ("wisp: --accel kvm: kvm_amd's nested is off "
                             "(/sys/module/kvm_amd/parameters/nested)\n")


def test_kvm_asked_for_on_a_nested_intel_host(run_wisp, tmp_path, pvh_kernel):
    files = {"dev/kvm": "", "proc/cpuinfo": "vendor_id : GenuineIntel\nflags : vmx ept\n",
             "sys/module/kvm_intel/parameters/nested": "Y\n",
             "sys/module/kvm_intel/parameters/ept": "Y\n",
             "sys/module/kvm_intel/parameters/unrestricted_guest": "Y\n"}
    result, argv = run_accel(run_wisp, tmp_path, pvh_kernel, files, "--accel", "kvm")
    assert result.code == EXIT_POWEROFF, result
    assert (option(argv, "-accel"), option(argv, "-cpu")) == ("kvm", "host")
    assert result.stderr == "wisp: accel KVM: the host's Intel VMX with nested EPT\n"


@pytest.mark.parametrize("options,accel", [
    ([], "tcg"),
    (["--tcg-threads", "multi"], "tcg"),
    (["--tcg-threads", "single"], "tcg,thread=single"),
])
def test_tcg_threads(run_wisp, tmp_path, pvh_kernel, options, accel):
    """single: every emulated CPU on one host thread, out of reach of QEMU's
    multi-threaded TCG race (docs/cli.md)."""
    result, argv = run_accel(run_wisp, tmp_path, pvh_kernel, {}, "--cpus", "2", *options)
    assert result.code == EXIT_POWEROFF, result
    assert (option(argv, "-accel"), option(argv, "-smp")) == (accel, "2")


@pytest.mark.parametrize("options,message", [
    (["--accel", "hvf"], "--accel must be auto, kvm or tcg, not 'hvf'"),
    (["--emulator", "bochs", "--accel", "kvm"],
     "--accel is QEMU's: bochs always emulates VMX itself"),
    (["--tcg-threads", "two"], "--tcg-threads must be single or multi, not 'two'"),
    (["--emulator", "bochs", "--tcg-threads", "single"],
     "--tcg-threads is for QEMU with TCG: not with bochs"),
    (["--accel", "kvm", "--tcg-threads", "single"],
     "--tcg-threads is for QEMU with TCG: not with --accel kvm"),
])
def test_accel_usage_errors(run_wisp, tmp_path, pvh_kernel, options, message):
    result, argv = run_accel(run_wisp, tmp_path, pvh_kernel, NESTED_AMD, *options)
    assert result.code == EXIT_USAGE, result
    assert argv is None
    assert message in result.stderr


def test_bochs_never_looks_at_kvm(run_wisp, tmp_path, pvh_kernel):
    result, _ = run_accel(run_wisp, tmp_path, pvh_kernel, NESTED_AMD, emulator="bochs")
    assert result.code == EXIT_POWEROFF, result
    assert "accel" not in result.stderr
