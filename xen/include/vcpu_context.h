/* vcpu_context.h (hypervisor, pure): a vCPU's complete start state, as common code describes it. */
#ifndef WISP_VCPU_CONTEXT_H
#define WISP_VCPU_CONTEXT_H

#include "env.h"
#include "regs.h"

struct vcpu_hvm_context;

/*
 * Segment attributes packed as descriptor bits 40-47 and 52-55 (type, S, DPL,
 * P, then AVL, L, D/B, G in bits 8-11): the VMCB's "attrib" and Xen's "_ar"
 * encoding (APM vol 2, 15.5.1; xen/public/hvm/hvm_vcpu.h). 0 = a null segment.
 */
#define SEG_TYPE_MASK      0x000fu
#define SEG_TYPE_ACCESSED  (1u << 0)
#define SEG_TYPE_WRITABLE  (1u << 1)    /* data; for code: readable */
#define SEG_TYPE_CODE      (1u << 3)
#define SEG_S              (1u << 4)    /* code or data, not a system segment */
#define SEG_DPL_SHIFT      5
#define SEG_DPL_MASK       (3u << 5)
#define SEG_P              (1u << 7)
#define SEG_L              (1u << 9)    /* 64-bit code */
#define SEG_DB             (1u << 10)   /* 32-bit code / stack */
#define SEG_G              (1u << 11)   /* limit in 4 KiB units */
#define SEG_ATTR_BITS      0x0fffu
#define SEG_TYPE_TSS16_BUSY 0x3u
#define SEG_TYPE_TSS32_BUSY 0xbu        /* also the 64-bit TSS */
#define SEG_TYPE_LDT       0x2u

#define SEG_ATTR_CODE16    (SEG_P | SEG_S | SEG_TYPE_CODE | SEG_TYPE_WRITABLE | SEG_TYPE_ACCESSED)
#define SEG_ATTR_DATA16    (SEG_P | SEG_S | SEG_TYPE_WRITABLE | SEG_TYPE_ACCESSED)
#define SEG_ATTR_CODE32    (SEG_ATTR_CODE16 | SEG_DB | SEG_G)   /* 0xc9b */
#define SEG_ATTR_DATA32    (SEG_ATTR_DATA16 | SEG_DB | SEG_G)   /* 0xc93 */
#define SEG_ATTR_CODE64    (SEG_ATTR_CODE16 | SEG_L | SEG_G)    /* 0xa9b */
#define SEG_ATTR_TSS_BUSY  (SEG_P | SEG_TYPE_TSS32_BUSY)        /* 0x08b */
#define SEG_ATTR_LDT       (SEG_P | SEG_TYPE_LDT)               /* 0x082 */

/* A segment register with its hidden part; limit in bytes. */
struct seg_reg {
    uint16_t sel;
    uint16_t attrib;
    uint32_t limit;
    uint64_t base;
};

struct desc_table_reg {
    uint64_t base;
    uint16_t limit;
};

/*
 * Everything a backend loads to start a vCPU somewhere: at the PVH entry, after
 * a STARTUP IPI, or where VCPUOP_initialise says. Built and checked here, so a
 * backend loads it as it is; EFER.LMA is already LME && CR0.PG.
 */
struct vcpu_context {
    struct cpu_regs regs;
    uint64_t cr0, cr3, cr4, efer;
    struct seg_reg cs, ds, es, ss, fs, gs, tr, ldtr;
    struct desc_table_reg gdtr, idtr;
};

/* The PVH entry (Xen's docs/misc/pvh.pandoc): flat 32-bit protected mode, paging off. */
void vcpu_context_pvh_entry(struct vcpu_context *c, uint64_t entry, uint64_t start_info);

/* After INIT and a STARTUP IPI (SDM vol 3, 9.4.4): real mode at vector << 12. */
void vcpu_context_startup_ipi(struct vcpu_context *c, uint8_t vector);

/*
 * VCPUOP_initialise's vcpu_hvm_context, checked: 0, or -EINVAL for a state no
 * CPU could be in or Wisp does not start vCPUs in (docs/abi-coverage.md).
 * cr4_valid: the CR4 bits this vCPU's features allow. Leaves to the caller
 * whether CR3 points at the guest's RAM.
 */
int __must_check vcpu_context_from_hvm(struct vcpu_context *c, const struct vcpu_hvm_context *in,
                                       uint64_t cr4_valid);

#endif
