/* grant_table.h (hypervisor): grant tables v1: the pure bookkeeping (grant_table.c, host-tested)
 * and the domain-level API the rest of the hypervisor calls (grant_table_op.c). */
#ifndef WISP_GRANT_TABLE_H
#define WISP_GRANT_TABLE_H

#include "env.h"
#include "bootconfig.h"
#include "xen/grant_table.h"

#define GNTTAB_ENTRIES_PER_FRAME 512u           /* 8-byte v1 entries in a 4 KiB frame */
/* The largest tables a domain may have (its sizes come from the boot configuration). */
#define GNTTAB_MAX_FRAMES BOOTCFG_MAX_GRANT_FRAMES
#define GNTTAB_MAX_MAPTRACK_FRAMES BOOTCFG_MAX_MAPTRACK_FRAMES
#define GNTTAB_NO_GFN (~0ull)
/* A pin count at this value refuses more pins (Xen's 0x80 guard on its 8-bit counters). */
#define GNTTAB_PIN_MAX 0x7f

/*
 * Per grant entry, what the hypervisor knows and the guest cannot change: who
 * pinned it and the host frame resolved at the first pin. A pin is one host
 * mapping, or one side of a GNTTABOP_copy while it runs.
 */
struct gnttab_active {
    domid_t domid;          /* the pinning domain (valid while pinned) */
    uint8_t readers;        /* read-only pins */
    uint8_t writers;        /* writable pins */
    uint32_t pfn;           /* host frame number of the granted page */
};

/* One frame of the table: the guest-shared entries and the private active entries. */
struct gnttab_frame {
    grant_entry_v1_t *shared;           /* NULL: not allocated yet */
    struct gnttab_active *active;       /* 512 of them, one page */
    uint64_t gfn;                       /* where the owner mapped it; GNTTAB_NO_GFN: nowhere */
};

/* One mapping the domain holds (a handle); flags == 0: free, and ref links the free list. */
struct gnttab_maptrack {
    uint16_t flags;         /* GNTMAP_host_map | GNTMAP_readonly */
    domid_t dom;            /* granter */
    grant_ref_t ref;        /* or, when free, the next free handle */
    uint64_t gfn;           /* where it is mapped in this domain's p2m */
};
#define GNTTAB_MAPTRACK_PER_FRAME (4096u / sizeof(struct gnttab_maptrack))
_Static_assert(sizeof(struct gnttab_maptrack) == 16, "256 handles a maptrack frame");

/* Resolves a granted gfn of the owner to a host frame: GNTST_okay or a GNTST_* error. */
typedef int16_t (*gnttab_resolve_fn)(void *ctx, uint64_t gfn, uint64_t *pfn);

/*
 * One domain's grant state, in struct domain. Locking: one vCPU in the
 * hypervisor at a time (the whole machine); with SMP each table needs its
 * own lock, taken in domain-id order when a mapper's and a granter's are
 * both held. The shared entries are also written by the guest at any time:
 * they are read once per check and their flags changed only by cmpxchg.
 */
struct gnttab {
    unsigned nr_frames, max_frames;
    struct gnttab_frame *frames;        /* max_frames of them */
    unsigned nr_maptrack_frames, max_maptrack_frames;
    struct gnttab_maptrack **maptrack;  /* max_maptrack_frames pointers */
    uint32_t free_head;                 /* first free handle; GNTTAB_NO_HANDLE: none */
    uint32_t nr_maps;                   /* handles in use */
    uint32_t foreign_maps;              /* mappings of our grants held by any domain */
    uint32_t release_from;              /* dying: handles below it are released */
    gnttab_resolve_fn resolve;
    void *ctx;
};
#define GNTTAB_NO_HANDLE UINT32_MAX

/* Pure bookkeeping (grant_table.c). */
int __must_check gnttab_init(struct gnttab *gt, unsigned max_frames, unsigned max_maptrack_frames,
                             gnttab_resolve_fn resolve, void *ctx);
void gnttab_fini(struct gnttab *gt);
/* Allocates frames up to nr: 0, -EINVAL (nr > max_frames) or -ENOMEM. */
int __must_check gnttab_grow(struct gnttab *gt, unsigned nr);
static inline unsigned gnttab_nr_entries(const struct gnttab *gt)
{
    return gt->nr_frames * GNTTAB_ENTRIES_PER_FRAME;
}
/* Fills entry ref (growing the table to hold it) for grantee and frame gfn, permit_access
 * last: 0, or -EINVAL (ref beyond max_frames, gfn past 32 bits, no memory). */
int __must_check gnttab_seed(struct gnttab *gt, grant_ref_t ref, domid_t grantee, uint64_t gfn);
/* The index of the frame mapped at gfn, or -1. */
int gnttab_frame_at(const struct gnttab *gt, uint64_t gfn);
grant_entry_v1_t *gnttab_shared_entry(struct gnttab *gt, grant_ref_t ref);
struct gnttab_active *gnttab_active_entry(struct gnttab *gt, grant_ref_t ref);
/*
 * Pins ref of the granter's table for domain `by`: checks the shared entry as
 * Xen does (permit_access, domid, readonly), sets GTF_reading (and
 * GTF_writing) on the first pin of that kind, resolves the frame on the first
 * pin. GNTST_okay with *pfn, or GNTST_bad_gntref / general_error / bad_page.
 */
int16_t gnttab_pin(struct gnttab *gt, grant_ref_t ref, domid_t by, bool readonly, uint64_t *pfn);
/* Drops one pin; the last writer clears GTF_writing, the last pin GTF_reading. */
void gnttab_unpin(struct gnttab *gt, grant_ref_t ref, bool readonly);
/* A free handle and its entry (flags 0 until the caller fills it), or NULL when
 * max_maptrack_frames are full or memory is out. */
struct gnttab_maptrack *gnttab_maptrack_get(struct gnttab *gt, grant_handle_t *handle);
/* The entry of a handle in use, or NULL. */
struct gnttab_maptrack *gnttab_maptrack_entry(struct gnttab *gt, grant_handle_t handle);
void gnttab_maptrack_put(struct gnttab *gt, grant_handle_t handle);
/* The next handle in use in [*handle, limit) (updated), or NULL: bounded by the table. */
struct gnttab_maptrack *gnttab_maptrack_next(struct gnttab *gt, grant_handle_t *handle,
                                             grant_handle_t limit);
/*
 * Teardown of a dying domain's mappings, a window at a time: the next at most
 * max handles [returned, *end) after the previous window (release_from moves
 * on). Nobody takes handles any more, so the windows cover each one once.
 */
grant_handle_t gnttab_release_window(struct gnttab *gt, uint32_t max, grant_handle_t *end);

/* Domain-level API (grant_table_op.c). */
struct domain;
/* After d->max_grant_frames / max_maptrack_frames are set: 0 or -errno. */
int __must_check gnttab_domain_init(struct domain *d);
/* Fills entry ref (growing the table if needed) for grantee, frame gfn, permit_access last. */
int __must_check gnttab_seed_entry(struct domain *d, unsigned ref, domid_t grantee, uint64_t gfn);
/*
 * d is dying: undoes up to max more of the mappings d holds (counted in
 * maptrack handles; its p2m, a flush, then the granters' pins). True once
 * none is left; UINT32_MAX undoes them all.
 */
bool gnttab_release_mappings(struct domain *d, uint32_t max);
/* Others (or d) still map d's pages: d's memory must stay. */
bool gnttab_foreign_mapped(const struct domain *d);
/* Frees d's grant state; the last step of teardown. */
void gnttab_domain_destroy(struct domain *d);

#endif
