/* spec_policy.h (hypervisor, pure): which speculative-execution mitigations this CPU needs, from what it reports. */
#ifndef WISP_SPEC_POLICY_H
#define WISP_SPEC_POLICY_H

#include "env.h"

/* CPUID.(EAX=7,ECX=0):EBX (SDM vol 2A, CPUID). */
#define CPUID7_EBX_HLE               (1u << 4)
#define CPUID7_EBX_RTM               (1u << 11)
/* CPUID.(EAX=7,ECX=0):EDX (SDM vol 2A, CPUID; Intel "Speculative Execution Side Channel Mitigations"). */
#define CPUID7_EDX_MD_CLEAR          (1u << 10)   /* VERW overwrites the CPU's buffers */
#define CPUID7_EDX_IBRS_IBPB         (1u << 26)   /* IA32_SPEC_CTRL.IBRS and IA32_PRED_CMD.IBPB */
#define CPUID7_EDX_L1D_FLUSH         (1u << 28)   /* IA32_FLUSH_CMD.L1D_FLUSH */
#define CPUID7_EDX_ARCH_CAPS         (1u << 29)   /* IA32_ARCH_CAPABILITIES exists */
/* CPUID.80000008H:EBX (AMD APM vol 3, E.4.7; AMD "Indirect Branch Control Extension"). */
#define CPUID_EXT8_EBX_IBPB          (1u << 12)
/* CPUID.80000021H:EAX (AMD APM vol 3, E.4.18). */
#define CPUID_EXT21_EAX_AUTO_IBRS    (1u << 8)

/* IA32_ARCH_CAPABILITIES, MSR 0x10A (SDM vol 4, table 2-2). */
#define ARCH_CAPS_RDCL_NO            (1ull << 0)  /* not affected by L1TF/Meltdown */
#define ARCH_CAPS_IBRS_ALL           (1ull << 1)  /* enhanced IBRS */
#define ARCH_CAPS_SKIP_L1DFL_VMENTRY (1ull << 3)  /* a nested VMM flushes L1D for us */
#define ARCH_CAPS_MDS_NO             (1ull << 5)
#define ARCH_CAPS_TAA_NO             (1ull << 8)
#define ARCH_CAPS_RFDS_NO            (1ull << 27)
#define ARCH_CAPS_RFDS_CLEAR         (1ull << 28) /* VERW also clears the register files */

enum spec_vendor { SPEC_VENDOR_OTHER, SPEC_VENDOR_INTEL, SPEC_VENDOR_AMD };

/* What the CPU reports; arch_caps is 0 when CPUID7_EDX_ARCH_CAPS is clear. */
struct spec_cpu {
    enum spec_vendor vendor;
    uint32_t cpuid7_ebx, cpuid7_edx;
    uint32_t ext8_ebx;          /* 0 when leaf 0x80000008 is absent */
    uint32_t ext21_eax;         /* 0 when leaf 0x80000021 is absent */
    uint64_t arch_caps;
};

/* What the hypervisor does, and what it cannot do on this CPU. */
struct spec_mitigations {
    bool ibpb_on_domain_switch;     /* IBPB when a pCPU enters a different domain's vCPU */
    bool rsb_stuff_on_exit;         /* overwrite the return stack buffer after every VM exit */
    bool verw_on_entry;             /* VERW right before VM entry (MDS, TAA, RFDS) */
    bool l1d_flush_on_entry;        /* IA32_FLUSH_CMD.L1D_FLUSH before VM entry (L1TF) */
    bool eibrs;                     /* Intel enhanced IBRS: IA32_SPEC_CTRL.IBRS set once at boot */
    bool auto_ibrs;                 /* AMD automatic IBRS: EFER.AIBRSE set once at boot */
    /* Affected, but the CPU (its microcode) offers no means: reported at boot. */
    bool ibpb_missing, verw_missing, l1d_flush_missing;
};

void spec_decide(const struct spec_cpu *cpu, struct spec_mitigations *out);

#endif
