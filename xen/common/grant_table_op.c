/* grant_table_op.c (hypervisor): the grant_table_op hypercall (v1) and a domain's grant
 * lifecycle: mapping granted frames into the mapper's p2m, copies, teardown. */
#include "env.h"
#include "domain.h"
#include "errno.h"
#include "grant_table.h"
#include "hypercall.h"
#include "mm.h"
#include "printk.h"
#include "sched.h"
#include "xen/xen.h"

#define GNTTABOP_CMD_MASK 0xfffu    /* Xen: the bits above are a continuation argument */
/* Ops one pass handles before the call continues (Xen checks for preemption per op). */
#define GNTTAB_BATCH 32

/* gnttab_copy and gnttab_setup_table as 32-bit callers lay them out (xen_pfn_t, handles). */
struct compat_gnttab_copy_ptr { uint32_t ref_or_gmfn; domid_t domid; uint16_t offset; };
struct compat_gnttab_copy {
    struct compat_gnttab_copy_ptr source, dest;
    uint16_t len, flags;
    int16_t status;
};
struct compat_gnttab_setup_table { domid_t dom; uint32_t nr_frames; int16_t status; uint32_t frame_list; };
_Static_assert(sizeof(struct compat_gnttab_copy) == 24, "compat gnttab_copy");
_Static_assert(offsetof(struct compat_gnttab_copy, status) == 20, "compat gnttab_copy status");
_Static_assert(sizeof(struct compat_gnttab_setup_table) == 16, "compat gnttab_setup_table");

/*
 * The granter's gfn -> host frame: its own populated RAM, or its store ring
 * page (which the builder grants to the xenstore domain, entry 1). Both are
 * freed only with the domain, which waits for its last foreign mapping.
 */
static int16_t resolve_granted_gfn(void *ctx, uint64_t gfn, uint64_t *pfn)
{
    struct domain *d = ctx;
    uint64_t hpa = d->ram_hpa + (gfn << PAGE_SHIFT);

    if (d->store_ring && gfn == STORE_RING_GPA >> PAGE_SHIFT &&
        gfn_maps(d, gfn, virt_to_phys(d->store_ring)))
        hpa = virt_to_phys(d->store_ring);
    else if (gfn_use(d, gfn) != GFN_RAM)
        return GNTST_bad_page;
    if (hpa + PAGE_SIZE > HOST_MAPPED_LIMIT)
        return GNTST_bad_page;
    *pfn = hpa >> PAGE_SHIFT;
    return GNTST_okay;
}

int gnttab_domain_init(struct domain *d)
{
    return gnttab_init(&d->grant, d->max_grant_frames, d->max_maptrack_frames,
                       resolve_granted_gfn, d);
}

int gnttab_seed_entry(struct domain *d, unsigned ref, domid_t grantee, uint64_t gfn)
{
    return gnttab_seed(&d->grant, ref, grantee, gfn);
}

bool gnttab_foreign_mapped(const struct domain *d)
{
    return d->grant.foreign_maps != 0;
}

void gnttab_domain_destroy(struct domain *d)
{
    gnttab_fini(&d->grant);
}

/*
 * The mapping is gone from the mapper's p2m and its TLBs: drop the granter's
 * pin (clearing GTF_reading/GTF_writing) and count the mapping out. The
 * granter lives on while mapped, so it is found by id.
 */
static void drop_mapping(struct domain *ld, grant_handle_t h, struct gnttab_maptrack *m)
{
    struct domain *rd = domain_by_id(m->dom);

    if (rd) {
        gnttab_unpin(&rd->grant, m->ref, m->flags & GNTMAP_readonly);
        if (!--rd->grant.foreign_maps && !rd->running && rd != ld) {
            log_info("d%u (%s): its last page mapped by another domain is unmapped", rd->id,
                     rd->name);
            domain_maybe_free(rd);
        }
    }
    gnttab_maptrack_put(&ld->grant, h);
}

/* Takes the granted frame out of the mapper's p2m, unless something else replaced it since. */
static int unmap_from_p2m(struct domain *ld, struct gnttab_maptrack *m)
{
    struct domain *rd = domain_by_id(m->dom);
    struct gnttab_active *a = rd ? gnttab_active_entry(&rd->grant, m->ref) : NULL;

    if (a && gfn_maps(ld, m->gfn, (uint64_t)a->pfn << PAGE_SHIFT))
        return gfn_vacate(ld, m->gfn);
    return 0;
}

/*
 * d is dying: the next max of its maptrack handles (gnttab_release_window)
 * out of its p2m, one flush, then the granters' pins (IO.md: flush before
 * release). True once d holds no mapping.
 */
bool gnttab_release_mappings(struct domain *d, uint32_t max)
{
    struct gnttab *gt = &d->grant;
    struct gnttab_maptrack *m;
    grant_handle_t from, end, h;

    if (!gt->nr_maps)
        return true;
    from = gnttab_release_window(gt, max, &end);
    /* A 4 KiB leaf is replaced in place, so this cannot need memory. */
    for (h = from; (m = gnttab_maptrack_next(gt, &h, end)); h++)
        if (d->p2m.root && unmap_from_p2m(d, m))
            log_error("d%u: grant handle %u stays in the p2m of the dying domain", d->id, h);
    if (d->p2m.root)
        p2m_changed(d);
    for (h = from; (m = gnttab_maptrack_next(gt, &h, end)); h++)
        drop_mapping(d, h, m);
    return !gt->nr_maps;
}

/* A granter that can be named: an existing, running domain (DOMID_SELF is not an id here). */
static struct domain *granter(domid_t id)
{
    struct domain *rd = id < DOMID_FIRST_RESERVED ? domain_by_id(id) : NULL;

    return rd && rd->running ? rd : NULL;
}

/*
 * One map_grant_ref, checked in Xen's order. PVH mappers only: the frame
 * goes into the p2m at host_addr's gfn. dev_bus_addr is always 0: Wisp does
 * not tell guests host addresses (Xen gives the machine address).
 */
static int16_t map_one(struct domain *ld, struct gnttab_map_grant_ref *op, grant_handle_t *hp)
{
    bool ro = op->flags & GNTMAP_readonly, replaces;
    struct gnttab_maptrack *m;
    struct domain *rd;
    grant_handle_t h;
    uint64_t pfn;
    int16_t st;

    if (!(op->flags & (GNTMAP_device_map | GNTMAP_host_map)))
        return GNTST_bad_gntref;
    if (op->flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte))
        return GNTST_general_error;         /* Xen: no device mappings for HVM */
    if (!(rd = granter(op->dom)))
        return GNTST_bad_domain;
    if (!(m = gnttab_maptrack_get(&ld->grant, &h)))
        return GNTST_no_device_space;
    if ((st = gnttab_pin(&rd->grant, op->ref, (domid_t)ld->id, ro, &pfn)) != GNTST_okay) {
        gnttab_maptrack_put(&ld->grant, h);
        return st;
    }
    replaces = gfn_use(ld, op->host_addr >> PAGE_SHIFT) != GFN_EMPTY;
    /* Xen refuses HVM mappings of grants that ask for cache attributes (GTF_PAT/PWT/PCD). */
    if ((__atomic_load_n(&gnttab_shared_entry(&rd->grant, op->ref)->flags, __ATOMIC_SEQ_CST) &
         (GTF_PAT | GTF_PWT | GTF_PCD)) ||
        gfn_take(ld, op->host_addr >> PAGE_SHIFT, pfn << PAGE_SHIFT,
                 ro ? P2M_READ : P2M_READ | P2M_WRITE)) {
        gnttab_unpin(&rd->grant, op->ref, ro);
        gnttab_maptrack_put(&ld->grant, h);
        return GNTST_general_error;
    }
    if (replaces)
        p2m_changed(ld);     /* no stale translation of the RAM page it replaced */
    *m = (struct gnttab_maptrack){ .flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0),
                                   .dom = (domid_t)rd->id, .ref = op->ref,
                                   .gfn = op->host_addr >> PAGE_SHIFT };
    rd->grant.foreign_maps++;
    *hp = h;
    return GNTST_okay;
}

/*
 * One unmap_grant_ref. As in Xen, host_addr 0 unmaps nothing (and succeeds);
 * otherwise it must name where the handle is mapped.
 */
static int16_t unmap_one(struct domain *ld, const struct gnttab_unmap_grant_ref *op)
{
    struct gnttab_maptrack *m = gnttab_maptrack_entry(&ld->grant, op->handle);

    if (!m)
        return GNTST_bad_handle;
    if (op->dev_bus_addr)
        return GNTST_general_error;         /* it never matches: maps report 0 */
    if (!op->host_addr)
        return GNTST_okay;
    if (op->host_addr >> PAGE_SHIFT != m->gfn || unmap_from_p2m(ld, m))
        return GNTST_general_error;
    p2m_changed(ld);                     /* before the granter sees the page released */
    drop_mapping(ld, op->handle, m);
    return GNTST_okay;
}

static long op_map(struct hcall_ctx *c, uint64_t gva)
{
    struct gnttab_map_grant_ref op;
    grant_handle_t h = 0;

    if (hc_copy_from(c, &op, gva, sizeof(op)))
        return -EFAULT;
    op.status = map_one(c->d, &op, &h);
    if (op.status == GNTST_okay) {
        op.handle = h;
        op.dev_bus_addr = 0;
    }
    if (!hc_copy_to(c, gva, &op, sizeof(op)))
        return 0;
    /* The guest lost its record of the mapping: take it back, as if never made. */
    if (op.status == GNTST_okay) {
        struct gnttab_unmap_grant_ref u = { .host_addr = op.host_addr, .handle = h };

        (void)unmap_one(c->d, &u);
    }
    return -EFAULT;
}

static long op_unmap(struct hcall_ctx *c, uint64_t gva)
{
    struct gnttab_unmap_grant_ref op;

    if (hc_copy_from(c, &op, gva, sizeof(op)))
        return -EFAULT;
    op.status = unmap_one(c->d, &op);
    return hc_copy_to(c, gva + offsetof(struct gnttab_unmap_grant_ref, status), &op.status,
                      sizeof(op.status)) ? -EFAULT : 0;
}

/* One side of a copy: a pinned grant, or a frame of the caller's own RAM. */
struct copy_side {
    uint32_t ref_or_gmfn;
    domid_t domid;
    uint16_t offset;
    struct domain *d;       /* set while a grant is pinned */
    uint64_t pfn;
};

static int16_t claim_side(struct hcall_ctx *c, struct copy_side *s, bool is_gref, bool readonly)
{
    if (!is_gref) {
        if (s->domid != DOMID_SELF)
            return GNTST_permission_denied;  /* Xen: frames only of the caller */
        return resolve_granted_gfn(c->d, s->ref_or_gmfn, &s->pfn) ? GNTST_bad_page : GNTST_okay;
    }
    struct domain *d = s->domid == DOMID_SELF ? c->d : granter(s->domid);
    int16_t st;

    if (!d)
        return GNTST_bad_domain;
    st = gnttab_pin(&d->grant, s->ref_or_gmfn, (domid_t)c->d->id, readonly, &s->pfn);
    if (st == GNTST_okay)
        s->d = d;
    return st;
}

static void release_side(struct copy_side *s, bool readonly)
{
    if (s->d)
        gnttab_unpin(&s->d->grant, s->ref_or_gmfn, readonly);
    s->d = NULL;
}

/* One GNTTABOP_copy: both sides claimed (source read-only), bounds, copy, pins dropped. */
static int16_t copy_one(struct hcall_ctx *c, struct copy_side *src, struct copy_side *dst,
                        uint16_t len, uint16_t flags)
{
    int16_t st = claim_side(c, src, flags & GNTCOPY_source_gref, true);

    if (st == GNTST_okay)
        st = claim_side(c, dst, flags & GNTCOPY_dest_gref, false);
    if (st == GNTST_okay && (src->offset + len > PAGE_SIZE || dst->offset + len > PAGE_SIZE))
        st = GNTST_bad_copy_arg;
    if (st == GNTST_okay)
        memmove((uint8_t *)phys_to_virt(dst->pfn << PAGE_SHIFT) + dst->offset,
                (const uint8_t *)phys_to_virt(src->pfn << PAGE_SHIFT) + src->offset, len);
    release_side(dst, false);
    release_side(src, true);
    return st;
}

static long op_copy(struct hcall_ctx *c, uint64_t gva)
{
    struct copy_side src, dst;
    uint16_t len, flags;
    int16_t status;
    uint64_t status_gva;

    if (c->compat) {
        struct compat_gnttab_copy op;

        if (hc_copy_from(c, &op, gva, sizeof(op)))
            return -EFAULT;
        src = (struct copy_side){ op.source.ref_or_gmfn, op.source.domid, op.source.offset };
        dst = (struct copy_side){ op.dest.ref_or_gmfn, op.dest.domid, op.dest.offset };
        len = op.len, flags = op.flags;
        status_gva = gva + offsetof(struct compat_gnttab_copy, status);
    } else {
        struct gnttab_copy op;

        if (hc_copy_from(c, &op, gva, sizeof(op)))
            return -EFAULT;
        /* A gmfn past 32 bits is no frame of ours: it fails to resolve as ~0 does. */
        src = (struct copy_side){ op.source.u.gmfn > UINT32_MAX ? UINT32_MAX : (uint32_t)op.source.u.gmfn,
                                  op.source.domid, op.source.offset };
        dst = (struct copy_side){ op.dest.u.gmfn > UINT32_MAX ? UINT32_MAX : (uint32_t)op.dest.u.gmfn,
                                  op.dest.domid, op.dest.offset };
        flags = op.flags;
        if (flags & GNTCOPY_source_gref)
            src.ref_or_gmfn = op.source.u.ref;
        if (flags & GNTCOPY_dest_gref)
            dst.ref_or_gmfn = op.dest.u.ref;
        len = op.len;
        status_gva = gva + offsetof(struct gnttab_copy, status);
    }
    status = copy_one(c, &src, &dst, len, flags);
    return hc_copy_to(c, status_gva, &status, sizeof(status)) ? -EFAULT : 0;
}

/*
 * map, unmap and copy take arrays: GNTTAB_BATCH ops a pass, then the call
 * continues with the array pointer and count moved on, as Xen's continuation
 * does (arg 1 and arg 2), so no pass does unbounded work.
 */
static long batch(struct hcall_ctx *c, uint64_t uop, uint32_t count, size_t size,
                  long (*one)(struct hcall_ctx *, uint64_t))
{
    for (uint32_t i = 0; i < count; i++) {
        long rc;

        if (i == GNTTAB_BATCH) {
            hc_continue(c, 1, uop + (uint64_t)i * size);
            hc_continue(c, 2, count - i);
            return 0;
        }
        if ((rc = one(c, uop + (uint64_t)i * size)))
            return rc;
    }
    return 0;
}

/* setup_table: grows the table; frame_list gets each frame's gfn (Xen gives PV guests MFNs). */
static long op_setup_table(struct hcall_ctx *c, uint64_t gva, uint32_t count)
{
    uint64_t list, domid;
    uint32_t nr;
    int16_t status = GNTST_okay;
    struct domain *d;
    long err;

    if (count != 1)
        return -EINVAL;
    if (c->compat) {
        struct compat_gnttab_setup_table op;

        if (hc_copy_from(c, &op, gva, sizeof(op)))
            return -EFAULT;
        domid = op.dom, nr = op.nr_frames, list = op.frame_list;
    } else {
        struct gnttab_setup_table op;

        if (hc_copy_from(c, &op, gva, sizeof(op)))
            return -EFAULT;
        domid = op.dom, nr = op.nr_frames, list = (uintptr_t)op.frame_list.p;
    }
    if (!(d = hc_target_domain(c, domid, &err)))
        status = err == -EPERM ? GNTST_permission_denied : GNTST_bad_domain;
    else if (nr > d->grant.max_frames || gnttab_grow(&d->grant, nr))
        status = GNTST_general_error;
    for (uint32_t i = 0; status == GNTST_okay && i < nr; i++) {
        uint64_t gfn = d->grant.frames[i].gfn;

        if (hc_copy_to(c, list + (uint64_t)i * (c->compat ? 4 : 8), &gfn, c->compat ? 4 : 8))
            status = GNTST_bad_virt_addr;
    }
    return hc_copy_to(c, gva + offsetof(struct gnttab_setup_table, status), &status,
                      sizeof(status)) ? -EFAULT : 0;
}

static long op_query_size(struct hcall_ctx *c, uint64_t gva, uint32_t count)
{
    struct gnttab_query_size op;
    struct domain *d;
    long err;

    if (count != 1)
        return -EINVAL;
    if (hc_copy_from(c, &op, gva, sizeof(op)))
        return -EFAULT;
    if (!(d = hc_target_domain(c, op.dom, &err))) {
        op.status = err == -EPERM ? GNTST_permission_denied : GNTST_bad_domain;
    } else {
        op.nr_frames = d->grant.nr_frames;
        op.max_nr_frames = d->grant.max_frames;
        op.status = GNTST_okay;
    }
    return hc_copy_to(c, gva, &op, sizeof(op)) ? -EFAULT : 0;
}

/* Version 1 only: asking for 2 is -ENOSYS (Xen built with max version 1), so Linux stays on v1. */
static long op_set_version(struct hcall_ctx *c, uint64_t gva)
{
    struct gnttab_set_version op;
    long rc;

    if (hc_copy_from(c, &op, gva, sizeof(op)))
        return -EFAULT;
    rc = op.version == 1 ? 0 : op.version == 2 ? -ENOSYS : -EINVAL;
    op.version = 1;
    return hc_copy_to(c, gva, &op, sizeof(op)) ? -EFAULT : rc;
}

static long op_get_version(struct hcall_ctx *c, uint64_t gva)
{
    struct gnttab_get_version op;
    long err = 0;

    if (hc_copy_from(c, &op, gva, sizeof(op)))
        return -EFAULT;
    if (!hc_target_domain(c, op.dom, &err))
        return err;
    op.version = 1;
    return hc_copy_to(c, gva, &op, sizeof(op)) ? -EFAULT : 0;
}

long do_grant_table_op(struct hcall_ctx *c, const uint64_t *arg)
{
    uint32_t cmd = (uint32_t)arg[0], count = (uint32_t)arg[2];
    uint64_t uop = arg[1];

    if ((int32_t)count < 0 || (cmd & ~GNTTABOP_CMD_MASK))
        return -EINVAL;
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        return batch(c, uop, count, sizeof(struct gnttab_map_grant_ref), op_map);
    case GNTTABOP_unmap_grant_ref:
        return batch(c, uop, count, sizeof(struct gnttab_unmap_grant_ref), op_unmap);
    case GNTTABOP_copy:
        return batch(c, uop, count, c->compat ? sizeof(struct compat_gnttab_copy)
                                              : sizeof(struct gnttab_copy), op_copy);
    case GNTTABOP_setup_table:
        return op_setup_table(c, uop, count);
    case GNTTABOP_query_size:
        return op_query_size(c, uop, count);
    case GNTTABOP_set_version:
        return op_set_version(c, uop);
    case GNTTABOP_get_version:
        return op_get_version(c, uop);
    default:    /* dump_table, transfer, unmap_and_replace, status frames (v2), swap, cache_flush */
        return -ENOSYS;
    }
}
