"""test_events (host tests): event channels (2-level and FIFO), upcalls, time, the virtual LAPIC and
SMP start-up, proved by the events32/events64, fifo32/fifo64, lapic64, smp64 and vcpuop64 guests
under QEMU (SVM) and Bochs (VMX).

Each guest prints one verdict line per check (docs/test-guests.md). Every check named
below must PASS. A check the hypervisor is known to fail is left out of its list, with
the bug beside it in KNOWN_BUGS: the guest still runs it and prints its verdict, so the
log shows it, but the run does not depend on it. Any check not listed at all fails the
run, so a new check must be added here (and to docs/abi-coverage.md).
"""
import re

import pytest

import wisptest

EVTCHN_CHECKS = [
    "evtchn_map_shared_info", "evtchn_alloc_unbound", "evtchn_status_unbound",
    "evtchn_bind_interdomain_loopback", "evtchn_bind_raises_local_port",
    "evtchn_bind_interdomain_by_domid", "evtchn_bind_interdomain_bad_port",
    "evtchn_bind_interdomain_absent_domain", "evtchn_shared_info_layout",
    "evtchn_send_sets_pending", "evtchn_send_sets_selector_and_upcall",
    "evtchn_send_other_direction", "evtchn_send_already_pending", "evtchn_masked_no_selector",
    "evtchn_unmask_reraises", "evtchn_unmask_not_pending_quiet",
    "evtchn_close_peer_unbound", "evtchn_close_twice", "evtchn_send_unbound_dropped",
    "evtchn_rebind_after_close", "evtchn_close_clears_pending_keeps_mask",
    "evtchn_bind_virq_timer", "evtchn_bind_virq_twice", "evtchn_bind_virq_bad_virq",
    "evtchn_bind_virq_bad_vcpu", "evtchn_send_virq_einval",
    "evtchn_bind_ipi", "evtchn_ipi_send", "evtchn_bind_ipi_bad_vcpu",
    "evtchn_hostile_ports", "evtchn_bad_pointer", "evtchn_fifo_ops_in_2level",
    "evtchn_pirq_and_unknown_enosys", "evtchn_reset", "evtchn_reset_keeps_console",
    "evtchn_foreign_domain", "evtchn_ports_run_out", "evtchn_ports_reused",
]
# 64-bit guests only: ports past the 32-bit layout's 1024.
EVTCHN_64_CHECKS = ["evtchn_port_4000_raised"]
# The FIFO ABI (fifo64, fifo32).
FIFO_CHECKS = [
    "fifo_map_shared_info", "fifo_2level_port_pending", "fifo_xsa188_bad_gfn_then_expand",
    "fifo_xsa188_bad_offset_then_good", "fifo_init_control_twice", "fifo_expand_array_bad_gfn",
    "fifo_expand_array", "fifo_pending_carried_over", "fifo_send_links_queue",
    "fifo_consume_in_order", "fifo_unmask_links_pending", "fifo_close_clears_pending",
    "fifo_set_priority", "fifo_upcall_priority_order", "fifo_many_ports",
    "fifo_unallocated_port_invalid", "fifo_ports_up_to_high", "fifo_port_above_65535",
    "fifo_poll_wakes_on_high_port",
    "fifo_ports_run_out",
    "fifo_expand_array_full", "fifo_reset_to_2level", "fifo_init_again",
]
# Only with a second vCPU to route events to.
EVTCHN_TWO_VCPU_CHECKS = [
    "evtchn_bind_virq_per_vcpu", "evtchn_bind_vcpu_unbound", "evtchn_bind_vcpu_routes",
    "evtchn_bind_vcpu_bad_vcpu", "evtchn_bind_vcpu_einval", "evtchn_bind_vcpu_global_virq",
    "time_pvclock_other_vcpu", "vcpu_runstate_other_vcpu",
]
UPCALL_CHECKS = [
    "upcall_callback_param", "upcall_not_with_if0", "upcall_delivered_after_sti",
    "upcall_wakes_hlt", "upcall_after_unmask", "upcall_delivered_once",
    "upcall_stress_if_respected",
    "upcall_vector_bad_args", "upcall_then_lapic_one_window", "upcall_vector_set",
    "upcall_vector_delivered", "upcall_vector_tpr_blocks", "upcall_vector_timer",
]
TIME_CHECKS = [
    "time_pvclock_version", "time_pvclock_tsc_stable", "time_pvclock_monotonic",
    "time_pvclock_advances", "time_wallclock", "time_bind_timer_virq",
    "time_singleshot_past_fires", "time_singleshot_future", "time_singleshot_future_flag_etime",
    "time_singleshot_future_flag_ok", "time_singleshot_stop", "time_singleshot_rearm_replaces",
    "time_timer_wakes_hlt", "time_periodic_bad_period", "time_periodic_fires",
    "time_periodic_stop", "time_set_timer_op", "time_set_timer_op_cancel", "time_timer_storm",
    "sched_poll_timeout", "sched_poll_pending_returns_at_once", "sched_poll_wakes_on_event",
    "sched_poll_no_timeout_waits_for_event", "sched_poll_bad_args",
    "sched_block_wakes_on_event", "sched_block_returns_if_pending", "sched_block_event_delivered",
    "vcpu_runstate_area", "vcpu_get_runstate_info", "vcpu_runstate_blocked_time",
    "vcpu_runstate_bad_pointer", "vcpu_time_area", "vcpu_time_area_unregister",
]
LAPIC_CHECKS = [
    "lapic_cpuid", "lapic_apic_base_reset",
    "xapic_version", "xapic_id", "xapic_svr_reset", "xapic_lvt_masked_while_disabled",
    "xapic_svr_enable", "xapic_tpr", "xapic_timer_current_count", "xapic_timer_fires",
    "xapic_eoi", "xapic_svr_disable_masks",
    "x2apic_enable", "x2apic_id_version_ldr", "x2apic_svr", "x2apic_tpr_ppr",
    "x2apic_self_ipi_msr", "x2apic_self_ipi_icr", "x2apic_ipi_shorthands",
    "x2apic_ipi_absent_destination", "x2apic_ipi_logical_self", "x2apic_priority_order",
    "x2apic_two_pending_one_window",
    "x2apic_tpr_holds", "x2apic_self_ipi_wakes_hlt", "x2apic_esr", "x2apic_lvt_error",
    "x2apic_timer_oneshot", "x2apic_timer_divide", "x2apic_timer_periodic",
    "x2apic_timer_masked", "x2apic_gp", "lapic_disable_resets", "x2apic_nmi_ipi",
    "vcpu_send_nmi",
]
SMP_CHECKS = [
    "smp_ap_down_at_boot", "smp_trampoline_placed", "smp_ipi_to_absent_apic",
    "smp_sipi_starts_ap", "smp_ap_real_mode_entry", "smp_ap_long_mode", "smp_vcpu_is_up",
    "smp_ap_apic", "smp_fixed_ipi", "smp_ipi_all_but_self", "smp_ipi_all", "smp_ipi_logical",
    "smp_ipi_logical_both", "smp_ipi_from_ap", "smp_evtchn_ipi_to_ap_bound",
    "smp_evtchn_ipi_to_ap", "smp_evtchn_bind_vcpu", "smp_ap_timer", "smp_xcr0_shrink_across_switch",
    "smp_cr2_kept_across_switch", "smp_ap_cli_hlt_goes_down",
    "smp_sipi_needs_init", "smp_ap_restart", "smp_fixed_ipi_after_restart",
    "smp_init_to_bsp_ignored",
]
VCPUOP_CHECKS = [
    "vcpuop_up_needs_initialise", "vcpuop_initialise_running_vcpu",
    "vcpuop_initialise_absent_vcpu", "vcpuop_initialise_bad_pointer", "vcpuop_initialise_hostile",
    "vcpuop_initialise_64", "vcpuop_initialise_twice", "vcpuop_up_64", "vcpuop_64_registers",
    "vcpuop_64_control_state", "vcpuop_up_running_vcpu", "vcpuop_up_32", "vcpuop_32_registers",
    "vcpuop_down_other", "vcpuop_down_twice", "vcpuop_others_run_on", "vcpuop_up_resumes",
    "vcpuop_down_self", "vcpuop_down_self_returns_on_up", "vcpuop_init_ipi_resets",
]

# check -> (backends where the hypervisor fails it, the bug). Remove an entry once fixed.
KNOWN_BUGS = {}     # name -> ({backends}, "hypervisor bug: ..."); none open

# guest -> (extra wisp run arguments, the checks it must pass)
GUESTS = {
    "events64": (["--vcpus", "2"],
                 EVTCHN_CHECKS + EVTCHN_64_CHECKS + EVTCHN_TWO_VCPU_CHECKS + UPCALL_CHECKS +
                 TIME_CHECKS),
    "events32": (["--vcpus", "2"],
                 EVTCHN_CHECKS + EVTCHN_TWO_VCPU_CHECKS + UPCALL_CHECKS + TIME_CHECKS),
    "fifo64": ([], FIFO_CHECKS),
    "fifo32": ([], FIFO_CHECKS),
    "lapic64": ([], LAPIC_CHECKS),
    "smp64": (["--vcpus", "2"], SMP_CHECKS),
    "vcpuop64": (["--vcpus", "3"], VCPUOP_CHECKS),
}


def assert_expected_pass(lines, expected, allowed_to_fail):
    """Every expected check PASSes; the known-bug ones may say anything; nothing else appears."""
    checks, done = wisptest.parse_checks(lines)
    assert done is not None, ("no 'CHECKS DONE' line: the guest stopped early or timed out "
                              f"after {len(checks)} check(s)")
    assert done == len(checks), f"CHECKS DONE {done}, but {len(checks)} CHECK lines"
    failed = {n: d for n, (v, d) in checks.items() if v == "FAIL" and n not in allowed_to_fail}
    assert not failed, "failed checks: " + "; ".join(f"{n}: {d}" for n, d in failed.items())
    missing = set(expected) - set(checks)
    assert not missing, f"checks never reported: {sorted(missing)}"
    unknown = set(checks) - set(expected) - set(allowed_to_fail)
    assert not unknown, f"checks not listed in test_events.py: {sorted(unknown)}"
    return checks


@pytest.mark.boot
@pytest.mark.parametrize("variant", sorted(GUESTS))
def test_event_guest(backend, guest, variant):
    extra, expected = GUESTS[variant]
    known = {name for name, (backends, _) in KNOWN_BUGS.items() if backend in backends}
    result = wisptest.run_guest(guest(variant), backend, *extra)
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    assert_expected_pass(result.stdout, [c for c in expected if c not in known], known)


@pytest.mark.boot
def test_events_with_one_vcpu(backend, guest):
    """With one vCPU the events guest skips the routing checks and sees vCPU 1 as absent."""
    known = {name for name, (backends, _) in KNOWN_BUGS.items() if backend in backends}
    expected = [c for c in EVTCHN_CHECKS + EVTCHN_64_CHECKS + UPCALL_CHECKS + TIME_CHECKS
                if c not in known]
    result = wisptest.run_guest(guest("events64"), backend)
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    checks = assert_expected_pass(result.stdout, expected, known)
    assert not set(EVTCHN_TWO_VCPU_CHECKS) & set(checks)


@pytest.mark.boot
def test_fifo_guest_gives_back_every_frame(backend, guest):
    """fifo64 ends with 131071 ports bound (1024 bucket and 2 directory pages) and FIFO on and
    off: all freed."""
    result = wisptest.run_guest(guest("fifo64"), backend, "--verbose")
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    frames = re.findall(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", result.stderr, re.M)
    assert len(frames) == 1 and frames[0][0] == frames[0][1], str(result)


def test_known_bugs_are_listed_checks():
    """A KNOWN_BUGS entry names a real check and says what is wrong."""
    every = set().union(*(set(checks) for _, checks in GUESTS.values()))
    for name, (backends, why) in KNOWN_BUGS.items():
        assert name in every, name
        assert backends <= {"qemu", "bochs"} and why.startswith("hypervisor bug"), name
