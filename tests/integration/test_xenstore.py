"""test_xenstore (host tests): xenstore conformance over real store rings. The xenstore domain
(toolstack/xenstored, `xenstored.elf`) serves xsclient64 domains in one machine, under QEMU (SVM)
and Bochs (VMX):

- alice (act=conformance): its base tree, read/write/mkdir/rm/directory of its own keys, watches
  (on registration, on change, none after unwatch), a conflicting transaction (EAGAIN) and one
  that commits, another domain's keys refused (EACCES), a key it grants bob that bob then
  writes (its watch fires), GET_DOMAIN_PATH, the node and entry-size quotas (ENOSPC);
- bob (act=peer): refused until alice grants, then writes; then it exits;
- watcher (role control, act=watcher): @introduceDomain and @releaseDomain fire on
  registration, and @releaseDomain fires when bob exits, after bob's nodes are gone; then bob,
  kept dying by xenstored's mapping of its ring, is freed and listed no more;
- three hostile clients beside them: one sends requests 3 bytes at a time, an unknown type, a bad transaction id and an
  unprivileged INTRODUCE (errors, still connected), then a header with an oversized length (garbage),
  one moves its request producer more than a ring ahead (bad-index), one never reads its
  replies (no-read). The first two are disconnected with the ring's error field set; the third
  is simply no longer read from while its reply ring is full. The well-behaved domains and the
  canary are not hurt, and every frame is given back at the end.
"""
import re

import pytest

from machine import domain_lines, heartbeats, run_config
from wisptest import EXIT_POWEROFF, assert_checks

BEATS = 40  # outlasts the watcher's last check (it has a role, so it does not hold the machine)
# Domain ids follow the configuration's order: xenstore 1, watcher 2, alice 3, bob 4, ...
CONFIG = f"""\
domain xenstore
  kernel xenstored.elf
  roles xenstore
  memory 16
domain watcher
  kernel xsclient64.elf
  cmdline act=watcher exiter=4
  roles control
  memory 16
domain alice
  kernel xsclient64.elf
  cmdline act=conformance peer=4
  memory 16
domain bob
  kernel xsclient64.elf
  cmdline act=peer owner=3
  memory 16
domain garbage
  kernel xsclient64.elf
  cmdline act=garbage
  memory 16
domain badindex
  kernel xsclient64.elf
  cmdline act=bad-index
  memory 16
domain noread
  kernel xsclient64.elf
  cmdline act=no-read
  memory 16
domain canary
  kernel act64.elf
  cmdline act=canary beats={BEATS}
  memory 16
"""

CHECKS = {
    "alice": ["xs_open", "xs_base_domid", "xs_base_memory_target", "xs_base_name",
              "xs_get_domain_path", "xs_base_guest_writable", "xs_base_name_read_only",
              "xs_write_read", "xs_mkdir_directory", "xs_rm", "xs_read_missing_enoent",
              "xs_watch_registered", "xs_watch_fires_on_registration",
              "xs_watch_fires_on_change_below", "xs_unwatch_stops_events",
              "xs_transaction_start", "xs_transaction_conflict_eagain",
              "xs_transaction_conflict_discarded", "xs_transaction_commits",
              "xs_watch_burst_over_a_ring",
              "xs_perm_other_domain_refused", "xs_watch_shared_registration",
              "xs_set_get_perms", "xs_watch_fires_on_peer_write", "xs_quota_entry_size",
              "xs_quota_nodes", "xs_quota_freed_by_rm"],
    "bob": ["xs_open", "xs_peer_writes_after_grant"],
    "watcher": ["xs_open", "xs_privileged_reads_other_domain",
                "xs_introduce_domain_watch_registration", "xs_release_domain_watch_registration",
                "xs_release_domain_fires_on_exit", "xs_released_domain_freed"],
    "garbage": ["xs_open", "xs_hostile_connected", "xs_hostile_partial_messages_served",
                "xs_hostile_wrong_messages_refused",
                "xs_hostile_garbage_disconnected"],
    "badindex": ["xs_open", "xs_hostile_connected", "xs_hostile_bad_index_disconnected"],
    "noread": ["xs_open", "xs_hostile_connected", "xs_hostile_no_read_backpressure"],
}
FREE_FRAMES_RE = re.compile(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", re.M)
TIMEOUT = {"qemu": 240, "bochs": 600}


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_xenstore_domain_serves_clients_beside_hostile_ones(tmp_path, emulator):
    res = run_config(tmp_path, CONFIG, emulator=emulator, timeout=TIMEOUT[emulator],
                     extra=["--verbose"])
    for name, checks in CHECKS.items():
        lines = domain_lines(res.stdout, name)
        try:
            assert_checks(lines, checks)
        except AssertionError as e:
            raise AssertionError(f"domain {name}: {e}\n{res}") from None
    xs = domain_lines(res.stdout, "xenstore")
    # The canary may be done before xenstored gets to it (Bochs): it does not use xenstore.
    for domid, name in [(2, "watcher"), (3, "alice"), (4, "bob"), (5, "garbage"),
                        (6, "badindex"), (7, "noread")]:
        assert any(line.startswith(f"xenstored: introduced domain {domid} ({name})")
                   for line in xs), (name, res)
    assert any("introduced domain 2 (watcher) privileged" in line for line in xs), res
    assert any("domain 5: malformed message, disconnected" in line for line in xs), res
    assert any("domain 6: impossible ring indices, disconnected" in line for line in xs), res
    assert any(line.startswith("xenstored: released domain 4 ") for line in xs), res
    assert heartbeats(res.stdout) == list(range(1, BEATS + 1)), res
    assert res.code == EXIT_POWEROFF, res
    found = FREE_FRAMES_RE.findall(res.stderr)
    assert len(found) == 1, res
    assert found[0][0] == found[0][1], f"frames lost: {found}\n{res.stderr[-3000:]}"
