/* fuzz_grant_table.c (host fuzzer): grant-table bookkeeping driven by random operation sequences
 * of three fake domains: guest writes to shared entries, maps, unmaps, copies, growth, death. */
#include "fuzz.h"
#include "../../xen/common/grant_table.c"   /* one translation unit: see tests/fuzz/meson.build */

/*
 * Each domain is granter and mapper at once. Maps and unmaps pair pins with
 * maptrack handles as grant_table_op.c does; copies pin and unpin at once.
 * After every operation the pin counts must equal the mappings that exist,
 * and GTF_reading / GTF_writing must say exactly whether the entry is pinned
 * (the guest writes here never touch those two bits). At the end every
 * mapping is released and every page must come back.
 */
#define NR_DOMS 3
#define RAM_GFNS 32
#define MAX_FRAMES 2
#define MAX_MAPTRACK 1

static long pages_out;
static bool fail_alloc;

void *page_alloc(void)
{
    void *p;

    if (fail_alloc || posix_memalign(&p, 4096, 4096))
        return NULL;
    memset(p, 0, 4096);
    pages_out++;
    return p;
}

void page_free(void *p)
{
    if (p) {
        pages_out--;
        free(p);
    }
}

uint64_t frames_alloc(uint64_t bytes, uint64_t align)
{
    void *p;

    if (fail_alloc || posix_memalign(&p, align, bytes))
        return 0;
    memset(p, 0, bytes);
    pages_out += bytes / 4096;
    return (uint64_t)(uintptr_t)p;
}

void frames_free(uint64_t pa, uint64_t bytes)
{
    pages_out -= bytes / 4096;
    free((void *)(uintptr_t)pa);
}

static int16_t resolve(void *ctx, uint64_t gfn, uint64_t *pfn)
{
    if (gfn >= RAM_GFNS)
        return GNTST_bad_page;
    *pfn = ((uintptr_t)ctx << 8) + gfn;
    return GNTST_okay;
}

static struct gnttab doms[NR_DOMS];

static domid_t id_of(unsigned i) { return (domid_t)(i + 1); }

static void map(unsigned mapper, unsigned granter, grant_ref_t ref, bool ro)
{
    struct gnttab *lgt = &doms[mapper], *rgt = &doms[granter];
    struct gnttab_maptrack *m;
    grant_handle_t h;
    uint64_t pfn;

    if (!(m = gnttab_maptrack_get(lgt, &h)))
        return;
    if (gnttab_pin(rgt, ref, id_of(mapper), ro, &pfn) != GNTST_okay) {
        gnttab_maptrack_put(lgt, h);
        return;
    }
    FUZZ_CHECK(pfn >> 8 == granter + 1 && (pfn & 0xff) < RAM_GFNS);
    *m = (struct gnttab_maptrack){ .flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0),
                                   .dom = id_of(granter), .ref = ref };
}

static void unmap(unsigned mapper, grant_handle_t h)
{
    struct gnttab_maptrack *m = gnttab_maptrack_entry(&doms[mapper], h);

    if (!m)
        return;
    gnttab_unpin(&doms[m->dom - 1], m->ref, m->flags & GNTMAP_readonly);
    gnttab_maptrack_put(&doms[mapper], h);
}

static void release(unsigned mapper)
{
    struct gnttab_maptrack *m;
    grant_handle_t h;

    for (h = 0; (m = gnttab_maptrack_next(&doms[mapper], &h, UINT32_MAX)); h++)
        unmap(mapper, h);
    FUZZ_CHECK(doms[mapper].nr_maps == 0);
}

static void copy(unsigned caller, unsigned src, grant_ref_t sref, unsigned dst, grant_ref_t dref)
{
    uint64_t spfn, dpfn;

    if (gnttab_pin(&doms[src], sref, id_of(caller), true, &spfn) != GNTST_okay)
        return;
    if (gnttab_pin(&doms[dst], dref, id_of(caller), false, &dpfn) == GNTST_okay)
        gnttab_unpin(&doms[dst], dref, false);
    gnttab_unpin(&doms[src], sref, true);
}

/* Pins of every entry equal the mappings of it; the guest-visible bits follow the pins. */
static void check_all(void)
{
    static uint16_t count[NR_DOMS][MAX_FRAMES * GNTTAB_ENTRIES_PER_FRAME][2];

    memset(count, 0, sizeof(count));
    for (unsigned m = 0; m < NR_DOMS; m++) {
        struct gnttab_maptrack *e;
        grant_handle_t h;

        for (h = 0; (e = gnttab_maptrack_next(&doms[m], &h, UINT32_MAX)); h++) {
            FUZZ_CHECK(e->dom >= 1 && e->dom <= NR_DOMS);
            FUZZ_CHECK(e->ref < gnttab_nr_entries(&doms[e->dom - 1]));
            FUZZ_CHECK(gnttab_active_entry(&doms[e->dom - 1], e->ref)->domid == id_of(m));
            count[e->dom - 1][e->ref][!(e->flags & GNTMAP_readonly)]++;
        }
    }
    for (unsigned g = 0; g < NR_DOMS; g++) {
        for (grant_ref_t r = 0; r < gnttab_nr_entries(&doms[g]); r++) {
            const struct gnttab_active *a = gnttab_active_entry(&doms[g], r);
            uint16_t flags = gnttab_shared_entry(&doms[g], r)->flags;

            FUZZ_CHECK(a->readers == count[g][r][0] && a->writers == count[g][r][1]);
            FUZZ_CHECK(!!(flags & GTF_reading) == !!(a->readers + a->writers));
            FUZZ_CHECK(!!(flags & GTF_writing) == !!a->writers);
        }
    }
}

static void do_op(const uint8_t *rec)
{
    unsigned a = rec[1] % NR_DOMS, b = (rec[1] >> 4) % NR_DOMS;
    grant_ref_t ref = rec[2] | ((rec[3] & 0x07) << 8);   /* up to 2047: past MAX_FRAMES too */
    bool ro = rec[3] & 0x80;

    switch (rec[0] % 8) {
    case 0: {   /* the guest of a writes an entry (never GTF_reading/writing) */
        grant_entry_v1_t *e = gnttab_shared_entry(&doms[a], ref);

        if (e) {
            uint16_t keep = e->flags & (GTF_reading | GTF_writing);

            e->flags = (uint16_t)((rec[3] & ~(GTF_reading | GTF_writing)) | keep);
            e->domid = id_of(b);
            e->frame = rec[3] & 0x40 ? RAM_GFNS + rec[2] : rec[2] % RAM_GFNS;
        }
        break;
    }
    case 1:
    case 2:
        map(a, b, ref, ro);
        break;
    case 3:
        unmap(a, rec[2] | ((rec[3] & 1) << 8));
        break;
    case 4:
        (void)gnttab_grow(&doms[a], rec[2] % (MAX_FRAMES + 2));
        break;
    case 5:
        copy(a, b, ref, (rec[3] >> 4) % NR_DOMS, rec[2]);
        break;
    case 6:
        if (rec[2] == 0xd1)
            release(a);     /* a dies: its mappings go */
        break;
    default:
        fail_alloc = rec[2] & 1;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pages_out = 0;
    fail_alloc = false;
    for (unsigned i = 0; i < NR_DOMS; i++)
        FUZZ_CHECK(gnttab_init(&doms[i], MAX_FRAMES, MAX_MAPTRACK, resolve,
                               (void *)(uintptr_t)(i + 1)) == 0);
    for (size_t i = 0; i + 4 <= size && i < 4 * 4096; i += 4) {
        do_op(data + i);
        if (i % 32 == 0 || i + 8 > size)
            check_all();
    }
    for (unsigned i = 0; i < NR_DOMS; i++)
        release(i);
    check_all();
    for (unsigned i = 0; i < NR_DOMS; i++)
        gnttab_fini(&doms[i]);
    FUZZ_CHECK(pages_out == 0);
    return 0;
}
