/* test_pvh_start_info.c (host test): pvh/start_info.c memory map, placement and hvm_start_info against a fake guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "start_info.h"

#define KiB 0x400ull
#define MiB 0x100000ull
#define GiB 0x40000000ull

/* ---- fake guest memory: [0, WINDOW) stored, every write recorded ---- */

#define WINDOW      (64 * MiB)
#define MAX_WRITES  16

struct write_rec { uint64_t gpa, len; };

struct fake_guest {
    uint8_t *mem;
    struct write_rec w[MAX_WRITES];
    unsigned nw;
    int fail_with;
};

static struct fake_guest G;

static int fake_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct fake_guest *g = ctx;

    if (g->fail_with)
        return g->fail_with;
    assert_true(g->nw < MAX_WRITES);
    assert_true(len > 0 && gpa + len > gpa);
    g->w[g->nw++] = (struct write_rec){ gpa, len };
    if (gpa + len <= WINDOW)
        memcpy(g->mem + gpa, src, len);
    return 0;
}

static int fake_zero(void *ctx, uint64_t gpa, uint64_t len)
{
    fail_msg("start_info never needs to zero");
    return -EIO;
}

static const struct pvh_writer writer = { &G, fake_write, fake_zero };

static int setup(void **state)
{
    G.mem = calloc(1, WINDOW);
    G.nw = 0;
    G.fail_with = 0;
    return G.mem ? 0 : -1;
}

static int teardown(void **state)
{
    free(G.mem);
    return 0;
}

static void *guest(uint64_t gpa, uint64_t len)
{
    assert_true(gpa + len <= WINDOW);
    return G.mem + gpa;
}

/* A 64 MiB guest with a kernel at 16 MiB, as Linux links it. */
static struct pvh_boot_config base_config(void)
{
    return (struct pvh_boot_config){
        .ram_size = 64 * MiB, .image_lo = 16 * MiB, .image_hi = 20 * MiB + 0x123,
    };
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Every write must be in RAM per the map, clear of the image, of page 0 and of each other. */
static void check_writes_are_safe(const struct pvh_boot_config *cfg)
{
    struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
    unsigned n;

    assert_int_equal(pvh_build_memmap(cfg, map, PVH_MEMMAP_MAX, &n, NULL), 0);
    for (unsigned i = 0; i < G.nw; i++) {
        const struct write_rec *r = &G.w[i];
        bool in_ram = false;

        assert_true(r->gpa >= 0x1000);
        assert_false(ranges_overlap(r->gpa, r->len, cfg->image_lo, cfg->image_hi - cfg->image_lo));
        assert_false(ranges_overlap(r->gpa, r->len, PVH_LOW_RAM_END, PVH_HIGH_RAM_START - PVH_LOW_RAM_END));
        for (unsigned j = 0; j < cfg->nr_reserved; j++)
            assert_false(ranges_overlap(r->gpa, r->len, cfg->reserved[j].start, cfg->reserved[j].size));
        for (unsigned j = 0; j < n; j++)
            if (map[j].type == XEN_HVM_MEMMAP_TYPE_RAM && r->gpa >= map[j].addr &&
                r->gpa + r->len <= map[j].addr + map[j].size)
                in_ram = true;
        assert_true(in_ram);
        for (unsigned j = 0; j < i; j++)
            assert_false(ranges_overlap(r->gpa, r->len, G.w[j].gpa, G.w[j].len));
    }
}

static void expect_map(const struct pvh_boot_config *cfg,
                       const struct hvm_memmap_table_entry *want, unsigned nwant)
{
    struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
    unsigned n = 99;
    const char *why = NULL;
    int rc = pvh_build_memmap(cfg, map, PVH_MEMMAP_MAX, &n, &why);

    if (rc)
        fail_msg("memmap failed: %s", why);
    assert_int_equal(n, nwant);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(map[i].addr, want[i].addr);
        assert_int_equal(map[i].size, want[i].size);
        assert_int_equal(map[i].type, want[i].type);
        assert_int_equal(map[i].reserved, 0);
    }
}

#define RAM XEN_HVM_MEMMAP_TYPE_RAM
#define RES XEN_HVM_MEMMAP_TYPE_RESERVED
#define ACPI XEN_HVM_MEMMAP_TYPE_ACPI

/* ---- memory map ---- */

static void memmap_plain(void **state)
{
    struct pvh_boot_config cfg = base_config();
    const struct hvm_memmap_table_entry want[] = {
        { 0, 0x9f000, RAM, 0 },
        { 0x9f000, 0x61000, RES, 0 },
        { 0x100000, 63 * MiB, RAM, 0 },
    };

    expect_map(&cfg, want, 3);
}

static void memmap_reserved_ranges_punched_out(void **state)
{
    /* Given out of order; one inside RAM, one ACPI, one beyond RAM, one in low RAM. */
    const struct pvh_reserved_range res[] = {
        { 0xfeff0000, 0x10000, 0 },
        { 32 * MiB, 0x1000, RES },
        { 40 * MiB, 0x2000, ACPI },
        { 0x10000, 0x1000, RES },
    };
    struct pvh_boot_config cfg = base_config();
    cfg.reserved = res;
    cfg.nr_reserved = 4;
    const struct hvm_memmap_table_entry want[] = {
        { 0, 0x10000, RAM, 0 },
        { 0x10000, 0x1000, RES, 0 },
        { 0x11000, 0x9f000 - 0x11000, RAM, 0 },
        { 0x9f000, 0x61000, RES, 0 },
        { 1 * MiB, 31 * MiB, RAM, 0 },
        { 32 * MiB, 0x1000, RES, 0 },
        { 32 * MiB + 0x1000, 8 * MiB - 0x1000, RAM, 0 },
        { 40 * MiB, 0x2000, ACPI, 0 },
        { 40 * MiB + 0x2000, 24 * MiB - 0x2000, RAM, 0 },
        { 0xfeff0000, 0x10000, RES, 0 },
    };

    expect_map(&cfg, want, sizeof(want) / sizeof(want[0]));
}

static void memmap_merges_adjacent_reserved(void **state)
{
    /* Reserved right after the legacy hole, and one at the very end of RAM. */
    const struct pvh_reserved_range res[] = {
        { 1 * MiB, 0x2000, RES },
        { 64 * MiB - 0x1000, 0x3000, RES },
    };
    struct pvh_boot_config cfg = base_config();
    cfg.reserved = res;
    cfg.nr_reserved = 2;
    const struct hvm_memmap_table_entry want[] = {
        { 0, 0x9f000, RAM, 0 },
        { 0x9f000, 0x61000 + 0x2000, RES, 0 },
        { 1 * MiB + 0x2000, 63 * MiB - 0x3000, RAM, 0 },
        { 64 * MiB - 0x1000, 0x3000, RES, 0 },
    };

    expect_map(&cfg, want, 4);
}

/* High ranges (legacy pmem) follow everything, each its own entry even when adjacent. */
static void memmap_high_ranges_appended_unmerged(void **state)
{
    const struct pvh_reserved_range res[] = { { 0xfeff0000, 0x10000, RES } };
    const struct pvh_reserved_range high[] = {
        { 4 * GiB, 2 * MiB, 12 }, { 4 * GiB + 2 * MiB, 4 * MiB, 12 },
    };
    struct pvh_boot_config cfg = base_config();
    cfg.reserved = res;
    cfg.nr_reserved = 1;
    cfg.high = high;
    cfg.nr_high = 2;
    const struct hvm_memmap_table_entry want[] = {
        { 0, 0x9f000, RAM, 0 },
        { 0x9f000, 0x61000, RES, 0 },
        { 0x100000, 63 * MiB, RAM, 0 },
        { 0xfeff0000, 0x10000, RES, 0 },
        { 4 * GiB, 2 * MiB, 12, 0 },
        { 4 * GiB + 2 * MiB, 4 * MiB, 12, 0 },
    };

    expect_map(&cfg, want, 6);
}

static void memmap_rejects_bad_high_ranges(void **state)
{
    struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
    static struct pvh_reserved_range many[PVH_MAX_HIGH + 1];
    const struct pvh_reserved_range below_ram[] = { { 32 * MiB, 2 * MiB, 12 } };
    const struct pvh_reserved_range descending[] = { { 5 * GiB, 2 * MiB, 12 },
                                                     { 4 * GiB, 2 * MiB, 12 } };
    const struct pvh_reserved_range overlapping[] = { { 4 * GiB, 4 * MiB, 12 },
                                                      { 4 * GiB + 2 * MiB, 2 * MiB, 12 } };
    const struct pvh_reserved_range empty[] = { { 4 * GiB, 0, 12 } };
    const struct pvh_reserved_range wrapping[] = { { ~0ull - 0xfff, 0x2000, 12 } };
    const struct pvh_reserved_range under_reserved[] = { { 0xfeff8000, 0x1000, 12 } };
    const struct pvh_reserved_range res[] = { { 0xfeff0000, 0x10000, RES } };
    const struct { const struct pvh_reserved_range *r; unsigned n; } bad[] = {
        { below_ram, 1 }, { descending, 2 }, { overlapping, 2 }, { empty, 1 }, { wrapping, 1 },
        { under_reserved, 1 }, { many, PVH_MAX_HIGH + 1 },
    };
    unsigned n;
    const char *why;

    for (unsigned i = 0; i <= PVH_MAX_HIGH; i++)
        many[i] = (struct pvh_reserved_range){ 4 * GiB + i * 2 * MiB, 2 * MiB, 12 };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct pvh_boot_config cfg = base_config();

        cfg.reserved = res;
        cfg.nr_reserved = 1;
        cfg.high = bad[i].r;
        cfg.nr_high = bad[i].n;
        why = NULL;
        assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -EINVAL);
        assert_non_null(why);
    }
    /* The most a map can hold: every high range fits beside the low entries. */
    struct pvh_boot_config cfg = base_config();
    cfg.high = many;
    cfg.nr_high = PVH_MAX_HIGH;
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, NULL), 0);
    assert_int_equal(n, 3 + PVH_MAX_HIGH);
    assert_int_equal(pvh_build_memmap(&cfg, map, 3 + PVH_MAX_HIGH - 1, &n, NULL), -ENOMEM);
}

static void memmap_rejects_bad_input(void **state)
{
    struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
    struct pvh_reserved_range res[PVH_MAX_RESERVED + 1];
    struct pvh_boot_config cfg = base_config();
    const char *why;
    unsigned n;

    cfg.ram_size = 1 * MiB;
    why = NULL;
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -ENOMEM);
    assert_non_null(why);
    cfg.ram_size = 64 * MiB + 1;
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -EINVAL);
    cfg.ram_size = 64 * MiB;

    cfg.reserved = res;
    cfg.nr_reserved = 2;
    res[0] = (struct pvh_reserved_range){ 32 * MiB, 0x2000, RES };
    res[1] = (struct pvh_reserved_range){ 32 * MiB + 0x1000, 0x1000, RES };
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -EINVAL);
    assert_string_equal(why, "reserved ranges overlap");
    res[1] = (struct pvh_reserved_range){ 48 * MiB, 0, RES };
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -EINVAL);
    res[1] = (struct pvh_reserved_range){ 0xfffffffffffff000ull, 0x2000, RES };
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -EINVAL);
    res[1] = (struct pvh_reserved_range){ 48 * MiB, 0x1000, RAM };
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -EINVAL);
    res[1] = (struct pvh_reserved_range){ 48 * MiB, 0x1000, 99 };
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -EINVAL);

    /* The most ranges allowed, spread out: fits; one more: refused. */
    for (unsigned i = 0; i <= PVH_MAX_RESERVED; i++)
        res[i] = (struct pvh_reserved_range){ 2 * MiB + i * 0x2000, 0x1000, RES };
    cfg.nr_reserved = PVH_MAX_RESERVED;
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), 0);
    assert_int_equal(n, 3 + 2 * PVH_MAX_RESERVED);
    for (unsigned i = 1; i < n; i++)
        assert_int_equal(map[i].addr, map[i - 1].addr + map[i - 1].size);
    assert_int_equal(pvh_build_memmap(&cfg, map, 5, &n, &why), -ENOMEM);
    cfg.nr_reserved = PVH_MAX_RESERVED + 1;
    assert_int_equal(pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &n, &why), -EINVAL);
}

/* ---- start_info ---- */

static void start_info_fields_and_placement(void **state)
{
    static const char cmdline[] = "console=hvc0 root=/dev/ram0 earlyprintk=xen";
    uint8_t initrd[5000];
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    const char *why = NULL;

    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 13 + 5);
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    cfg.cmdline = cmdline;
    cfg.rsdp_paddr = 0xfc000000;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), 0);

    /* Info right after the image (as Xen's builder does), initrd at the top of RAM. */
    assert_int_equal(l.start_info, 20 * MiB + 0x1000);
    assert_int_equal(l.initrd, 64 * MiB - 0x2000);
    assert_true(l.modlist < GiB && l.memmap < GiB && l.cmdline < GiB);

    struct hvm_start_info si;
    memcpy(&si, guest(l.start_info, sizeof(si)), sizeof(si));
    assert_int_equal(si.magic, 0x336ec578);
    assert_int_equal(si.version, 1);
    assert_int_equal(si.flags, 0);
    assert_int_equal(si.nr_modules, 1);
    assert_int_equal(si.modlist_paddr, l.modlist);
    assert_int_equal(si.cmdline_paddr, l.cmdline);
    assert_int_equal(si.rsdp_paddr, 0xfc000000);
    assert_int_equal(si.memmap_paddr, l.memmap);
    assert_int_equal(si.memmap_entries, 3);
    assert_int_equal(si.reserved, 0);

    struct hvm_modlist_entry mod;
    memcpy(&mod, guest(l.modlist, sizeof(mod)), sizeof(mod));
    assert_int_equal(mod.paddr, l.initrd);
    assert_int_equal(mod.size, sizeof(initrd));
    assert_int_equal(mod.cmdline_paddr, 0);
    assert_int_equal(mod.reserved, 0);
    assert_memory_equal(guest(l.initrd, sizeof(initrd)), initrd, sizeof(initrd));

    assert_string_equal((const char *)guest(l.cmdline, sizeof(cmdline)), cmdline);

    struct hvm_memmap_table_entry want[PVH_MEMMAP_MAX];
    unsigned n;
    assert_int_equal(pvh_build_memmap(&cfg, want, PVH_MEMMAP_MAX, &n, NULL), 0);
    assert_int_equal(n, si.memmap_entries);
    assert_memory_equal(guest(l.memmap, n * sizeof(want[0])), want, n * sizeof(want[0]));

    /* initrd, modlist, memmap, cmdline, start_info: nothing else written. */
    assert_int_equal(G.nw, 5);
    check_writes_are_safe(&cfg);
}

static void start_info_without_initrd_or_cmdline(void **state)
{
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    struct hvm_start_info si;

    cfg.flags = SIF_PRIVILEGED;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    memcpy(&si, guest(l.start_info, sizeof(si)), sizeof(si));
    assert_int_equal(si.magic, XEN_HVM_START_MAGIC_VALUE);
    assert_int_equal(si.nr_modules, 0);
    assert_int_equal(si.modlist_paddr, 0);
    assert_int_equal(si.flags, SIF_PRIVILEGED);
    assert_int_equal(l.initrd, 0);
    assert_int_not_equal(si.cmdline_paddr, 0);
    assert_int_equal(*(const char *)guest(si.cmdline_paddr, 1), '\0');
    assert_int_equal(G.nw, 3);
    check_writes_are_safe(&cfg);
}

static void info_avoids_image_in_low_ram(void **state)
{
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    uint8_t initrd[100] = { 1 };

    /* An image over all of low RAM pushes the info block above 1 MiB. */
    cfg.image_lo = 0x800;
    cfg.image_hi = 0x9f000;
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 1 * MiB);
    check_writes_are_safe(&cfg);

    /* An image at 1 MiB leaves 0x1000 free, but the info goes after the image. */
    G.nw = 0;
    cfg.image_lo = 1 * MiB;
    cfg.image_hi = 3 * MiB;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 3 * MiB);
    check_writes_are_safe(&cfg);

    /* A small image at 0x1000: info right after its last page. */
    G.nw = 0;
    cfg.image_lo = 0x1000;
    cfg.image_hi = 0x3001;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 0x4000);
    check_writes_are_safe(&cfg);
}

/*
 * Xen's builder puts the info after the image, and guests count on it: Solo5
 * unmaps every page below its text before it reads the command line.
 */
static void info_goes_after_image(void **state)
{
    static const char cmdline[] = "--solo5:quiet";
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    uint8_t initrd[0x3000];

    /* A small unikernel at 1 MiB: everything the guest reads lies above it. */
    memset(initrd, 3, sizeof(initrd));
    cfg.image_lo = 1 * MiB;
    cfg.image_hi = 1 * MiB + 0x2345;
    cfg.cmdline = cmdline;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 1 * MiB + 0x3000);
    assert_true(l.memmap > l.start_info && l.cmdline > l.memmap);
    assert_string_equal((const char *)guest(l.cmdline, sizeof(cmdline)), cmdline);
    check_writes_are_safe(&cfg);

    /* With an initrd the info stays after the image, the initrd at the top. */
    G.nw = 0;
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 1 * MiB + 0x3000);
    assert_true(l.modlist >= cfg.image_hi);
    assert_int_equal(l.initrd, 64 * MiB - 0x3000);
    check_writes_are_safe(&cfg);

    /* The first page after the image is reserved: the next free one. */
    const struct pvh_reserved_range res[] = { { 1 * MiB + 0x3000, 0x1000, RES } };
    G.nw = 0;
    cfg.reserved = res;
    cfg.nr_reserved = 1;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 1 * MiB + 0x4000);
    check_writes_are_safe(&cfg);

    /* An image ending above 1 GiB: no room after it below 1 GiB, so low RAM. */
    G.nw = 0;
    cfg = base_config();
    cfg.ram_size = 2 * GiB;
    cfg.image_lo = 1 * GiB - 0x1000;
    cfg.image_hi = 1 * GiB + 0x1000;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 0x1000);
    check_writes_are_safe(&cfg);
}

static void placement_avoids_reserved_ranges(void **state)
{
    const struct pvh_reserved_range res[] = {
        { 20 * MiB + 0x1000, 0x1000, RES },     /* where the info would go */
        { 64 * MiB - 0x1000, 0x1000, RES },     /* where the initrd would go */
        { 0xfeff0000, 0x10000, RES },
    };
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    uint8_t initrd[0x1800];

    memset(initrd, 0x5a, sizeof(initrd));
    cfg.reserved = res;
    cfg.nr_reserved = 3;
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 20 * MiB + 0x2000);
    assert_int_equal(l.initrd, 64 * MiB - 0x3000);
    assert_int_equal(l.memmap_entries, 7);
    assert_memory_equal(guest(l.initrd, sizeof(initrd)), initrd, sizeof(initrd));
    check_writes_are_safe(&cfg);
}

static void initrd_slides_below_image(void **state)
{
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    size_t size = 10 * MiB;
    uint8_t *initrd = malloc(size);

    for (size_t i = 0; i < size; i++)
        initrd[i] = (uint8_t)(i ^ (i >> 9));
    cfg.image_lo = 40 * MiB;
    cfg.image_hi = 63 * MiB + 0x10;
    cfg.initrd = initrd;
    cfg.initrd_size = size;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.initrd, 30 * MiB);
    assert_memory_equal(guest(l.initrd, size), initrd, size);
    check_writes_are_safe(&cfg);
    free(initrd);
}

static void initrd_shares_no_page(void **state)
{
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    uint8_t initrd[0x800];
    uint8_t *big = calloc(1, 0x9e000);

    /* The kernel's first page is partly free: the initrd still keeps out of it. */
    memset(initrd, 7, sizeof(initrd));
    cfg.image_lo = 30 * MiB + 0x800;
    cfg.image_hi = 64 * MiB;
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.initrd, 30 * MiB - 0x1000);
    check_writes_are_safe(&cfg);

    /* Kernel fills high RAM: the initrd must share low RAM with the info block. */
    G.nw = 0;
    cfg.image_lo = 1 * MiB;
    cfg.initrd = big;
    cfg.initrd_size = 0x9d000;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.start_info, 0x1000);
    assert_int_equal(l.initrd, 0x2000);
    check_writes_are_safe(&cfg);
    cfg.initrd_size = 0x9e000;              /* would need the info block's page */
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), -ENOMEM);
    free(big);
}

static void initrd_stays_below_4gib(void **state)
{
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    uint8_t initrd[0x2345];

    memset(initrd, 1, sizeof(initrd));
    cfg.ram_size = 8 * GiB;
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, NULL), 0);
    assert_int_equal(l.initrd, 4 * GiB - 0x3000);
    assert_true(l.start_info < GiB);
    check_writes_are_safe(&cfg);
}

static void cmdline_length_limit(void **state)
{
    char *cmdline = malloc(PVH_CMDLINE_MAX + 2);
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    const char *why = NULL;

    memset(cmdline, 'x', PVH_CMDLINE_MAX + 1);
    cmdline[PVH_CMDLINE_MAX + 1] = '\0';
    cfg.cmdline = cmdline;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -E2BIG);
    assert_non_null(why);
    assert_int_equal(G.nw, 0);

    cmdline[PVH_CMDLINE_MAX] = '\0';       /* exactly 2047 bytes: fine */
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), 0);
    assert_int_equal(strlen(guest(l.cmdline, PVH_CMDLINE_MAX + 1)), PVH_CMDLINE_MAX);
    assert_memory_equal(guest(l.cmdline, PVH_CMDLINE_MAX + 1), cmdline, PVH_CMDLINE_MAX + 1);
    check_writes_are_safe(&cfg);
    free(cmdline);
}

static void ram_too_small(void **state)
{
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    const char *why = NULL;
    uint8_t *initrd = calloc(1, 3 * MiB);

    /* Kernel past the end of RAM. */
    cfg.ram_size = 16 * MiB;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -ENOMEM);
    assert_string_equal(why, "guest RAM too small for the kernel image");

    /* Kernel fits, initrd does not: 4 MiB RAM, kernel [1 MiB, 2 MiB), 3 MiB initrd. */
    cfg.ram_size = 4 * MiB;
    cfg.image_lo = 1 * MiB;
    cfg.image_hi = 2 * MiB;
    cfg.initrd = initrd;
    cfg.initrd_size = 3 * MiB;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -ENOMEM);
    assert_string_equal(why, "guest RAM below 4 GiB too small for the initrd");
    cfg.initrd_size = 2 * MiB - 0x1000;     /* the free RAM above the image and the info page */
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), 0);
    assert_int_equal(l.start_info, 2 * MiB);
    assert_int_equal(l.initrd, 2 * MiB + 0x1000);
    cfg.initrd_size = 2 * MiB - 0x1000 + 1;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -ENOMEM);

    /* No room for the info block below 1 GiB. */
    const struct pvh_reserved_range res[] = { { 1 * MiB, GiB, RES } };
    cfg = base_config();
    cfg.ram_size = 2 * GiB;
    cfg.image_lo = 0;
    cfg.image_hi = 0x9f000;
    cfg.reserved = res;
    cfg.nr_reserved = 1;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -ENOMEM);
    assert_string_equal(why, "no room below 1 GiB for start_info, memmap and cmdline");

    /* RAM not above 1 MiB at all. */
    cfg = base_config();
    cfg.ram_size = 1 * MiB;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -ENOMEM);
    free(initrd);
}

static void image_must_be_in_ram(void **state)
{
    const struct pvh_reserved_range res[] = { { 18 * MiB, 0x1000, RES } };
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    const char *why = NULL;

    cfg.image_lo = 0x9f000;                 /* EBDA page */
    cfg.image_hi = 0xa0000;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -EINVAL);
    cfg.image_lo = 0xc0000;                 /* legacy hole */
    cfg.image_hi = 2 * MiB;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -EINVAL);
    cfg = base_config();
    cfg.reserved = res;
    cfg.nr_reserved = 1;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -EINVAL);
    assert_string_equal(why, "kernel image overlaps the legacy hole or a reserved range");
    cfg = base_config();
    cfg.image_hi = cfg.image_lo;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -EINVAL);
    assert_int_equal(G.nw, 0);
}

static void bad_arguments_and_writer_errors(void **state)
{
    struct pvh_boot_config cfg = base_config();
    struct pvh_boot_layout l;
    const char *why = NULL;
    uint8_t initrd[16] = { 0 };

    cfg.initrd_size = 10;                   /* size without data */
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -EINVAL);
    cfg.initrd = initrd;
    cfg.initrd_size = sizeof(initrd);
    assert_int_equal(pvh_build_start_info(NULL, &writer, &l, &why), -EINVAL);
    assert_int_equal(pvh_build_start_info(&cfg, NULL, &l, &why), -EINVAL);

    G.fail_with = -EFAULT;
    assert_int_equal(pvh_build_start_info(&cfg, &writer, &l, &why), -EFAULT);
    assert_non_null(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(memmap_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(memmap_reserved_ranges_punched_out, setup, teardown),
        cmocka_unit_test_setup_teardown(memmap_merges_adjacent_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(memmap_rejects_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(memmap_high_ranges_appended_unmerged, setup, teardown),
        cmocka_unit_test_setup_teardown(memmap_rejects_bad_high_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(start_info_fields_and_placement, setup, teardown),
        cmocka_unit_test_setup_teardown(start_info_without_initrd_or_cmdline, setup, teardown),
        cmocka_unit_test_setup_teardown(info_avoids_image_in_low_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(info_goes_after_image, setup, teardown),
        cmocka_unit_test_setup_teardown(placement_avoids_reserved_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(initrd_slides_below_image, setup, teardown),
        cmocka_unit_test_setup_teardown(initrd_shares_no_page, setup, teardown),
        cmocka_unit_test_setup_teardown(initrd_stays_below_4gib, setup, teardown),
        cmocka_unit_test_setup_teardown(cmdline_length_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(ram_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(image_must_be_in_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_and_writer_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
