/* memory_op.c (hypervisor): the memory_op hypercall: the memory map, add_to_physmap, and
 * ballooning RAM pages out and back in. */
#include "env.h"
#include "domain_build.h"
#include "errno.h"
#include "grant_table.h"
#include "hypercall.h"
#include "mm.h"
#include "printk.h"
#include "sched.h"
#include "vcpu_time.h"
#include "xen/memory.h"
#include "xen/xen.h"

#define MEMOP_CMD_MASK 0x3f         /* the rest of cmd is a continuation index */
#define MEMOP_EXTENT_SHIFT 6        /* ... the extent to start at (Xen's memory.h) */
/* Xen refuses (0 extents done) counts whose continuation would not fit a 32-bit cmd. */
#define MEMOP_MAX_EXTENTS (UINT32_MAX >> MEMOP_EXTENT_SHIFT)
#define MAX_EXTENT_ORDER 9          /* up to 2 MiB per extent (Xen's default domU max order) */
/* Pages one pass of decrease/populate handles; about 1 ms under QEMU TCG. */
#define BALLOON_BATCH_PAGES 512
#define E820_ENTRY_SIZE 20          /* packed {u64 addr, u64 size, u32 type} */
#define E820_MAX 1024               /* Xen's limit for XENMEM_set_memory_map (asm/e820.h) */

/* xen_memory_map and xen_add_to_physmap as 32-bit callers lay them out. */
struct compat_memory_map { uint32_t nr_entries; uint32_t buffer; };
struct compat_add_to_physmap { uint16_t domid, size; uint32_t space, idx, gpfn; };
struct compat_foreign_memory_map { uint16_t domid, pad; struct compat_memory_map map; };
_Static_assert(sizeof(struct compat_foreign_memory_map) == 12, "compat xen_foreign_memory_map");
_Static_assert(sizeof(struct compat_memory_map) == 8, "compat xen_memory_map");
_Static_assert(sizeof(struct compat_add_to_physmap) == 16, "compat xen_add_to_physmap");

/* xen_memory_reservation (Xen's memory.h) in both layouts; extents are xen_pfn_t arrays. */
struct reservation_64 { uint64_t extent_start, nr_extents; uint32_t extent_order, mem_flags;
                        uint16_t domid; };
struct reservation_compat { uint32_t extent_start, nr_extents, extent_order, mem_flags;
                            uint16_t domid; };
_Static_assert(sizeof(struct reservation_64) == 32, "xen_memory_reservation");
_Static_assert(sizeof(struct reservation_compat) == 20, "compat xen_memory_reservation");

struct reservation { uint64_t extent_start, nr_extents; uint32_t order, mem_flags; uint16_t domid; };

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

/*
 * XENMEM_set_memory_map: as in Xen, a domain may replace its own map (what
 * XENMEM_memory_map answers from then on; GRUB's PVH image reserves its
 * grant-table and shared_info pages this way). The p2m does not change.
 * Xen takes up to 1024 entries; Wisp keeps DOMAIN_MEMMAP_MAX, and a longer
 * map is -ENOMEM, as when Xen cannot allocate it. Copied whole before use.
 */
static long set_memory_map(struct hcall_ctx *c, uint64_t gva)
{
    static struct hvm_memmap_table_entry map[DOMAIN_MEMMAP_MAX];    /* one vCPU in the hypervisor */
    uint64_t domid, buf;
    uint32_t nr;
    struct domain *d;
    long err = 0;

    if (c->compat) {
        struct compat_foreign_memory_map f;

        if (hc_copy_from(c, &f, gva, sizeof(f)))
            return -EFAULT;
        domid = f.domid, nr = f.map.nr_entries, buf = f.map.buffer;
    } else {
        struct xen_foreign_memory_map f;

        if (hc_copy_from(c, &f, gva, sizeof(f)))
            return -EFAULT;
        domid = f.domid, nr = f.map.nr_entries, buf = (uintptr_t)f.map.buffer.p;
    }
    if (nr > E820_MAX)
        return -EINVAL;
    if (!(d = hc_target_domain(c, domid, &err)))
        return err;
    if (nr > DOMAIN_MEMMAP_MAX)
        return -ENOMEM;
    for (uint32_t i = 0; i < nr; i++) {
        uint8_t entry[E820_ENTRY_SIZE];

        if (hc_copy_from(c, entry, buf + (uint64_t)i * E820_ENTRY_SIZE, sizeof(entry)))
            return -EFAULT;
        map[i] = (struct hvm_memmap_table_entry){ 0 };
        memcpy(&map[i].addr, entry, 8);
        memcpy(&map[i].size, entry + 8, 8);
        memcpy(&map[i].type, entry + 16, 4);
    }
    memcpy(d->memmap, map, nr * sizeof(map[0]));
    d->memmap_entries = nr;
    return 0;
}

static bool gfn_is_ram(const struct domain *d, uint64_t gfn)
{
    uint64_t gpa = gfn << PAGE_SHIFT;

    return gpa < d->ram_bytes && (gpa < LEGACY_HOLE_START || gpa >= LEGACY_HOLE_END);
}

enum gfn_use gfn_use(const struct domain *d, uint64_t gfn)
{
    uint64_t hpa;
    unsigned perms;

    if (p2m_lookup(&d->p2m, gfn << PAGE_SHIFT, &hpa, &perms))
        return GFN_EMPTY;
    /* RAM is mapped RWX; a grant mapping (never executable) of the domain's own page at
     * its own gfn has the same frame but is no RAM to balloon or count. */
    if (gfn_is_ram(d, gfn) && hpa == d->ram_hpa + (gfn << PAGE_SHIFT) && perms == P2M_RWX)
        return GFN_RAM;
    return device_hole_page_at(d, gfn << PAGE_SHIFT) ? GFN_DEVICE_HOLE : GFN_OTHER;
}

int gfn_vacate(struct domain *d, uint64_t gfn)
{
    if (device_hole_covers(d, gfn << PAGE_SHIFT))
        return device_hole_map_page(d, gfn << PAGE_SHIFT);
    return p2m_unmap(&d->p2m, gfn << PAGE_SHIFT, PAGE_SIZE);
}

bool gfn_maps(const struct domain *d, uint64_t gfn, uint64_t hpa)
{
    uint64_t now;
    unsigned perms;

    return p2m_lookup(&d->p2m, gfn << PAGE_SHIFT, &now, &perms) == 0 && now == hpa;
}

int gfn_take(struct domain *d, uint64_t gfn, uint64_t hpa, unsigned perms)
{
    enum gfn_use use = gfn < GFN_LIMIT ? gfn_use(d, gfn) : GFN_OTHER;

    if (use == GFN_OTHER)
        return -EBUSY;
    if (p2m_map(&d->p2m, gfn << PAGE_SHIFT, hpa, PAGE_SIZE, perms))
        return -ENOMEM;
    d->tot_pages -= use == GFN_RAM;     /* as if ballooned out: populate_physmap brings it back */
    if (gfn > d->max_mapped_gfn)
        d->max_mapped_gfn = gfn;
    return 0;
}

/*
 * Gives gfn back what the shared_info page covered there: the RAM page, the
 * device hole's all-ones page, or nothing.
 */
static int restore_gfn(struct domain *d, uint64_t gfn)
{
    if (d->shared_info_hid_ram) {
        if (p2m_map(&d->p2m, gfn << PAGE_SHIFT, d->ram_hpa + (gfn << PAGE_SHIFT), PAGE_SIZE,
                    P2M_RWX))
            return -ENOMEM;
        d->tot_pages++;
        d->shared_info_hid_ram = false;
        return 0;
    }
    return gfn_vacate(d, gfn);
}

static long map_shared_info(struct hcall_ctx *c, struct domain *d, uint64_t idx, uint64_t gfn)
{
    if (idx != 0 || gfn >= GFN_LIMIT)
        return -EINVAL;
    if (gnttab_frame_at(&d->grant, gfn) >= 0)
        return -EBUSY;      /* a grant frame stays where it is (Xen would unhook it) */
    if (d->shared_info_gfn != gfn) {
        bool hides_ram = gfn_use(d, gfn) == GFN_RAM;

        if (d->shared_info_gfn != ~0ull && restore_gfn(d, d->shared_info_gfn))
            return -ENOMEM;
        if (p2m_map(&d->p2m, gfn << PAGE_SHIFT, virt_to_phys(d->shared_info), PAGE_SIZE,
                    P2M_READ | P2M_WRITE))
            return -ENOMEM;
        d->shared_info_hid_ram = hides_ram;
        d->tot_pages -= hides_ram;
        d->shared_info_gfn = gfn;
        if (gfn > d->max_mapped_gfn)
            d->max_mapped_gfn = gfn;
        p2m_changed(d);
    }
    /* The guest's mode now decides the shared_info layout, as Xen latches it. */
    evtchn_set_compat(&d->evtchn, c->compat);
    domain_publish_wallclock(d);
    gprintk(d, LOG_DEBUG, "d%u: shared_info mapped at gfn 0x%lx", d->id, gfn);
    return 0;
}

/*
 * XENMAPSPACE_grant_table: frame idx of d's grant table at gfn, the table
 * growing up to max_grant_frames (idx beyond, or v2's status flag: -EINVAL).
 * As in Xen, a frame mapped elsewhere moves (its old gfn is left empty), a
 * RAM page at gfn is taken out as if ballooned out, another grant frame there
 * is unhooked. Wisp refuses (-EBUSY) gfns holding other special pages
 * (shared_info, console ring, xAPIC page, grant mappings), which Xen would
 * unhook or crash the domain over.
 */
static long map_grant_frame(struct domain *d, uint64_t idx, uint64_t gfn)
{
    struct gnttab_frame *f;
    int other, rc;

    if (idx >= d->grant.max_frames || gfn >= GFN_LIMIT)
        return -EINVAL;
    if ((rc = gnttab_grow(&d->grant, (unsigned)idx + 1)))
        return rc;
    f = &d->grant.frames[idx];
    if (f->gfn == gfn)
        return 0;
    if ((other = gnttab_frame_at(&d->grant, gfn)) >= 0) {
        if (p2m_unmap(&d->p2m, gfn << PAGE_SHIFT, PAGE_SIZE))
            return -ENOMEM;
        d->grant.frames[other].gfn = GNTTAB_NO_GFN;
    }
    if ((rc = gfn_take(d, gfn, virt_to_phys(f->shared), P2M_READ | P2M_WRITE)))
        return rc;
    if (f->gfn != GNTTAB_NO_GFN && gfn_maps(d, f->gfn, virt_to_phys(f->shared)) &&
        gfn_vacate(d, f->gfn))
        rc = -ENOMEM;   /* the old gfn keeps a second view of the frame: harmless */
    f->gfn = gfn;
    p2m_changed(d);
    return rc;
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
    case XENMAPSPACE_grant_table:
        return map_grant_frame(d, idx, gfn);
    case XENMAPSPACE_gmfn:
    case XENMAPSPACE_gmfn_range:
        return -ENOSYS;
    default:
        return -EINVAL;
    }
}

/*
 * A reservation op names its domain, extent list and order; Xen gives any
 * refusal of the whole call as "start_extent extents done", never an errno.
 */
static bool read_reservation(struct hcall_ctx *c, uint64_t gva, struct reservation *r)
{
    if (c->compat) {
        struct reservation_compat m;

        if (hc_copy_from(c, &m, gva, sizeof(m)))
            return false;
        *r = (struct reservation){ m.extent_start, m.nr_extents, m.extent_order, m.mem_flags,
                                   m.domid };
    } else {
        struct reservation_64 m;

        if (hc_copy_from(c, &m, gva, sizeof(m)))
            return false;
        *r = (struct reservation){ m.extent_start, m.nr_extents, m.extent_order, m.mem_flags,
                                   m.domid };
    }
    return true;
}

/*
 * Every page of the extent is RAM, not under shared_info, and populated
 * (want true) or holding nothing at all (want false: no grant frame or grant
 * mapping over it either). As in Xen, removing a gfn that is no
 * longer populated fails (XSA-277's test): a guest cannot free a page twice.
 * Populating a populated gfn fails too: Xen would hand out a new page on top
 * of the domain's max_pages, which Wisp's domains have already reached.
 */
static bool extent_is(const struct domain *d, uint64_t gfn, uint64_t pages, bool want)
{
    if (gfn >= GFN_LIMIT || (gfn & (pages - 1)))
        return false;
    for (uint64_t i = 0; i < pages; i++)
        if (!gfn_is_ram(d, gfn + i) || gfn + i == d->shared_info_gfn ||
            gfn_use(d, gfn + i) != (want ? GFN_RAM : GFN_EMPTY))
            return false;
    return true;
}

/*
 * Guest RAM is one host block with a fixed gpa -> hpa offset, so ballooning
 * a page out only unmaps it (the host frame stays the domain's), and
 * populating it again maps the same frame back, with what it held. A whole
 * 2 MiB extent is one p2m operation: the walker merges it back into one leaf.
 */
static bool balloon_extent(struct domain *d, uint64_t gfn, uint32_t order, bool populate)
{
    uint64_t pages = 1ull << order;
    uint64_t gpa = gfn << PAGE_SHIFT, bytes = pages << PAGE_SHIFT;

    if (!extent_is(d, gfn, pages, !populate))
        return false;
    if (populate) {
        if (p2m_map(&d->p2m, gpa, d->ram_hpa + gpa, bytes, P2M_RWX))
            return false;
        d->tot_pages += pages;
    } else {
        if (p2m_unmap(&d->p2m, gpa, bytes))
            return false;
        d->tot_pages -= pages;
    }
    return true;
}

/*
 * XENMEM_decrease_reservation / populate_physmap: returns the extents done,
 * as Xen does. One pass handles at most BALLOON_BATCH_PAGES pages (and at
 * least one extent); the rest is a continuation with the next extent in
 * cmd >> MEMOP_EXTENT_SHIFT, so other vCPUs run in between: the run loop
 * (sched.c) checks its deadlines (slice end, every vCPU timer) after each
 * exit, so a continued call loses the pCPU like a spinning guest does and
 * needs no preempt check of its own. A call does at most as many extents as
 * the domain has RAM pages to move: each gfn can go out (or in) once.
 */
static long balloon(struct hcall_ctx *c, uint64_t cmd, uint64_t gva, bool populate)
{
    uint64_t start = cmd >> MEMOP_EXTENT_SHIFT, done, budget = BALLOON_BATCH_PAGES;
    unsigned pfn_size = c->compat ? 4 : 8;
    struct reservation r;
    struct domain *d;
    long err = 0;

    if (!read_reservation(c, gva, &r) || r.nr_extents > MEMOP_MAX_EXTENTS ||
        start >= r.nr_extents || r.order > MAX_EXTENT_ORDER ||
        (populate && (r.mem_flags & XENMEMF_populate_on_demand)) ||
        !(d = hc_target_domain(c, r.domid, &err)))
        return (long)start;
    for (done = start; done < r.nr_extents; done++) {
        uint64_t gfn = 0;

        if (budget < (1ull << r.order) && done > start) {
            hc_continue(c, 0, (cmd & MEMOP_CMD_MASK) | (done << MEMOP_EXTENT_SHIFT));
            break;
        }
        budget -= budget < (1ull << r.order) ? budget : 1ull << r.order;
        if (hc_copy_from(c, &gfn, r.extent_start + done * pfn_size, pfn_size) ||
            !balloon_extent(d, gfn, r.order, populate))
            break;
    }
    if (done > start)
        p2m_changed(d);  /* also frees the tables it let go of (domain_build.c) */
    return (long)done;
}

/* XENMEM_current_reservation, maximum_reservation, maximum_gpfn: arg is a domid_t. */
static long domain_query(struct hcall_ctx *c, unsigned op, uint64_t gva)
{
    uint16_t domid;
    struct domain *d;
    long err = 0;

    if (hc_copy_from(c, &domid, gva, sizeof(domid)))
        return -EFAULT;
    if (!(d = hc_target_domain(c, domid, &err)))
        return err;
    switch (op) {
    case XENMEM_current_reservation:
        return (long)d->tot_pages;
    case XENMEM_maximum_reservation:
        return (long)d->max_pages;
    default:
        return (long)d->max_mapped_gfn;
    }
}

long do_memory_op(struct hcall_ctx *c, const uint64_t *arg)
{
    unsigned op = arg[0] & MEMOP_CMD_MASK;
    bool continued = arg[0] >> MEMOP_EXTENT_SHIFT;

    switch (op) {
    case XENMEM_decrease_reservation:
        return balloon(c, arg[0], arg[1], false);
    case XENMEM_populate_physmap:
        return balloon(c, arg[0], arg[1], true);
    case XENMEM_maximum_ram_page:       /* arg unused; the host's, as Xen's max_page */
        return continued ? -EINVAL : (long)frames_max_page();
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
        return continued ? -EINVAL : domain_query(c, op, arg[1]);
    case XENMEM_memory_map:
        return memory_map(c, arg[1]);
    case XENMEM_set_memory_map:
        return set_memory_map(c, arg[1]);
    case XENMEM_add_to_physmap:
        return add_to_physmap(c, arg[1]);
    default:
        return -ENOSYS;
    }
}
