/* cpu_checks.c (guest; part of checks32, checks32pae, checks64): the CPU interface a guest sees:
 * XSETBV, control registers, EFER, MSRs, intercepted instructions and the device-less MMIO hole. */
#include "check.h"
#include "cpu_checks.h"

/* XCR0 components (SDM vol 1, 13.1), written out here rather than shared with the hypervisor. */
#define XCR0_X87        0x1ull
#define XCR0_SSE        0x2ull
#define XCR0_YMM        0x4ull
#define XCR0_BNDREGS    0x8ull
#define XCR0_BNDCSR     0x10ull
#define XCR0_OPMASK     0x20ull
#define XCR0_ZMM_HI256  0x40ull
#define XCR0_HI16_ZMM   0x80ull
#define XCR0_AVX512     (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)

#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_EDX_PGE   (1u << 13)
#define CPUID1_EDX_MCA   (1u << 14)
#define CPUID1_ECX_VMX   (1u << 5)
#define CPUID1_ECX_SMX   (1u << 6)
#define CPUID7_EBX_TSC_ADJUST (1u << 1)
#define CPUID7_ECX_PKU   (1u << 3)
#define CPUID7_ECX_CET_SS (1u << 7)
#define CPUID7_ECX_LA57  (1u << 16)
#define CPUID7_ECX_PKS   (1u << 31)
#define CPUID7_EDX_CET_IBT (1u << 20)
#define CPUID7_EDX_ARCH_CAPS (1u << 29)
#define CPUIDE1_EDX_FFXSR (1u << 25)

#define CR4_PGE     (1ul << 7)
#define CR4_LA57    (1ul << 12)
#define CR4_VMXE    (1ul << 13)
#define CR4_SMXE    (1ul << 14)
#define CR4_OSXSAVE (1ul << 18)
#define CR4_PKE     (1ul << 22)
#define CR4_CET     (1ul << 23)
#define CR4_PKS     (1ul << 24)

#define MSR_TSC_ADJUST       0x3bu
#define MSR_PLATFORM_ID      0x17u
#define MSR_BIOS_SIGN_ID     0x8bu      /* Intel microcode revision; AMD PATCHLEVEL */
#define MSR_MISC_FEATURES_ENABLES 0x140u
#define MSR_FEATURE_CONTROL  0x3au
#define FEATURE_CONTROL_LOCK 0x1ull
#define MSR_MCG_CAP          0x179u
#define MSR_DEBUGCTL         0x1d9u
#define MSR_ARCH_CAPABILITIES 0x10au
#define MSR_EFER             0xc0000080u
#define MSR_AMD_HWCR         0xc0010015u
#define MSR_AMD_DE_CFG       0xc0011029u
#define EFER_SVME            (1ull << 12)
#define EFER_FFXSR           (1ull << 14)

/* Guest-physical addresses where a PC has devices and Wisp has none. */
#define GPA_IOAPIC    0xfec00000ul
#define GPA_HPET      0xfed00000ul
#define GPA_TPM       0xfed40000ul
#define GPA_HOLE_LAST 0xfedffffcul

struct xcr_write { uint32_t index; uint64_t value; };

static void do_xsetbv(void *arg)
{
    const struct xcr_write *w = arg;
    __asm__ volatile("xsetbv" :: "c"(w->index), "a"((uint32_t)w->value),
                     "d"((uint32_t)(w->value >> 32)) : "memory");
}

/* Runs XSETBV; returns the vector it raised, -1 for none. */
static int try_xsetbv(uint32_t index, uint64_t value)
{
    struct xcr_write w = { index, value };
    struct fault_info f;

    run_catching(do_xsetbv, &w, &f);
    return f.vector;
}

/*
 * XCR0 values a CPU refuses: each must be #GP in the guest. Before Wisp
 * checked the AVX-512 and MPX pairing, the first two passed its check and
 * its own XSETBV faulted in the hypervisor (a panic) on AVX-512 hosts.
 */
static const struct xcr_write bad_xcr0[] = {
    { 0, XCR0_X87 | XCR0_SSE | XCR0_OPMASK },
    { 0, XCR0_X87 | XCR0_SSE | XCR0_YMM | XCR0_OPMASK },
    { 0, XCR0_X87 | XCR0_SSE | XCR0_AVX512 },                 /* AVX-512 without YMM */
    { 0, XCR0_X87 | XCR0_SSE | XCR0_YMM | XCR0_ZMM_HI256 | XCR0_HI16_ZMM },
    { 0, XCR0_X87 | XCR0_BNDREGS },
    { 0, XCR0_X87 | XCR0_BNDCSR },
    { 0, XCR0_X87 | XCR0_YMM },                               /* YMM without SSE */
    { 0, XCR0_SSE },                                          /* no x87 */
    { 0, 0 },
    { 0, XCR0_X87 | (1ull << 62) },                           /* reserved */
    { 1, XCR0_X87 },                                          /* XCR1 is not writable */
};

static void check_xsetbv(void)
{
    struct cpuid_regs r;
    unsigned long cr4 = read_cr4();
    uint64_t supported, saved;
    const uint64_t good[] = { XCR0_X87, XCR0_X87 | XCR0_SSE, XCR0_X87 | XCR0_SSE | XCR0_YMM,
                              XCR0_X87 | XCR0_SSE | XCR0_YMM | XCR0_AVX512 };

    cpuid(1, 0, &r);
    if (!(r.ecx & CPUID1_ECX_XSAVE)) {
        check_fail("xsetbv_invalid_gp", "CPUID offers no XSAVE");
        check_fail("xsetbv_valid_values", "CPUID offers no XSAVE");
        return;
    }
    write_cr4(cr4 | CR4_OSXSAVE);
    cpuid(0xd, 0, &r);
    supported = ((uint64_t)r.edx << 32) | r.eax;
    saved = xgetbv0();
    note("xcr0 supported 0x%llx%s\n", (unsigned long long)supported,
         (supported & XCR0_AVX512) == XCR0_AVX512 ? " (AVX-512)" : "");

    unsigned int bad = 0;
    for (unsigned int i = 0; i < sizeof(bad_xcr0) / sizeof(bad_xcr0[0]); i++) {
        int vector = try_xsetbv(bad_xcr0[i].index, bad_xcr0[i].value);

        if (vector != X86_EXC_GP && !bad++)
            check_fail("xsetbv_invalid_gp", "xsetbv(%u, 0x%llx): vector %d, want #GP",
                       bad_xcr0[i].index, (unsigned long long)bad_xcr0[i].value, vector);
    }
    if (!bad)
        check_pass("xsetbv_invalid_gp");

    bad = 0;
    for (unsigned int i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if ((good[i] & supported) != good[i])
            continue;
        int vector = try_xsetbv(0, good[i]);
        uint64_t now = xgetbv0();

        if ((vector != -1 || now != good[i]) && !bad++)
            check_fail("xsetbv_valid_values", "xsetbv(0, 0x%llx): vector %d, xcr0 now 0x%llx",
                       (unsigned long long)good[i], vector, (unsigned long long)now);
    }
    if (!bad)
        check_pass("xsetbv_valid_values");
    (void)try_xsetbv(0, saved);
    write_cr4(cr4);
}

static void do_write_cr4(void *arg)
{
    unsigned long old = read_cr4();

    write_cr4(*(unsigned long *)arg);
    write_cr4(old);         /* reached only if the hypervisor let it through */
}

/*
 * CR4 bits for features the vCPU's CPUID does not offer must #GP, as on a CPU
 * without them, even when the host has them (LA57 under QEMU TCG).
 */
static void check_cr4(void)
{
    struct cpuid_regs l1, l7;
    const struct { unsigned long bit; const char *name; } bits[] = {
        { CR4_LA57, "LA57" }, { CR4_VMXE, "VMXE" }, { CR4_SMXE, "SMXE" },
        { CR4_PKE, "PKE" }, { CR4_CET, "CET" }, { CR4_PKS, "PKS" },
    };
    bool offered[6];
    unsigned int bad = 0, tried = 0;

    cpuid(1, 0, &l1);
    cpuid(7, 0, &l7);
    offered[0] = l7.ecx & CPUID7_ECX_LA57;
    offered[1] = l1.ecx & CPUID1_ECX_VMX;
    offered[2] = l1.ecx & CPUID1_ECX_SMX;
    offered[3] = l7.ecx & CPUID7_ECX_PKU;
    offered[4] = (l7.ecx & CPUID7_ECX_CET_SS) || (l7.edx & CPUID7_EDX_CET_IBT);
    offered[5] = l7.ecx & CPUID7_ECX_PKS;
    for (unsigned int i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        unsigned long value = read_cr4() | bits[i].bit;
        struct fault_info f;

        if (offered[i])
            continue;
        tried++;
        run_catching(do_write_cr4, &value, &f);
        if (f.vector != X86_EXC_GP && !bad++)
            check_fail("cr4_hidden_bits_gp", "CR4.%s (not in CPUID): vector %d, want #GP",
                       bits[i].name, f.vector);
    }
    if (!bad)
        check("cr4_hidden_bits_gp", tried > 0, "CPUID offers every bit tried");

    /* A valid write still lands: PGE off and on again, read back each time. */
    unsigned long cr4 = read_cr4();
    if (!(l1.edx & CPUID1_EDX_PGE)) {
        check_fail("cr4_valid_write", "CPUID offers no PGE");
        return;
    }
    write_cr4(cr4 ^ CR4_PGE);
    unsigned long toggled = read_cr4();
    write_cr4(cr4);
    check("cr4_valid_write", toggled == (cr4 ^ CR4_PGE) && read_cr4() == cr4,
          "cr4 0x%lx, toggled PGE read 0x%lx, restored 0x%lx", cr4, toggled, read_cr4());
}

struct msr_write { uint32_t index; uint64_t value; };

static void do_wrmsr(void *arg)
{
    const struct msr_write *w = arg;
    wrmsr(w->index, w->value);
}

static void do_rdmsr(void *arg)
{
    struct msr_write *w = arg;
    w->value = rdmsr(w->index);
}

/* WRMSR; the vector raised, -1 for none. */
static int try_wrmsr(uint32_t index, uint64_t value)
{
    struct msr_write w = { index, value };
    struct fault_info f;

    run_catching(do_wrmsr, &w, &f);
    return f.vector;
}

/* RDMSR into *value; the vector raised, -1 for none. */
static int try_rdmsr(uint32_t index, uint64_t *value)
{
    struct msr_write w = { index, ~0ull };
    struct fault_info f;

    run_catching(do_rdmsr, &w, &f);
    *value = w.value;
    return f.vector;
}

/* EFER takes exactly the bits CPUID offers: FFXSR only where 0x80000001 says so (AMD). */
static void check_efer(void)
{
    struct cpuid_regs e1;
    uint64_t efer = rdmsr(MSR_EFER);
    int vector;

    cpuid(0x80000001, 0, &e1);
    vector = try_wrmsr(MSR_EFER, efer | EFER_FFXSR);
    if (e1.edx & CPUIDE1_EDX_FFXSR)
        check("efer_ffxsr_follows_cpuid", vector == -1 && (rdmsr(MSR_EFER) & EFER_FFXSR),
              "FFXSR offered: vector %d, efer 0x%llx", vector,
              (unsigned long long)rdmsr(MSR_EFER));
    else
        check("efer_ffxsr_follows_cpuid", vector == X86_EXC_GP,
              "FFXSR not offered: vector %d, want #GP", vector);
    wrmsr(MSR_EFER, efer);
    int svme = try_wrmsr(MSR_EFER, efer | EFER_SVME);
    int reserved = try_wrmsr(MSR_EFER, efer | (1ull << 1));
    int high = try_wrmsr(MSR_EFER, efer | (1ull << 40));

    check("efer_reserved_gp", svme == X86_EXC_GP && reserved == X86_EXC_GP &&
          high == X86_EXC_GP && rdmsr(MSR_EFER) == efer,
          "SVME %d, bit 1 %d, bit 40 %d (want %d), efer 0x%llx", svme, reserved, high,
          X86_EXC_GP, (unsigned long long)rdmsr(MSR_EFER));
}

/* MSRs that Xen's default HVM policy lets a guest use, and what they read as. */
static void check_msrs(void)
{
    struct cpuid_regs l1, l7;
    uint64_t value, fc_value;
    int vector;
    bool intel = cpu_vendor() == CPU_VENDOR_INTEL;

    vector = try_rdmsr(MSR_DEBUGCTL, &value);
    int write0 = try_wrmsr(MSR_DEBUGCTL, 0);
    int write_btf = try_wrmsr(MSR_DEBUGCTL, 1ull << 63);
    check("msr_debugctl", vector == -1 && value == 0 && write0 == -1 && write_btf == X86_EXC_GP,
          "read %d value 0x%llx, write 0 %d, write bit 63 %d", vector,
          (unsigned long long)value, write0, write_btf);

    vector = try_rdmsr(MSR_BIOS_SIGN_ID, &value);
    write0 = try_wrmsr(MSR_BIOS_SIGN_ID, 0);
    check("msr_ucode_revision", vector == -1 && write0 == (intel ? -1 : X86_EXC_GP),
          "read %d, write 0 %d", vector, write0);

    /* Intel-only MSRs: an AMD CPU has none of them. */
    vector = try_rdmsr(MSR_PLATFORM_ID, &value);
    int fc = try_rdmsr(MSR_FEATURE_CONTROL, &fc_value);
    int fc_write = try_wrmsr(MSR_FEATURE_CONTROL, fc_value);
    if (intel)
        check("msr_intel_only", vector == -1 && value == 0 && fc == -1 &&
              fc_value == FEATURE_CONTROL_LOCK && fc_write == X86_EXC_GP,
              "platform_id %d (0x%llx), feature_control %d (0x%llx, want locked), write %d",
              vector, (unsigned long long)value, fc, (unsigned long long)fc_value, fc_write);
    else
        check("msr_intel_only", vector == X86_EXC_GP && fc == X86_EXC_GP,
              "AMD: platform_id %d, feature_control %d, want #GP", vector, fc);

    /* AMD-only MSRs that Linux reads at boot: readable there (DE_CFG writes dropped), #GP on Intel. */
    vector = try_rdmsr(MSR_AMD_HWCR, &value);
    int de_cfg = try_rdmsr(MSR_AMD_DE_CFG, &fc_value);
    int de_cfg_write = try_wrmsr(MSR_AMD_DE_CFG, 1ull << 1);
    if (!intel)
        check("msr_amd_only", vector == -1 && de_cfg == -1 && de_cfg_write == -1,
              "hwcr %d, de_cfg %d, de_cfg write %d", vector, de_cfg, de_cfg_write);
    else
        check("msr_amd_only", vector == X86_EXC_GP && de_cfg == X86_EXC_GP &&
              de_cfg_write == X86_EXC_GP, "Intel: hwcr %d, de_cfg %d, de_cfg write %d, want #GP",
              vector, de_cfg, de_cfg_write);

    /* No CPUID faulting is offered: the MSR reads 0 and takes only 0. */
    vector = try_rdmsr(MSR_MISC_FEATURES_ENABLES, &value);
    write0 = try_wrmsr(MSR_MISC_FEATURES_ENABLES, 0);
    int write1 = try_wrmsr(MSR_MISC_FEATURES_ENABLES, 1);
    check("msr_misc_features_enables", vector == -1 && value == 0 && write0 == -1 &&
          write1 == X86_EXC_GP, "read %d (0x%llx), write 0 %d, write 1 %d", vector,
          (unsigned long long)value, write0, write1);

    /* An MSR is readable exactly when the CPUID bit that announces it is set. */
    cpuid(1, 0, &l1);
    cpuid(7, 0, &l7);
    const struct { uint32_t msr; bool offered; } announced[] = {
        { MSR_TSC_ADJUST, l7.ebx & CPUID7_EBX_TSC_ADJUST },
        { MSR_ARCH_CAPABILITIES, l7.edx & CPUID7_EDX_ARCH_CAPS },
        { MSR_MCG_CAP, l1.edx & CPUID1_EDX_MCA },
    };
    unsigned int bad = 0;
    for (unsigned int i = 0; i < sizeof(announced) / sizeof(announced[0]); i++) {
        vector = try_rdmsr(announced[i].msr, &value);
        if ((vector == -1) != announced[i].offered && !bad++)
            check_fail("msr_follow_cpuid", "msr 0x%x: vector %d, CPUID offers it: %d",
                       announced[i].msr, vector, announced[i].offered);
    }
    if (!bad)
        check_pass("msr_follow_cpuid");
}

static void do_invd(void *arg) { (void)arg; __asm__ volatile("invd" ::: "memory"); }
static void do_wbinvd(void *arg) { (void)arg; __asm__ volatile("wbinvd" ::: "memory"); }

static void do_rdpmc(void *arg)
{
    uint32_t lo, hi;
    __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(0));
    *(uint64_t *)arg = ((uint64_t)hi << 32) | lo;
}

/* Instructions every backend intercepts (hvm.h: GUEST_INTERCEPTS). */
static void check_intercepted_instructions(void)
{
    struct fault_info f;
    uint64_t counter;
    volatile uint32_t canary = 0x5a5a5a5a;

    /* INVD must not drop dirty lines (the canary): Wisp treats it as a no-op. */
    run_catching(do_wbinvd, NULL, &f);
    check("wbinvd_no_fault", f.vector == -1, "vector %d", f.vector);
    /* No performance counters are offered (CPUID leaf 0xA is empty). */
    run_catching(do_rdpmc, &counter, &f);
    check("rdpmc_gp", f.vector == X86_EXC_GP, "vector %d, want #GP", f.vector);
    run_catching(do_invd, NULL, &f);
    check("invd_no_fault", f.vector == -1 && canary == 0x5a5a5a5a, "vector %d", f.vector);
}

static void do_read32(void *arg)
{
    uint32_t *p = arg;
    *p = *(volatile uint32_t *)(uintptr_t)*p;
}

/* Where a PC has an IOAPIC, an HPET or a TPM, Wisp has nothing: reads give all ones, as on Xen. */
static void check_mmio_hole(void)
{
    const struct { const char *name; unsigned long gpa; } where[] = {
        { "mmio_ioapic_reads_ones", GPA_IOAPIC },
        { "mmio_hpet_reads_ones", GPA_HPET },
        { "mmio_hole_reads_ones", GPA_TPM },
        { "mmio_hole_end_reads_ones", GPA_HOLE_LAST },
    };

    for (unsigned int i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        uint32_t value = (uint32_t)where[i].gpa;
        struct fault_info f;

        run_catching(do_read32, &value, &f);
        check(where[i].name, f.vector == -1 && value == 0xffffffffu,
              "read at 0x%lx: vector %d, value 0x%x", where[i].gpa, f.vector, value);
    }
}

void check_cpu_interface(void)
{
    check_xsetbv();
    check_cr4();
    check_efer();
    check_msrs();
    check_intercepted_instructions();
    check_mmio_hole();
}
