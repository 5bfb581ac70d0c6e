/* memory_op.c (hypervisor): the memory_op hypercall: the memory map, add_to_physmap, and
 * ballooning RAM pages out and back in. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "mm.h"
#include "printk.h"
#include "vcpu_time.h"
#include "xen/memory.h"
#include "xen/xen.h"

#define MEMOP_CMD_MASK 0x3f         /* the rest of cmd is a continuation index */
#define MEMOP_EXTENT_SHIFT 6        /* ... the extent to start at (Xen's memory.h) */
#define MAX_EXTENT_ORDER 9          /* up to 2 MiB per extent */
#define E820_ENTRY_SIZE 20          /* packed {u64 addr, u64 size, u32 type} */
#define GFN_LIMIT (1ull << 36)      /* 48-bit guest-physical addresses */

/* xen_memory_map and xen_add_to_physmap as 32-bit callers lay them out. */
struct compat_memory_map { uint32_t nr_entries; uint32_t buffer; };
struct compat_add_to_physmap { uint16_t domid, size; uint32_t space, idx, gpfn; };
_Static_assert(sizeof(struct compat_memory_map) == 8, "compat xen_memory_map");
_Static_assert(sizeof(struct compat_add_to_physmap) == 16, "compat xen_add_to_physmap");

/* xen_memory_reservation (Xen's memory.h) in both layouts; extents are xen_pfn_t arrays. */
struct reservation_64 { uint64_t extent_start, nr_extents; uint32_t extent_order, mem_flags;
                        uint16_t domid; };
struct reservation_compat { uint32_t extent_start, nr_extents, extent_order, mem_flags;
                            uint16_t domid; };
_Static_assert(sizeof(struct reservation_64) == 32, "xen_memory_reservation");
_Static_assert(sizeof(struct reservation_compat) == 20, "compat xen_memory_reservation");

struct reservation { uint64_t extent_start, nr_extents; uint32_t order; uint16_t domid; };

static int read_memory_map_arg(struct hcall_ctx *c, uint64_t gva, uint32_t *nr, uint64_t *buf)
{
    if (c->compat) {
        struct compat_memory_map m;

        if (hc_copy_from(c, &m, gva, sizeof(m)))
            return -EFAULT;
        *nr = m.nr_entries;
        *buf = m.buffer;
    } else {
        struct xen_memory_map m;

        if (hc_copy_from(c, &m, gva, sizeof(m)))
            return -EFAULT;
        *nr = m.nr_entries;
        *buf = (uintptr_t)m.buffer.p;
    }
    return 0;
}

/* IN: buffer capacity in entries; OUT: entries written (the map is truncated to fit, as Xen does). */
static long memory_map(struct hcall_ctx *c, uint64_t gva)
{
    uint32_t nr;
    uint64_t buf;

    if (read_memory_map_arg(c, gva, &nr, &buf))
        return -EFAULT;
    if (nr > c->d->memmap_entries)
        nr = c->d->memmap_entries;
    for (uint32_t i = 0; i < nr; i++) {
        const struct hvm_memmap_table_entry *e = &c->d->memmap[i];
        uint8_t entry[E820_ENTRY_SIZE];

        memcpy(entry, &e->addr, 8);
        memcpy(entry + 8, &e->size, 8);
        memcpy(entry + 16, &e->type, 4);
        if (hc_copy_to(c, buf + (uint64_t)i * E820_ENTRY_SIZE, entry, sizeof(entry)))
            return -EFAULT;
    }
    /* nr_entries is the first field in both layouts. */
    return hc_copy_to(c, gva, &nr, sizeof(nr)) ? -EFAULT : 0;
}

static bool gfn_is_ram(const struct domain *d, uint64_t gfn)
{
    uint64_t gpa = gfn << PAGE_SHIFT;

    return gpa < d->ram_bytes && (gpa < LEGACY_HOLE_START || gpa >= LEGACY_HOLE_END);
}

/* Puts back whatever the shared_info page covered: the RAM page, or nothing. */
static int restore_gfn(struct domain *d, uint64_t gfn)
{
    if (gfn_is_ram(d, gfn))
        return p2m_map(&d->p2m, gfn << PAGE_SHIFT, d->ram_hpa + (gfn << PAGE_SHIFT), PAGE_SIZE,
                       P2M_RWX);
    return p2m_unmap(&d->p2m, gfn << PAGE_SHIFT, PAGE_SIZE);
}

static long map_shared_info(struct hcall_ctx *c, struct domain *d, uint64_t idx, uint64_t gfn)
{
    if (idx != 0 || gfn >= GFN_LIMIT)
        return -EINVAL;
    if (d->shared_info_gfn != ~0ull && d->shared_info_gfn != gfn &&
        restore_gfn(d, d->shared_info_gfn))
        return -ENOMEM;
    if (p2m_map(&d->p2m, gfn << PAGE_SHIFT, virt_to_phys(d->shared_info), PAGE_SIZE,
                P2M_READ | P2M_WRITE))
        return -ENOMEM;
    d->shared_info_gfn = gfn;
    hvm->flush_p2m(d);
    /* The guest's mode now decides the shared_info layout, as Xen latches it. */
    evtchn_set_compat(&d->evtchn, c->compat);
    domain_publish_wallclock(d);
    gprintk(d, LOG_DEBUG, "d%u: shared_info mapped at gfn 0x%lx", d->id, gfn);
    return 0;
}

static long add_to_physmap(struct hcall_ctx *c, uint64_t gva)
{
    uint64_t domid, space, idx, gfn;
    struct domain *d;
    long err = 0;

    if (c->compat) {
        struct compat_add_to_physmap a;

        if (hc_copy_from(c, &a, gva, sizeof(a)))
            return -EFAULT;
        domid = a.domid, space = a.space, idx = a.idx, gfn = a.gpfn;
    } else {
        struct xen_add_to_physmap a;

        if (hc_copy_from(c, &a, gva, sizeof(a)))
            return -EFAULT;
        domid = a.domid, space = a.space, idx = a.idx, gfn = a.gpfn;
    }
    if (!(d = hc_target_domain(c, domid, &err)))
        return err;
    switch (space) {
    case XENMAPSPACE_shared_info:
        return map_shared_info(c, d, idx, gfn);
    case XENMAPSPACE_grant_table:       /* grant tables are not implemented yet */
    case XENMAPSPACE_gmfn:
    case XENMAPSPACE_gmfn_range:
        return -ENOSYS;
    default:
        return -EINVAL;
    }
}

static int read_reservation(struct hcall_ctx *c, uint64_t gva, struct reservation *r)
{
    if (c->compat) {
        struct reservation_compat m;

        if (hc_copy_from(c, &m, gva, sizeof(m)))
            return -EFAULT;
        *r = (struct reservation){ m.extent_start, m.nr_extents, m.extent_order, m.domid };
    } else {
        struct reservation_64 m;

        if (hc_copy_from(c, &m, gva, sizeof(m)))
            return -EFAULT;
        *r = (struct reservation){ m.extent_start, m.nr_extents, m.extent_order, m.domid };
    }
    return r->order > MAX_EXTENT_ORDER ? -EINVAL : 0;
}

/*
 * Guest RAM is one host block with a fixed gpa -> hpa offset, so ballooning
 * a page out only unmaps it (the host frame stays the domain's), and
 * populating it again maps the same frame back. Only RAM gfns can come back.
 */
static int balloon_extent(struct domain *d, uint64_t gfn, uint32_t order, bool populate)
{
    uint64_t pages = 1ull << order;

    if (gfn >= GFN_LIMIT || (gfn & (pages - 1)))
        return -EINVAL;
    for (uint64_t i = 0; i < pages; i++)
        if (!gfn_is_ram(d, gfn + i) || gfn + i == d->shared_info_gfn)
            return -EINVAL;
    uint64_t gpa = gfn << PAGE_SHIFT, bytes = pages << PAGE_SHIFT;

    if (populate)
        return p2m_map(&d->p2m, gpa, d->ram_hpa + gpa, bytes, P2M_RWX);
    return p2m_unmap(&d->p2m, gpa, bytes);
}

/* XENMEM_decrease_reservation / populate_physmap: returns the extents done, as Xen does. */
static long balloon(struct hcall_ctx *c, uint64_t cmd, uint64_t gva, bool populate)
{
    uint64_t start = cmd >> MEMOP_EXTENT_SHIFT, done;
    unsigned pfn_size = c->compat ? 4 : 8;
    struct reservation r;
    struct domain *d;
    long err = 0;

    if (read_reservation(c, gva, &r))
        return -EFAULT;
    if (!(d = hc_target_domain(c, r.domid, &err)))
        return err;
    for (done = start; done < r.nr_extents; done++) {
        uint64_t gfn = 0;

        if (hc_copy_from(c, &gfn, r.extent_start + done * pfn_size, pfn_size))
            break;
        if (balloon_extent(d, gfn, r.order, populate))
            break;
    }
    if (done > start)
        hvm->flush_p2m(d);
    return (long)done;
}

long do_memory_op(struct hcall_ctx *c, const uint64_t *arg)
{
    switch (arg[0] & MEMOP_CMD_MASK) {
    case XENMEM_decrease_reservation:
        return balloon(c, arg[0], arg[1], false);
    case XENMEM_populate_physmap:
        return balloon(c, arg[0], arg[1], true);
    case XENMEM_memory_map:
        return memory_map(c, arg[1]);
    case XENMEM_add_to_physmap:
        return add_to_physmap(c, arg[1]);
    default:
        return -ENOSYS;
    }
}
