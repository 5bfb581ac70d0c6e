/* test_spec_policy.c (host test): the speculation mitigations chosen for CPUs as they report themselves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "spec_policy.h"

#define INTEL_FULL_UCODE (CPUID7_EDX_MD_CLEAR | CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_L1D_FLUSH)

static struct spec_mitigations decide(struct spec_cpu cpu)
{
    struct spec_mitigations m;

    spec_decide(&cpu, &m);
    return m;
}

/* Skylake-era client/server with current microcode and no ARCH_CAPABILITIES: L1TF and MDS. */
static void test_intel_l1tf_part_flushes_l1d_which_covers_mds(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_INTEL, .cpuid7_ebx = CPUID7_EBX_RTM, .cpuid7_edx = INTEL_FULL_UCODE });

    assert_true(m.ibpb_on_domain_switch);
    assert_true(m.rsb_stuff_on_exit);
    assert_true(m.l1d_flush_on_entry);
    assert_false(m.verw_on_entry);
    assert_false(m.eibrs);
    assert_false(m.ibpb_missing || m.verw_missing || m.l1d_flush_missing);
}

/* Cascade Lake: not L1TF or MDS, but TSX is on and TAA_NO clear: VERW for TAA; eIBRS. */
static void test_intel_taa_part_uses_verw(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_INTEL, .cpuid7_ebx = CPUID7_EBX_HLE | CPUID7_EBX_RTM,
        .cpuid7_edx = INTEL_FULL_UCODE | CPUID7_EDX_ARCH_CAPS,
        .arch_caps = ARCH_CAPS_RDCL_NO | ARCH_CAPS_IBRS_ALL | ARCH_CAPS_MDS_NO });

    assert_false(m.l1d_flush_on_entry);
    assert_true(m.verw_on_entry);
    assert_true(m.eibrs);
    assert_true(m.ibpb_on_domain_switch);
}

/* Ice Lake server: none of L1TF, MDS, TAA. */
static void test_intel_unaffected_part_needs_no_verw_or_flush(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_INTEL, .cpuid7_ebx = CPUID7_EBX_RTM,
        .cpuid7_edx = INTEL_FULL_UCODE | CPUID7_EDX_ARCH_CAPS,
        .arch_caps = ARCH_CAPS_RDCL_NO | ARCH_CAPS_IBRS_ALL | ARCH_CAPS_MDS_NO | ARCH_CAPS_TAA_NO });

    assert_false(m.l1d_flush_on_entry);
    assert_false(m.verw_on_entry);
    assert_true(m.rsb_stuff_on_exit);
    assert_false(m.verw_missing || m.l1d_flush_missing);
}

/* An old BIOS's microcode: affected by everything, and no means to act. */
static void test_intel_without_microcode_reports_what_is_missing(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){ .vendor = SPEC_VENDOR_INTEL });

    assert_false(m.ibpb_on_domain_switch || m.verw_on_entry || m.l1d_flush_on_entry);
    assert_true(m.ibpb_missing);
    assert_true(m.verw_missing);
    assert_true(m.l1d_flush_missing);
    assert_true(m.rsb_stuff_on_exit);      /* needs no microcode */
}

/* L1D_FLUSH without MD_CLEAR: the flush does not clear the MDS buffers then. */
static void test_l1d_flush_without_md_clear_leaves_mds_open(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_INTEL, .cpuid7_edx = CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_IBRS_IBPB });

    assert_true(m.l1d_flush_on_entry);
    assert_false(m.verw_on_entry);
    assert_true(m.verw_missing);
}

/* Nested under a VMM that flushes L1D itself (SKIP_L1DFL_VMENTRY): VERW for MDS instead. */
static void test_nested_skip_l1d_flush_falls_back_to_verw(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_INTEL, .cpuid7_edx = INTEL_FULL_UCODE | CPUID7_EDX_ARCH_CAPS,
        .arch_caps = ARCH_CAPS_SKIP_L1DFL_VMENTRY });

    assert_false(m.l1d_flush_on_entry);
    assert_false(m.l1d_flush_missing);
    assert_true(m.verw_on_entry);
}

/* An Atom with RFDS: VERW clears the register files there. */
static void test_rfds_part_uses_verw(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_INTEL, .cpuid7_edx = INTEL_FULL_UCODE | CPUID7_EDX_ARCH_CAPS,
        .arch_caps = ARCH_CAPS_RDCL_NO | ARCH_CAPS_MDS_NO | ARCH_CAPS_TAA_NO |
                     ARCH_CAPS_RFDS_CLEAR });

    assert_true(m.verw_on_entry);
    struct spec_mitigations fixed = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_INTEL, .cpuid7_edx = INTEL_FULL_UCODE | CPUID7_EDX_ARCH_CAPS,
        .arch_caps = ARCH_CAPS_RDCL_NO | ARCH_CAPS_MDS_NO | ARCH_CAPS_TAA_NO |
                     ARCH_CAPS_RFDS_CLEAR | ARCH_CAPS_RFDS_NO });

    assert_false(fixed.verw_on_entry);
}

/* AMD: IBPB from 0x80000008, RSB stuffing; no Intel-only flushes, whatever bits are set. */
static void test_amd_gets_ibpb_and_rsb_only(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_AMD, .ext8_ebx = CPUID_EXT8_EBX_IBPB,
        .cpuid7_edx = CPUID7_EDX_MD_CLEAR | CPUID7_EDX_L1D_FLUSH });

    assert_true(m.ibpb_on_domain_switch);
    assert_true(m.rsb_stuff_on_exit);
    assert_false(m.verw_on_entry || m.l1d_flush_on_entry || m.eibrs || m.auto_ibrs);
    assert_false(m.verw_missing || m.l1d_flush_missing || m.ibpb_missing);
}

static void test_amd_zen4_turns_on_automatic_ibrs(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_AMD, .ext8_ebx = CPUID_EXT8_EBX_IBPB,
        .ext21_eax = CPUID_EXT21_EAX_AUTO_IBRS });

    assert_true(m.auto_ibrs);
    assert_false(decide((struct spec_cpu){ .vendor = SPEC_VENDOR_AMD }).auto_ibrs);
    assert_true(decide((struct spec_cpu){ .vendor = SPEC_VENDOR_AMD }).ibpb_missing);
}

/* Intel's bits on an AMD part and AMD's on an Intel part are ignored. */
static void test_bits_count_only_for_their_vendor(void **state)
{
    assert_false(decide((struct spec_cpu){ .vendor = SPEC_VENDOR_INTEL,
                                           .ext8_ebx = CPUID_EXT8_EBX_IBPB,
                                           .ext21_eax = CPUID_EXT21_EAX_AUTO_IBRS })
                     .ibpb_on_domain_switch);
    assert_false(decide((struct spec_cpu){ .vendor = SPEC_VENDOR_AMD, .cpuid7_edx = CPUID7_EDX_ARCH_CAPS,
                                           .arch_caps = ARCH_CAPS_IBRS_ALL }).eibrs);
}

static void test_unknown_vendor_gets_nothing(void **state)
{
    struct spec_mitigations m = decide((struct spec_cpu){
        .vendor = SPEC_VENDOR_OTHER, .cpuid7_edx = ~0u, .ext8_ebx = ~0u, .arch_caps = ~0ull });

    assert_false(m.ibpb_on_domain_switch || m.rsb_stuff_on_exit || m.verw_on_entry ||
                 m.l1d_flush_on_entry || m.eibrs || m.auto_ibrs);
    assert_false(m.ibpb_missing || m.verw_missing || m.l1d_flush_missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intel_l1tf_part_flushes_l1d_which_covers_mds),
        cmocka_unit_test(test_intel_taa_part_uses_verw),
        cmocka_unit_test(test_intel_unaffected_part_needs_no_verw_or_flush),
        cmocka_unit_test(test_intel_without_microcode_reports_what_is_missing),
        cmocka_unit_test(test_l1d_flush_without_md_clear_leaves_mds_open),
        cmocka_unit_test(test_nested_skip_l1d_flush_falls_back_to_verw),
        cmocka_unit_test(test_rfds_part_uses_verw),
        cmocka_unit_test(test_amd_gets_ibpb_and_rsb_only),
        cmocka_unit_test(test_amd_zen4_turns_on_automatic_ibrs),
        cmocka_unit_test(test_bits_count_only_for_their_vendor),
        cmocka_unit_test(test_unknown_vendor_gets_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
