/* vcpu.h (hypervisor, guest): __HYPERVISOR_vcpu_op(cmd, vcpuid, arg) sub-ops. */
#ifndef WISP_ABI_XEN_VCPU_H
#define WISP_ABI_XEN_VCPU_H

#include "xen.h"

#define VCPUOP_initialise                     0  /* IN struct vcpu_hvm_context (PVH) for a down vCPU */
#define VCPUOP_up                             1  /* arg NULL: start an initialised vCPU */
#define VCPUOP_down                           2  /* arg NULL: stop a vCPU */
#define VCPUOP_is_up                          3  /* arg NULL: returns 1 if running, 0 if down */
#define VCPUOP_get_runstate_info              4  /* OUT struct vcpu_runstate_info */
#define VCPUOP_register_runstate_memory_area  5  /* IN struct vcpu_register_runstate_memory_area */
#define VCPUOP_set_periodic_timer             6  /* IN struct vcpu_set_periodic_timer */
#define VCPUOP_stop_periodic_timer            7  /* arg NULL */
#define VCPUOP_set_singleshot_timer           8  /* IN struct vcpu_set_singleshot_timer */
#define VCPUOP_stop_singleshot_timer          9  /* arg NULL */
#define VCPUOP_register_vcpu_info            10  /* IN struct vcpu_register_vcpu_info */
#define VCPUOP_send_nmi                      11  /* arg NULL */
#define VCPUOP_get_physid                    12  /* OUT struct vcpu_get_physid (privileged) */
#define VCPUOP_register_vcpu_time_memory_area 13 /* IN struct vcpu_register_time_memory_area */

/* vcpu_runstate_info.state */
#define RUNSTATE_running   0  /* on a pCPU */
#define RUNSTATE_runnable  1  /* ready, waiting for a pCPU */
#define RUNSTATE_blocked   2  /* waiting for an event */
#define RUNSTATE_offline   3  /* down or paused */

/* Set in state_entry_time while the hypervisor rewrites the area (VMASST_TYPE_runstate_update_flag). */
#define XEN_RUNSTATE_UPDATE (1ULL << 63)

struct vcpu_runstate_info {
    int      state;             /* RUNSTATE_* */
    uint64_t state_entry_time;  /* system time (ns) when state was entered */
    uint64_t time[4];           /* ns spent in each RUNSTATE_*, indexed by it */
};
typedef struct vcpu_runstate_info vcpu_runstate_info_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_runstate_info_t);

/* The hypervisor keeps a copy of the runstate at this guest address, updated on every switch. */
struct vcpu_register_runstate_memory_area {
    union {
        XEN_GUEST_HANDLE(vcpu_runstate_info_t) h;
        struct vcpu_runstate_info *v;
        uint64_t p;
    } addr;  /* IN: guest virtual address */
};
typedef struct vcpu_register_runstate_memory_area vcpu_register_runstate_memory_area_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_register_runstate_memory_area_t);

struct vcpu_set_periodic_timer {
    uint64_t period_ns;  /* IN: VIRQ_TIMER every period_ns */
};
typedef struct vcpu_set_periodic_timer vcpu_set_periodic_timer_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_set_periodic_timer_t);

struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;  /* IN: fire VIRQ_TIMER at this system time */
    uint32_t flags;           /* IN: VCPU_SSHOTTMR_* */
};
typedef struct vcpu_set_singleshot_timer vcpu_set_singleshot_timer_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_set_singleshot_timer_t);

/* Fail with -XEN_ETIME instead of firing at once when the time has passed. */
#define _VCPU_SSHOTTMR_future 0
#define VCPU_SSHOTTMR_future  (1U << _VCPU_SSHOTTMR_future)

/* Move this vCPU's vcpu_info to guest frame mfn (a GFN for PVH) at offset; it must not cross the page. */
struct vcpu_register_vcpu_info {
    uint64_t mfn;     /* IN */
    uint32_t offset;  /* IN */
    uint32_t rsvd;    /* IN: zero */
};
typedef struct vcpu_register_vcpu_info vcpu_register_vcpu_info_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_register_vcpu_info_t);

struct vcpu_get_physid {
    uint64_t phys_id;  /* OUT: APIC ID in bits 0-31, ACPI ID in 32-63 */
};
typedef struct vcpu_get_physid vcpu_get_physid_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_get_physid_t);
#define xen_vcpu_physid_to_x86_apicid(physid) ((uint32_t)(physid))
#define xen_vcpu_physid_to_x86_acpiid(physid) ((uint32_t)((physid) >> 32))

/* A second copy of vcpu_time_info, kept at this guest address (for vDSO use). */
DEFINE_XEN_GUEST_HANDLE(vcpu_time_info_t);
struct vcpu_register_time_memory_area {
    union {
        XEN_GUEST_HANDLE(vcpu_time_info_t) h;
        struct vcpu_time_info *v;
        uint64_t p;
    } addr;  /* IN: guest virtual address */
};
typedef struct vcpu_register_time_memory_area vcpu_register_time_memory_area_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_register_time_memory_area_t);

/*
 * VCPUOP_initialise for HVM/PVH guests: the initial register state of a
 * secondary vCPU. Segments are flat descriptors given as base/limit/access
 * rights (the VMCB "attrib" packing: type, S, DPL, P, AVL, L, D/B, G in
 * bits 0-11); 64-bit mode implies flat segments and needs none.
 */
#define VCPU_HVM_MODE_32B 0  /* cpu_regs.x86_32 is used */
#define VCPU_HVM_MODE_64B 1  /* cpu_regs.x86_64 is used */

struct vcpu_hvm_x86_32 {
    uint32_t eax;
    uint32_t ecx;
    uint32_t edx;
    uint32_t ebx;
    uint32_t esp;
    uint32_t ebp;
    uint32_t esi;
    uint32_t edi;
    uint32_t eip;
    uint32_t eflags;
    uint32_t cr0;
    uint32_t cr3;
    uint32_t cr4;
    uint32_t pad1;
    uint64_t efer;
    uint32_t cs_base;
    uint32_t ds_base;
    uint32_t ss_base;
    uint32_t es_base;
    uint32_t tr_base;
    uint32_t cs_limit;
    uint32_t ds_limit;
    uint32_t ss_limit;
    uint32_t es_limit;
    uint32_t tr_limit;
    uint16_t cs_ar;
    uint16_t ds_ar;
    uint16_t ss_ar;
    uint16_t es_ar;
    uint16_t tr_ar;
    uint16_t pad2[3];
};
typedef struct vcpu_hvm_x86_32 xen_vcpu_hvm_x86_32_t;

struct vcpu_hvm_x86_64 {
    uint64_t rax;
    uint64_t rcx;
    uint64_t rdx;
    uint64_t rbx;
    uint64_t rsp;
    uint64_t rbp;
    uint64_t rsi;
    uint64_t rdi;
    uint64_t rip;
    uint64_t rflags;
    uint64_t cr0;
    uint64_t cr3;
    uint64_t cr4;
    uint64_t efer;
};
typedef struct vcpu_hvm_x86_64 xen_vcpu_hvm_x86_64_t;

struct vcpu_hvm_context {
    uint32_t mode;  /* IN: VCPU_HVM_MODE_* */
    uint32_t pad;
    union {
        xen_vcpu_hvm_x86_32_t x86_32;
        xen_vcpu_hvm_x86_64_t x86_64;
    } cpu_regs;     /* IN */
};
typedef struct vcpu_hvm_context vcpu_hvm_context_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_hvm_context_t);

/* Fixed-width except where noted. */
ABI_SIZE(struct vcpu_register_runstate_memory_area, 8);
ABI_SIZE(struct vcpu_set_periodic_timer, 8);
ABI_OFFSET(struct vcpu_set_singleshot_timer, flags, 8);
ABI_SIZE(struct vcpu_register_vcpu_info, 16);
ABI_OFFSET(struct vcpu_register_vcpu_info, offset, 8);
ABI_OFFSET(struct vcpu_register_vcpu_info, rsvd, 12);
ABI_SIZE(struct vcpu_get_physid, 8);
ABI_SIZE(struct vcpu_register_time_memory_area, 8);
ABI_SIZE(struct vcpu_hvm_x86_32, 120);
ABI_OFFSET(struct vcpu_hvm_x86_32, eip, 32);
ABI_OFFSET(struct vcpu_hvm_x86_32, cr0, 40);
ABI_OFFSET(struct vcpu_hvm_x86_32, efer, 56);
ABI_OFFSET(struct vcpu_hvm_x86_32, cs_base, 64);
ABI_OFFSET(struct vcpu_hvm_x86_32, cs_limit, 84);
ABI_OFFSET(struct vcpu_hvm_x86_32, cs_ar, 104);
ABI_OFFSET(struct vcpu_hvm_x86_32, tr_ar, 112);
ABI_SIZE(struct vcpu_hvm_x86_64, 112);
ABI_OFFSET(struct vcpu_hvm_x86_64, rip, 64);
ABI_OFFSET(struct vcpu_hvm_x86_64, efer, 104);
ABI_SIZE(struct vcpu_hvm_context, 128);
ABI_OFFSET(struct vcpu_hvm_context, cpu_regs, 8);

#ifdef __x86_64__
/* uint64_t after an int: 8-aligned here, 4-aligned for 32-bit guests. */
ABI_SIZE(struct vcpu_runstate_info, 48);
ABI_OFFSET(struct vcpu_runstate_info, state_entry_time, 8);
ABI_OFFSET(struct vcpu_runstate_info, time, 16);
ABI_SIZE(struct vcpu_set_singleshot_timer, 16);
#endif
#ifdef __i386__
ABI_SIZE(struct vcpu_runstate_info, 44);
ABI_OFFSET(struct vcpu_runstate_info, state_entry_time, 4);
ABI_OFFSET(struct vcpu_runstate_info, time, 12);
ABI_SIZE(struct vcpu_set_singleshot_timer, 12);
#endif

#endif
