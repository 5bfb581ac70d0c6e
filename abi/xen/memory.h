/* memory.h (hypervisor, guest): __HYPERVISOR_memory_op(cmd, arg) sub-ops. */
#ifndef WISP_ABI_XEN_MEMORY_H
#define WISP_ABI_XEN_MEMORY_H

#include "xen.h"

/*
 * For a PVH guest every frame number here is a guest frame (GFN); there are
 * no machine frames in its view (XENFEAT_auto_translated_physmap).
 */
#define XENMEM_increase_reservation      0  /* IN/OUT struct xen_memory_reservation */
#define XENMEM_decrease_reservation      1  /* IN struct xen_memory_reservation; returns extents done */
#define XENMEM_maximum_ram_page          2  /* arg NULL; returns highest RAM frame */
#define XENMEM_current_reservation       3  /* IN domid_t; returns pages held */
#define XENMEM_maximum_reservation       4  /* IN domid_t; returns page limit */
#define XENMEM_machphys_mfn_list         5  /* PV */
#define XENMEM_populate_physmap          6  /* IN/OUT struct xen_memory_reservation; returns extents done */
#define XENMEM_add_to_physmap            7  /* IN struct xen_add_to_physmap */
#define XENMEM_memory_map                9  /* IN/OUT struct xen_memory_map of struct e820entry */
#define XENMEM_machine_memory_map       10  /* IN/OUT struct xen_memory_map (privileged) */
#define XENMEM_exchange                 11  /* IN/OUT struct xen_memory_exchange */
#define XENMEM_machphys_mapping         12  /* PV */
#define XENMEM_set_memory_map           13  /* IN struct xen_foreign_memory_map (own map, or privileged) */
#define XENMEM_maximum_gpfn             14  /* IN domid_t; returns highest GFN ever populated */
#define XENMEM_remove_from_physmap      15  /* IN struct xen_remove_from_physmap */
#define XENMEM_set_pod_target           16  /* tools */
#define XENMEM_get_pod_target           17  /* tools */
#define XENMEM_get_sharing_freed_pages  18  /* tools */
#define XENMEM_get_sharing_shared_pages 19  /* tools */
#define XENMEM_paging_op                20  /* tools */
#define XENMEM_access_op                21  /* tools */
#define XENMEM_sharing_op               22  /* tools */
#define XENMEM_add_to_physmap_batch     23  /* foreign mappings (backends) */
#define XENMEM_claim_pages              24  /* tools */
#define XENMEM_machphys_compat_mfn_list 25  /* PV */
#define XENMEM_get_vnumainfo            26  /* vNUMA topology */
#define XENMEM_reserved_device_memory_map 27 /* tools */
#define XENMEM_acquire_resource         28  /* tools */

/* xen_memory_reservation.mem_flags: low byte = max address bits (0: any). */
#define XENMEMF_address_bits(x)      (x)
#define XENMEMF_get_address_bits(x)  ((x) & 0xffu)
#define XENMEMF_node(x)              (((x) + 1) << 8)
#define XENMEMF_get_node(x)          ((((x) >> 8) - 1) & 0xffu)
#define XENMEMF_populate_on_demand   (1 << 16)
#define XENMEMF_exact_node_request   (1 << 17)
#define XENMEMF_exact_node(n)        (XENMEMF_node(n) | XENMEMF_exact_node_request)
#define XENMEMF_vnode                (1 << 18)

/*
 * increase/decrease_reservation, populate_physmap: extent_start IN (GFNs to
 * populate/release) or OUT (frames allocated, increase only); nr_extents
 * extents of 2^extent_order pages each.
 */
struct xen_memory_reservation {
    XEN_GUEST_HANDLE(xen_pfn_t) extent_start;
    xen_ulong_t  nr_extents;
    unsigned int extent_order;
    unsigned int mem_flags;     /* XENMEMF_* */
    domid_t      domid;         /* DOMID_SELF unless privileged */
};
typedef struct xen_memory_reservation xen_memory_reservation_t;
DEFINE_XEN_GUEST_HANDLE(xen_memory_reservation_t);

/* exchange: IN in/out reservations; OUT nr_exchanged extents of `in` done. */
struct xen_memory_exchange {
    struct xen_memory_reservation in;
    struct xen_memory_reservation out;
    xen_ulong_t nr_exchanged;
};
typedef struct xen_memory_exchange xen_memory_exchange_t;
DEFINE_XEN_GUEST_HANDLE(xen_memory_exchange_t);

/* xen_add_to_physmap.space */
#define XENMAPSPACE_shared_info   0  /* idx 0: the shared_info page */
#define XENMAPSPACE_grant_table   1  /* idx: grant frame (| XENMAPIDX_grant_table_status) */
#define XENMAPSPACE_gmfn          2  /* idx: another GFN of ours, moved to gpfn */
#define XENMAPSPACE_gmfn_range    3  /* like gmfn, `size` frames */
#define XENMAPSPACE_gmfn_foreign  4  /* batch only: a frame of foreign_domid */
#define XENMAPSPACE_dev_mmio      5  /* Arm only */
#define XENMAPIDX_grant_table_status 0x80000000

/* add_to_physmap: IN all fields; maps object (space, idx) at guest frame gpfn. */
struct xen_add_to_physmap {
    domid_t      domid;   /* DOMID_SELF */
    uint16_t     size;    /* frames, XENMAPSPACE_gmfn_range only */
    unsigned int space;   /* XENMAPSPACE_* */
    xen_ulong_t  idx;
    xen_pfn_t    gpfn;
};
typedef struct xen_add_to_physmap xen_add_to_physmap_t;
DEFINE_XEN_GUEST_HANDLE(xen_add_to_physmap_t);

/* add_to_physmap_batch: IN all but errs; OUT errs[i] = 0 or -XEN_E* per frame. */
struct xen_add_to_physmap_batch {
    domid_t  domid;
    uint16_t space;  /* XENMAPSPACE_* */
    uint16_t size;   /* entries in each array */
    union xen_add_to_physmap_batch_extra {
        domid_t  foreign_domid;  /* XENMAPSPACE_gmfn_foreign */
        uint16_t res0;           /* zero otherwise */
    } u;
    XEN_GUEST_HANDLE(xen_ulong_t) idxs;
    XEN_GUEST_HANDLE(xen_pfn_t) gpfns;
    XEN_GUEST_HANDLE(int) errs;
};
typedef struct xen_add_to_physmap_batch xen_add_to_physmap_batch_t;
DEFINE_XEN_GUEST_HANDLE(xen_add_to_physmap_batch_t);

/* remove_from_physmap: IN domid, gpfn; unmaps whatever is at gpfn. */
struct xen_remove_from_physmap {
    domid_t   domid;
    xen_pfn_t gpfn;
};
typedef struct xen_remove_from_physmap xen_remove_from_physmap_t;
DEFINE_XEN_GUEST_HANDLE(xen_remove_from_physmap_t);

/* memory_map: IN nr_entries = room in buffer; OUT nr_entries = entries written. */
struct xen_memory_map {
    unsigned int nr_entries;
    XEN_GUEST_HANDLE(void) buffer;  /* struct e820entry[] */
};
typedef struct xen_memory_map xen_memory_map_t;
DEFINE_XEN_GUEST_HANDLE(xen_memory_map_t);

/* set_memory_map: IN domid and its map. */
struct xen_foreign_memory_map {
    domid_t domid;
    struct xen_memory_map map;
};
typedef struct xen_foreign_memory_map xen_foreign_memory_map_t;
DEFINE_XEN_GUEST_HANDLE(xen_foreign_memory_map_t);

/*
 * One entry of the XENMEM_memory_map buffer: the BIOS E820 record (ACPI 6.x
 * section 15.1), packed to 20 bytes. Xen's public headers leave this type
 * to the guest; the name is Xen's internal one.
 */
struct e820entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;  /* XEN_HVM_MEMMAP_TYPE_* values (start_info.h) */
} __attribute__((packed));

ABI_SIZE(struct e820entry, 20);
ABI_OFFSET(struct e820entry, size, 8);
ABI_OFFSET(struct e820entry, type, 16);

#ifdef __x86_64__
ABI_SIZE(struct xen_memory_reservation, 32);
ABI_OFFSET(struct xen_memory_reservation, extent_start, 0);
ABI_OFFSET(struct xen_memory_reservation, nr_extents, 8);
ABI_OFFSET(struct xen_memory_reservation, extent_order, 16);
ABI_OFFSET(struct xen_memory_reservation, mem_flags, 20);
ABI_OFFSET(struct xen_memory_reservation, domid, 24);
ABI_SIZE(struct xen_memory_exchange, 72);
ABI_OFFSET(struct xen_memory_exchange, out, 32);
ABI_OFFSET(struct xen_memory_exchange, nr_exchanged, 64);
ABI_SIZE(struct xen_add_to_physmap, 24);
ABI_OFFSET(struct xen_add_to_physmap, size, 2);
ABI_OFFSET(struct xen_add_to_physmap, space, 4);
ABI_OFFSET(struct xen_add_to_physmap, idx, 8);
ABI_OFFSET(struct xen_add_to_physmap, gpfn, 16);
ABI_SIZE(struct xen_add_to_physmap_batch, 32);
ABI_OFFSET(struct xen_add_to_physmap_batch, space, 2);
ABI_OFFSET(struct xen_add_to_physmap_batch, size, 4);
ABI_OFFSET(struct xen_add_to_physmap_batch, u, 6);
ABI_OFFSET(struct xen_add_to_physmap_batch, idxs, 8);
ABI_OFFSET(struct xen_add_to_physmap_batch, gpfns, 16);
ABI_OFFSET(struct xen_add_to_physmap_batch, errs, 24);
ABI_SIZE(struct xen_remove_from_physmap, 16);
ABI_OFFSET(struct xen_remove_from_physmap, gpfn, 8);
ABI_SIZE(struct xen_memory_map, 16);
ABI_OFFSET(struct xen_memory_map, buffer, 8);
ABI_SIZE(struct xen_foreign_memory_map, 24);
ABI_OFFSET(struct xen_foreign_memory_map, map, 8);
#endif
#ifdef __i386__
ABI_SIZE(struct xen_memory_reservation, 20);
ABI_OFFSET(struct xen_memory_reservation, nr_extents, 4);
ABI_OFFSET(struct xen_memory_reservation, extent_order, 8);
ABI_OFFSET(struct xen_memory_reservation, mem_flags, 12);
ABI_OFFSET(struct xen_memory_reservation, domid, 16);
ABI_SIZE(struct xen_memory_exchange, 44);
ABI_SIZE(struct xen_add_to_physmap, 16);
ABI_OFFSET(struct xen_add_to_physmap, idx, 8);
ABI_OFFSET(struct xen_add_to_physmap, gpfn, 12);
ABI_SIZE(struct xen_add_to_physmap_batch, 20);
ABI_SIZE(struct xen_remove_from_physmap, 8);
ABI_OFFSET(struct xen_remove_from_physmap, gpfn, 4);
ABI_SIZE(struct xen_memory_map, 8);
ABI_OFFSET(struct xen_memory_map, buffer, 4);
ABI_SIZE(struct xen_foreign_memory_map, 12);
#endif

#endif
