/* vcpu_context.c (hypervisor, pure): vCPU start states: the PVH entry, STARTUP IPIs, and VCPUOP_initialise's checks. */
#include "env.h"
#include "errno.h"
#include "vcpu_context.h"
#include "x86.h"
#include "xen/vcpu.h"

#define FLAT_LIMIT       0xffffffffu
#define REAL_MODE_LIMIT  0xffffu
#define TSS_LIMIT        0x67u      /* a 32-bit or 64-bit TSS is 104 bytes */
#define DESC_TABLE_LIMIT 0xffffu

/* The PVH entry's selectors: any valid GDT layout would do; these are the usual one. */
#define PVH_CS_SEL 0x08
#define PVH_DS_SEL 0x10
#define PVH_TR_SEL 0x18

#define CR0_KNOWN (X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_ET | X86_CR0_NE | \
                   X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)
#define EFER_AT_START (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

static const struct desc_table_reg no_table = { 0, DESC_TABLE_LIMIT };

void vcpu_context_pvh_entry(struct vcpu_context *c, uint64_t entry, uint64_t start_info)
{
    const struct seg_reg data = { PVH_DS_SEL, SEG_ATTR_DATA32, FLAT_LIMIT, 0 };

    *c = (struct vcpu_context){
        .regs = { .rip = entry, .rbx = start_info, .rflags = X86_RFLAGS_FIXED },
        .cr0 = X86_CR0_PE | X86_CR0_ET,
        .cs = { PVH_CS_SEL, SEG_ATTR_CODE32, FLAT_LIMIT, 0 },
        .ds = data, .es = data, .ss = data, .fs = data, .gs = data,
        .tr = { PVH_TR_SEL, SEG_ATTR_TSS_BUSY, TSS_LIMIT, 0 },
        .gdtr = no_table, .idtr = no_table,
    };
}

void vcpu_context_startup_ipi(struct vcpu_context *c, uint8_t vector)
{
    const struct seg_reg data = { 0, SEG_ATTR_DATA16, REAL_MODE_LIMIT, 0 };

    *c = (struct vcpu_context){
        .regs = { .rip = 0, .rflags = X86_RFLAGS_FIXED },
        .cr0 = X86_CR0_ET,
        .cs = { (uint16_t)(vector << 8), SEG_ATTR_CODE16, REAL_MODE_LIMIT, (uint64_t)vector << 12 },
        .ds = data, .es = data, .ss = data, .fs = data, .gs = data,
        /* VM entry wants a busy TSS in TR even in real mode (SDM vol 3, 27.3.1.2). */
        .tr = { 0, SEG_ATTR_TSS_BUSY, REAL_MODE_LIMIT, 0 },
        .ldtr = { 0, SEG_ATTR_LDT, REAL_MODE_LIMIT, 0 },
        .gdtr = no_table, .idtr = no_table,
    };
}

/* ---- VCPUOP_initialise ---- */

enum seg_role { ROLE_CODE, ROLE_STACK, ROLE_DATA, ROLE_TSS };

/* The byte limit must be one a descriptor's 20-bit limit and G bit can expand to (SDM vol 3, 3.4.5). */
static bool limit_fits_granularity(const struct seg_reg *s)
{
    if (s->attrib & SEG_G)
        return (s->limit & 0xfff) == 0xfff;
    return s->limit <= 0xfffff;
}

static bool role_allows(unsigned attrib, enum seg_role role, bool long_mode)
{
    unsigned type = attrib & SEG_TYPE_MASK;
    bool code = type & SEG_TYPE_CODE, readable_or_writable = type & SEG_TYPE_WRITABLE;
    bool ring0 = !(attrib & SEG_DPL_MASK);

    if (role == ROLE_TSS)
        return !(attrib & SEG_S) &&
               (type == SEG_TYPE_TSS32_BUSY || (type == SEG_TYPE_TSS16_BUSY && !long_mode));
    if (!(attrib & SEG_S))
        return false;
    switch (role) {
    case ROLE_CODE:
        return code && ring0;               /* a vCPU starts in ring 0 */
    case ROLE_STACK:
        return !code && readable_or_writable && ring0;
    default:
        return !code || readable_or_writable;
    }
}

/*
 * Xen's vcpu_hvm_context gives base, limit and attributes but no selectors; the
 * checks are those VM entry makes (SDM vol 3, 27.3.1.2), so that no guest input
 * can make an entry fail. Only DS and ES may be null.
 */
static bool segment_ok(struct seg_reg *s, enum seg_role role, bool long_mode)
{
    if (s->attrib == 0)
        return role == ROLE_DATA;
    if ((s->attrib & ~SEG_ATTR_BITS) || !(s->attrib & SEG_P) || (s->attrib & SEG_L) ||
        !limit_fits_granularity(s) || !role_allows(s->attrib, role, long_mode))
        return false;
    if (role != ROLE_TSS)
        s->attrib |= SEG_TYPE_ACCESSED;     /* as loading the descriptor would set it */
    return true;
}

/* Control registers and flags a CPU could hold, in protected mode; computes EFER.LMA. */
static bool control_state_ok(struct vcpu_context *c, uint64_t cr4_valid)
{
    uint64_t cr0 = c->cr0;

    if ((cr0 & ~CR0_KNOWN) || (c->cr4 & ~cr4_valid) || (c->efer & ~EFER_AT_START))
        return false;
    /* Real mode is what STARTUP IPIs are for. */
    if (!(cr0 & X86_CR0_PE) || ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD)))
        return false;
    if (c->regs.rflags & (X86_RFLAGS_RESERVED | X86_RFLAGS_VM))
        return false;
    c->cr0 |= X86_CR0_ET;
    c->regs.rflags |= X86_RFLAGS_FIXED;
    c->efer &= ~EFER_LMA;
    if ((c->efer & EFER_LME) && (cr0 & X86_CR0_PG)) {
        if (!(c->cr4 & X86_CR4_PAE))
            return false;
        c->efer |= EFER_LMA;
    }
    /* PCIDs exist only in long mode (SDM vol 3, 4.10.1). */
    return !(c->cr4 & X86_CR4_PCIDE) || (c->efer & EFER_LMA);
}

static bool is_canonical(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static struct seg_reg seg32(uint32_t base, uint32_t limit, uint16_t attrib)
{
    return (struct seg_reg){ .sel = 0, .attrib = attrib, .limit = limit, .base = base };
}

/* 32-bit protected mode, or compatibility mode when EFER.LME and CR0.PG are set. */
static int from_32(struct vcpu_context *c, const struct vcpu_hvm_x86_32 *r, uint64_t cr4_valid)
{
    bool long_mode;

    *c = (struct vcpu_context){
        .regs = { .rax = r->eax, .rcx = r->ecx, .rdx = r->edx, .rbx = r->ebx, .rsp = r->esp,
                  .rbp = r->ebp, .rsi = r->esi, .rdi = r->edi, .rip = r->eip,
                  .rflags = r->eflags },
        .cr0 = r->cr0, .cr3 = r->cr3, .cr4 = r->cr4, .efer = r->efer,
        .cs = seg32(r->cs_base, r->cs_limit, r->cs_ar),
        .ds = seg32(r->ds_base, r->ds_limit, r->ds_ar),
        .es = seg32(r->es_base, r->es_limit, r->es_ar),
        .ss = seg32(r->ss_base, r->ss_limit, r->ss_ar),
        .tr = seg32(r->tr_base, r->tr_limit, r->tr_ar),
        /* FS and GS are not in the structure: flat, as at the PVH entry. */
        .fs = seg32(0, FLAT_LIMIT, SEG_ATTR_DATA32),
        .gs = seg32(0, FLAT_LIMIT, SEG_ATTR_DATA32),
        .gdtr = no_table, .idtr = no_table,
    };
    if (!control_state_ok(c, cr4_valid))
        return -EINVAL;
    long_mode = c->efer & EFER_LMA;
    if (!segment_ok(&c->cs, ROLE_CODE, long_mode) || !segment_ok(&c->ss, ROLE_STACK, long_mode) ||
        !segment_ok(&c->ds, ROLE_DATA, long_mode) || !segment_ok(&c->es, ROLE_DATA, long_mode) ||
        !segment_ok(&c->tr, ROLE_TSS, long_mode))
        return -EINVAL;
    return 0;
}

/* 64-bit mode: paging on, flat segments implied. */
static int from_64(struct vcpu_context *c, const struct vcpu_hvm_x86_64 *r, uint64_t cr4_valid)
{
    const struct seg_reg data = { 0, SEG_ATTR_DATA32, FLAT_LIMIT, 0 };

    *c = (struct vcpu_context){
        .regs = { .rax = r->rax, .rcx = r->rcx, .rdx = r->rdx, .rbx = r->rbx, .rsp = r->rsp,
                  .rbp = r->rbp, .rsi = r->rsi, .rdi = r->rdi, .rip = r->rip,
                  .rflags = r->rflags },
        .cr0 = r->cr0, .cr3 = r->cr3, .cr4 = r->cr4, .efer = r->efer,
        .cs = { 0, SEG_ATTR_CODE64, FLAT_LIMIT, 0 },
        .ds = data, .es = data, .ss = data, .fs = data, .gs = data,
        .tr = { 0, SEG_ATTR_TSS_BUSY, TSS_LIMIT, 0 },
        .gdtr = no_table, .idtr = no_table,
    };
    if (!control_state_ok(c, cr4_valid) || !(c->efer & EFER_LMA) || !is_canonical(c->regs.rip))
        return -EINVAL;
    return 0;
}

int vcpu_context_from_hvm(struct vcpu_context *c, const struct vcpu_hvm_context *in,
                          uint64_t cr4_valid)
{
    switch (in->mode) {
    case VCPU_HVM_MODE_32B:
        return from_32(c, &in->cpu_regs.x86_32, cr4_valid);
    case VCPU_HVM_MODE_64B:
        return from_64(c, &in->cpu_regs.x86_64, cr4_valid);
    default:
        return -EINVAL;
    }
}
