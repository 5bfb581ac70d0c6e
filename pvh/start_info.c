/* start_info.c (pure: hypervisor and host toolstack/tests): memory map, placement and hvm_start_info v1. */
#include "start_info.h"
#include "errno.h"

/*
 * Placement, kept simple on purpose:
 *  1. Build the memory map (see start_info.h). Free memory is its RAM entries
 *     minus page 0 (address 0 means "absent" in hvm_start_info, and Linux
 *     reads the BDA there, which must stay zero) and minus the loaded image
 *     (rounded out to whole pages).
 *  2. The info block (hvm_start_info, modlist, memmap, cmdline, packed into
 *     one page-aligned run) goes where Xen's domain builder puts it: in RAM
 *     after the image (libxenguest allocates its "HVM start info" segment
 *     after the kernel and module segments, xg_dom_x86.c
 *     alloc_magic_pages_hvm). Guests may drop everything below their image
 *     before they read it: Solo5 unmaps all pages below its text first. So
 *     it goes at the LOWEST free address at or above the image's end, below
 *     1 GiB because Linux reads the memmap and modlist through its early
 *     1 GiB mapping (head_64.S init_top_pgt). Only if nothing fits there
 *     (an image that fills RAM or ends above 1 GiB) does it go at the lowest
 *     free address anywhere (normally 0x1000).
 *  3. The initrd goes at the HIGHEST free page-aligned address below 4 GiB
 *     (Linux's ramdisk_image field is 32 bits), clear of the info block.
 *     Xen puts modules right after the kernel instead; where a module lies is
 *     the guest's to read from the modlist, and the top of RAM keeps a large
 *     initrd from pushing the info block above 1 GiB.
 * Anything that does not fit fails with -ENOMEM rather than overlapping.
 */

#define PAGE_SIZE       0x1000ULL
#define INFO_LIMIT      0x40000000ULL   /* 1 GiB, see step 2 */
#define INITRD_LIMIT    0x100000000ULL  /* 4 GiB, see step 3 */

/* Offsets inside the info block; hvm_start_info and modlist padded to 64. */
#define INFO_OFF_START_INFO 0
#define INFO_OFF_MODLIST    64
#define INFO_OFF_MEMMAP     128
_Static_assert(sizeof(struct hvm_start_info) <= INFO_OFF_MODLIST, "info block layout");
_Static_assert(INFO_OFF_MODLIST + sizeof(struct hvm_modlist_entry) <= INFO_OFF_MEMMAP,
               "info block layout");

struct range {
    uint64_t start, end;    /* [start, end) */
};

static int fail(const char **why, int err, const char *reason)
{
    if (why)
        *why = reason;
    return err;
}

static uint64_t align_down(uint64_t a)
{
    return a & ~(PAGE_SIZE - 1);
}

/* Callers keep a far below 2^64 - PAGE_SIZE (all values here are < 2^63). */
static uint64_t align_up(uint64_t a)
{
    return align_down(a + PAGE_SIZE - 1);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static bool overlaps(uint64_t start, uint64_t end, const struct range *r)
{
    return start < r->end && r->start < end;
}

/* ---- memory map ---- */

static int check_reserved(const struct pvh_boot_config *cfg, const char **why)
{
    if (cfg->nr_reserved > PVH_MAX_RESERVED)
        return fail(why, -EINVAL, "too many reserved ranges");
    if (cfg->nr_reserved && !cfg->reserved)
        return fail(why, -EINVAL, "reserved ranges missing");

    for (unsigned i = 0; i < cfg->nr_reserved; i++) {
        const struct pvh_reserved_range *r = &cfg->reserved[i];
        uint64_t end;

        if (r->size == 0 || __builtin_add_overflow(r->start, r->size, &end) ||
            end > (1ULL << 52))
            return fail(why, -EINVAL, "reserved range empty, wrapping or above 2^52");
        if (r->type == XEN_HVM_MEMMAP_TYPE_RAM || r->type > XEN_HVM_MEMMAP_TYPE_PMEM)
            return fail(why, -EINVAL, "reserved range with a bad memmap type");
        for (unsigned j = 0; j < i; j++) {
            struct range other = { cfg->reserved[j].start,
                                   cfg->reserved[j].start + cfg->reserved[j].size };

            if (overlaps(r->start, end, &other))
                return fail(why, -EINVAL, "reserved ranges overlap");
        }
    }
    return 0;
}

/* The memmap type of guest-physical address a, or 0 if it is not in the map. */
static uint32_t type_at(const struct pvh_boot_config *cfg, uint64_t a)
{
    for (unsigned i = 0; i < cfg->nr_reserved; i++) {
        const struct pvh_reserved_range *r = &cfg->reserved[i];

        if (a >= r->start && a - r->start < r->size)
            return r->type ? r->type : XEN_HVM_MEMMAP_TYPE_RESERVED;
    }
    if (a >= PVH_LOW_RAM_END && a < PVH_HIGH_RAM_START)
        return XEN_HVM_MEMMAP_TYPE_RESERVED;
    if (a < cfg->ram_size)
        return XEN_HVM_MEMMAP_TYPE_RAM;
    return 0;
}

/* Sorted, de-duplicated list of every address where the type may change. */
static unsigned collect_boundaries(const struct pvh_boot_config *cfg, uint64_t *pt)
{
    unsigned n = 0;

    pt[n++] = 0;
    pt[n++] = PVH_LOW_RAM_END;
    pt[n++] = PVH_HIGH_RAM_START;
    pt[n++] = cfg->ram_size;
    for (unsigned i = 0; i < cfg->nr_reserved; i++) {
        pt[n++] = cfg->reserved[i].start;
        pt[n++] = cfg->reserved[i].start + cfg->reserved[i].size;
    }
    /* Insertion sort: at most 4 + 2 * PVH_MAX_RESERVED points. */
    for (unsigned i = 1; i < n; i++) {
        uint64_t v = pt[i];
        unsigned j = i;

        for (; j > 0 && pt[j - 1] > v; j--)
            pt[j] = pt[j - 1];
        pt[j] = v;
    }
    unsigned out = 0;
    for (unsigned i = 0; i < n; i++)
        if (out == 0 || pt[i] != pt[out - 1])
            pt[out++] = pt[i];
    return out;
}

int pvh_build_memmap(const struct pvh_boot_config *cfg, struct hvm_memmap_table_entry *map,
                     unsigned max, unsigned *nr, const char **why)
{
    uint64_t pt[4 + 2 * PVH_MAX_RESERVED];
    unsigned npt, n = 0;
    int rc;

    *nr = 0;
    if (cfg->ram_size <= PVH_HIGH_RAM_START)
        return fail(why, -ENOMEM, "guest RAM must be larger than 1 MiB");
    if (cfg->ram_size & (PAGE_SIZE - 1) || cfg->ram_size > (1ULL << 52))
        return fail(why, -EINVAL, "guest RAM size not page-aligned or above 2^52");
    rc = check_reserved(cfg, why);
    if (rc)
        return rc;

    /* The type is constant between two boundaries: classify each piece. */
    npt = collect_boundaries(cfg, pt);
    for (unsigned i = 0; i + 1 < npt; i++) {
        uint32_t type = type_at(cfg, pt[i]);

        if (type == 0)
            continue;
        if (n && map[n - 1].type == type && map[n - 1].addr + map[n - 1].size == pt[i]) {
            map[n - 1].size += pt[i + 1] - pt[i];
            continue;
        }
        if (n == max)
            return fail(why, -ENOMEM, "memory map has too many entries");
        map[n++] = (struct hvm_memmap_table_entry){
            .addr = pt[i], .size = pt[i + 1] - pt[i], .type = type,
        };
    }
    for (unsigned i = 0; i < cfg->nr_high; i++) {
        const struct pvh_reserved_range *r = &cfg->high[i];
        uint64_t floor = n ? map[n - 1].addr + map[n - 1].size : 0;

        if (cfg->nr_high > PVH_MAX_HIGH || !r->size || r->start < floor ||
            r->start < cfg->ram_size || r->size > (1ULL << 52) - min_u64(r->start, 1ULL << 52))
            return fail(why, -EINVAL, "high ranges must ascend above RAM and reserved ranges");
        if (n == max)
            return fail(why, -ENOMEM, "memory map has too many entries");
        map[n++] = (struct hvm_memmap_table_entry){ .addr = r->start, .size = r->size,
                                                    .type = r->type };
    }
    *nr = n;
    return 0;
}

/* ---- placement ---- */

/*
 * Lowest page-aligned [a, a+size) inside a RAM entry, below limit, clear of
 * every busy range. Each busy range can push the candidate up only once,
 * so the inner loop ends.
 */
static bool place_lowest(const struct hvm_memmap_table_entry *map, unsigned n,
                         const struct range *busy, unsigned nbusy,
                         uint64_t size, uint64_t limit, uint64_t *out)
{
    for (unsigned e = 0; e < n; e++) {
        uint64_t lo, hi, cand;
        bool moved;

        if (map[e].type != XEN_HVM_MEMMAP_TYPE_RAM)
            continue;
        lo = align_up(map[e].addr);
        hi = min_u64(map[e].addr + map[e].size, limit);
        cand = lo;
        do {
            moved = false;
            if (cand > hi || hi - cand < size)
                break;
            for (unsigned b = 0; b < nbusy; b++) {
                if (overlaps(cand, cand + size, &busy[b])) {
                    cand = align_up(busy[b].end);
                    moved = true;
                }
            }
        } while (moved);
        if (!moved && cand <= hi && hi - cand >= size) {
            *out = cand;
            return true;
        }
    }
    return false;
}

/* Highest page-aligned fit, the mirror image of place_lowest(). */
static bool place_highest(const struct hvm_memmap_table_entry *map, unsigned n,
                          const struct range *busy, unsigned nbusy,
                          uint64_t size, uint64_t limit, uint64_t *out)
{
    for (unsigned e = n; e-- > 0;) {
        uint64_t lo, hi, cand;
        bool moved, fits = true;

        if (map[e].type != XEN_HVM_MEMMAP_TYPE_RAM)
            continue;
        lo = map[e].addr;
        hi = min_u64(map[e].addr + map[e].size, limit);
        if (hi < lo || hi - lo < size)
            continue;
        cand = align_down(hi - size);
        do {
            moved = false;
            if (cand < lo) {
                fits = false;
                break;
            }
            for (unsigned b = 0; b < nbusy && fits; b++) {
                if (overlaps(cand, cand + size, &busy[b])) {
                    if (busy[b].start < size)
                        fits = false;
                    else
                        cand = align_down(busy[b].start - size);
                    moved = true;
                }
            }
        } while (moved && fits);
        if (fits) {
            *out = cand;
            return true;
        }
    }
    return false;
}

/*
 * Step 2: after the image if it fits there (busy[1] is the image), else
 * anywhere. busy[0] is page 0.
 */
static bool place_info(const struct hvm_memmap_table_entry *map, unsigned n,
                       const struct range busy[2], uint64_t size, uint64_t *out)
{
    const struct range below_image_end = { 0, busy[1].end };

    if (place_lowest(map, n, &below_image_end, 1, size, INFO_LIMIT, out))
        return true;
    return place_lowest(map, n, busy, 2, size, INFO_LIMIT, out);
}

/* The image must lie wholly inside one RAM entry (adjacent RAM is merged). */
static int check_image(const struct pvh_boot_config *cfg,
                       const struct hvm_memmap_table_entry *map, unsigned n,
                       const char **why)
{
    if (cfg->image_lo >= cfg->image_hi)
        return fail(why, -EINVAL, "empty kernel image span");
    if (cfg->image_hi > cfg->ram_size)
        return fail(why, -ENOMEM, "guest RAM too small for the kernel image");
    for (unsigned i = 0; i < n; i++)
        if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && map[i].addr <= cfg->image_lo &&
            cfg->image_hi <= map[i].addr + map[i].size)
            return 0;
    return fail(why, -EINVAL, "kernel image overlaps the legacy hole or a reserved range");
}

/* ---- writing ---- */

static int write_info_block(const struct pvh_boot_config *cfg, const struct pvh_writer *w,
                            const struct pvh_boot_layout *l,
                            const struct hvm_memmap_table_entry *map, size_t cmdline_len)
{
    static const char empty[1] = "";
    const char *cmdline = cfg->cmdline ? cfg->cmdline : empty;
    struct hvm_start_info si = {
        .magic = XEN_HVM_START_MAGIC_VALUE,
        .version = 1,
        .flags = cfg->flags,
        .nr_modules = cfg->initrd_size ? 1 : 0,
        .modlist_paddr = l->modlist,
        .cmdline_paddr = l->cmdline,
        .rsdp_paddr = cfg->rsdp_paddr,
        .memmap_paddr = l->memmap,
        .memmap_entries = l->memmap_entries,
    };
    int rc;

    if (cfg->initrd_size) {
        struct hvm_modlist_entry mod = { .paddr = l->initrd, .size = cfg->initrd_size };

        rc = w->write(w->ctx, l->modlist, &mod, sizeof(mod));
        if (rc)
            return rc;
    }
    rc = w->write(w->ctx, l->memmap, map, l->memmap_entries * sizeof(*map));
    if (!rc)
        rc = w->write(w->ctx, l->cmdline, cmdline, cmdline_len + 1);
    if (!rc)
        rc = w->write(w->ctx, l->start_info, &si, sizeof(si));
    return rc;
}

int pvh_build_start_info(const struct pvh_boot_config *cfg, const struct pvh_writer *w,
                         struct pvh_boot_layout *out, const char **why)
{
    struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
    struct range busy[3];
    struct pvh_boot_layout l = { 0 };
    uint64_t info_size, memmap_bytes;
    size_t cmdline_len = 0;
    unsigned n;
    int rc;

    if (!cfg || !w || !w->write || !out)
        return fail(why, -EINVAL, "missing argument");
    if (cfg->initrd_size && !cfg->initrd)
        return fail(why, -EINVAL, "initrd size without initrd data");
    if (cfg->cmdline) {
        cmdline_len = strnlen(cfg->cmdline, PVH_CMDLINE_MAX + 1);
        if (cmdline_len > PVH_CMDLINE_MAX)
            return fail(why, -E2BIG, "command line longer than 2047 bytes");
    }

    rc = pvh_build_memmap(cfg, map, PVH_MEMMAP_MAX, &n, why);
    if (!rc)
        rc = check_image(cfg, map, n, why);
    if (rc)
        return rc;

    busy[0] = (struct range){ 0, PAGE_SIZE };
    busy[1] = (struct range){ align_down(cfg->image_lo), align_up(cfg->image_hi) };

    memmap_bytes = n * sizeof(map[0]);
    info_size = INFO_OFF_MEMMAP + memmap_bytes + cmdline_len + 1;
    if (!place_info(map, n, busy, info_size, &l.start_info))
        return fail(why, -ENOMEM, "no room below 1 GiB for start_info, memmap and cmdline");
    busy[2] = (struct range){ l.start_info, l.start_info + info_size };
    l.memmap = l.start_info + INFO_OFF_MEMMAP;
    l.memmap_entries = n;
    l.cmdline = l.memmap + memmap_bytes;

    if (cfg->initrd_size) {
        if (!place_highest(map, n, busy, 3, cfg->initrd_size, INITRD_LIMIT, &l.initrd))
            return fail(why, -ENOMEM, "guest RAM below 4 GiB too small for the initrd");
        l.modlist = l.start_info + INFO_OFF_MODLIST;
        rc = w->write(w->ctx, l.initrd, cfg->initrd, cfg->initrd_size);
        if (rc)
            return fail(why, rc, "writing the initrd to guest memory failed");
    }

    rc = write_info_block(cfg, w, &l, map, cmdline_len);
    if (rc)
        return fail(why, rc, "writing the start info to guest memory failed");
    *out = l;
    return 0;
}
