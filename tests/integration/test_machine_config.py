"""test_machine_config (host tests): `wisp run --config` boots several domains under both
emulators, labels each domain's lines, and stops early on request (machine.py)."""
import pytest

from machine import domain_lines, heartbeats, run_config
from wisptest import EXIT_POWEROFF

TWO_CANARIES = """\
domain first
  kernel act64.elf
  cmdline act=canary beats=4
  memory 16
domain second
  kernel act64.elf
  cmdline act=canary beats=2
  memory 16
"""


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_two_domains_from_a_config(tmp_path, emulator):
    res = run_config(tmp_path, TWO_CANARIES, emulator=emulator)
    assert res.code == EXIT_POWEROFF, res
    assert heartbeats(res.stdout, "first") == [1, 2, 3, 4], res
    assert heartbeats(res.stdout, "second") == [1, 2], res
    assert domain_lines(res.stdout, "second")[-1] == "CANARY done"
    assert all(line.startswith(("[first] ", "[second] ")) for line in res.stdout), res


@pytest.mark.boot
def test_until_stops_the_machine(tmp_path):
    config = TWO_CANARIES.replace("beats=4", "beats=1000")
    res = run_config(tmp_path, config, until=r"^\[first\] CANARY beat 3$", timeout=60)
    assert res.code is None and not res.timed_out, res
    assert heartbeats(res.stdout, "first")[:3] == [1, 2, 3], res
