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
    X(CACHE,         "invd/wbinvd")             \
    X(RDPMC,         "rdpmc")                   \
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

/*
 * The intercept set, stated once for both backends: each entry names what a
 * guest does, the exit reason the backend decodes it into, and the policy
 * (hvm.c). svm.c and vmx.c each map every entry to their own control bits in
 * a table indexed by this list and refuse to run without one. Not on the list,
 * on purpose: RDTSC/RDTSCP (guests read the host TSC), CR3 and CR8 (NPT/EPT,
 * TPR shadow), INVLPG/INVPCID, XSAVES, CR0 on SVM (the CPU applies every
 * architectural CR0 rule itself and Wisp owns no CR0 bit there), debug
 * register accesses (DR0-DR3 and DR6 are switched per vCPU, DR7 is in the
 * VMCB/VMCS). On demand only: PAUSE (guests with several vCPUs), the
 * interrupt window. VMX also exits on MOV to CR0 touching a bit VMX fixes.
 */
#define GUEST_INTERCEPTS(X)                                                               \
    X(CPUID,       "CPUID: cpuid.c policy")                                              \
    X(HLT,         "HLT: the vCPU blocks; with IF=0 on the last vCPU, poweroff")         \
    X(MSR,         "RDMSR/WRMSR: msr.c table, #GP outside it (pass-through list aside)") \
    X(IO,          "IN/OUT: no devices (reads all ones; 0xCF8 keeps a dword)")                    \
    X(XSETBV,      "XSETBV: checked by xcr0_valid against CPUID 0xD, else #GP")          \
    X(INVD,        "INVD: a no-op, never a cache invalidation")                          \
    X(WBINVD,      "WBINVD: a no-op (no device DMA; a long flush would stall the pCPU)") \
    X(RDPMC,       "RDPMC: #GP (no performance counters are offered)")                   \
    X(CR4_WRITE,   "MOV to CR4 setting a bit the vCPU's CPUID lacks: #GP")               \
    X(HYPERCALL,   "VMMCALL/VMCALL: a hypercall")                                        \
    X(EXC_UD,      "#UD: the other vendor's hypercall instruction, else reflected")      \
    X(EXC_MC,      "#MC: the host's (mce.c), never reflected; fatal unless corrected")   \
    X(VIRT_INSNS,  "SVM/VMX instructions, MONITOR/MWAIT: #UD")                           \
    X(TASK_SWITCH, "hardware task switch: the domain crashes (no emulator)")             \
    X(SHUTDOWN,    "triple fault: the domain crashes")                                   \
    X(HOST_EVENTS, "external interrupts, NMI, SMI, INIT: taken by the host")

enum guest_intercept {
#define X(name, text) GI_##name,
    GUEST_INTERCEPTS(X)
#undef X
    NR_GUEST_INTERCEPTS
};

extern const char *const guest_intercept_names[NR_GUEST_INTERCEPTS];

#define CR_GPR_UNKNOWN 0xff
#define NEXT_RIP_UNKNOWN (~0ull)

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
        /* gpr: hardware encoding (regs_gpr()), or CR_GPR_UNKNOWN when the CPU did not
         * say (SVM without decode assists): common code then matches the fixed
         * MOV-to-CR encoding at RIP, which also gives next_rip. */
        struct { uint8_t cr; uint8_t gpr; } cr;
    };
};

/* Control state common code needs: paging mode for guest walks, CPL for hypercalls. */
struct vcpu_ctrl_regs {
    uint64_t cr0, cr3, cr4, efer;
    unsigned cpl;
    unsigned mode_bits;     /* 16, 32 or 64: the width of the code segment now running */
    uint64_t cs_base;       /* linear address of CS:0 (ignored in 64-bit mode) */
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
    /* Lets v's state be loaded by another CPU (VMX: VMCLEAR); NULL if nothing to do. */
    void (*vcpu_unload)(struct vcpu *v);
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
    /* Applies a MOV to CR0/CR4 that common code checked (cpu_rules.h); false if this
     * CPU cannot hold the value (VMX-fixed bits, PAE PDPTEs unreadable): #GP. */
    bool (*write_cr)(struct vcpu *v, unsigned cr, uint64_t value);
    /* v's domain's p2m changed (p2m_changed, sched.c): drop this pCPU's cached
     * translations for v before it next runs (SVM: flush its ASID; VMX: INVEPT). */
    void (*flush_tlb)(struct vcpu *v);
    /* Prints vendor state (segments, control fields) for a crash dump. */
    void (*dump)(struct vcpu *v);
};

extern const struct hvm_ops *hvm;
extern const struct hvm_ops svm_ops, vmx_ops;

/* The probes' refusal: *why says what this CPU lacks, and the answer is no. */
static inline bool unsupported(const char **why, const char *reason)
{
    *why = reason;
    return false;
}

/* Each returns true when this CPU can run the backend; else *why says what is missing. */
bool svm_available(const char **why);
bool vmx_available(const char **why);

/* A free ASID or VPID below limit (0: none left), and its return when its vCPU goes. */
uint32_t hvm_tag_alloc(uint32_t limit);
void hvm_tag_free(uint32_t tag);

/* Binds `hvm` to the first available backend; false (with reasons logged) if none. */
bool hvm_select(void);

/* Logs the words on v's stack that may be return addresses into a 64-bit kernel. */
void hvm_log_stack(struct vcpu *v);

/* General-purpose register by hardware encoding (0 = RAX, 1 = RCX, 2 = RDX, 3 = RBX, 4 = RSP, ...). */
uint64_t *regs_gpr(struct cpu_regs *regs, unsigned index);

#endif
