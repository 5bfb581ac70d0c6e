/* memory_op.c (hypervisor): the memory_op hypercall: the memory map and add_to_physmap. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "mm.h"
#include "printk.h"
#include "xen/memory.h"
#include "xen/xen.h"

#define MEMOP_CMD_MASK 0x3f         /* the rest of cmd is a continuation index */
#define E820_ENTRY_SIZE 20          /* packed {u64 addr, u64 size, u32 type} */
#define GFN_LIMIT (1ull << 36)      /* 48-bit guest-physical addresses */

/* xen_memory_map and xen_add_to_physmap as 32-bit callers lay them out. */
struct compat_memory_map { uint32_t nr_entries; uint32_t buffer; };
struct compat_add_to_physmap { uint16_t domid, size; uint32_t space, idx, gpfn; };
_Static_assert(sizeof(struct compat_memory_map) == 8, "compat xen_memory_map");
_Static_assert(sizeof(struct compat_add_to_physmap) == 16, "compat xen_add_to_physmap");

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

static long map_shared_info(struct domain *d, uint64_t idx, uint64_t gfn)
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
    log_debug("d%u: shared_info mapped at gfn 0x%lx", d->id, gfn);
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
        return map_shared_info(d, idx, gfn);
    case XENMAPSPACE_grant_table:       /* grant tables are not implemented yet */
    case XENMAPSPACE_gmfn:
    case XENMAPSPACE_gmfn_range:
        return -ENOSYS;
    default:
        return -EINVAL;
    }
}

long do_memory_op(struct hcall_ctx *c, const uint64_t *arg)
{
    switch (arg[0] & MEMOP_CMD_MASK) {
    case XENMEM_memory_map:
        return memory_map(c, arg[1]);
    case XENMEM_add_to_physmap:
        return add_to_physmap(c, arg[1]);
    default:
        return -ENOSYS;
    }
}
