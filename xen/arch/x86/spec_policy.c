/* spec_policy.c (hypervisor, pure): decides the speculative-execution mitigations from CPUID bits and ARCH_CAPABILITIES. */
#include "spec_policy.h"

/*
 * L1 Terminal Fault (Intel "L1 Terminal Fault" guidance, "Virtualization"):
 * a guest controls its own page tables and can read host data left in the L1D,
 * so a VMM flushes L1D before every entry on affected parts. Not affected:
 * RDCL_NO, or a VMM below us that flushes already (SKIP_L1DFL_VMENTRY).
 */
static bool l1tf_affected(const struct spec_cpu *c)
{
    return c->vendor == SPEC_VENDOR_INTEL &&
           !(c->arch_caps & (ARCH_CAPS_RDCL_NO | ARCH_CAPS_SKIP_L1DFL_VMENTRY));
}

/*
 * Buffers VERW clears (Intel "Microarchitectural Data Sampling" and "TSX
 * Asynchronous Abort" guidance): MDS unless MDS_NO; TAA on MDS_NO parts that
 * still have TSX and lack TAA_NO. On MD_CLEAR parts the L1D flush overwrites
 * these buffers too (MDS guidance, "VMM mitigations").
 */
static bool mds_or_taa_affected(const struct spec_cpu *c)
{
    bool tsx = c->cpuid7_ebx & (CPUID7_EBX_HLE | CPUID7_EBX_RTM);
    bool mds = !(c->arch_caps & ARCH_CAPS_MDS_NO);

    return c->vendor == SPEC_VENDOR_INTEL &&
           (mds || (tsx && !(c->arch_caps & ARCH_CAPS_TAA_NO)));
}

/* Register File Data Sampling (Intel guidance): VERW clears the register files where the
 * CPU says so (RFDS_CLEAR); the L1D flush does not. */
static bool rfds_affected(const struct spec_cpu *c)
{
    return c->vendor == SPEC_VENDOR_INTEL && (c->arch_caps & ARCH_CAPS_RFDS_CLEAR) &&
           !(c->arch_caps & ARCH_CAPS_RFDS_NO);
}

static bool has_ibpb(const struct spec_cpu *c)
{
    return (c->vendor == SPEC_VENDOR_INTEL && (c->cpuid7_edx & CPUID7_EDX_IBRS_IBPB)) ||
           (c->vendor == SPEC_VENDOR_AMD &&
            ((c->ext8_ebx & CPUID_EXT8_EBX_IBPB) || (c->cpuid7_edx & CPUID7_EDX_IBRS_IBPB)));
}

void spec_decide(const struct spec_cpu *c, struct spec_mitigations *m)
{
    bool x86 = c->vendor != SPEC_VENDOR_OTHER;

    *m = (struct spec_mitigations){ 0 };
    /* Branch predictions trained by one guest must not steer another (Spectre v2). */
    m->ibpb_on_domain_switch = has_ibpb(c);
    m->ibpb_missing = x86 && !m->ibpb_on_domain_switch;
    /*
     * A guest can leave return predictions the hypervisor would consume after
     * an exit (RSB underflow, Intel's post-barrier RSB, AMD's guidance for
     * SVM); Xen stuffs the RSB on every HVM exit on both vendors, and so do we.
     */
    m->rsb_stuff_on_exit = x86;
    m->eibrs = c->vendor == SPEC_VENDOR_INTEL && (c->arch_caps & ARCH_CAPS_IBRS_ALL);
    m->auto_ibrs = c->vendor == SPEC_VENDOR_AMD && (c->ext21_eax & CPUID_EXT21_EAX_AUTO_IBRS);

    if (l1tf_affected(c)) {
        m->l1d_flush_on_entry = c->cpuid7_edx & CPUID7_EDX_L1D_FLUSH;
        m->l1d_flush_missing = !m->l1d_flush_on_entry;
    }
    bool md_clear = c->cpuid7_edx & CPUID7_EDX_MD_CLEAR;
    bool l1d_clears_buffers = m->l1d_flush_on_entry && md_clear;
    bool need_verw = rfds_affected(c) || (mds_or_taa_affected(c) && !l1d_clears_buffers);

    m->verw_on_entry = need_verw && md_clear;
    m->verw_missing = need_verw && !md_clear;
}
