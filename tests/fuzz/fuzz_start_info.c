/* fuzz_start_info.c (host fuzzer): the PVH memory map and start_info placement on arbitrary configurations. */
#include "fuzz.h"
#include "../../pvh/start_info.c"           /* one translation unit: see tests/fuzz/meson.build */

#define MAX_INITRD  (1u << 20)
#define MAX_WRITES  8

static const uint8_t initrd_bytes[MAX_INITRD];

struct written {
    const struct hvm_memmap_table_entry *map;
    unsigned n;
    const struct pvh_boot_config *cfg;
    unsigned nr;
    uint64_t start[MAX_WRITES], end[MAX_WRITES];
};

static bool in_ram(const struct written *w, uint64_t a, uint64_t end)
{
    for (unsigned i = 0; i < w->n; i++)
        if (w->map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && a >= w->map[i].addr &&
            end <= w->map[i].addr + w->map[i].size)
            return true;
    return false;
}

/*
 * Every write lies in one RAM entry of the map, below 4 GiB, off page 0 and
 * the kernel image, and overlaps no earlier write.
 */
static int check_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct written *w = ctx;
    uint64_t end = gpa + len;
    volatile uint8_t sink = 0;

    FUZZ_CHECK(len > 0 && end > gpa && end <= INITRD_LIMIT);
    FUZZ_CHECK(gpa >= PAGE_SIZE);
    FUZZ_CHECK(end <= w->cfg->image_lo || gpa >= w->cfg->image_hi);
    FUZZ_CHECK(in_ram(w, gpa, end));
    FUZZ_CHECK(w->nr < MAX_WRITES);
    for (unsigned i = 0; i < w->nr; i++)
        FUZZ_CHECK(end <= w->start[i] || gpa >= w->end[i]);
    w->start[w->nr] = gpa;
    w->end[w->nr++] = end;
    for (size_t i = 0; i < len; i++)    /* ASan: src really holds len bytes */
        sink ^= ((const uint8_t *)src)[i];
    (void)sink;
    return 0;
}

static void check_map(const struct hvm_memmap_table_entry *map, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        FUZZ_CHECK(map[i].size > 0 && map[i].addr + map[i].size > map[i].addr);
        if (i)
            FUZZ_CHECK(map[i - 1].addr + map[i - 1].size <= map[i].addr);
    }
}

static uint64_t take_ram_size(struct fuzz_in *in)
{
    uint8_t how = fuzz_u8(in);

    if (how & 1)
        return fuzz_edge64(in);
    return ((uint64_t)fuzz_u32(in) << 12) & ((1ull << 40) - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size, 0 };
    struct pvh_reserved_range res[PVH_MAX_RESERVED + 2];
    struct pvh_boot_config cfg = { 0 };
    struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX];
    struct pvh_boot_layout layout;
    struct written w = { .map = map, .cfg = &cfg };
    const struct pvh_writer wr = { .ctx = &w, .write = check_write };
    const char *why = NULL;
    char *cmdline;
    size_t cmdline_len;
    unsigned nr_res;
    int rc;

    cfg.ram_size = take_ram_size(&in);
    cfg.image_lo = fuzz_edge64(&in);
    cfg.image_hi = fuzz_u8(&in) & 1 ? fuzz_edge64(&in) : cfg.image_lo + fuzz_u32(&in);
    cfg.initrd_size = fuzz_u32(&in) % (MAX_INITRD + 1);
    cfg.initrd = (fuzz_u8(&in) & 7) ? initrd_bytes : NULL;
    cfg.rsdp_paddr = fuzz_u64(&in);
    cfg.flags = fuzz_u32(&in);
    nr_res = fuzz_u8(&in) % (PVH_MAX_RESERVED + 2);
    for (unsigned i = 0; i < nr_res; i++) {
        res[i].start = fuzz_edge64(&in);
        res[i].size = fuzz_edge64(&in);
        res[i].type = fuzz_u8(&in) % 8;
    }
    cfg.reserved = nr_res ? res : NULL;
    cfg.nr_reserved = nr_res;
    /* The rest of the input is the command line (NUL-terminated; it may be too long). */
    cmdline_len = fuzz_left(&in);
    cmdline = malloc(cmdline_len + 1);
    if (!cmdline)
        abort();
    fuzz_bytes(&in, cmdline, cmdline_len);
    cmdline[cmdline_len] = '\0';
    cfg.cmdline = cmdline_len ? cmdline : NULL;

    if (pvh_build_memmap(&cfg, map, PVH_MEMMAP_MAX, &w.n, &why) == 0) {
        check_map(map, w.n);
        rc = pvh_build_start_info(&cfg, &wr, &layout, &why);
        if (rc == 0) {
            FUZZ_CHECK(layout.start_info && layout.memmap && layout.cmdline);
            FUZZ_CHECK(layout.memmap_entries == w.n);
            FUZZ_CHECK(!cfg.initrd_size || (layout.initrd && layout.modlist));
        } else {
            FUZZ_CHECK(rc < 0 && why != NULL);
        }
    } else {
        FUZZ_CHECK(why != NULL);
    }
    free(cmdline);
    return 0;
}
