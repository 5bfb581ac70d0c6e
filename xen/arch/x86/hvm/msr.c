/* msr.c (hypervisor): the MSRs a guest may use through exits, one table (after Xen's default HVM
 * policy, consistent with cpuid.c); every other MSR is #GP. */
#include "env.h"
#include "cpu_rules.h"
#include "domain.h"
#include "exit.h"
#include "guest_access.h"
#include "lapic.h"
#include "printk.h"
#include "x86.h"

/* MSR numbers (SDM vol 4, table 2-2; AMD APM vol 2, appendix A). */
#define MSR_TSC                   0x10u
#define MSR_PLATFORM_ID           0x17u     /* Intel: platform id for microcode matching */
#define MSR_BIOS_UPDT_TRIG        0x79u     /* Intel: write-only microcode loader */
#define MSR_UCODE_REV             0x8bu     /* Intel BIOS_SIGN_ID = AMD PATCHLEVEL */
#define MSR_MISC_FEATURES_ENABLES 0x140u    /* bit 0: CPUID faulting */
#define MSR_MISC_ENABLE           0x1a0u
#define MSR_DEBUGCTL              0x1d9u
#define MSR_TSC_AUX               0xc0000103u
#define MSR_AMD_HWCR              0xc0010015u   /* AMD: hardware configuration */
#define MSR_AMD_PATCH_LOADER      0xc0010020u   /* AMD: write-only microcode loader */
#define MSR_AMD_INT_PENDING_MSG   0xc0010055u   /* reads 0: no C1E message routing */
#define MSR_AMD_DE_CFG            0xc0011029u   /* AMD: decode configuration */

#define MISC_ENABLE_FAST_STRINGS  1ull

#define HYPERCALL_STUB_SIZE 32
#define HYPERCALL_PAGE_INDEX_MASK 0xfffull

/* CPUID bits that make an MSR or an EFER bit exist (SDM vol 2, CPUID; AMD APM vol 3, E.4). */
#define E1_EDX_SYSCALL  (1u << 11)
#define E1_EDX_NX       (1u << 20)
#define E1_EDX_FFXSR    (1u << 25)
#define E1_EDX_RDTSCP   (1u << 27)
#define E1_EDX_LM       (1u << 29)
#define L7_ECX_RDPID    (1u << 22)

/* The guest's CPU vendor, from its CPUID leaf 0 ("GenuineIntel", "AuthenticAMD", "HygonGenuine"). */
#define VENDOR_INTEL (1u << 0)
#define VENDOR_AMD   (1u << 1)
#define VENDOR_ANY   (VENDOR_INTEL | VENDOR_AMD)
#define CPUID0_EBX_INTEL 0x756e6547u    /* "Genu" */
#define CPUID0_EBX_AMD   0x68747541u    /* "Auth" */
#define CPUID0_EBX_HYGON 0x6f677948u    /* "Hygo" */

static unsigned guest_vendor(const struct vcpu *v)
{
    struct cpuid_regs r;

    cpuid_policy(v, 0, 0, &r);
    if (r.ebx == CPUID0_EBX_INTEL)
        return VENDOR_INTEL;
    if (r.ebx == CPUID0_EBX_AMD || r.ebx == CPUID0_EBX_HYGON)
        return VENDOR_AMD;
    return 0;
}

/* TSC_AUX exists when the CPU has RDTSCP or RDPID (SDM vol 4, table 2-2). */
static bool host_has_tsc_aux(void)
{
    static int known = -1;

    if (known < 0) {
        struct cpuid_regs ext, l7;

        cpuid_count(0x80000001, 0, &ext);
        cpuid_count(7, 0, &l7);
        known = (ext.edx & E1_EDX_RDTSCP) || (l7.ecx & L7_ECX_RDPID);
    }
    return known;
}

void msr_switch_to(struct vcpu *v)
{
    if (host_has_tsc_aux())
        wrmsr(MSR_TSC_AUX, v->tsc_aux);
    debug_regs_switch_to(v);
}

/* The EFER bits the vCPU's CPUID announces (AMD APM vol 2, 3.1.7); SVME is hidden. */
static uint64_t efer_allowed(const struct vcpu *v)
{
    struct cpuid_regs e1;
    uint64_t allowed = 0;

    cpuid_policy(v, 0x80000001, 0, &e1);
    if (e1.edx & E1_EDX_SYSCALL)
        allowed |= EFER_SCE;
    if (e1.edx & E1_EDX_LM)
        allowed |= EFER_LME;
    if (e1.edx & E1_EDX_NX)
        allowed |= EFER_NXE;
    if (e1.edx & E1_EDX_FFXSR)
        allowed |= EFER_FFXSR;
    return allowed;
}

/*
 * A bit the CPU cannot load would fail the next VM entry (EFER.FFXSR on
 * Intel), so only the announced bits are accepted; LMA stays the CPU's.
 */
static bool efer_write(struct vcpu *v, uint64_t value)
{
    uint64_t old = hvm->get_efer(v);
    struct vcpu_ctrl_regs cr;

    hvm->get_ctrl_regs(v, &cr);
    const struct cr_state s = { cr.cr0, cr.cr3, cr.cr4, old };
    uint64_t allowed = efer_allowed(v);

    if (!efer_write_valid(&s, value, allowed))
        return false;
    hvm->set_efer(v, (value & allowed) | (old & EFER_LMA));
    return true;
}

static bool efer_read(struct vcpu *v, uint64_t *value)
{
    *value = hvm->get_efer(v);
    return true;
}

/* Each PAT entry must name a defined memory type (SDM vol 3, 12.12.2). */
static bool pat_valid(uint64_t pat)
{
    for (unsigned i = 0; i < 8; i++) {
        uint8_t type = (pat >> (i * 8)) & 0xff;

        if (type == 2 || type == 3 || type > 7)
            return false;
    }
    return true;
}

static bool pat_read(struct vcpu *v, uint64_t *value)
{
    *value = hvm->get_pat(v);
    return true;
}

static bool pat_write(struct vcpu *v, uint64_t value)
{
    if (!pat_valid(value))
        return false;
    hvm->set_pat(v, value);
    return true;
}

static bool tsc_read(struct vcpu *v, uint64_t *value)
{
    *value = rdtsc();       /* guests see the host TSC, no offset */
    return true;
}

static bool tsc_aux_read(struct vcpu *v, uint64_t *value)
{
    *value = v->tsc_aux;
    return host_has_tsc_aux();
}

static bool tsc_aux_write(struct vcpu *v, uint64_t value)
{
    if ((value >> 32) || !host_has_tsc_aux())
        return false;
    v->tsc_aux = value;
    wrmsr(MSR_TSC_AUX, value);      /* v is the running vCPU */
    return true;
}

static bool misc_enable_read(struct vcpu *v, uint64_t *value)
{
    *value = MISC_ENABLE_FAST_STRINGS;
    return true;
}

static bool misc_enable_write(struct vcpu *v, uint64_t value)
{
    return value == MISC_ENABLE_FAST_STRINGS;
}

static bool feature_control_read(struct vcpu *v, uint64_t *value)
{
    *value = FEATURE_CONTROL_LOCK;
    return true;
}

static bool read_zero(struct vcpu *v, uint64_t *value)
{
    *value = 0;
    return true;
}

static bool write_zero_only(struct vcpu *v, uint64_t value)
{
    return value == 0;
}

static bool write_ignored(struct vcpu *v, uint64_t value)
{
    return true;
}

/* Intel documents "write 0, CPUID, read" to latch the revision; AMD's MSR is read-only. */
static bool ucode_rev_write(struct vcpu *v, uint64_t value)
{
    return value == 0 && guest_vendor(v) == VENDOR_INTEL;
}

/*
 * Fills the guest's hypercall page: stub N is "mov $N, %eax; <vmcall|vmmcall>; ret"
 * at offset N * 32, so a call through the page needs no knowledge of the vendor.
 */
static bool hypercall_page_write(struct vcpu *v, uint64_t value)
{
    uint8_t page[PAGE_SIZE];

    if (value & HYPERCALL_PAGE_INDEX_MASK)      /* we offer one page: index 0 */
        return false;
    memset(page, 0xcc, sizeof(page));           /* int3 between stubs */
    for (unsigned nr = 0; nr < PAGE_SIZE / HYPERCALL_STUB_SIZE; nr++) {
        uint8_t *stub = page + nr * HYPERCALL_STUB_SIZE;

        stub[0] = 0xb8;                         /* mov $imm32, %eax */
        memcpy(stub + 1, &nr, 4);
        memcpy(stub + 5, hvm->hypercall_insn, 3);
        stub[8] = 0xc3;                         /* ret */
    }
    if (copy_to_guest_phys(&v->dom->mem, value, page, sizeof(page))) {
        gprintk(v->dom, LOG_INFO, "d%u: hypercall page at bad address 0x%lx", v->dom->id, value);
        return false;
    }
    return true;
}

/*
 * Every MSR a guest may reach through an exit, after Xen's guest_rdmsr and
 * guest_wrmsr for HVM (xen/arch/x86/msr.c): `vendors` whose CPUs have it,
 * `read` (NULL: write-only) and `write` (NULL: read-only). The rest is #GP,
 * and so is every MSR that CPUID does not announce here (machine check, TSC
 * adjust, speculation control, architectural capabilities: cpuid.c hides
 * them). The x2APIC range is lapic.c's.
 */
static const struct msr_entry {
    uint32_t index;
    unsigned vendors;
    bool (*read)(struct vcpu *v, uint64_t *value);
    bool (*write)(struct vcpu *v, uint64_t value);
} msr_table[] = {
    { MSR_TSC, VENDOR_ANY, tsc_read, NULL },
    { MSR_PLATFORM_ID, VENDOR_INTEL, read_zero, NULL },
    /* Locked with VMX off: no nested virtualization (Linux then leaves it alone). */
    { MSR_IA32_FEATURE_CONTROL, VENDOR_INTEL, feature_control_read, NULL },
    /* Microcode loading is the host's: the loaders ignore writes, as in Xen (Windows
     * writes them before it has an IDT). The revision reads 0: none applies. */
    { MSR_BIOS_UPDT_TRIG, VENDOR_INTEL, NULL, write_ignored },
    { MSR_UCODE_REV, VENDOR_ANY, read_zero, ucode_rev_write },
    { MSR_AMD_PATCH_LOADER, VENDOR_AMD, NULL, write_ignored },
    /* No CPUID faulting is offered, so no bit is writable. */
    { MSR_MISC_FEATURES_ENABLES, VENDOR_ANY, read_zero, write_zero_only },
    { MSR_MISC_ENABLE, VENDOR_ANY, misc_enable_read, misc_enable_write },
    /* No LBR or BTF: reads 0, takes 0 (XTF's debug-regs test writes it). */
    { MSR_DEBUGCTL, VENDOR_ANY, read_zero, write_zero_only },
    { MSR_IA32_PAT, VENDOR_ANY, pat_read, pat_write },
    { MSR_EFER, VENDOR_ANY, efer_read, efer_write },
    { MSR_TSC_AUX, VENDOR_ANY, tsc_aux_read, tsc_aux_write },
    { MSR_AMD_INT_PENDING_MSG, VENDOR_AMD, read_zero, NULL },
    /* Linux reads both on AMD (with a #GP handler). HWCR: nothing to report. DE_CFG:
     * writes dropped, as Xen does (OpenBSD panics on a #GP); it reads 0, so a guest does
     * not take LFENCE as dispatch-serialising, which Wisp does not ensure on the host. */
    { MSR_AMD_HWCR, VENDOR_AMD, read_zero, NULL },
    { MSR_AMD_DE_CFG, VENDOR_AMD, read_zero, write_ignored },
    { XEN_HYPERCALL_PAGE_MSR, VENDOR_ANY, NULL, hypercall_page_write },
};

static const struct msr_entry *msr_lookup(const struct vcpu *v, uint32_t index)
{
    for (size_t i = 0; i < sizeof(msr_table) / sizeof(msr_table[0]); i++)
        if (msr_table[i].index == index)
            return msr_table[i].vendors == VENDOR_ANY ||
                   (msr_table[i].vendors & guest_vendor(v)) ? &msr_table[i] : NULL;
    return NULL;
}

bool msr_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
    const struct msr_entry *e;

    if (lapic_msr_in_range(index))
        return lapic_msr_read(v, index, value);
    e = msr_lookup(v, index);
    if (e && e->read)
        return e->read(v, value);
    gprintk(v->dom, LOG_DEBUG, "d%u: rdmsr 0x%x refused", v->dom->id, index);
    return false;
}

bool msr_write(struct vcpu *v, uint32_t index, uint64_t value)
{
    const struct msr_entry *e;

    if (lapic_msr_in_range(index))
        return lapic_msr_write(v, index, value);
    e = msr_lookup(v, index);
    if (e && e->write)
        return e->write(v, value);
    gprintk(v->dom, LOG_DEBUG, "d%u: wrmsr 0x%x value 0x%lx refused", v->dom->id, index,
            value);
    return false;
}
