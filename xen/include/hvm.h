/* hvm.h (hypervisor): the one vendor-neutral vCPU interface; svm/ and vmx/ implement it. */
#ifndef WISP_HVM_H
#define WISP_HVM_H

#include "env.h"
#include "p2m.h"
#include "regs.h"

struct vcpu;
struct vcpu_context;
struct domain;

/* Every exit reason common code knows: enum, counters and names come from this list. */
#define EXIT_REASONS(X)                         \
    X(CPUID,         "cpuid")                   \
    X(MSR_READ,      "rdmsr")                   \
    X(MSR_WRITE,     "wrmsr")                   \
    X(HLT,           "hlt")                     \
    X(HYPERCALL,     "hypercall")               \
    X(NPF,           "nested page fault")       \
    X(IO,            "i/o instruction")         \
    X(XSETBV,        "xsetbv")                  \
    X(CR_WRITE,      "control register write")  \
    X(EXCEPTION,     "intercepted exception")   \
    X(TRIPLE_FAULT,  "triple fault")            \
    X(INTR,          "host interrupt")          \
    X(MACHINE_CHECK, "machine check")           \
    X(INTR_WINDOW,   "interrupt window")        \
    X(PAUSE,         "pause (spin-wait)")       \
    X(VIRT_INSN,     "virtualization instruction") \
    X(INVALID_STATE, "invalid guest state")     \
    X(UNEXPECTED,    "unexpected exit")

enum exit_reason {
#define X(name, text) EXIT_##name,
    EXIT_REASONS(X)
#undef X
    NR_EXIT_REASONS
};

extern const char *const exit_reason_names[NR_EXIT_REASONS];

/* A VM exit decoded by vendor code into the facts common code decides on. */
struct vm_exit {
    enum exit_reason reason;
    uint64_t next_rip;      /* RIP after the exiting instruction, where that is defined */
    uint64_t hw_reason;     /* vendor's raw exit code, for dumps */
    uint64_t hw_qual;       /* vendor's raw qualification / EXITINFO1, for dumps */
    union {
        struct { uint64_t gpa; unsigned access; bool present; } npf;  /* access: P2M_* bits */
        struct { uint32_t index; uint64_t value; } msr;               /* value: writes only */
        struct { uint16_t port; uint8_t bytes; bool in, string, rep; } io;
        struct { uint8_t vector; bool has_error; uint32_t error; } exception;
        struct { uint32_t index; uint64_t value; } xsetbv;
        struct { uint8_t cr; uint8_t gpr; } cr;   /* gpr: hardware encoding, see regs_gpr() */
    };
};

/* Control state common code needs: paging mode for guest walks, CPL for hypercalls. */
struct vcpu_ctrl_regs {
    uint64_t cr0, cr3, cr4, efer;
    unsigned cpl;
    unsigned mode_bits;     /* 16, 32 or 64: the width of the code segment now running */
};

/*
 * The vendor backend. Bound once at boot (hvm_select); common code never asks
 * which vendor it runs on.
 */
struct hvm_ops {
    const char *name;                       /* "AMD SVM + NPT" / "Intel VMX + EPT" */
    const struct pt_format *p2m_format;
    uint8_t hypercall_insn[3];              /* VMMCALL or VMCALL encoding */
    uint8_t other_hypercall_insn[3];        /* the other vendor's, accepted via #UD */

    /* This pCPU: turn the extension on. */
    int __must_check (*cpu_enable)(void);
    /* Allocates the VMCB/VMCS; load_context then gives it a state to run from. */
    int __must_check (*vcpu_init)(struct vcpu *v);
    void (*vcpu_destroy)(struct vcpu *v);
    /* Enters the guest with v->regs and returns at the next exit, decoded. */
    void (*run)(struct vcpu *v, struct vm_exit *exit);
    void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
    /* Can an event be injected at the next entry? No other event is queued and,
     * unless it is an NMI, RFLAGS.IF is set and no STI/MOV SS shadow is active. */
    bool (*can_inject)(struct vcpu *v, bool nmi);
    void (*inject_interrupt)(struct vcpu *v, uint8_t vector);   /* an external interrupt */
    void (*inject_nmi)(struct vcpu *v);
    /* Exit with EXIT_INTR_WINDOW as soon as the guest can take an interrupt. */
    void (*interrupt_window)(struct vcpu *v, bool enable);
    /* Loads a checked start state (vcpu_context.h) and drops queued events; false,
     * with the vCPU unchanged, if this CPU cannot hold it (VMX-fixed CR bits). */
    bool __must_check (*load_context)(struct vcpu *v, const struct vcpu_context *c);
    void (*get_ctrl_regs)(struct vcpu *v, struct vcpu_ctrl_regs *out);
    /* EFER and PAT live in the VMCB/VMCS; common code validates, vendor stores. */
    uint64_t (*get_efer)(struct vcpu *v);
    void (*set_efer)(struct vcpu *v, uint64_t efer);
    uint64_t (*get_pat)(struct vcpu *v);
    void (*set_pat)(struct vcpu *v, uint64_t pat);
    /* Only backends that report EXIT_CR_WRITE need this; false = refuse (#GP). */
    bool (*write_cr)(struct vcpu *v, unsigned cr, uint64_t value);
    /* The domain's p2m changed: its vCPUs must drop cached translations before
     * they next run (a new ASID/TLB flush on SVM, INVEPT on VMX). */
    void (*flush_p2m)(struct domain *d);
    /* Prints vendor state (segments, control fields) for a crash dump. */
    void (*dump)(struct vcpu *v);
};

extern const struct hvm_ops *hvm;
extern const struct hvm_ops svm_ops, vmx_ops;

/* Each returns true when this CPU can run the backend; else *why says what is missing. */
bool svm_available(const char **why);
bool vmx_available(const char **why);

/* Binds `hvm` to the first available backend; false (with reasons logged) if none. */
bool hvm_select(void);

/* General-purpose register by hardware encoding (0 = RAX, 1 = RCX, 2 = RDX, 3 = RBX, 4 = RSP, ...). */
uint64_t *regs_gpr(struct cpu_regs *regs, unsigned index);

#endif
