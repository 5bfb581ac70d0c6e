/* vmcb.h (hypervisor, SVM): the VMCB layout and bits (AMD APM vol 2, appendix B and 15.x). */
#ifndef WISP_SVM_VMCB_H
#define WISP_SVM_VMCB_H

#include "env.h"

/* CR intercepts (offset 0x00): reads in bits 15:0, writes in bits 31:16, one per CR. */
#define INTERCEPT_CR_WRITE(n) (1u << (16 + (n)))
/* Intercept vector 3 (offset 0x0c), APM table B-1. */
#define INTERCEPT_INTR      (1u << 0)
#define INTERCEPT_NMI       (1u << 1)
#define INTERCEPT_SMI       (1u << 2)
#define INTERCEPT_INIT      (1u << 3)
#define INTERCEPT_VINTR     (1u << 4)
#define INTERCEPT_RDPMC     (1u << 15)
#define INTERCEPT_CPUID     (1u << 18)
#define INTERCEPT_IRET      (1u << 20)
#define INTERCEPT_INVD      (1u << 22)
#define INTERCEPT_PAUSE     (1u << 23)
#define INTERCEPT_HLT       (1u << 24)
#define INTERCEPT_INVLPGA   (1u << 26)
#define INTERCEPT_IOIO      (1u << 27)
#define INTERCEPT_MSR       (1u << 28)
#define INTERCEPT_TASK_SWITCH (1u << 29)
#define INTERCEPT_SHUTDOWN  (1u << 31)
/* Intercept vector 4 (offset 0x10). */
#define INTERCEPT_VMRUN     (1u << 0)   /* must be set, or VMRUN fails (APM 15.5.1) */
#define INTERCEPT_VMMCALL   (1u << 1)
#define INTERCEPT_VMLOAD    (1u << 2)
#define INTERCEPT_VMSAVE    (1u << 3)
#define INTERCEPT_STGI      (1u << 4)
#define INTERCEPT_CLGI      (1u << 5)
#define INTERCEPT_SKINIT    (1u << 6)
#define INTERCEPT_WBINVD    (1u << 9)
#define INTERCEPT_MONITOR   (1u << 10)
#define INTERCEPT_MWAIT     (1u << 11)
#define INTERCEPT_MWAIT_ARMED (1u << 12)
#define INTERCEPT_XSETBV    (1u << 13)

/* Exit codes, APM table C-1. */
#define VMEXIT_CR0_WRITE 0x10           /* + CR number */
#define VMEXIT_RDPMC    0x6f
#define VMEXIT_EXCEPTION_BASE 0x40      /* + vector */
#define VMEXIT_INTR     0x60
#define VMEXIT_NMI      0x61
#define VMEXIT_SMI      0x62
#define VMEXIT_INIT     0x63
#define VMEXIT_VINTR    0x64
#define VMEXIT_CPUID    0x72
#define VMEXIT_IRET     0x74
#define VMEXIT_INVD     0x76
#define VMEXIT_PAUSE    0x77
#define VMEXIT_HLT      0x78
#define VMEXIT_INVLPGA  0x7a
#define VMEXIT_IOIO     0x7b
#define VMEXIT_MSR      0x7c
#define VMEXIT_TASK_SWITCH 0x7d
#define VMEXIT_SHUTDOWN 0x7f
#define VMEXIT_VMRUN    0x80
#define VMEXIT_VMMCALL  0x81
#define VMEXIT_VMLOAD   0x82
#define VMEXIT_VMSAVE   0x83
#define VMEXIT_STGI     0x84
#define VMEXIT_CLGI     0x85
#define VMEXIT_SKINIT   0x86
#define VMEXIT_MONITOR  0x8a
#define VMEXIT_MWAIT    0x8b
#define VMEXIT_MWAIT_ARMED 0x8c
#define VMEXIT_WBINVD   0x89
#define VMEXIT_XSETBV   0x8d
#define VMEXIT_NPF      0x400
#define VMEXIT_INVALID  (~0ull)

/* IOIO EXITINFO1 (APM figure 15-2). */
#define IOIO_IN        (1u << 0)
#define IOIO_STRING    (1u << 2)
#define IOIO_REP       (1u << 3)
#define IOIO_SIZE_SHIFT 4               /* one-hot: bit 4 byte, 5 word, 6 dword */
#define IOIO_PORT_SHIFT 16

/* MOV CRx EXITINFO1 with decode assists (APM 15.8.1): bit 63 = a MOV, bits 3:0 = its GPR. */
#define CR_EXITINFO_MOV       (1ull << 63)
#define CR_EXITINFO_GPR_MASK  0xfull

/* NPF EXITINFO1: a #PF-style error code (APM 15.25.6). */
#define NPF_PRESENT    (1u << 0)
#define NPF_WRITE      (1u << 1)
#define NPF_FETCH      (1u << 4)

/* EVENTINJ (APM 15.20). */
#define EVENTINJ_VALID     (1ull << 31)
#define EVENTINJ_ERR_VALID (1ull << 11)
#define EVENTINJ_TYPE_INTR      (0ull << 8)
#define EVENTINJ_TYPE_NMI       (2ull << 8)
#define EVENTINJ_TYPE_EXCEPTION (3ull << 8)
#define EVENTINJ_TYPE_MASK      (7ull << 8)
#define EVENTINJ_VECTOR_MASK    0xffull

/* VINTR control (offset 0x60). */
#define VINTR_MASKING  (1ull << 24)     /* guest IF masks only virtual interrupts */
#define VINTR_V_IRQ    (1ull << 8)      /* a virtual interrupt is pending */
#define VINTR_PRIO_MAX (0xfull << 16)
#define VINTR_IGN_TPR  (1ull << 20)
#define VINTR_VECTOR_SHIFT 32          /* V_INTR_VECTOR (offset 0x64) */
#define VINTR_VECTOR_MASK (0xffull << VINTR_VECTOR_SHIFT)
#define INTERRUPT_SHADOW (1ull << 0)    /* STI/MOV SS shadow (offset 0x68) */

#define TLB_CONTROL_FLUSH_ASID 3        /* flush this guest's TLB entries on VMRUN */
#define NP_ENABLE 1ull

/* Segment attributes: vcpu_context.h's SEG_* packing. */
struct vmcb_seg {
    uint16_t selector;
    uint16_t attrib;
    uint32_t limit;
    uint64_t base;
};

struct vmcb {
    /* Control area. */
    uint32_t intercept_cr;          /* 0x000: reads low 16, writes high 16 */
    uint32_t intercept_dr;          /* 0x004 */
    uint32_t intercept_exceptions;  /* 0x008 */
    uint32_t intercept_misc1;       /* 0x00c: vector 3 */
    uint32_t intercept_misc2;       /* 0x010: vector 4 */
    uint32_t intercept_misc3;       /* 0x014: vector 5 */
    uint8_t  reserved1[0x03c - 0x018];
    uint16_t pause_filter_threshold; /* 0x03c */
    uint16_t pause_filter_count;    /* 0x03e */
    uint64_t iopm_base_pa;          /* 0x040 */
    uint64_t msrpm_base_pa;         /* 0x048 */
    uint64_t tsc_offset;            /* 0x050 */
    uint32_t guest_asid;            /* 0x058 */
    uint8_t  tlb_control;           /* 0x05c */
    uint8_t  reserved2[3];
    uint64_t vintr;                 /* 0x060 */
    uint64_t interrupt_shadow;      /* 0x068 */
    uint64_t exitcode;              /* 0x070 */
    uint64_t exitinfo1;             /* 0x078 */
    uint64_t exitinfo2;             /* 0x080 */
    uint64_t exitintinfo;           /* 0x088 */
    uint64_t np_enable;             /* 0x090 */
    uint64_t avic_apic_bar;         /* 0x098 */
    uint64_t ghcb_pa;               /* 0x0a0 */
    uint64_t eventinj;              /* 0x0a8 */
    uint64_t n_cr3;                 /* 0x0b0 */
    uint64_t virt_ext;              /* 0x0b8 */
    uint32_t clean_bits;            /* 0x0c0 */
    uint32_t reserved3;
    uint64_t next_rip;              /* 0x0c8 */
    uint8_t  insn_len;              /* 0x0d0 */
    uint8_t  insn_bytes[15];
    uint8_t  reserved4[0x400 - 0x0e0];
    /* State save area. */
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;   /* 0x400 */
    uint8_t  reserved5[0x4cb - 0x4a0];
    uint8_t  cpl;                   /* 0x4cb */
    uint32_t reserved6;
    uint64_t efer;                  /* 0x4d0 */
    uint8_t  reserved7[0x548 - 0x4d8];
    uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip;  /* 0x548 */
    uint8_t  reserved8[0x5d8 - 0x580];
    uint64_t rsp;                   /* 0x5d8 */
    uint64_t s_cet, ssp, isst_addr; /* 0x5e0 */
    uint64_t rax;                   /* 0x5f8 */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;   /* 0x600 */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;     /* 0x628 */
    uint64_t cr2;                   /* 0x640 */
    uint8_t  reserved9[0x668 - 0x648];
    uint64_t g_pat;                 /* 0x668 */
    uint8_t  reserved10[0x1000 - 0x670];
};     /* every field is naturally aligned: the asserts below pin the layout */

_Static_assert(__builtin_offsetof(struct vmcb, iopm_base_pa) == 0x040, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, exitcode) == 0x070, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, eventinj) == 0x0a8, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, next_rip) == 0x0c8, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, es) == 0x400, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, tr) == 0x490, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, cpl) == 0x4cb, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, efer) == 0x4d0, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, cr4) == 0x548, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, rip) == 0x578, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, rsp) == 0x5d8, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, rax) == 0x5f8, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, star) == 0x600, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, cr2) == 0x640, "VMCB");
_Static_assert(__builtin_offsetof(struct vmcb, g_pat) == 0x668, "VMCB");
_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is one page");

#endif
