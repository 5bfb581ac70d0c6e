"""conftest (host tests): pytest fixtures for booting Wisp through the wisp CLI.

Markers:
  boot   the test boots Wisp in a real emulator (slow under Bochs)
  smoke  a boot test that `./wisp test --fast` still runs: one per backend
  long   (a whole module: `pytestmark = pytest.mark.long(MINUTES)`) its boots take about
         MINUTES here; such modules are collected first, longest first, so that side by
         side (pytest-xdist, one file per worker) no worker ends on a long file alone

Guest tests (tests/integration/test_guests.py) look like:

    @pytest.mark.boot
    def test_hello(backend, guest):
        result = run_guest(guest("hello"), backend)
        assert result.code == EXIT_POWEROFF, result
        assert_checks(result.stdout)
"""
import pytest

import wisptest

BACKENDS = ["qemu", "bochs"]


def pytest_configure(config):
    config.addinivalue_line("markers", "boot: boots Wisp in an emulator")
    config.addinivalue_line("markers", "smoke: the one boot per backend that --fast keeps")
    config.addinivalue_line("markers", "long(minutes): a module of long boots; run early")


def pytest_collection_modifyitems(items):
    """Long modules first, longest first; a stable sort keeps every module's own order."""
    def minutes(item):
        mark = item.get_closest_marker("long")
        return mark.args[0] if mark else 0
    items.sort(key=lambda item: -minutes(item))


@pytest.fixture(scope="session")
def wisp_cli():
    """Path of the built CLI; the build (./wisp or ninja -C build) must have made it."""
    assert wisptest.WISP.exists(), f"{wisptest.WISP} is missing: build first (./wisp)"
    return wisptest.WISP


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each test that takes it runs once under QEMU (AMD SVM) and once under Bochs (Intel VMX)."""
    return request.param


@pytest.fixture
def run_wisp(wisp_cli):
    """run_wisp(args, timeout=..., env=None) -> WispResult(code, stdout lines, stderr)."""
    def run(args, timeout=30, env=None):
        return wisptest.run_wisp(args, timeout=timeout, env=env, wisp=wisp_cli)
    return run


@pytest.fixture
def guest():
    """guest("name") -> path of build/tests/guests/name.elf (fails if it was not built)."""
    def path(name):
        elf = wisptest.GUESTS / f"{name}.elf"
        assert elf.exists(), f"{elf} is missing: is it listed in tests/guests/meson.build?"
        return elf
    return path


@pytest.fixture
def pvh_kernel(tmp_path):
    """A tiny ELF64 with a PVH entry note: passes the CLI's input check."""
    path = tmp_path / "kernel.elf"
    path.write_bytes(wisptest.make_elf(pvh_note=True))
    return path
