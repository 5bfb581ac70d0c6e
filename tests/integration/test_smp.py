"""test_smp (host tests): Wisp on several CPUs (docs/smp.md).

With `wisp run --cpus N` the emulated machine has N CPUs; Wisp finds them in the ACPI
MADT, starts each (INIT and start-up IPIs, its own tables, stack and SVM or VMX), checks
that their TSCs agree with the boot CPU's, and logs both; `maxcpus=` bounds how many
start. Domains then take the CPUs in turn and run at the same time: two spinning guests
each get a whole CPU (and half of one on a one-CPU machine), and Linux guests, the
service domain and the xenstore domain talk across CPUs. QEMU drives the xAPIC, Bochs
the x2APIC, so both ways of sending IPIs are covered. (test_control.py runs its
pause/unpause/destroy machine on several CPUs too.)
"""
import re

import pytest

import machine
import test_events
import wisptest

CPUS_RE = re.compile(r"^\(wisp\) CPUs: (\d+) running of (\d+) in the ACPI MADT "
                     r"\(APIC IDs((?: \d+)+)\)", re.M)
FRAMES_RE = re.compile(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", re.M)
SHARE_RE = re.compile(r"^\[(\w+)\] SHARE running_ns=(\d+) wall_ns=(\d+)$")
PLACED_RE = re.compile(r"^\(wisp\) d(\d) \(guest\d\): .*, pCPU (\d)$", re.M)


def assert_no_leak(result):
    frames = FRAMES_RE.findall(result.stderr)
    assert len(frames) == 1 and frames[0][0] == frames[0][1], str(result)


def boot_smp64(guest, backend, *extra):
    result = wisptest.run_guest(guest("smp64"), backend, "--verbose", "--vcpus", "2", *extra)
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    wisptest.assert_checks(result.stdout)
    assert_no_leak(result)
    found = CPUS_RE.findall(result.stderr)
    assert len(found) == 1, f"no single 'CPUs:' line in the boot log:\n{result.stderr}"
    running, listed, ids = found[0]
    return int(running), int(listed), ids.split(), result.stderr


@pytest.mark.boot
def test_every_listed_cpu_starts_and_tscs_agree(backend, guest):
    running, listed, ids, log = boot_smp64(guest, backend, "--cpus", "2")
    assert (running, listed, ids) == (2, 2, ["0", "1"]), log
    assert "(wisp) TSCs agree across 2 CPUs" in log
    assert "did not start" not in log and "left out" not in log


@pytest.mark.boot
@pytest.mark.parametrize("cpus, hv_cmdline, boot, expect", [
    (4, None, "direct", (4, 4, ["0", "1", "2", "3"])),
    (4, "maxcpus=2", "direct", (2, 4, ["0", "1"])),
    (2, "maxcpus=1", "direct", (1, 2, ["0"])),
    (1, None, "direct", (1, 1, ["0"])),
    (2, None, "grub", (2, 2, ["0", "1"])),      # the RSDP from the multiboot2 loader's copy
], ids=["4cpus", "maxcpus2", "maxcpus1", "1cpu", "grub"])
def test_cpu_count_and_maxcpus_qemu(guest, cpus, hv_cmdline, boot, expect):
    extra = ["--cpus", str(cpus), "--boot", boot]
    if hv_cmdline:
        extra += ["--hv-cmdline", hv_cmdline]
    running, listed, ids, log = boot_smp64(guest, "qemu", *extra)
    assert (running, listed, ids) == expect, log
    assert ("(wisp) TSCs agree" in log) == (running > 1), log


def shares(result, names=("guest1", "guest2")):
    """{guest: running_ns / wall_ns} from each act=share guest's report."""
    found = {m.group(1): int(m.group(2)) / int(m.group(3))
             for m in map(SHARE_RE.match, result.stdout) if m}
    assert set(found) == set(names), str(result)
    return found


@pytest.mark.boot
def test_two_domains_run_at_once(backend, guest):
    """Each of two spinning guests runs for (almost) all of 2 s of system time on its own CPU;
    the hypervisor's own runstate accounting says so, not a host clock."""
    result = wisptest.run_guest(guest("act64"), backend, "--verbose", "--guests", "2",
                                "--cpus", "2", "--cmdline", "act=share")
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    assert sorted(PLACED_RE.findall(result.stderr)) == [("1", "0"), ("2", "1")], result.stderr
    assert all(share >= 0.9 for share in shares(result).values()), shares(result)
    assert_no_leak(result)


@pytest.mark.boot
def test_two_domains_share_one_cpu_qemu(guest):
    """The same two guests on one CPU get half of it each: the test above would see it."""
    result = wisptest.run_guest(guest("act64"), "qemu", "--guests", "2", "--cmdline", "act=share")
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    assert all(0.35 <= share <= 0.65 for share in shares(result).values()), shares(result)


@pytest.mark.boot
def test_linux_guests_and_service_domain_on_two_cpus_qemu():
    """xenstore domain and guest1 on CPU 0, service domain and guest2 on CPU 1: xenstore,
    grants, event channels and the network all cross CPUs."""
    result = wisptest.run_wisp(
        ["run", "--emulator", "qemu", "--timeout", "400", "--verbose", "--net", "--guests", "2",
         "--cpus", "2", "--", "sh", "-c",
         # Three replies, a lost one sent again (busybox's ping -c 3 -w never resends: an
         # ARP or first packet lost on a loaded host would fail it).
         "n=0; for i in $(seq 60); do ping -c 1 -W 2 10.77.255.254 >/dev/null && n=$((n+1)); "
         "[ $n -ge 3 ] && break; done; [ $n -ge 3 ] && echo PING_OK $WISP_GUEST"],
        timeout=400 + wisptest.HARNESS_MARGIN_S)
    assert result.code == 0, str(result)
    assert {"[guest1] PING_OK 1", "[guest2] PING_OK 2"} <= set(result.stdout), str(result)
    log = result.stderr
    for domain, cpu in (("d1 (xenstore)", 0), ("d2 (service)", 1), ("d3 (guest1)", 0),
                        ("d4 (guest2)", 1)):
        assert re.search(rf"^\(wisp\) {re.escape(domain)}: .*, pCPU {cpu}$", log, re.M), log
    assert_no_leak(result)


def spinners(*blocks):
    """A boot configuration of act=share guests, one per (name, extra key lines)."""
    return "".join(f"domain {name}\nkernel act64.elf\ncmdline act=share\n{keys}"
                   for name, keys in blocks)


@pytest.mark.boot
def test_weights_share_a_cpu_in_proportion_qemu(tmp_path):
    """Weights 256 and 512 on one CPU: the heavier guest runs twice as much (within 10%).
    QEMU only: under Bochs each guest's own start-up takes seconds of guest time at its
    share of the CPU, so the two measuring windows do not overlap."""
    config = spinners(("light", ""), ("heavy", "weight 512\n"))
    result = machine.run_config(tmp_path, config, timeout=120)
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    got = shares(result, ("light", "heavy"))
    assert 1.8 <= got["heavy"] / got["light"] <= 2.2, got
    assert got["heavy"] + got["light"] >= 0.9, got      # and together the whole CPU


@pytest.mark.boot
def test_cap_holds_a_guest_to_half_a_cpu(tmp_path, backend):
    """cap 50 alone on an otherwise idle CPU: half of it (within 10%), not all."""
    result = machine.run_config(tmp_path, spinners(("capped", "cap 50\n")), emulator=backend,
                                timeout=120, extra=["--verbose"])
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    assert 0.45 <= shares(result, ("capped",))["capped"] <= 0.55, str(result)
    assert re.search(r"^\(wisp\) d1 \(capped\): .*, weight 256, cap 50%$", result.stderr,
                     re.M), result.stderr


SCHED_CHECKS = ["sched_get_boot_share", "sched_get_self", "sched_bad_range", "sched_pad",
                "sched_bad_domid", "sched_bad_pointer", "sched_hostile_changed_nothing",
                "sched_set_read_back", "sched_unpause"]


@pytest.mark.boot
def test_share_set_at_run_time(tmp_path, backend):
    """A control domain reads a paused spinner's boot share (weight 300, no cap), is refused
    bad values, sets weight 512 and cap 50 through the control hypercall and unpauses it:
    the spinner then runs half the CPU (within 10%)."""
    config = ("domain ctl\nkernel ctl64.elf\ncmdline act=sched target=2 weight=300 cap=50\n"
              "roles control\nmemory 16\n" + spinners(("spinner", "weight 300\npaused\n")))
    result = machine.run_config(tmp_path, config, emulator=backend, timeout=120)
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    wisptest.assert_checks(machine.domain_lines(result.stdout, "ctl"), SCHED_CHECKS)
    assert 0.45 <= shares(result, ("spinner",))["spinner"] <= 0.55, str(result)


@pytest.mark.boot
def test_pinned_domains_share_their_cpu_qemu(tmp_path):
    """Both guests pinned to pCPU 1 of two: they split it although pCPU 0 is idle."""
    config = spinners(("one", "cpus 1\n"), ("two", "cpus 1-1\n"))
    result = machine.run_config(tmp_path, config, timeout=120, extra=["--cpus", "2",
                                                                       "--verbose"])
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    placed = re.findall(r"^\(wisp\) d\d \((one|two)\): .*, pCPU (\d)$", result.stderr, re.M)
    assert sorted(placed) == [("one", "1"), ("two", "1")], result.stderr
    assert all(0.35 <= share <= 0.65 for share in shares(result, ("one", "two")).values())


def test_cpus_naming_no_cpu_of_the_machine_is_refused(tmp_path):
    """cpus 3 with --cpus 2: the CLI says so before anything boots."""
    result = machine.run_config(tmp_path, spinners(("lost", "cpus 3\n")), timeout=60,
                                extra=["--cpus", "2"])
    assert result.code == wisptest.EXIT_USAGE, str(result)
    assert "domain 'lost': its cpus name no CPU of the machine (--cpus 2: pCPUs 0 to 1)" in \
        result.stderr, str(result)


@pytest.mark.boot
def test_cpus_naming_no_running_cpu_stops_the_boot_qemu(tmp_path):
    """cpus 1 on a machine that starts one CPU (maxcpus=1): Wisp refuses the domain."""
    result = machine.run_config(tmp_path, spinners(("lost", "cpus 1\n")), timeout=60,
                                extra=["--cpus", "2", "--verbose", "--hv-cmdline", "maxcpus=1"])
    assert result.code != wisptest.EXIT_POWEROFF, str(result)
    assert "d1 (lost): its cpus name no pCPU of this machine (pCPUs 0 to 0 here)" in \
        result.stderr, str(result)
    assert not any("SHARE" in line for line in result.stdout), str(result)


PAR_CHECKS = ["par_ap_started", "par_xapic_page_one_vcpu_at_a_time", "par_vcpus_run_at_once",
              "par_event_round_trips", "par_state_kept"]
# A domain's vCPUs on different pCPUs from the start (docs/smp.md).
SPREAD = ["--hv-cmdline", "spread_vcpus"]
ROUND_TRIP_RE = re.compile(r"^# event round trip between vCPUs: mean (\d+) us, worst (\d+) us")
MOVES_RE = re.compile(r"^\(wisp\) d1: (\d+) vCPU moves between pCPUs$", re.M)


@pytest.mark.boot
@pytest.mark.parametrize("placement", ["one-cpu", "spread", "balanced"])
def test_vcpus_of_one_domain_run_in_parallel(backend, guest, placement):
    """par64's two vCPUs: on two pCPUs each runs (almost) all the time, on one they share it;
    in xAPIC mode they take turns with the domain's one xAPIC page; each keeps the register
    state it set (SSE, SYSCALL MSRs, DR0, TSC_AUX). Spread, they start on pCPUs 0 and 1;
    balanced (the default), both start on pCPU 0 and the balancer moves one."""
    cpus = 1 if placement == "one-cpu" else 2
    extra = SPREAD if placement == "spread" else []
    result = wisptest.run_guest(guest("par64"), backend, "--verbose", "--vcpus", "2", "--cpus",
                                str(cpus), "--cmdline", f"pcpus={cpus}", *extra)
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    wisptest.assert_checks(result.stdout, PAR_CHECKS)
    spread = re.search(r"^\(wisp\) d1 \(guest\): .*, pCPU 0 \(vCPUs on 0,1\)$", result.stderr,
                       re.M)
    assert bool(spread) == (placement == "spread"), result.stderr
    moves = [int(n) for n in MOVES_RE.findall(result.stderr)]
    if placement == "balanced":
        assert moves and 1 <= moves[0] <= 10, result.stderr   # no back and forth
    else:
        assert not moves, result.stderr
    assert_no_leak(result)


@pytest.mark.boot
@pytest.mark.parametrize("variant", ["smp64", "events64", "vcpuop64"])
def test_vcpu_guests_with_vcpus_on_two_cpus(backend, guest, variant):
    """The SMP, event and VCPUOP guests with their vCPUs homed on two pCPUs: INIT/STARTUP,
    IPIs, event channels, timers, VCPUOP_initialise/up/down all cross pCPUs."""
    extra, expected = test_events.GUESTS[variant]
    result = wisptest.run_guest(guest(variant), backend, "--verbose", "--cpus", "2", *extra,
                                *SPREAD)
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    test_events.assert_expected_pass(result.stdout, expected, set())
    assert re.search(r"^\(wisp\) d1 \(guest\): .*\(vCPUs on 0,1", result.stderr, re.M), \
        result.stderr
    assert_no_leak(result)


@pytest.mark.boot
def test_linux_smp_guest_on_two_cpus_qemu():
    """A 2-vCPU Linux guest on two pCPUs: both vCPUs start on pCPU 0 and the balancer moves
    one when both want to run; the guest boots and sees both."""
    result = wisptest.run_wisp(["run", "--emulator", "qemu", "--timeout", "120", "--verbose",
                                "--vcpus", "2", "--cpus", "2", "--", "nproc"],
                               timeout=120 + wisptest.HARNESS_MARGIN_S)
    assert result.code == 0, str(result)
    assert "2" in [line.strip() for line in result.stdout], str(result)
    assert re.search(r"^\(wisp\) d1 \(guest\): .*, 2 vCPUs, .*, pCPU 0$", result.stderr, re.M), \
        result.stderr
    assert MOVES_RE.search(result.stderr), result.stderr
