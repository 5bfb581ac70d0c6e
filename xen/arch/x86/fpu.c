/* fpu.c (hypervisor): saving and restoring guest FPU state; the hypervisor itself never uses
 * the FPU (-mgeneral-regs-only), so state is only switched between vCPUs. */
#include "env.h"
#include "domain.h"
#include "errno.h"
#include "fpu.h"
#include "mm.h"
#include "percpu.h"
#include "printk.h"
#include "x86.h"

#define CPUID1_ECX_XSAVE (1u << 26)
#define XCR0_X87 1ull
#define XCR0_SSE 2ull
#define FXSAVE_AREA_SIZE 512
#define FXSAVE_FCW_OFFSET 0
#define FXSAVE_MXCSR_OFFSET 24
#define XSAVE_XSTATE_BV_OFFSET 512   /* first field of the XSAVE header */
#define FCW_DEFAULT 0x37f        /* all exceptions masked (SDM vol 1, 8.1.5) */
#define MXCSR_DEFAULT 0x1f80

static bool have_xsave;
static uint64_t xsave_area_size = FXSAVE_AREA_SIZE;

void fpu_host_init(void)
{
    struct cpuid_regs r;
    uint64_t cr4 = read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

    cpuid_count(1, 0, &r);
    have_xsave = r.ecx & CPUID1_ECX_XSAVE;
    if (have_xsave)
        cr4 |= X86_CR4_OSXSAVE;
    write_cr4(cr4);
    write_cr0((read_cr0() & ~(X86_CR0_EM | X86_CR0_TS)) | X86_CR0_MP | X86_CR0_NE);
    if (have_xsave) {
        cpuid_count(0xd, 0, &r);
        xsave_area_size = r.ecx;     /* every supported component */
        xsetbv(0, XCR0_X87);
    }
}

int fpu_init(struct vcpu *v)
{
    uint64_t pa = frames_alloc(xsave_area_size, PAGE_SIZE);
    uint8_t *area;

    if (!pa)
        return -ENOMEM;
    area = phys_to_virt(pa);
    memset(area, 0, xsave_area_size);   /* XRSTOR faults on a header with stray bits */
    /* Reset state; with XSAVE a zero header means "initial state" for every component. */
    *(uint16_t *)(area + FXSAVE_FCW_OFFSET) = FCW_DEFAULT;
    *(uint32_t *)(area + FXSAVE_MXCSR_OFFSET) = MXCSR_DEFAULT;
    v->fpu_area = area;
    v->xcr0 = XCR0_X87;
    return 0;
}

void fpu_free(struct vcpu *v)
{
    if (this_cpu()->fpu_owner == v)
        this_cpu()->fpu_owner = NULL;
    if (v->fpu_area)
        frames_free(virt_to_phys(v->fpu_area), xsave_area_size);
    v->fpu_area = NULL;
}

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;

    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return edx_eax_combine(hi, lo);
}

/*
 * XSAVE and XRSTOR move only the components XCR0 names, but a guest runs SSE
 * code with CR4.OSFXSR whatever its XCR0 says (x87 alone is the reset value):
 * the switch always covers x87 and SSE too, or one vCPU, of this domain or
 * another, would see the XMM registers of the one before.
 */
static uint64_t switched_components(const struct vcpu *v)
{
    return v->xcr0 | XCR0_X87 | XCR0_SSE;
}

static void fpu_save(struct vcpu *v)
{
    /*
     * The live XCR0 is the guest's: re-read it, since an XSETBV that did not
     * exit (QEMU TCG ignores the SVM intercept) changed it behind our back,
     * and XRSTOR faults if the saved components and XCR0 disagree.
     */
    if (!have_xsave) {
        __asm__ volatile("fxsave64 (%0)" :: "r"(v->fpu_area) : "memory");
        return;
    }
    v->xcr0 = xgetbv0();
    uint64_t components = switched_components(v);

    if (components != v->xcr0)
        xsetbv(0, components);
    __asm__ volatile("xsave64 (%0)" :: "r"(v->fpu_area), "a"(~0u), "d"(~0u) : "memory");
    /*
     * XSAVE leaves the XSTATE_BV bits of components outside XCR0 as they were,
     * so a guest that shrank XCR0 since the last save would leave bits XRSTOR
     * refuses with #GP. Those components restart in their initial state.
     */
    *(uint64_t *)(v->fpu_area + XSAVE_XSTATE_BV_OFFSET) &= components;
}

static void fpu_restore(struct vcpu *v)
{
    if (have_xsave) {
        uint64_t components = switched_components(v);

        xsetbv(0, components);
        __asm__ volatile("xrstor64 (%0)" :: "r"(v->fpu_area), "a"(~0u), "d"(~0u) : "memory");
        if (components != v->xcr0)
            xsetbv(0, v->xcr0);     /* the XMM registers stay as restored */
    } else {
        __asm__ volatile("fxrstor64 (%0)" :: "r"(v->fpu_area) : "memory");
    }
}

/* v leaves this pCPU (migration, teardown elsewhere): its state goes back to its area. */
void fpu_release(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();

    if (cpu->fpu_owner != v)
        return;
    fpu_save(v);
    cpu->fpu_owner = NULL;
}

void fpu_switch_to(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();

    if (cpu->fpu_owner == v)
        return;
    if (cpu->fpu_owner)
        fpu_save(cpu->fpu_owner);
    fpu_restore(v);
    cpu->fpu_owner = v;
}
