/* grant_table.h (hypervisor, guest): grant table v1 entries and __HYPERVISOR_grant_table_op(cmd, arg, count) sub-ops. */
#ifndef WISP_ABI_XEN_GRANT_TABLE_H
#define WISP_ABI_XEN_GRANT_TABLE_H

#include "xen.h"

/*
 * A domain shares a page by filling entry `ref` of its own grant table
 * (frames it maps with XENMAPSPACE_grant_table) with the grantee's domid and
 * the frame, then setting GTF_permit_access last. The grantee names the
 * page by (granter domid, ref) in the ops below. Wisp implements version 1.
 */
typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;  /* names one mapping made by map_grant_ref */

struct grant_entry_v1 {
    uint16_t flags;  /* GTF_*: written by both sides, see below */
    domid_t  domid;  /* the domain allowed to use the grant */
    uint32_t frame;  /* GFN of the granted page (or of the transfer target) */
};
typedef struct grant_entry_v1 grant_entry_v1_t;

/* Entries a toolstack fills before boot; guests must not reuse them. */
#define GNTTAB_NR_RESERVED_ENTRIES  8
#define GNTTAB_RESERVED_CONSOLE     0  /* console ring page, granted to the backend */
#define GNTTAB_RESERVED_XENSTORE    1  /* xenstore ring page */

/* grant_entry_v1.flags, bits 0-1: what kind of grant. Set by the granter. */
#define GTF_invalid          (0U << 0)
#define GTF_permit_access    (1U << 0)  /* grantee may map/copy the frame */
#define GTF_accept_transfer  (2U << 0)  /* grantee may give us a page (PV) */
#define GTF_transitive       (3U << 0)  /* v2 only */
#define GTF_type_mask        (3U << 0)
/* permit_access: set by the granter. */
#define _GTF_readonly        2
#define GTF_readonly         (1U << _GTF_readonly)   /* read-only mappings only */
/* permit_access: set by the hypervisor while the grantee holds mappings. */
#define _GTF_reading         3
#define GTF_reading          (1U << _GTF_reading)
#define _GTF_writing         4
#define GTF_writing          (1U << _GTF_writing)
/* permit_access: cache attributes requested by the granter (PV). */
#define _GTF_PWT             5
#define GTF_PWT              (1U << _GTF_PWT)
#define _GTF_PCD             6
#define GTF_PCD              (1U << _GTF_PCD)
#define _GTF_PAT             7
#define GTF_PAT              (1U << _GTF_PAT)
#define _GTF_sub_page        8
#define GTF_sub_page         (1U << _GTF_sub_page)  /* v2 only */
/* accept_transfer: progress bits set by the hypervisor. */
#define _GTF_transfer_committed 2
#define GTF_transfer_committed  (1U << _GTF_transfer_committed)
#define _GTF_transfer_completed 3
#define GTF_transfer_completed  (1U << _GTF_transfer_completed)

/* Ops; count = number of structs in the arg array. */
#define GNTTABOP_map_grant_ref       0  /* IN/OUT struct gnttab_map_grant_ref[] */
#define GNTTABOP_unmap_grant_ref     1  /* IN/OUT struct gnttab_unmap_grant_ref[] */
#define GNTTABOP_setup_table         2  /* IN/OUT struct gnttab_setup_table */
#define GNTTABOP_dump_table          3  /* IN/OUT struct gnttab_dump_table */
#define GNTTABOP_transfer            4  /* IN/OUT struct gnttab_transfer[] (PV) */
#define GNTTABOP_copy                5  /* IN/OUT struct gnttab_copy[] */
#define GNTTABOP_query_size          6  /* IN/OUT struct gnttab_query_size */
#define GNTTABOP_unmap_and_replace   7  /* IN/OUT struct gnttab_unmap_and_replace[] (PV) */
#define GNTTABOP_set_version         8  /* IN/OUT struct gnttab_set_version */
#define GNTTABOP_get_status_frames   9  /* IN/OUT struct gnttab_get_status_frames (v2) */
#define GNTTABOP_get_version        10  /* IN/OUT struct gnttab_get_version */
#define GNTTABOP_swap_grant_ref     11  /* IN/OUT struct gnttab_swap_grant_ref[] */
#define GNTTABOP_cache_flush        12  /* Arm */

/* Per-op status values (the op itself returns 0 or -XEN_E*). */
#define GNTST_okay                0
#define GNTST_general_error      (-1)
#define GNTST_bad_domain         (-2)
#define GNTST_bad_gntref         (-3)
#define GNTST_bad_handle         (-4)
#define GNTST_bad_virt_addr      (-5)
#define GNTST_bad_dev_addr       (-6)
#define GNTST_no_device_space    (-7)
#define GNTST_permission_denied  (-8)
#define GNTST_bad_page           (-9)
#define GNTST_bad_copy_arg      (-10)  /* copy crosses a page boundary */
#define GNTST_address_too_big   (-11)
#define GNTST_eagain            (-12)
#define GNTST_no_space          (-13)

/* gnttab_map_grant_ref.flags */
#define _GNTMAP_device_map       0  /* also map for DMA (dev_bus_addr) */
#define GNTMAP_device_map        (1 << _GNTMAP_device_map)
#define _GNTMAP_host_map         1  /* map at host_addr */
#define GNTMAP_host_map          (1 << _GNTMAP_host_map)
#define _GNTMAP_readonly         2
#define GNTMAP_readonly          (1 << _GNTMAP_readonly)
#define _GNTMAP_application_map  3  /* PV */
#define GNTMAP_application_map   (1 << _GNTMAP_application_map)
#define _GNTMAP_contains_pte     4  /* PV: host_addr is a PTE address */
#define GNTMAP_contains_pte      (1 << _GNTMAP_contains_pte)
#define _GNTMAP_guest_avail0     16
#define GNTMAP_guest_avail_mask  ((uint32_t)~0 << _GNTMAP_guest_avail0)

/*
 * map_grant_ref: IN host_addr (for PVH/HVM: the guest-physical address to
 * map at), flags, ref, dom; OUT status, handle, dev_bus_addr.
 */
struct gnttab_map_grant_ref {
    uint64_t       host_addr;
    uint32_t       flags;
    grant_ref_t    ref;
    domid_t        dom;
    int16_t        status;
    grant_handle_t handle;
    uint64_t       dev_bus_addr;
};
typedef struct gnttab_map_grant_ref gnttab_map_grant_ref_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_map_grant_ref_t);

/* unmap_grant_ref: IN host_addr, dev_bus_addr, handle; OUT status. */
struct gnttab_unmap_grant_ref {
    uint64_t       host_addr;
    uint64_t       dev_bus_addr;
    grant_handle_t handle;
    int16_t        status;
};
typedef struct gnttab_unmap_grant_ref gnttab_unmap_grant_ref_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_unmap_grant_ref_t);

/* setup_table: IN dom, nr_frames; OUT status, frame_list[nr_frames] (PV; PVH maps instead). */
struct gnttab_setup_table {
    domid_t  dom;
    uint32_t nr_frames;
    int16_t  status;
    XEN_GUEST_HANDLE(xen_pfn_t) frame_list;
};
typedef struct gnttab_setup_table gnttab_setup_table_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_setup_table_t);

/* dump_table: IN dom; OUT status. Debug output on the hypervisor console. */
struct gnttab_dump_table {
    domid_t dom;
    int16_t status;
};
typedef struct gnttab_dump_table gnttab_dump_table_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_dump_table_t);

/* transfer: IN mfn, domid, ref; OUT status. PV page flipping. */
struct gnttab_transfer {
    xen_pfn_t   mfn;
    domid_t     domid;
    grant_ref_t ref;
    int16_t     status;
};
typedef struct gnttab_transfer gnttab_transfer_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_transfer_t);

/* gnttab_copy.flags: which side is named by a grant ref (else by our own GFN). */
#define _GNTCOPY_source_gref  0
#define GNTCOPY_source_gref   (1 << _GNTCOPY_source_gref)
#define _GNTCOPY_dest_gref    1
#define GNTCOPY_dest_gref     (1 << _GNTCOPY_dest_gref)

/*
 * copy: IN source, dest, len, flags; OUT status. Copies len bytes; neither
 * side may cross its page (GNTST_bad_copy_arg).
 */
struct gnttab_copy {
    struct gnttab_copy_ptr {
        union {
            grant_ref_t ref;   /* GNTCOPY_*_gref set */
            xen_pfn_t   gmfn;  /* otherwise: a frame of domid (DOMID_SELF) */
        } u;
        domid_t  domid;
        uint16_t offset;       /* byte offset in the page */
    } source, dest;
    uint16_t len;
    uint16_t flags;            /* GNTCOPY_* */
    int16_t  status;
};
typedef struct gnttab_copy gnttab_copy_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_copy_t);

/* query_size: IN dom; OUT nr_frames, max_nr_frames, status. */
struct gnttab_query_size {
    domid_t  dom;
    uint32_t nr_frames;
    uint32_t max_nr_frames;
    int16_t  status;
};
typedef struct gnttab_query_size gnttab_query_size_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_query_size_t);

/* unmap_and_replace: IN host_addr, new_addr, handle; OUT status. PV. */
struct gnttab_unmap_and_replace {
    uint64_t       host_addr;
    uint64_t       new_addr;
    grant_handle_t handle;
    int16_t        status;
};
typedef struct gnttab_unmap_and_replace gnttab_unmap_and_replace_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_unmap_and_replace_t);

/* set_version: IN version wanted; OUT version in force (Wisp: only 1). */
struct gnttab_set_version {
    uint32_t version;
};
typedef struct gnttab_set_version gnttab_set_version_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_set_version_t);

/* get_status_frames: IN nr_frames, dom; OUT status, frame_list. v2 only. */
struct gnttab_get_status_frames {
    uint32_t nr_frames;
    domid_t  dom;
    int16_t  status;
    XEN_GUEST_HANDLE(uint64_t) frame_list;
};
typedef struct gnttab_get_status_frames gnttab_get_status_frames_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_get_status_frames_t);

/* get_version: IN dom; OUT version. */
struct gnttab_get_version {
    domid_t  dom;
    uint16_t pad;
    uint32_t version;
};
typedef struct gnttab_get_version gnttab_get_version_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_get_version_t);

/* swap_grant_ref: IN ref_a, ref_b; OUT status. Swaps two of our own entries. */
struct gnttab_swap_grant_ref {
    grant_ref_t ref_a;
    grant_ref_t ref_b;
    int16_t     status;
};
typedef struct gnttab_swap_grant_ref gnttab_swap_grant_ref_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_swap_grant_ref_t);

/* Fixed-width structures: the same for every ABI. */
ABI_SIZE(struct grant_entry_v1, 8);
ABI_OFFSET(struct grant_entry_v1, domid, 2);
ABI_OFFSET(struct grant_entry_v1, frame, 4);
ABI_SIZE(struct gnttab_map_grant_ref, 32);
ABI_OFFSET(struct gnttab_map_grant_ref, flags, 8);
ABI_OFFSET(struct gnttab_map_grant_ref, ref, 12);
ABI_OFFSET(struct gnttab_map_grant_ref, dom, 16);
ABI_OFFSET(struct gnttab_map_grant_ref, status, 18);
ABI_OFFSET(struct gnttab_map_grant_ref, handle, 20);
ABI_OFFSET(struct gnttab_map_grant_ref, dev_bus_addr, 24);
ABI_SIZE(struct gnttab_unmap_grant_ref, 24);
ABI_OFFSET(struct gnttab_unmap_grant_ref, dev_bus_addr, 8);
ABI_OFFSET(struct gnttab_unmap_grant_ref, handle, 16);
ABI_OFFSET(struct gnttab_unmap_grant_ref, status, 20);
ABI_SIZE(struct gnttab_dump_table, 4);
ABI_SIZE(struct gnttab_query_size, 16);
ABI_OFFSET(struct gnttab_query_size, nr_frames, 4);
ABI_OFFSET(struct gnttab_query_size, max_nr_frames, 8);
ABI_OFFSET(struct gnttab_query_size, status, 12);
ABI_SIZE(struct gnttab_unmap_and_replace, 24);
ABI_SIZE(struct gnttab_set_version, 4);
ABI_SIZE(struct gnttab_get_version, 8);
ABI_OFFSET(struct gnttab_get_version, version, 4);
ABI_SIZE(struct gnttab_swap_grant_ref, 12);
ABI_OFFSET(struct gnttab_swap_grant_ref, status, 8);
ABI_OFFSET(struct gnttab_setup_table, nr_frames, 4);
ABI_OFFSET(struct gnttab_setup_table, status, 8);
ABI_OFFSET(struct gnttab_get_status_frames, dom, 4);
ABI_OFFSET(struct gnttab_get_status_frames, status, 6);
ABI_OFFSET(struct gnttab_get_status_frames, frame_list, 8);

#ifdef __x86_64__
ABI_SIZE(struct gnttab_setup_table, 24);
ABI_OFFSET(struct gnttab_setup_table, frame_list, 16);
ABI_SIZE(struct gnttab_transfer, 24);
ABI_OFFSET(struct gnttab_transfer, domid, 8);
ABI_OFFSET(struct gnttab_transfer, ref, 12);
ABI_OFFSET(struct gnttab_transfer, status, 16);
ABI_SIZE(struct gnttab_copy_ptr, 16);
ABI_OFFSET(struct gnttab_copy_ptr, domid, 8);
ABI_OFFSET(struct gnttab_copy_ptr, offset, 10);
ABI_SIZE(struct gnttab_copy, 40);
ABI_OFFSET(struct gnttab_copy, dest, 16);
ABI_OFFSET(struct gnttab_copy, len, 32);
ABI_OFFSET(struct gnttab_copy, flags, 34);
ABI_OFFSET(struct gnttab_copy, status, 36);
ABI_SIZE(struct gnttab_get_status_frames, 16);
#endif
#ifdef __i386__
ABI_SIZE(struct gnttab_setup_table, 16);
ABI_OFFSET(struct gnttab_setup_table, frame_list, 12);
ABI_SIZE(struct gnttab_transfer, 16);
ABI_SIZE(struct gnttab_copy_ptr, 8);
ABI_SIZE(struct gnttab_copy, 24);
ABI_OFFSET(struct gnttab_copy, dest, 8);
ABI_OFFSET(struct gnttab_copy, len, 16);
ABI_OFFSET(struct gnttab_copy, status, 20);
ABI_SIZE(struct gnttab_get_status_frames, 12);
#endif

#endif
