/* p2m.c (hypervisor, pure): one 4-level guest-physical map walker, parameterised for AMD NPT and Intel EPT. */
#include "env.h"
#include "errno.h"
#include "p2m.h"

/*
 * Layout shared by both formats: 4 levels of 512 8-byte entries, physical
 * address in bits 51:12, bit 7 marks a large leaf in level-2 and level-3
 * entries (AMD APM vol 2, 5.3.3 and 15.25.5; Intel SDM vol 3, 29.3.2).
 */
#define PT_ENTRIES        512u
#define PT_INDEX_BITS     9u
#define PT_LEVELS         4u
#define PT_ADDR_MASK      0x000ffffffffff000ull /* bits 51:12: physical address */
#define PT_LARGE          (1ull << 7)           /* PS: 2 MiB / 1 GiB leaf (levels 2, 3 only) */

#define GPA_LIMIT         (1ull << 48)          /* 4 levels x 9 bits + 12 */
#define HPA_LIMIT         (1ull << 52)          /* architectural MAXPHYADDR ceiling */

/* NPT entries: the long-mode page-table format (AMD APM vol 2, 5.4.1 and 15.25.5). */
#define NPT_PRESENT       (1ull << 0)           /* P */
#define NPT_WRITE         (1ull << 1)           /* R/W: writes allowed */
#define NPT_USER          (1ull << 2)           /* U/S: guest accesses are user accesses (15.25.5) */
#define NPT_NX            (1ull << 63)          /* no execute */

/* EPT entries (Intel SDM vol 3, 29.3.2, tables 29-2 to 29-6). */
#define EPT_READ          (1ull << 0)           /* R */
#define EPT_WRITE         (1ull << 1)           /* W */
#define EPT_EXEC          (1ull << 2)           /* X (supervisor-mode execute) */
#define EPT_PERM_MASK     (EPT_READ | EPT_WRITE | EPT_EXEC) /* any set: present */
#define EPT_MEMTYPE_SHIFT 3                     /* bits 5:3: memory type of a leaf */
#define EPT_MEMTYPE_WB    6ull                  /* write-back (SDM vol 3, 29.3.7) */
#define EPT_IGNORE_PAT    (1ull << 6)           /* IPAT: left clear so the guest's PAT applies */

/* Bytes translated by one entry of a table at `level` (1 = page table, 4 = PML4). */
static uint64_t entry_span(unsigned level)
{
    return 1ull << (PAGE_SHIFT + PT_INDEX_BITS * (level - 1));
}

static unsigned entry_index(uint64_t gpa, unsigned level)
{
    return (unsigned)(gpa >> (PAGE_SHIFT + PT_INDEX_BITS * (level - 1))) & (PT_ENTRIES - 1);
}

/* ---- NPT format ---- */

static uint64_t npt_table_entry(uint64_t table_pa)
{
    /* Permissions of the leaf decide; tables allow everything. */
    return (table_pa & PT_ADDR_MASK) | NPT_PRESENT | NPT_WRITE | NPT_USER;
}

static uint64_t npt_leaf_entry(uint64_t pa, unsigned perms, unsigned level)
{
    uint64_t e = (pa & PT_ADDR_MASK) | NPT_PRESENT | NPT_USER;

    if (perms & P2M_WRITE)
        e |= NPT_WRITE;
    if (!(perms & P2M_EXEC))
        e |= NPT_NX;
    if (level > 1)
        e |= PT_LARGE;
    return e;
}

static bool npt_present(uint64_t entry)
{
    return entry & NPT_PRESENT;
}

static unsigned npt_perms(uint64_t entry)
{
    unsigned perms = P2M_READ;      /* a present NPT entry is always readable */

    if (entry & NPT_WRITE)
        perms |= P2M_WRITE;
    if (!(entry & NPT_NX))
        perms |= P2M_EXEC;
    return perms;
}

const struct pt_format npt_format = {
    .name = "npt",
    .table_entry = npt_table_entry,
    .leaf_entry = npt_leaf_entry,
    .present = npt_present,
    .perms = npt_perms,
    .max_1g = true,
};

/* ---- EPT format ---- */

static uint64_t ept_table_entry(uint64_t table_pa)
{
    return (table_pa & PT_ADDR_MASK) | EPT_READ | EPT_WRITE | EPT_EXEC;
}

static uint64_t ept_leaf_entry(uint64_t pa, unsigned perms, unsigned level)
{
    uint64_t e = (pa & PT_ADDR_MASK) | (EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT);

    if (perms & P2M_READ)
        e |= EPT_READ;
    if (perms & P2M_WRITE)
        e |= EPT_WRITE;
    if (perms & P2M_EXEC)
        e |= EPT_EXEC;
    if (level > 1)
        e |= PT_LARGE;
    return e;
}

static bool ept_present(uint64_t entry)
{
    return entry & EPT_PERM_MASK;
}

static unsigned ept_perms(uint64_t entry)
{
    unsigned perms = 0;

    if (entry & EPT_READ)
        perms |= P2M_READ;
    if (entry & EPT_WRITE)
        perms |= P2M_WRITE;
    if (entry & EPT_EXEC)
        perms |= P2M_EXEC;
    return perms;
}

const struct pt_format ept_format = {
    .name = "ept",
    .table_entry = ept_table_entry,
    .leaf_entry = ept_leaf_entry,
    .present = ept_present,
    .perms = ept_perms,
    .max_1g = true,
};

/* ---- the walker ---- */

static uint64_t *table_at(const struct p2m *p2m, uint64_t pa)
{
    return p2m->mem.map(p2m->mem.ctx, pa);
}

static bool is_leaf(uint64_t entry, unsigned level)
{
    return level == 1 || ((level == 2 || level == 3) && (entry & PT_LARGE));
}

static bool leaf_allowed(const struct p2m *p2m, unsigned level)
{
    return level == 1 || level == 2 || (level == 3 && p2m->fmt->max_1g);
}

/* Frees the table at table_pa (of the given level) and every table below it. */
static void free_table(struct p2m *p2m, uint64_t table_pa, unsigned level)
{
    uint64_t *t = table_at(p2m, table_pa);

    for (unsigned i = 0; level > 1 && i < PT_ENTRIES; i++) {
        if (p2m->fmt->present(t[i]) && !is_leaf(t[i], level))
            free_table(p2m, t[i] & PT_ADDR_MASK, level - 1);
    }
    p2m->mem.free(p2m->mem.ctx, table_pa);
}

/* Frees whatever an entry that was just overwritten pointed to. */
static void release_old_entry(struct p2m *p2m, uint64_t old, unsigned level)
{
    if (p2m->fmt->present(old) && !is_leaf(old, level))
        free_table(p2m, old & PT_ADDR_MASK, level - 1);
}

/*
 * Returns the table below *entry (an entry of a level-`level` table), creating
 * it when the entry is empty and splitting a large leaf into a table of
 * equivalent smaller leaves. The new table is complete before the entry is
 * switched to it, so a failure leaves the old translation untouched.
 */
static int __must_check table_below(struct p2m *p2m, uint64_t *entry, unsigned level, uint64_t *child_pa)
{
    const struct pt_format *fmt = p2m->fmt;
    uint64_t old = *entry;

    if (fmt->present(old) && !is_leaf(old, level)) {
        *child_pa = old & PT_ADDR_MASK;
        return 0;
    }

    uint64_t pa = p2m->mem.alloc(p2m->mem.ctx);
    if (!pa)
        return -ENOMEM;

    if (fmt->present(old)) {
        uint64_t *t = table_at(p2m, pa);
        uint64_t base = old & PT_ADDR_MASK & ~(entry_span(level) - 1);
        unsigned perms = fmt->perms(old);

        for (unsigned i = 0; i < PT_ENTRIES; i++)
            t[i] = fmt->leaf_entry(base + i * entry_span(level - 1), perms, level - 1);
    }
    *entry = fmt->table_entry(pa);
    *child_pa = pa;
    return 0;
}

static bool table_is_empty(const struct p2m *p2m, uint64_t table_pa)
{
    const uint64_t *t = table_at(p2m, table_pa);

    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        if (p2m->fmt->present(t[i]))
            return false;
    }
    return true;
}

/* What update_range writes: a mapping, or (unmap) nothing. */
struct p2m_update {
    bool unmap;
    uint64_t hpa_minus_gpa;     /* hpa = gpa + this (mod 2^64) */
    unsigned perms;
};

/*
 * Applies `u` to [gpa, end) within the level-`level` table at table_pa.
 * A fully covered entry becomes one leaf (or empty) where the level and the
 * alignment allow; otherwise the walk descends, splitting as needed.
 */
static int __must_check update_range(struct p2m *p2m, uint64_t table_pa, unsigned level,
                                     uint64_t gpa, uint64_t end, const struct p2m_update *u)
{
    uint64_t *t = table_at(p2m, table_pa);
    uint64_t span = entry_span(level);

    while (gpa < end) {
        uint64_t *entry = &t[entry_index(gpa, level)];
        uint64_t entry_end = (gpa & ~(span - 1)) + span;
        uint64_t chunk_end = end < entry_end ? end : entry_end;
        uint64_t hpa = gpa + u->hpa_minus_gpa;
        bool whole = (gpa & (span - 1)) == 0 && chunk_end == entry_end;
        int rc;

        if (whole && u->unmap) {
            uint64_t old = *entry;
            *entry = 0;
            release_old_entry(p2m, old, level);
        } else if (whole && leaf_allowed(p2m, level) && (hpa & (span - 1)) == 0) {
            uint64_t old = *entry;
            *entry = p2m->fmt->leaf_entry(hpa, u->perms, level);
            release_old_entry(p2m, old, level);
        } else if (u->unmap && !p2m->fmt->present(*entry)) {
            /* Nothing mapped here: nothing to split. */
        } else {
            uint64_t child;
            rc = table_below(p2m, entry, level, &child);
            if (rc)
                return rc;
            rc = update_range(p2m, child, level - 1, gpa, chunk_end, u);
            if (u->unmap && table_is_empty(p2m, child)) {
                *entry = 0;
                p2m->mem.free(p2m->mem.ctx, child);
            }
            if (rc)
                return rc;
        }
        gpa = chunk_end;
    }
    return 0;
}

static bool range_ok(uint64_t addr, uint64_t size, uint64_t limit)
{
    return (addr & (PAGE_SIZE - 1)) == 0 && addr <= limit && size <= limit - addr;
}

int p2m_init(struct p2m *p2m, const struct pt_format *fmt, const struct pt_mem *mem)
{
    p2m->fmt = fmt;
    p2m->mem = *mem;
    p2m->root = mem->alloc(mem->ctx);
    return p2m->root ? 0 : -ENOMEM;
}

/*
 * On -ENOMEM a part of the range may already carry the new mapping and the
 * rest the old one; every entry is valid either way. As with any change to a
 * live p2m, the caller flushes the guest's TLB (INVEPT / new ASID) afterwards;
 * tables freed here must not be reused before that flush (domain p2ms: their
 * mem.free holds them until p2m_changed, domain_build.c).
 */
int p2m_map(struct p2m *p2m, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms)
{
    /* NPT cannot express a mapping without read access, nor EPT write-only (SDM 29.3.3.1). */
    if (!(perms & P2M_READ) || (perms & ~P2M_RWX))
        return -EINVAL;
    if ((size & (PAGE_SIZE - 1)) || !range_ok(gpa, size, GPA_LIMIT) || !range_ok(hpa, size, HPA_LIMIT))
        return -EINVAL;

    struct p2m_update u = { .unmap = false, .hpa_minus_gpa = hpa - gpa, .perms = perms };
    return update_range(p2m, p2m->root, PT_LEVELS, gpa, gpa + size, &u);
}

/* Empty tables left behind are freed; -ENOMEM only when a large leaf must be split. */
int p2m_unmap(struct p2m *p2m, uint64_t gpa, uint64_t size)
{
    if ((size & (PAGE_SIZE - 1)) || !range_ok(gpa, size, GPA_LIMIT))
        return -EINVAL;

    struct p2m_update u = { .unmap = true };
    return update_range(p2m, p2m->root, PT_LEVELS, gpa, gpa + size, &u);
}

int p2m_lookup(const struct p2m *p2m, uint64_t gpa, uint64_t *hpa, unsigned *perms)
{
    uint64_t table_pa = p2m->root;

    if (gpa >= GPA_LIMIT)
        return -ENOENT;

    for (unsigned level = PT_LEVELS; level >= 1; level--) {
        uint64_t e = table_at(p2m, table_pa)[entry_index(gpa, level)];

        if (!p2m->fmt->present(e))
            return -ENOENT;
        if (is_leaf(e, level)) {
            uint64_t span = entry_span(level);
            *hpa = (e & PT_ADDR_MASK & ~(span - 1)) | (gpa & (span - 1));
            *perms = p2m->fmt->perms(e);
            return 0;
        }
        table_pa = e & PT_ADDR_MASK;
    }
    return -ENOENT;     /* not reached: level 1 entries are leaves */
}

void p2m_destroy(struct p2m *p2m)
{
    if (p2m->root)
        free_table(p2m, p2m->root, PT_LEVELS);
    p2m->root = 0;
}
