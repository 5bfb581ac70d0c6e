/* hvm_op.h (hypervisor, guest): __HYPERVISOR_hvm_op(cmd, arg) sub-ops. */
#ifndef WISP_ABI_XEN_HVM_OP_H
#define WISP_ABI_XEN_HVM_OP_H

#include "xen.h"

#define HVMOP_set_param                 0  /* IN struct xen_hvm_param */
#define HVMOP_get_param                 1  /* IN domid, index; OUT value */
#define HVMOP_set_pci_intx_level        2  /* removed in 4.9 (dm_op) */
#define HVMOP_set_isa_irq_level         3  /* removed in 4.9 (dm_op) */
#define HVMOP_set_pci_link_route        4  /* removed in 4.9 (dm_op) */
#define HVMOP_flush_tlbs                5  /* arg NULL: flush all vCPUs' TLBs */
#define HVMOP_pagetable_dying           9  /* IN struct xen_hvm_pagetable_dying (hint only) */
#define HVMOP_get_time                 10  /* OUT struct xen_hvm_get_time */
#define HVMOP_xentrace                 11  /* tracing */
#define HVMOP_set_mem_access           12  /* tools */
#define HVMOP_get_mem_access           13  /* tools */
#define HVMOP_get_mem_type             15  /* IN domid, pfn; OUT mem_type */
#define HVMOP_set_evtchn_upcall_vector 23  /* IN struct xen_hvm_evtchn_upcall_vector */
#define HVMOP_guest_request_vm_event   24  /* introspection */
#define HVMOP_altp2m                   25  /* alternate p2m views */

/* set_param/get_param: index is HVM_PARAM_* (hvm_params.h). */
struct xen_hvm_param {
    domid_t  domid;   /* IN: DOMID_SELF */
    uint16_t pad;
    uint32_t index;   /* IN: HVM_PARAM_* */
    uint64_t value;   /* IN (set) / OUT (get) */
};
typedef struct xen_hvm_param xen_hvm_param_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_param_t);

struct xen_hvm_pagetable_dying {
    domid_t  domid;   /* IN */
    uint16_t pad[3];
    uint64_t gpa;     /* IN: top-level page table being torn down */
};
typedef struct xen_hvm_pagetable_dying xen_hvm_pagetable_dying_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_pagetable_dying_t);

struct xen_hvm_get_time {
    uint64_t now;     /* OUT: system time in ns */
};
typedef struct xen_hvm_get_time xen_hvm_get_time_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_get_time_t);

/* get_mem_type.mem_type */
#define HVMMEM_ram_rw        0
#define HVMMEM_ram_ro        1
#define HVMMEM_mmio_dm       2
#define HVMMEM_unused        3
#define HVMMEM_ioreq_server  4

struct xen_hvm_get_mem_type {
    domid_t  domid;     /* IN */
    uint16_t mem_type;  /* OUT: HVMMEM_* */
    uint16_t pad[2];
    uint64_t pfn;       /* IN */
};
typedef struct xen_hvm_get_mem_type xen_hvm_get_mem_type_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_get_mem_type_t);

/*
 * set_evtchn_upcall_vector: event upcalls for this vCPU arrive as a plain
 * LAPIC interrupt on `vector` (advertised by XEN_HVM_CPUID_UPCALL_VECTOR).
 */
struct xen_hvm_evtchn_upcall_vector {
    uint32_t vcpu;    /* IN */
    uint8_t  vector;  /* IN: 0x10..0xff */
};
typedef struct xen_hvm_evtchn_upcall_vector xen_hvm_evtchn_upcall_vector_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_evtchn_upcall_vector_t);

/* Only fixed-width fields: the layout is the same for every ABI. */
ABI_SIZE(struct xen_hvm_param, 16);
ABI_OFFSET(struct xen_hvm_param, domid, 0);
ABI_OFFSET(struct xen_hvm_param, pad, 2);
ABI_OFFSET(struct xen_hvm_param, index, 4);
ABI_OFFSET(struct xen_hvm_param, value, 8);
ABI_SIZE(struct xen_hvm_pagetable_dying, 16);
ABI_OFFSET(struct xen_hvm_pagetable_dying, gpa, 8);
ABI_SIZE(struct xen_hvm_get_time, 8);
ABI_SIZE(struct xen_hvm_get_mem_type, 16);
ABI_OFFSET(struct xen_hvm_get_mem_type, mem_type, 2);
ABI_OFFSET(struct xen_hvm_get_mem_type, pfn, 8);
ABI_SIZE(struct xen_hvm_evtchn_upcall_vector, 8);
ABI_OFFSET(struct xen_hvm_evtchn_upcall_vector, vector, 4);

#endif
