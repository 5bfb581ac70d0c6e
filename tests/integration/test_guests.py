"""test_guests (host tests): the in-repo PVH guests on Wisp, under QEMU (SVM) and Bochs (VMX).

Each checks guest prints one verdict line per check; the same suite must pass on
both backends. The act guest ends in one chosen way; Wisp must report it with
the documented exit code and stay in control (its own end line is printed).
"""
import re
import subprocess

import pytest

import wisptest

# Every check the ABI coverage table (docs/abi-coverage.md) cites.
EXPECTED_CHECKS = [
    "start_info_magic", "start_info_location", "start_info_after_image",
    "start_info_cmdline", "start_info_memmap",
    "cpuid_xen_signature", "cpuid_xen_version", "cpuid_xen_hypercall_msr", "cpuid_xen_leaf4",
    "hypercall_page_stubs", "hypercall_page_call", "hypercall_direct", "hypercall_other_vendor",
    "hypercall_unknown",
    "xen_version_extraversion", "xen_version_features", "xen_version_features_bad_index",
    "xen_version_unknown", "xen_version_bad_pointer", "xen_version_features_bad_pointer",
    "console_write", "console_write_empty", "console_write_bad_pointer",
    "console_write_huge_length", "console_io_unknown_cmd",
    "sched_yield", "sched_unknown", "sched_shutdown_bad_pointer",
    "memory_map", "memory_map_small_buffer", "memory_map_bad_buffer", "memory_map_bad_pointer",
    "memory_set_memory_map", "memory_set_memory_map_refused", "memory_set_memory_map_bad_pointer",
    "memory_set_memory_map_bad_buffer", "memory_set_memory_map_restore",
    "memory_current_reservation", "memory_maximum_reservation", "memory_maximum_ram_page",
    "memory_maximum_gpfn", "memory_query_bad_domid", "memory_query_continued",
    "memory_current_reservation_bad_pointer", "memory_maximum_reservation_bad_pointer",
    "memory_maximum_gpfn_bad_pointer",
    "decrease_reservation_twice", "populate_physmap_twice", "reservation_follows_balloon",
    "reservation_refused", "decrease_reservation_bad_pointer", "decrease_reservation_bad_list",
    "add_to_physmap_shared_info", "shared_info_leaves_hole_all_ones", "add_to_physmap_bad_space",
    "add_to_physmap_foreign_domid",
    "add_to_physmap_bad_pointer",
    "hvm_get_param_store_pfn", "hvm_get_param_console_pfn", "hvm_get_param_bad_index",
    "hvm_set_param_callback_irq", "hvm_param_bad_domid", "hvm_param_bad_pointer",
    "hvm_op_unknown",
    "vcpu_is_up", "vcpu_op_bad_vcpu", "vcpu_register_vcpu_info_bad_gfn",
    "vcpu_register_vcpu_info_bad_offset", "vcpu_op_bad_pointer",
    "msr_unknown_read_gp", "msr_unknown_write_gp", "io_in_port80_ones", "io_in_port80_value", "io_in_pit_zero", "io_in_pit_value",
    "io_pci_config_ok", "io_pci_config_address_kept", "io_pci_config_data_ones",
    "io_string_gp", "io_out_e9_ok",
    "fault_ud_caught", "fault_pf_caught",
    # The CPU interface (tests/guests/cpu_checks.c).
    "xsetbv_invalid_gp", "xsetbv_valid_values", "cr4_hidden_bits_gp", "cr4_valid_write",
    "efer_ffxsr_follows_cpuid", "efer_reserved_gp",
    "msr_debugctl", "msr_ucode_revision", "msr_intel_only", "msr_amd_only",
    "msr_misc_features_enables",
    "msr_follow_cpuid",
    "invd_no_fault", "wbinvd_no_fault", "rdpmc_gp",
    "mmio_ioapic_reads_ones", "mmio_hpet_reads_ones", "mmio_hole_reads_ones",
    "mmio_hole_end_reads_ones",
]


@pytest.mark.boot
@pytest.mark.parametrize("variant", [
    pytest.param("checks64", marks=pytest.mark.smoke),
    "checks32",
    "checks32pae",
])
def test_checks_pass(backend, guest, variant):
    result = wisptest.run_guest(guest(variant), backend, "--verbose", "--cmdline",
                                "wisp-test-cmdline")
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    # With paging off there are no page faults to take.
    expected = [c for c in EXPECTED_CHECKS if not (variant == "checks32" and c == "fault_pf_caught")]
    wisptest.assert_checks(result.stdout, expected)
    # INVD, WBINVD and RDPMC exited on both backends (QEMU runs INVD natively as a no-op, so
    # only the exit count shows that SVM intercepts it).
    assert re.search(r"d1:\s+invd/wbinvd\s+2$", result.stderr, re.M), result.stderr
    assert re.search(r"d1:\s+rdpmc\s+1$", result.stderr, re.M), result.stderr
    if backend == "bochs":
        # Bochs' tigerlake has AVX-512: xsetbv_invalid_gp tried the values that used to panic.
        assert "# xcr0 supported 0xe7 (AVX-512)" in result.stdout, str(result)


@pytest.mark.boot
def test_elf32_x86_64_image_boots(backend, guest, tmp_path):
    """checks64 as `objcopy -O elf32-x86-64` makes it (how XTF ships its hvm64 tests):
    ELFCLASS32 headers with e_machine EM_X86_64. Xen boots such images; so must Wisp,
    and the CLI's own kernel check must let it through."""
    kernel = tmp_path / "checks64-elf32.elf"
    subprocess.run(["objcopy", "-O", "elf32-x86-64", str(guest("checks64")), str(kernel)],
                   check=True)
    header = kernel.read_bytes()[:20]
    assert header[4] == 1 and int.from_bytes(header[18:20], "little") == 62  # ELFCLASS32, EM_X86_64
    result = wisptest.run_guest(kernel, backend, "--cmdline", "wisp-test-cmdline")
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    wisptest.assert_checks(result.stdout, EXPECTED_CHECKS)


# act=<how> -> (exit code, text Wisp must log on the way).
ACTS = {
    "poweroff": (wisptest.EXIT_POWEROFF, "shutdown: poweroff"),
    "halt": (wisptest.EXIT_POWEROFF, "halted with interrupts off"),
    "vcpu-down": (wisptest.EXIT_POWEROFF, "went down (VCPUOP_down), the last one running"),
    "reboot": (wisptest.EXIT_GUEST_REBOOT, "shutdown: reboot"),
    "crash": (wisptest.EXIT_GUEST_CRASH, "shutdown: crash"),
    "triple": (wisptest.EXIT_GUEST_CRASH, "crashed: triple fault"),
    "ud": (wisptest.EXIT_GUEST_CRASH, "crashed: triple fault"),
    "npf": (wisptest.EXIT_GUEST_CRASH, "crashed: nested page fault at guest-physical 0xf0000000"),
    # The device hole reads all ones but is read-only.
    "hole-write": (wisptest.EXIT_GUEST_CRASH,
                   "crashed: nested page fault at guest-physical 0xfec00000 (w)"),
}


@pytest.mark.boot
@pytest.mark.parametrize("act", sorted(ACTS))
def test_act_exit_code(backend, guest, act):
    code, logged = ACTS[act]
    result = wisptest.run_guest(guest("act64"), backend, "--verbose", "--cmdline", f"act={act}")
    assert f"ACT {act}" in result.stdout, str(result)
    assert result.code == code, str(result)
    assert logged in result.stderr, str(result)
    # The hypervisor outlived the guest and ended the machine itself.
    assert "(wisp) end: " in result.stderr, str(result)
    # ... after tearing the domain down, whichever way it ended: no frame lost.
    frames = re.findall(r"^\(wisp\) free frames: boot (\d+), end (\d+)$", result.stderr, re.M)
    assert len(frames) == 1 and frames[0][0] == frames[0][1], str(result)


@pytest.mark.boot
def test_spinning_guest_times_out(backend, guest):
    result = wisptest.run_guest(guest("act64"), backend, "--cmdline", "act=spin", timeout=15)
    assert "ACT spin" in result.stdout, str(result)
    assert result.code == wisptest.EXIT_TIMEOUT, str(result)
    assert not result.timed_out, "wisp itself must stop at its --timeout"


@pytest.mark.boot
def test_guest_output_cannot_forge_hypervisor_lines(backend, guest):
    """bigprint floods the console; every line still arrives as guest output, in order."""
    result = wisptest.run_guest(guest("act64"), backend, "--cmdline", "act=bigprint")
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    assert not any(line.startswith("(wisp)") for line in result.stdout)


DUAL_CONSOLE_LINES = [
    "ACT dual-console",
    "dual 1: --- Xen Test Framework ---",
    "dual 2: Environment: HVM 64bit (Long mode 4 levels)",
    "dual 3: ******************************",
    "dual 4: PANIC: something went wrong",
    "dual 5: ******************************",
    "dual 7: the end",
]


@pytest.mark.boot
def test_console_io_and_ring_lines_shown_once(backend, guest):
    """act=dual-console writes like XTF and Mini-OS: each message through CONSOLEIO_write,
    then through the PV console ring. The user sees each line once, in order, never
    interleaved ("PANIC: PANIC: ..."); console_io text written after the ring is in use
    ("dual 6") is hypervisor-log material (docs/cli.md, "Guest console output")."""
    result = wisptest.run_guest(guest("act64"), backend, "--cmdline", "act=dual-console")
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    shown = [line for line in result.stdout if line.startswith(("ACT", "dual"))]
    assert shown == DUAL_CONSOLE_LINES, str(result)


@pytest.mark.boot
def test_console_io_after_ring_goes_to_debug_log(guest):
    """With loglevel=debug the console_io copies are in the hypervisor's log, sanitised."""
    result = wisptest.run_guest(guest("act64"), "qemu", "--verbose", "--hv-cmdline",
                                "loglevel=debug", "--cmdline", "act=dual-console")
    assert result.code == wisptest.EXIT_POWEROFF, str(result)
    assert "(wisp) d1 console_io: dual 6: console_io only, after the ring" in result.stderr
    assert "(wisp) d1 console_io: dual 7: the end" in result.stderr
    shown = [line for line in result.stdout if line.startswith(("ACT", "dual"))]
    assert shown == DUAL_CONSOLE_LINES, str(result)


@pytest.mark.boot
def test_unloadable_kernel_is_a_panic(backend, tmp_path):
    """A PVH ELF whose image lies beyond the guest's RAM: no domain starts, Wisp panics."""
    kernel = tmp_path / "far.elf"
    kernel.write_bytes(wisptest.make_elf(pvh_note=True, entry=0x7f000000, paddr=0x7f000000))
    result = wisptest.run_guest(kernel, backend, "--verbose", "--memory", "64")
    assert result.code == wisptest.EXIT_HV_PANIC, str(result)
    assert "no domain could be started" in result.stderr, str(result)


@pytest.mark.boot
def test_no_virtualization_is_reported(guest, tmp_path):
    """A CPU without SVM (QEMU's last -cpu wins): Wisp says what is missing and stops."""
    qemu = tmp_path / "qemu-without-svm"
    qemu.write_text('#!/bin/sh\nexec qemu-system-x86_64 "$@" -cpu max,svm=off\n')
    qemu.chmod(0o755)
    result = wisptest.run_guest(guest("checks64"), "qemu", "--verbose",
                                env={"WISP_QEMU": str(qemu)})
    assert result.code == wisptest.EXIT_HV_PANIC, str(result)
    # Each backend says why it cannot run (QEMU drops the SVM leaf along with the flag).
    assert "(wisp) AMD SVM + NPT: no extended CPUID leaf 0x8000000a" in result.stderr, str(result)
    assert "(wisp) Intel VMX + EPT: CPUID.1:ECX.VMX is clear" in result.stderr, str(result)
    assert "no usable hardware virtualization" in result.stderr, str(result)
