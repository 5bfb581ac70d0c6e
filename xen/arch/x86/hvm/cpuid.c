/* cpuid.c (hypervisor): what a guest's CPUID says: the host's features minus what we do not
 * virtualize, plus Xen's identification leaves. */
#include "env.h"
#include "domain.h"
#include "exit.h"
#include "version.h"
#include "x86.h"
#include "xen/cpuid.h"

/* Leaf 1 (SDM vol 2, CPUID, tables 3-10 and 3-11). */
#define L1_ECX_DTES64     (1u << 2)
#define L1_ECX_MONITOR    (1u << 3)     /* MONITOR/MWAIT: not offered */
#define L1_ECX_DS_CPL     (1u << 4)
#define L1_ECX_VMX        (1u << 5)     /* no nested virtualization */
#define L1_ECX_SMX        (1u << 6)
#define L1_ECX_EST        (1u << 7)
#define L1_ECX_TM2        (1u << 8)
#define L1_ECX_PDCM       (1u << 15)
#define L1_ECX_PCID       (1u << 17)
#define L1_ECX_X2APIC     (1u << 21)    /* our virtual LAPIC speaks x2APIC */
#define L1_ECX_TSC_DEADLINE (1u << 24)   /* the virtual LAPIC has no TSC-deadline mode */
#define L1_ECX_XSAVE      (1u << 26)
#define L1_ECX_OSXSAVE    (1u << 27)    /* mirrors the guest's CR4.OSXSAVE */
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_VME        (1u << 1)
#define L1_EDX_MCE        (1u << 7)
#define L1_EDX_APIC       (1u << 9)
#define L1_EDX_MTRR       (1u << 12)
#define L1_EDX_MCA        (1u << 14)
#define L1_EDX_PSN        (1u << 18)
#define L1_EDX_HTT        (1u << 28)    /* every vCPU is its own package */
#define L1_EDX_DS         (1u << 21)
#define L1_EDX_ACPI       (1u << 22)
#define L1_EDX_TM         (1u << 29)
#define L1_EDX_PBE        (1u << 31)
#define L1_EBX_APIC_ID_SHIFT 24

#define L1_ECX_HIDDEN (L1_ECX_DTES64 | L1_ECX_MONITOR | L1_ECX_DS_CPL | L1_ECX_VMX | L1_ECX_SMX | \
                       L1_ECX_EST | L1_ECX_TM2 | L1_ECX_PDCM | L1_ECX_TSC_DEADLINE | \
                       L1_ECX_OSXSAVE)
#define L1_EDX_HIDDEN (L1_EDX_MCE | L1_EDX_MTRR | L1_EDX_MCA | L1_EDX_PSN | \
                       L1_EDX_DS | L1_EDX_ACPI | L1_EDX_TM | L1_EDX_PBE | L1_EDX_HTT)

/* Leaf 6: only "APIC timer always running". */
#define L6_EAX_ARAT (1u << 2)

/* Leaf 7 subleaf 0: features with a CR4 bit of their own. */
#define L7_EBX_FSGSBASE   (1u << 0)
#define L7_EBX_SMEP       (1u << 7)
#define L7_EBX_SMAP       (1u << 20)
#define L7_ECX_UMIP       (1u << 2)
/* Leaf 7 subleaf 0: features whose MSRs, instructions or CR4 bits we do not offer. */
#define L7_EBX_TSC_ADJUST (1u << 1)     /* the TSC is not offset, so no IA32_TSC_ADJUST */
#define L7_EBX_SGX        (1u << 2)
#define L7_EBX_PQM        (1u << 12)
#define L7_EBX_PQE        (1u << 15)
#define L7_ECX_PKU        (1u << 3)     /* CR4.PKE: PKRU would need switching without XSAVE */
#define L7_ECX_OSPKE      (1u << 4)
#define L7_ECX_WAITPKG    (1u << 5)
#define L7_ECX_CET_SS     (1u << 7)     /* CR4.CET and the CET MSRs are not offered */
#define L7_ECX_LA57       (1u << 16)
#define L7_ECX_SGX_LC     (1u << 30)
#define L7_EDX_SPEC_CTRL_MSRS (0x3fu << 26)   /* IBRS/IBPB, STIBP, L1D_FLUSH, ARCH_CAP, CORE_CAP, SSBD */
#define L7_EDX_HYBRID     (1u << 15)
#define L7_EDX_CET_IBT    (1u << 20)

/* 0x80000001 (AMD APM vol 3, E.4.2). */
#define E1_ECX_CMP_LEGACY (1u << 1)
#define E1_ECX_SVM        (1u << 2)
#define E1_ECX_EXT_APIC   (1u << 3)     /* AMD extended APIC space: not in our LAPIC */
#define E1_ECX_TOPOEXT    (1u << 22)
#define E1_ECX_IBS        (1u << 10)
#define E1_ECX_SKINIT     (1u << 12)
#define E1_ECX_WDT        (1u << 13)
#define E1_ECX_PERFCTR    (0x7u << 23)      /* core, NB and L2 performance counters */
#define E1_ECX_TCE        (1u << 17)        /* EFER.TCE is not offered */

/* 0x80000008 EBX: speculation-control MSRs (IBPB, IBRS, STIBP, SSBD, VIRT_SSBD...). */
#define E8_EBX_SPEC_CTRL_MSRS ((1u << 12) | (1u << 14) | (1u << 15) | (1u << 24) | (1u << 25))

#define LEAF4_EAX_CORES_MASK (0x3fu << 26)   /* cores per package - 1 */

/* Leaf 0xD (SDM vol 1, 13.2): XCR0 components; PKRU goes with PKU. Subleaf 1 ECX:EDX are the
 * IA32_XSS components, and IA32_XSS is not offered. */
#define XSTATE_PKRU_BIT 9
#define XSTATE_SUBLEAF_XSS 1

static void xen_leaves(const struct vcpu *v, uint32_t leaf, struct cpuid_regs *r)
{
    *r = (struct cpuid_regs){ 0 };
    switch (leaf - XEN_CPUID_FIRST_LEAF) {
    case 0:     /* highest leaf and the "XenVMMXenVMM" signature */
        r->eax = XEN_CPUID_LEAF(XEN_CPUID_MAX_NUM_LEAVES - 1);
        r->ebx = XEN_CPUID_SIGNATURE_EBX;
        r->ecx = XEN_CPUID_SIGNATURE_ECX;
        r->edx = XEN_CPUID_SIGNATURE_EDX;
        break;
    case 1:     /* version */
        r->eax = (XEN_COMPAT_MAJOR << 16) | XEN_COMPAT_MINOR;
        break;
    case 2:     /* hypercall pages: one, installed through MSR 0x40000000 */
        r->eax = 1;
        r->ebx = XEN_HYPERCALL_PAGE_MSR;
        break;
    case 4:     /* HVM features: the vCPU and domain ids are given */
        r->eax = XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT;
        r->ebx = v->id;
        r->ecx = v->dom->id;
        break;
    }
}

static bool guest_osxsave(const struct vcpu *v)
{
    struct vcpu_ctrl_regs cr;

    hvm->get_ctrl_regs((struct vcpu *)v, &cr);
    return cr.cr4 & X86_CR4_OSXSAVE;
}

static void filter_xstate(uint32_t subleaf, struct cpuid_regs *r)
{
    if (subleaf == 0)
        r->eax &= ~(1u << XSTATE_PKRU_BIT);
    else if (subleaf == XSTATE_SUBLEAF_XSS)
        r->ecx = r->edx = 0;
    else if (subleaf == XSTATE_PKRU_BIT)
        *r = (struct cpuid_regs){ 0 };
}

static void filter_basic(const struct vcpu *v, uint32_t leaf, uint32_t subleaf,
                         struct cpuid_regs *r)
{
    switch (leaf) {
    case 1:
        r->ecx &= ~L1_ECX_HIDDEN;
        r->ecx |= L1_ECX_HYPERVISOR | L1_ECX_X2APIC;
        if ((r->ecx & L1_ECX_XSAVE) && guest_osxsave(v))
            r->ecx |= L1_ECX_OSXSAVE;
        r->edx = (r->edx & ~L1_EDX_HIDDEN) | L1_EDX_APIC;
        /* Initial APIC ID = vCPU id, as the LAPIC ID register and the MADT say; one logical CPU. */
        r->ebx = (r->ebx & 0xffffu) | (1u << 16) | (v->id << L1_EBX_APIC_ID_SHIFT);
        break;
    case 4:
        r->eax &= ~LEAF4_EAX_CORES_MASK;
        break;
    case 5: case 0xa: case 0xb: case 0x1f:   /* MWAIT, perfmon, topology: not offered */
        *r = (struct cpuid_regs){ 0 };
        break;
    case 6:
        *r = (struct cpuid_regs){ .eax = L6_EAX_ARAT };
        break;
    case 7:
        r->ebx &= ~(L7_EBX_TSC_ADJUST | L7_EBX_SGX | L7_EBX_PQM | L7_EBX_PQE);
        r->ecx &= ~(L7_ECX_PKU | L7_ECX_OSPKE | L7_ECX_WAITPKG | L7_ECX_CET_SS | L7_ECX_LA57 |
                    L7_ECX_SGX_LC);
        r->edx &= ~(L7_EDX_SPEC_CTRL_MSRS | L7_EDX_HYBRID | L7_EDX_CET_IBT);
        break;
    case 0xd:
        filter_xstate(subleaf, r);
        break;
    }
}

static void filter_extended(uint32_t leaf, struct cpuid_regs *r)
{
    switch (leaf) {
    case 0x80000001:
        r->ecx &= ~(E1_ECX_CMP_LEGACY | E1_ECX_SVM | E1_ECX_EXT_APIC | E1_ECX_IBS | E1_ECX_SKINIT |
                    E1_ECX_WDT | E1_ECX_PERFCTR | E1_ECX_TOPOEXT | E1_ECX_TCE);
        break;
    case 0x80000008:
        r->ebx &= ~E8_EBX_SPEC_CTRL_MSRS;
        r->ecx = 0;     /* one core per package, no APIC ID size hint */
        break;
    case 0x8000000a:    /* SVM features */
        *r = (struct cpuid_regs){ 0 };
        break;
    default:
        if (leaf >= 0x8000001f)     /* memory encryption and newer: not offered */
            *r = (struct cpuid_regs){ 0 };
    }
}

void cpuid_policy(const struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
    if (leaf >= XEN_CPUID_FIRST_LEAF && leaf < 0x80000000) {
        /* Only the first block is ours; other hypervisor ranges stay empty. */
        xen_leaves(v, leaf, out);
        return;
    }
    cpuid_count(leaf, subleaf, out);
    if (leaf < XEN_CPUID_FIRST_LEAF)
        filter_basic(v, leaf, subleaf, out);
    else
        filter_extended(leaf, out);
}

/* Every x86-64 CPU has these; CR4.MCE too, though leaf 1 hides machine checks (their MSRs). */
#define CR4_BASELINE (X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | \
                      X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

uint64_t cpuid_cr4_valid(const struct vcpu *v)
{
    struct cpuid_regs l1, l7;
    uint64_t valid = CR4_BASELINE;

    cpuid_policy(v, 1, 0, &l1);
    cpuid_policy(v, 7, 0, &l7);
    if (l1.edx & L1_EDX_VME)
        valid |= X86_CR4_VME | X86_CR4_PVI;
    if (l1.ecx & L1_ECX_PCID)
        valid |= X86_CR4_PCIDE;
    if (l1.ecx & L1_ECX_XSAVE)
        valid |= X86_CR4_OSXSAVE;
    if (l7.ebx & L7_EBX_FSGSBASE)
        valid |= X86_CR4_FSGSBASE;
    if (l7.ebx & L7_EBX_SMEP)
        valid |= X86_CR4_SMEP;
    if (l7.ebx & L7_EBX_SMAP)
        valid |= X86_CR4_SMAP;
    if (l7.ecx & L7_ECX_UMIP)
        valid |= X86_CR4_UMIP;
    return valid;
}
