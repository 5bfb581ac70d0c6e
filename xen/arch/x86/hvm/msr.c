/* msr.c (hypervisor): the short allowlist of MSRs a guest may use through exits; others #GP. */
#include "env.h"
#include "domain.h"
#include "exit.h"
#include "guest_access.h"
#include "lapic.h"
#include "printk.h"
#include "x86.h"

#define MSR_TSC          0x10u
#define MSR_MISC_ENABLE  0x1a0u
#define MSR_TSC_AUX      0xc0000103u
#define MSR_AMD_INT_PENDING_MSG 0xc0010055u     /* reads 0: no C1E message routing */
#define MISC_ENABLE_FAST_STRINGS 1ull

/* EFER bits a guest may set; LMA is the CPU's to set (AMD APM vol 2, 3.1.7). */
#define EFER_GUEST_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE | EFER_FFXSR)

#define HYPERCALL_STUB_SIZE 32
#define HYPERCALL_PAGE_INDEX_MASK 0xfffull

/* TSC_AUX exists when the CPU has RDTSCP or RDPID (SDM vol 4, table 2-2). */
static bool host_has_tsc_aux(void)
{
    static int known = -1;

    if (known < 0) {
        struct cpuid_regs ext, l7;

        cpuid_count(0x80000001, 0, &ext);
        cpuid_count(7, 0, &l7);
        known = (ext.edx & (1u << 27)) || (l7.ecx & (1u << 22));
    }
    return known;
}

void msr_switch_to(struct vcpu *v)
{
    if (host_has_tsc_aux())
        wrmsr(MSR_TSC_AUX, v->tsc_aux);
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

static bool efer_write(struct vcpu *v, uint64_t value)
{
    uint64_t old = hvm->get_efer(v);
    struct vcpu_ctrl_regs cr;

    if (value & ~(EFER_GUEST_WRITABLE | EFER_LMA))
        return false;
    hvm->get_ctrl_regs(v, &cr);
    /* LME may not change while paging is on (AMD APM vol 2, 14.6.1). */
    if ((cr.cr0 & X86_CR0_PG) && ((value ^ old) & EFER_LME))
        return false;
    hvm->set_efer(v, (value & EFER_GUEST_WRITABLE) | (old & EFER_LMA));
    return true;
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

bool msr_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
    if (lapic_msr_in_range(index))
        return lapic_msr_read(v, index, value);
    switch (index) {
    case MSR_EFER:
        *value = hvm->get_efer(v);
        return true;
    case MSR_IA32_PAT:
        *value = hvm->get_pat(v);
        return true;
    case MSR_TSC:
        *value = rdtsc();
        return true;
    case MSR_MISC_ENABLE:
        *value = MISC_ENABLE_FAST_STRINGS;
        return true;
    case MSR_TSC_AUX:
        *value = v->tsc_aux;
        return host_has_tsc_aux();
    case MSR_AMD_INT_PENDING_MSG:
        *value = 0;
        return true;
    }
    gprintk(v->dom, LOG_DEBUG, "d%u: rdmsr 0x%x refused", v->dom->id, index);
    return false;
}

bool msr_write(struct vcpu *v, uint32_t index, uint64_t value)
{
    if (lapic_msr_in_range(index))
        return lapic_msr_write(v, index, value);
    switch (index) {
    case MSR_EFER:
        return efer_write(v, value);
    case MSR_IA32_PAT:
        if (!pat_valid(value))
            return false;
        hvm->set_pat(v, value);
        return true;
    case MSR_MISC_ENABLE:
        return value == MISC_ENABLE_FAST_STRINGS;
    case MSR_TSC_AUX:
        if ((value >> 32) || !host_has_tsc_aux())
            return false;
        v->tsc_aux = value;
        wrmsr(MSR_TSC_AUX, value);      /* v is the running vCPU */
        return true;
    case XEN_HYPERCALL_PAGE_MSR:
        return hypercall_page_write(v, value);
    }
    gprintk(v->dom, LOG_DEBUG, "d%u: wrmsr 0x%x value 0x%lx refused", v->dom->id, index, value);
    return false;
}
