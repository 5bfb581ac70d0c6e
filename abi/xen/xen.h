/* xen.h (hypervisor, guest): core Xen ABI types, hypercall numbers, and the shared_info/vcpu_info pages. */
#ifndef WISP_ABI_XEN_XEN_H
#define WISP_ABI_XEN_XEN_H

#include <stdint.h>
#include <stddef.h>
#include "abi_check.h"

/*
 * Word-sized ABI types are `unsigned long`, as in Xen: a 64-bit compile gives
 * the native layout and a -m32 compile gives the layout 32-bit guests use
 * (Xen's "compat" layout), with no other switch. Only fields that are fixed
 * at 64 bits in every ABI use uint64_t; in the guest-visible structures here
 * Xen does not force 8-byte alignment on them for 32-bit guests, so neither
 * do we (its uint64_aligned_t is used only by tools-only interfaces).
 */
typedef unsigned long xen_ulong_t;  /* guest word */
typedef unsigned long xen_pfn_t;    /* guest frame number (GFN for PVH) */
typedef uint16_t domid_t;

/*
 * A guest handle is a guest-virtual pointer wrapped in a struct so that it
 * cannot be dereferenced by accident in the hypervisor; read it with
 * copy_from_guest() and friends. Its size is the guest word size.
 */
#define XEN_GUEST_HANDLE(name)        xen_guest_handle_##name##_t
#define XEN_GUEST_HANDLE_PARAM(name)  XEN_GUEST_HANDLE(name)
#define __DEFINE_XEN_GUEST_HANDLE(name, type)                              \
    typedef struct { type *p; } xen_guest_handle_##name##_t;               \
    typedef struct { const type *p; } xen_guest_handle_const_##name##_t
#define DEFINE_XEN_GUEST_HANDLE(name) __DEFINE_XEN_GUEST_HANDLE(name, name)
#define set_xen_guest_handle(hnd, val) do { (hnd).p = (val); } while (0)
#define guest_handle_is_null(hnd)      ((hnd).p == NULL)

DEFINE_XEN_GUEST_HANDLE(char);
__DEFINE_XEN_GUEST_HANDLE(uchar, unsigned char);
DEFINE_XEN_GUEST_HANDLE(int);
__DEFINE_XEN_GUEST_HANDLE(uint, unsigned int);
DEFINE_XEN_GUEST_HANDLE(void);
DEFINE_XEN_GUEST_HANDLE(uint64_t);
DEFINE_XEN_GUEST_HANDLE(xen_pfn_t);
DEFINE_XEN_GUEST_HANDLE(xen_ulong_t);
__DEFINE_XEN_GUEST_HANDLE(uint8, uint8_t);
__DEFINE_XEN_GUEST_HANDLE(uint16, uint16_t);
__DEFINE_XEN_GUEST_HANDLE(uint32, uint32_t);
__DEFINE_XEN_GUEST_HANDLE(uint64, uint64_t);

/*
 * Hypercall numbers: the guest calls offset 32 * nr in its hypercall page
 * (MSR from CPUID leaf XEN_CPUID_LEAF(2)), or issues VMCALL/VMMCALL with the
 * number in RAX/EAX. Most are PV-only and answer -XEN_ENOSYS to PVH guests;
 * docs/ holds the coverage table.
 */
#define __HYPERVISOR_set_trap_table                  0
#define __HYPERVISOR_mmu_update                      1
#define __HYPERVISOR_set_gdt                         2
#define __HYPERVISOR_stack_switch                    3
#define __HYPERVISOR_set_callbacks                   4
#define __HYPERVISOR_fpu_taskswitch                  5
#define __HYPERVISOR_sched_op_compat                 6
#define __HYPERVISOR_platform_op                     7
#define __HYPERVISOR_set_debugreg                    8
#define __HYPERVISOR_get_debugreg                    9
#define __HYPERVISOR_update_descriptor              10
#define __HYPERVISOR_memory_op                      12
#define __HYPERVISOR_multicall                      13
#define __HYPERVISOR_update_va_mapping              14
#define __HYPERVISOR_set_timer_op                   15
#define __HYPERVISOR_event_channel_op_compat        16
#define __HYPERVISOR_xen_version                    17
#define __HYPERVISOR_console_io                     18
#define __HYPERVISOR_physdev_op_compat              19
#define __HYPERVISOR_grant_table_op                 20
#define __HYPERVISOR_vm_assist                      21
#define __HYPERVISOR_update_va_mapping_otherdomain  22
#define __HYPERVISOR_iret                           23
#define __HYPERVISOR_vcpu_op                        24
#define __HYPERVISOR_set_segment_base               25
#define __HYPERVISOR_mmuext_op                      26
#define __HYPERVISOR_xsm_op                         27
#define __HYPERVISOR_nmi_op                         28
#define __HYPERVISOR_sched_op                       29
#define __HYPERVISOR_callback_op                    30
#define __HYPERVISOR_xenoprof_op                    31
#define __HYPERVISOR_event_channel_op               32
#define __HYPERVISOR_physdev_op                     33
#define __HYPERVISOR_hvm_op                         34
#define __HYPERVISOR_sysctl                         35
#define __HYPERVISOR_domctl                         36
#define __HYPERVISOR_kexec_op                       37
#define __HYPERVISOR_tmem_op                        38
#define __HYPERVISOR_argo_op                        39
#define __HYPERVISOR_xenpmu_op                      40
#define __HYPERVISOR_dm_op                          41
#define __HYPERVISOR_hypfs_op                       42
#define __HYPERVISOR_arch_0                         48
#define __HYPERVISOR_arch_1                         49
#define __HYPERVISOR_arch_2                         50
#define __HYPERVISOR_arch_3                         51
#define __HYPERVISOR_arch_4                         52
#define __HYPERVISOR_arch_5                         53
#define __HYPERVISOR_arch_6                         54
#define __HYPERVISOR_arch_7                         55
/* One hypercall page holds 4096 / 32 = 128 entry stubs. */
#define XEN_HYPERCALL_STUB_SIZE                     32

/* Virtual IRQs, bound with EVTCHNOP_bind_virq. Per-vCPU unless noted "global". */
#define VIRQ_TIMER       0  /* singleshot/periodic timer fired */
#define VIRQ_DEBUG       1  /* request to dump debug state */
#define VIRQ_CONSOLE     2  /* global: emergency console input (dom0) */
#define VIRQ_DOM_EXC     3  /* global: a domain needs attention (dom0) */
#define VIRQ_TBUF        4  /* global: trace buffer (dom0) */
#define VIRQ_DEBUGGER    6  /* global: a domain paused for debugging (dom0) */
#define VIRQ_XENOPROF    7  /* profiling sample */
#define VIRQ_CON_RING    8  /* global: console ring has data (dom0) */
#define VIRQ_PCPU_STATE  9  /* global (dom0) */
#define VIRQ_MEM_EVENT  10  /* global (dom0) */
#define VIRQ_ARGO       11  /* global */
#define VIRQ_ENOMEM     12  /* global (dom0) */
#define VIRQ_XENPMU     13  /* PMU interrupt */
#define VIRQ_ARCH_0     16
#define VIRQ_ARCH_1     17
#define VIRQ_ARCH_2     18
#define VIRQ_ARCH_3     19
#define VIRQ_ARCH_4     20
#define VIRQ_ARCH_5     21
#define VIRQ_ARCH_6     22
#define VIRQ_ARCH_7     23
#define NR_VIRQS        24

/* vm_assist(cmd, type): IN cmd = VMASST_CMD_*, type = VMASST_TYPE_*. */
#define VMASST_CMD_enable                 0
#define VMASST_CMD_disable                1
#define VMASST_TYPE_4gb_segments          0
#define VMASST_TYPE_4gb_segments_notify   1
#define VMASST_TYPE_writable_pagetables   2
#define VMASST_TYPE_pae_extended_cr3      3
#define VMASST_TYPE_architectural_iopl    4
#define VMASST_TYPE_runstate_update_flag  5  /* the one a PVH guest may use */
#define VMASST_TYPE_m2p_strict           32

/* Domain IDs at and above DOMID_FIRST_RESERVED name no real domain. */
#define DOMID_FIRST_RESERVED  0x7FF0U
#define DOMID_SELF            0x7FF0U  /* the calling domain */
#define DOMID_IO              0x7FF1U
#define DOMID_XEN             0x7FF2U
#define DOMID_COW             0x7FF3U
#define DOMID_INVALID         0x7FF4U
#define DOMID_IDLE            0x7FFFU
#define DOMID_MASK            0x7FFFU

/* Byte written to this port appears on the hypervisor console (Xen's debugcon). */
#define XEN_HVM_DEBUGCONS_IOPORT 0xe9

/* __HYPERVISOR_multicall: IN/OUT array of these; result is OUT per entry. */
struct multicall_entry {
    xen_ulong_t op;       /* IN: hypercall number */
    xen_ulong_t result;   /* OUT: its return value */
    xen_ulong_t args[6];  /* IN */
};
typedef struct multicall_entry multicall_entry_t;
DEFINE_XEN_GUEST_HANDLE(multicall_entry_t);

/*
 * pvclock: guest time = system_time + ((rdtsc() - tsc_timestamp) << or >>
 * tsc_shift) * tsc_to_system_mul / 2^32 ns. The writer makes version odd
 * before and even after an update; readers retry while it is odd or changed.
 */
struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;      /* TSC at the last update */
    uint64_t system_time;        /* ns since boot at tsc_timestamp */
    uint32_t tsc_to_system_mul;  /* 32.32 fixed-point ns per (shifted) tick */
    int8_t   tsc_shift;          /* left if positive, right if negative */
    uint8_t  flags;              /* XEN_PVCLOCK_* */
    uint8_t  pad1[2];
};
typedef struct vcpu_time_info vcpu_time_info_t;

#define XEN_PVCLOCK_TSC_STABLE_BIT  (1 << 0)  /* TSC is synchronised across vCPUs */
#define XEN_PVCLOCK_GUEST_STOPPED   (1 << 1)

/* Architectural part of vcpu_info; padding keeps vcpu_info at 64 bytes. */
struct arch_vcpu_info {
    unsigned long cr2;
#ifdef __i386__
    unsigned long pad[5];
#else
    unsigned long pad;
#endif
};
typedef struct arch_vcpu_info arch_vcpu_info_t;

/*
 * Per-vCPU event and time state: in shared_info for vCPUs < 32, or wherever
 * VCPUOP_register_vcpu_info put it. To raise an upcall the hypervisor sets a
 * bit in evtchn_pending[] (shared_info), then the matching word bit in
 * evtchn_pending_sel, then evtchn_upcall_pending.
 */
struct vcpu_info {
    uint8_t evtchn_upcall_pending;  /* an upcall is due */
    uint8_t evtchn_upcall_mask;     /* PV only: guest's "interrupts off" flag */
    xen_ulong_t evtchn_pending_sel; /* which evtchn_pending[] words have bits */
    struct arch_vcpu_info arch;
    struct vcpu_time_info time;
};
typedef struct vcpu_info vcpu_info_t;

#define XEN_LEGACY_MAX_VCPUS 32

/* x86 part of shared_info; mostly PV (P2M list) bookkeeping. */
struct arch_shared_info {
    unsigned long max_pfn;
    xen_pfn_t     pfn_to_mfn_frame_list_list;
    unsigned long nmi_reason;
    unsigned long p2m_cr3;
    unsigned long p2m_vaddr;
    unsigned long p2m_generation;
#ifdef __i386__
    uint32_t wc_sec_hi;  /* high word of wc_sec; lives here only for i386 */
#endif
};
typedef struct arch_shared_info arch_shared_info_t;

/*
 * The shared_info page, mapped by the guest with XENMEM_add_to_physmap
 * (XENMAPSPACE_shared_info). Event channel port p is bit p of
 * evtchn_pending/evtchn_mask (2-level ABI). Wallclock: wc_* is the time of
 * day at system time 0, versioned like vcpu_time_info.
 */
struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    xen_ulong_t evtchn_pending[sizeof(xen_ulong_t) * 8];
    xen_ulong_t evtchn_mask[sizeof(xen_ulong_t) * 8];
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
#ifndef __i386__
    uint32_t wc_sec_hi;
# define xen_wc_sec_hi wc_sec_hi
#else
# define xen_wc_sec_hi arch.wc_sec_hi
#endif
    struct arch_shared_info arch;
};
typedef struct shared_info shared_info_t;

#ifdef __x86_64__
ABI_SIZE(struct multicall_entry, 64);
ABI_OFFSET(struct multicall_entry, result, 8);
ABI_OFFSET(struct multicall_entry, args, 16);

ABI_SIZE(struct vcpu_time_info, 32);
ABI_OFFSET(struct vcpu_time_info, version, 0);
ABI_OFFSET(struct vcpu_time_info, pad0, 4);
ABI_OFFSET(struct vcpu_time_info, tsc_timestamp, 8);
ABI_OFFSET(struct vcpu_time_info, system_time, 16);
ABI_OFFSET(struct vcpu_time_info, tsc_to_system_mul, 24);
ABI_OFFSET(struct vcpu_time_info, tsc_shift, 28);
ABI_OFFSET(struct vcpu_time_info, flags, 29);
ABI_OFFSET(struct vcpu_time_info, pad1, 30);

ABI_SIZE(struct arch_vcpu_info, 16);
ABI_OFFSET(struct arch_vcpu_info, cr2, 0);
ABI_OFFSET(struct arch_vcpu_info, pad, 8);

ABI_SIZE(struct vcpu_info, 64);
ABI_OFFSET(struct vcpu_info, evtchn_upcall_pending, 0);
ABI_OFFSET(struct vcpu_info, evtchn_upcall_mask, 1);
ABI_OFFSET(struct vcpu_info, evtchn_pending_sel, 8);
ABI_OFFSET(struct vcpu_info, arch, 16);
ABI_OFFSET(struct vcpu_info, time, 32);

ABI_SIZE(struct arch_shared_info, 48);
ABI_OFFSET(struct arch_shared_info, max_pfn, 0);
ABI_OFFSET(struct arch_shared_info, pfn_to_mfn_frame_list_list, 8);
ABI_OFFSET(struct arch_shared_info, nmi_reason, 16);
ABI_OFFSET(struct arch_shared_info, p2m_cr3, 24);
ABI_OFFSET(struct arch_shared_info, p2m_vaddr, 32);
ABI_OFFSET(struct arch_shared_info, p2m_generation, 40);

ABI_SIZE(struct shared_info, 3136);
ABI_OFFSET(struct shared_info, vcpu_info, 0);
ABI_OFFSET(struct shared_info, evtchn_pending, 2048);
ABI_OFFSET(struct shared_info, evtchn_mask, 2560);
ABI_OFFSET(struct shared_info, wc_version, 3072);
ABI_OFFSET(struct shared_info, wc_sec, 3076);
ABI_OFFSET(struct shared_info, wc_nsec, 3080);
ABI_OFFSET(struct shared_info, wc_sec_hi, 3084);
ABI_OFFSET(struct shared_info, arch, 3088);
#endif

#ifdef __i386__
ABI_SIZE(struct multicall_entry, 32);
ABI_SIZE(struct vcpu_time_info, 32);
ABI_SIZE(struct arch_vcpu_info, 24);
ABI_SIZE(struct vcpu_info, 64);
ABI_OFFSET(struct vcpu_info, evtchn_pending_sel, 4);
ABI_OFFSET(struct vcpu_info, arch, 8);
ABI_OFFSET(struct vcpu_info, time, 32);
ABI_SIZE(struct arch_shared_info, 28);
ABI_OFFSET(struct arch_shared_info, wc_sec_hi, 24);
ABI_SIZE(struct shared_info, 2344);
ABI_OFFSET(struct shared_info, evtchn_pending, 2048);
ABI_OFFSET(struct shared_info, evtchn_mask, 2176);
ABI_OFFSET(struct shared_info, wc_version, 2304);
ABI_OFFSET(struct shared_info, arch, 2316);
#endif

#endif
