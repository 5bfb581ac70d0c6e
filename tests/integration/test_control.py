"""test_control (host tests): Wisp's control hypercall (docs/control.md) and the store ring,
under QEMU (SVM) and Bochs (VMX), with ctl64.elf (tests/guests/control.c) in several roles.

One machine of eight domains: a xenstore-role domain that may list but not control, a
control-role domain that lists, pauses and unpauses the canary, unpauses a domain built
`paused`, sees VIRQ_DOM_EXC, destroys a domain it shares a channel with and finally the
canary (which ends the machine), plus ordinary domains that read their store ring and get
-EPERM for every command. Nothing may leak: free frames boot N == end M.
"""
import re

import pytest

from machine import BEAT_RE, domain_lines, heartbeats, run_config
from wisptest import EXIT_GUEST_CRASH, EXIT_POWEROFF

LIFECYCLE = """\
domain xs
  kernel ctl64.elf
  cmdline act=xs-role
  roles xenstore
  memory 16
domain ctl
  kernel ctl64.elf
  cmdline act=control self=2 xs=1 canary=3 victim=4 short=5 sleeper=8
  roles control
  memory 16
domain canary
  kernel act64.elf
  cmdline act=canary beats=100000
  memory 16
domain victim
  kernel ctl64.elf
  cmdline act=steal
  memory 16
domain short
  kernel act64.elf
  cmdline act=canary beats=15
  memory 16
domain store
  kernel ctl64.elf
  cmdline act=store xs=1
  memory 16
domain plain
  kernel ctl64.elf
  cmdline act=noperm
  memory 16
domain sleeper
  kernel act64.elf
  cmdline act=canary beats=3
  paused
  memory 16
"""

NO_XENSTORE = """\
domain store
  kernel ctl64.elf
  cmdline act=store xs=0
  memory 16
domain canary
  kernel act64.elf
  cmdline act=canary beats=3
  memory 16
"""

ROLES_ONLY = """\
domain b1
  kernel act64.elf
  cmdline act=canary beats=2
  roles backend
  memory 16
domain b2
  kernel act64.elf
  cmdline act=canary beats=4
  roles backend
  memory 16
"""

FREE_FRAMES_RE = re.compile(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", re.M)
DOMAIN_RE = re.compile(r"^DOMAIN (\d+) (\S+) state=(\d+) roles=(\d+) store_gfn=0x([0-9a-f]+) "
                       r"store_evtchn=(\d+) vcpus=(\d+) pages=(\d+)/(\d+)$")


def checks_of(res, name):
    """{check: verdict line} of domain NAME; asserts its CHECKS DONE came."""
    lines = domain_lines(res.stdout, name)
    assert any(l.startswith("CHECKS DONE") for l in lines), f"{name}: no CHECKS DONE\n{res}"
    failed = [l for l in lines if l.startswith("CHECK ") and " PASS" not in l]
    assert not failed, f"{name}: {failed}\n{res}"
    return {l.split()[1]: l for l in lines if l.startswith("CHECK ")}


def assert_no_leak(res):
    found = FREE_FRAMES_RE.findall(res.stderr)
    assert len(found) == 1, f"want one free-frames line: {found}\n{res.stderr[-3000:]}"
    assert found[0][0] == found[0][1], found


def index_of(stdout, line):
    assert line in stdout, f"no {line!r}"
    return stdout.index(line)


@pytest.mark.boot
@pytest.mark.parametrize("emulator, cpus", [("qemu", 1), ("bochs", 1), ("qemu", 3), ("bochs", 2)],
                         ids=["qemu", "bochs", "qemu-3cpus", "bochs-2cpus"])
def test_control_lifecycle(tmp_path, emulator, cpus):
    """With several CPUs the domains take them in turn (d1 on pCPU 0, d2 on 1, ...), so
    the control domain pauses, unpauses and destroys domains running beside it."""
    res = run_config(tmp_path, LIFECYCLE, emulator=emulator, timeout=240,
                     extra=["--verbose", "--cpus", str(cpus)])
    assert res.code == EXIT_POWEROFF, res
    assert_no_leak(res)

    ctl = checks_of(res, "ctl")
    for name in ("ctl_list", "ctl_list_store", "ctl_list_self", "ctl_bad_arg_pointer",
                 "ctl_wrapping_buffer", "ctl_self_refused", "ctl_bad_domid",
                 "ctl_huge_max_entries", "ctl_started_paused", "ctl_dom_exc_on_shutdown",
                 "ctl_pause", "ctl_unpause", "ctl_alloc_unbound_other", "ctl_peer_port_unbound",
                 "ctl_destroy", "ctl_dom_exc_on_destroy", "ctl_no_host_channel",
                 "ctl_console_input_bad", "ctl_console_input", "ctl_list_free_frames_out"):
        assert name in ctl, f"{name} did not run\n{res}"
    assert "xs_may_not_control" in checks_of(res, "xs")
    assert "steal_offline_while_paused" in checks_of(res, "victim")
    assert "noperm_every_command" in checks_of(res, "plain")
    store = checks_of(res, "store")
    assert {"store_pfn", "store_memmap_reserved", "store_page_zeroed",
            "store_evtchn_unbound"} <= store.keys()

    # The list: names, roles, store parameters as configured (the sleeper still paused).
    listed = {m.group(2): m for m in map(DOMAIN_RE.match, domain_lines(res.stdout, "ctl")) if m}
    assert set(listed) >= {"xs", "ctl", "canary", "victim", "sleeper"}, listed.keys()
    for name, m in listed.items():
        assert int(m.group(1)) == ["xs", "ctl", "canary", "victim", "short", "store", "plain",
                                   "sleeper"].index(name) + 1
        assert int(m.group(4)) == {"xs": 1, "ctl": 2}.get(name, 0), name
        assert int(m.group(5), 16) == (0 if name == "xs" else 0xfeffe), name
        assert (int(m.group(6)) == 0) == (name == "xs"), name
        assert int(m.group(9)) > 0 and int(m.group(7)) == 1
    assert int(listed["sleeper"].group(3)) == 1         # WISP_DOMSTATE_PAUSED

    # Pause: no beat while paused, beats again after, numbered on (no state lost).
    out = res.stdout
    paused, unpaused = index_of(out, "[ctl] CTL paused 3"), None
    unpaused = next(i for i, l in enumerate(out) if l.startswith("[ctl] CTL unpausing 3 after"))
    assert int(out[unpaused].split()[-2]) >= 1000
    beats = [(i, int(BEAT_RE.match(l[len("[canary] "):]).group(1))) for i, l in enumerate(out)
             if l.startswith("[canary] CANARY beat")]
    assert [n for _, n in beats] == list(range(1, len(beats) + 1)), "beats lost or repeated"
    assert not [n for i, n in beats if paused < i < unpaused], "the canary beat while paused"
    assert any(i < paused for i, _ in beats) and len([i for i, _ in beats if i > unpaused]) >= 2

    # A domain built `paused` ran only after its unpause.
    first = index_of(out, "[sleeper] ACT canary")
    assert first > index_of(out, "[ctl] CTL unpausing 8")
    assert heartbeats(out, "sleeper") == [1, 2, 3]
    assert "(wisp) d4 (victim): destroyed" in res.stderr


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_no_xenstore_no_store_ring(tmp_path, emulator):
    res = run_config(tmp_path, NO_XENSTORE, emulator=emulator, extra=["--verbose"])
    assert res.code == EXIT_POWEROFF, res
    assert "store_none" in checks_of(res, "store")
    assert_no_leak(res)


@pytest.mark.boot
def test_only_role_domains_end_when_all_have(tmp_path):
    """No ordinary domain: the machine ends when every role domain has, not at the first."""
    res = run_config(tmp_path, ROLES_ONLY, extra=["--verbose"])
    assert res.code == EXIT_POWEROFF, res
    assert heartbeats(res.stdout, "b2") == [1, 2, 3, 4], res
    assert_no_leak(res)


SERVICE_AND_GUESTS = """\
domain xs
  kernel act64.elf
  cmdline act=idle
  roles xenstore
  memory 16
domain backend
  kernel act64.elf
  cmdline act={backend}
  roles backend
  memory 16
domain canary
  kernel act64.elf
  cmdline act=canary beats=3
  memory 16
domain other
  kernel act64.elf
  cmdline act={other}
  memory 16
"""


@pytest.mark.boot
@pytest.mark.parametrize("backend,other,code", [("crash", "poweroff", EXIT_POWEROFF),
                                                ("idle", "crash", EXIT_GUEST_CRASH)])
def test_machine_ends_with_the_ordinary_domains(tmp_path, backend, other, code):
    """A xenstore domain that never ends does not keep the machine up; a role domain's crash
    is not the machine's exit status, an ordinary domain's is."""
    res = run_config(tmp_path, SERVICE_AND_GUESTS.format(backend=backend, other=other),
                     extra=["--verbose"])
    assert res.code == code, res
    assert heartbeats(res.stdout, "canary") == [1, 2, 3], res
    assert "(wisp) d1 (xs): shutdown" not in res.stderr     # stopped with the machine
    assert_no_leak(res)


STATS = """\
domain ctl
  kernel ctl64.elf
  cmdline act=stats target=2
  roles control
  memory 16
domain canary
  kernel act64.elf
  cmdline act=canary beats=30
  vcpus 2
  memory 16
"""
STATS_RE = re.compile(r"^STATS (\w+) ((?:\w+=\d+(?:/\d+)? ?)+)$")


def stats_read(res):
    """{who: {key: value}} from ctl's two STATS lines per domain; pages=N/M gives pages, max_pages."""
    read = {}
    for m in filter(None, map(STATS_RE.match, domain_lines(res.stdout, "ctl"))):
        for key, value in (kv.split("=") for kv in m.group(2).split()):
            pages, _, most = value.partition("/")
            read.setdefault(m.group(1), {})[key] = int(pages)
            if most:
                read[m.group(1)]["max_pages"] = int(most)
    return read


@pytest.mark.boot
@pytest.mark.parametrize("emulator", ["qemu", "bochs"])
def test_domain_stats(tmp_path, emulator):
    """A control domain reads its own statistics and a 2-vCPU canary's (WISP_CTL_domain_stats)
    while the canary beats: counters move, hostile arguments are refused, and what it read
    is no more than the hypervisor's own count when the canary ends."""
    res = run_config(tmp_path, STATS, emulator=emulator, timeout=240, extra=["--verbose"])
    assert res.code == EXIT_POWEROFF, res
    assert set(checks_of(res, "ctl")) == {
        "stats_self", "stats_counts_a_send", "stats_vcpu_room", "stats_pad", "stats_bad_domid",
        "stats_bad_pointer", "stats_target_moves"}
    read = stats_read(res)
    keys = {"vcpus", "state", "pages", "max_pages", "sent", "received", "hypercalls", "hlt",
            "running_ms", "blocked_ms"}
    assert set(read) == {"self", "target"} and all(set(r) == keys for r in read.values()), res
    target = read["target"]
    assert (target["vcpus"], target["state"]) == (2, 0)             # 2 vCPUs, RUNNING
    assert 0 < target["pages"] <= target["max_pages"]               # pages populated, at most max
    assert target["blocked_ms"] > 0                                 # blocked time
    logged = re.search(r"^\(wisp\) d2:   hypercall +(\d+)$", res.stderr, re.M)
    assert logged and int(logged.group(1)) >= target["hypercalls"], res.stderr[-3000:]
    assert_no_leak(res)


BUILD = """\
domain ctl
  kernel ctl64.elf
  initrd act64.elf
  cmdline act=build self=1 cycles={cycles}
  roles control
  memory 32
"""
BUILD_CHECKS = {
    "build_bad_args", "build_name_unterminated", "build_name_taken", "build_huge_refused",
    "build_bad_pointer", "build_not_building", "build_nothing_left", "build_unscrubbed_busy",
    "build_state_building", "build_write_bounds", "build_start_bounds",
    "build_destroy_while_building", "build_started_paused", "build_runs_to_its_end",
    "build_destroy_shut_down",
    "build_cycles_reuse_ids", "build_free_frames", "build_destroy_running"}


@pytest.mark.boot
@pytest.mark.parametrize("emulator, cycles", [("qemu", 100), ("bochs", 10)])
def test_build_at_run_time(tmp_path, emulator, cycles):
    """A control domain builds act64.elf (its initrd) into a new domain with the control
    hypercall's create, scrub, write and start, as a tool stack's builder does: the new
    domain runs to its end, labelled with its name; then create+destroy cycles reuse one
    id and a running built domain is destroyed. Hostile arguments are refused and leave
    nothing; every frame comes back."""
    res = run_config(tmp_path, BUILD.format(cycles=cycles), emulator=emulator, timeout=300,
                     extra=["--verbose"])
    assert res.code == EXIT_POWEROFF, res
    assert set(checks_of(res, "ctl")) == BUILD_CHECKS
    assert heartbeats(res.stdout, "built") == [1, 2, 3, 4, 5], res
    assert "[victim] ACT canary" in res.stdout, res
    assert re.search(r"^\(wisp\) d2 \(built\): created by d1: 16 MiB, 1 vCPU$", res.stderr,
                     re.M), res.stderr[-3000:]
    assert len(re.findall(r"^\(wisp\) d2 \(cycle\): created by d1", res.stderr, re.M)) == cycles
    assert_no_leak(res)


BUILD_WITH_XENSTORE = """\
domain xenstore
  kernel xenstored.elf
  roles xenstore
  memory 16
domain ctl
  kernel ctl64.elf
  initrd act64.elf
  cmdline act=build self=2 cycles=5
  roles control
  memory 32
domain canary
  kernel act64.elf
  cmdline act=canary beats=150
  memory 16
"""


@pytest.mark.boot
def test_built_domain_meets_xenstore(tmp_path):
    """With a xenstore domain, a domain built at run time gets its store ring like a
    boot-time one: xenstored introduces it when it starts and releases it when it has
    gone (VIRQ_DOM_EXC), and every frame still comes back."""
    res = run_config(tmp_path, BUILD_WITH_XENSTORE, timeout=240, extra=["--verbose"])
    assert res.code == EXIT_POWEROFF, res
    assert set(checks_of(res, "ctl")) == BUILD_CHECKS
    built = re.search(r"^\[ctl\] BUILD built is d(\d+)$", "\n".join(res.stdout), re.M)
    assert built, res
    xs = "\n".join(domain_lines(res.stdout, "xenstore"))
    introduced = re.search(rf"^xenstored: introduced domain {built.group(1)} \(built\), port \d+\n"
                           rf"xenstored: released domain {built.group(1)} ", xs, re.M)
    assert introduced, xs
    assert heartbeats(res.stdout, "built") == [1, 2, 3, 4, 5], res
    assert_no_leak(res)
