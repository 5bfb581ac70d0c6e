/* test_grant_table.c (host test): unit.grant_table: grant frames, pins and the shared-entry
 * flag transitions, the maptrack handles, and that every page allocated is given back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "grant_table.h"
#include "mm.h"

#define MAPPER 2
#define OTHER 3
#define RAM_GFNS 64

/* ---- Fake memory: counts what is allocated; can be told to fail. ---- */
static long pages_out;
static int fail_after = -1;     /* allocations left before failing; -1: never */

static bool alloc_fails(void)
{
    if (fail_after == 0)
        return true;
    if (fail_after > 0)
        fail_after--;
    return false;
}

void *page_alloc(void)
{
    void *p;

    if (alloc_fails() || posix_memalign(&p, 4096, 4096))
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

    if (alloc_fails() || posix_memalign(&p, align, bytes))
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

/* The granter's RAM: gfn < RAM_GFNS resolves to frame 0x1000 + gfn. */
static int16_t resolve(void *ctx, uint64_t gfn, uint64_t *pfn)
{
    (void)ctx;
    if (gfn >= RAM_GFNS)
        return GNTST_bad_page;
    *pfn = 0x1000 + gfn;
    return GNTST_okay;
}

static struct gnttab gt;

static int setup(void **state)
{
    (void)state;
    pages_out = 0;
    fail_after = -1;
    assert_int_equal(gnttab_init(&gt, 4, 2, resolve, NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gnttab_fini(&gt);
    assert_int_equal(pages_out, 0);
    return 0;
}

static void grant(grant_ref_t ref, domid_t to, uint32_t gfn, uint16_t flags)
{
    grant_entry_v1_t *e = gnttab_shared_entry(&gt, ref);

    assert_non_null(e);
    e->domid = to;
    e->frame = gfn;
    e->flags = flags;
}

static uint16_t flags_of(grant_ref_t ref)
{
    return gnttab_shared_entry(&gt, ref)->flags;
}

static void test_init_limits(void **state)
{
    struct gnttab t;

    (void)state;
    assert_int_equal(gt.nr_frames, 1);
    assert_int_equal(gnttab_nr_entries(&gt), 512);
    assert_int_equal(gnttab_init(&t, 0, 1, resolve, NULL), -EINVAL);
    assert_int_equal(gnttab_init(&t, GNTTAB_MAX_FRAMES + 1, 1, resolve, NULL), -EINVAL);
    assert_int_equal(gnttab_init(&t, 1, GNTTAB_MAX_MAPTRACK_FRAMES + 1, resolve, NULL), -EINVAL);
    for (int n = 0; n < 4; n++) {       /* every allocation of init failing frees the others */
        long before = pages_out;

        fail_after = n;
        assert_int_equal(gnttab_init(&t, 4, 2, resolve, NULL), -ENOMEM);
        assert_int_equal(pages_out, before);
    }
    fail_after = -1;
}

static void test_grow(void **state)
{
    (void)state;
    assert_null(gnttab_shared_entry(&gt, 512));
    assert_int_equal(gnttab_grow(&gt, 5), -EINVAL);
    fail_after = 1;     /* the second frame's active page */
    assert_int_equal(gnttab_grow(&gt, 2), -ENOMEM);
    assert_int_equal(gt.nr_frames, 1);
    fail_after = -1;
    assert_int_equal(gnttab_grow(&gt, 4), 0);
    assert_int_equal(gt.nr_frames, 4);
    assert_non_null(gnttab_shared_entry(&gt, 2047));
    assert_null(gnttab_shared_entry(&gt, 2048));
    assert_int_equal(gnttab_grow(&gt, 2), 0);   /* never shrinks */
    assert_int_equal(gt.nr_frames, 4);
    assert_int_equal(gnttab_frame_at(&gt, 7), -1);
    gt.frames[3].gfn = 7;
    assert_int_equal(gnttab_frame_at(&gt, 7), 3);
}

static void test_pin_rw_sets_and_clears_flags(void **state)
{
    uint64_t pfn = 0;

    (void)state;
    grant(8, MAPPER, 5, GTF_permit_access);
    assert_int_equal(gnttab_pin(&gt, 8, MAPPER, false, &pfn), GNTST_okay);
    assert_int_equal(pfn, 0x1005);
    assert_int_equal(flags_of(8), GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(gnttab_active_entry(&gt, 8)->domid, MAPPER);
    gnttab_unpin(&gt, 8, false);
    assert_int_equal(flags_of(8), GTF_permit_access);
}

static void test_pin_checks_the_entry(void **state)
{
    uint64_t pfn;

    (void)state;
    grant(8, OTHER, 5, GTF_permit_access);
    assert_int_equal(gnttab_pin(&gt, 8, MAPPER, true, &pfn), GNTST_general_error);
    grant(9, MAPPER, 5, GTF_invalid);
    assert_int_equal(gnttab_pin(&gt, 9, MAPPER, true, &pfn), GNTST_general_error);
    grant(10, MAPPER, 5, GTF_accept_transfer);
    assert_int_equal(gnttab_pin(&gt, 10, MAPPER, true, &pfn), GNTST_general_error);
    grant(11, MAPPER, 5, GTF_permit_access | GTF_readonly);
    assert_int_equal(gnttab_pin(&gt, 11, MAPPER, false, &pfn), GNTST_general_error);
    assert_int_equal(flags_of(11), GTF_permit_access | GTF_readonly);
    assert_int_equal(gnttab_pin(&gt, 11, MAPPER, true, &pfn), GNTST_okay);
    assert_int_equal(flags_of(11), GTF_permit_access | GTF_readonly | GTF_reading);
    assert_int_equal(gnttab_pin(&gt, 512, MAPPER, true, &pfn), GNTST_bad_gntref);
    assert_int_equal(gnttab_pin(&gt, UINT32_MAX, MAPPER, true, &pfn), GNTST_bad_gntref);
    /* A frame the granter does not own: bad_page, and no flag stays set. */
    grant(12, MAPPER, RAM_GFNS, GTF_permit_access);
    assert_int_equal(gnttab_pin(&gt, 12, MAPPER, false, &pfn), GNTST_bad_page);
    assert_int_equal(flags_of(12), GTF_permit_access);
    gnttab_unpin(&gt, 11, true);
    assert_int_equal(flags_of(11), GTF_permit_access | GTF_readonly);
}

static void test_read_then_write_pins(void **state)
{
    uint64_t pfn;

    (void)state;
    grant(8, MAPPER, 5, GTF_permit_access);
    assert_int_equal(gnttab_pin(&gt, 8, MAPPER, true, &pfn), GNTST_okay);
    assert_int_equal(flags_of(8), GTF_permit_access | GTF_reading);
    /* The granter changes the frame: pins already taken keep the first frame. */
    gnttab_shared_entry(&gt, 8)->frame = 6;
    assert_int_equal(gnttab_pin(&gt, 8, MAPPER, false, &pfn), GNTST_okay);
    assert_int_equal(pfn, 0x1005);
    assert_int_equal(flags_of(8), GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(gnttab_pin(&gt, 8, OTHER, true, &pfn), GNTST_general_error);
    gnttab_unpin(&gt, 8, false);
    assert_int_equal(flags_of(8), GTF_permit_access | GTF_reading);
    gnttab_unpin(&gt, 8, false);    /* not held: ignored */
    assert_int_equal(gnttab_active_entry(&gt, 8)->readers, 1);
    gnttab_unpin(&gt, 8, true);
    assert_int_equal(flags_of(8), GTF_permit_access);
}

static void test_revoked_while_pinned(void **state)
{
    uint64_t pfn;

    (void)state;
    grant(8, MAPPER, 5, GTF_permit_access | GTF_readonly);
    assert_int_equal(gnttab_pin(&gt, 8, MAPPER, true, &pfn), GNTST_okay);
    /* As in Xen, only the first pin checks type and domid: revoked, the pins stay, and a
     * writable pin needs only GTF_readonly clear. */
    gnttab_shared_entry(&gt, 8)->flags = GTF_reading;
    assert_int_equal(gnttab_pin(&gt, 8, MAPPER, false, &pfn), GNTST_okay);
    gnttab_unpin(&gt, 8, false);
    gnttab_unpin(&gt, 8, true);
    assert_int_equal(flags_of(8), 0);
}

static void test_pin_count_limit(void **state)
{
    uint64_t pfn;

    (void)state;
    grant(8, MAPPER, 5, GTF_permit_access);
    for (int i = 0; i < GNTTAB_PIN_MAX; i++)
        assert_int_equal(gnttab_pin(&gt, 8, MAPPER, true, &pfn), GNTST_okay);
    assert_int_equal(gnttab_pin(&gt, 8, MAPPER, true, &pfn), GNTST_general_error);
    assert_int_equal(gnttab_pin(&gt, 8, MAPPER, false, &pfn), GNTST_general_error);
    for (int i = 0; i < GNTTAB_PIN_MAX; i++)
        gnttab_unpin(&gt, 8, true);
    assert_int_equal(flags_of(8), GTF_permit_access);
}

static void test_seed(void **state)
{
    uint64_t pfn;

    (void)state;
    assert_int_equal(gnttab_seed(&gt, GNTTAB_RESERVED_XENSTORE, MAPPER, 7), 0);
    assert_int_equal(flags_of(1), GTF_permit_access);
    assert_int_equal(gnttab_shared_entry(&gt, 1)->domid, MAPPER);
    assert_int_equal(gnttab_shared_entry(&gt, 1)->frame, 7);
    assert_int_equal(gnttab_pin(&gt, 1, MAPPER, false, &pfn), GNTST_okay);
    assert_int_equal(pfn, 0x1007);
    gnttab_unpin(&gt, 1, false);
    assert_int_equal(gnttab_seed(&gt, 3 * 512 + 5, MAPPER, 8), 0);     /* grows */
    assert_int_equal(gt.nr_frames, 4);
    assert_int_equal(gnttab_seed(&gt, 4 * 512, MAPPER, 8), -EINVAL);
    assert_int_equal(gnttab_seed(&gt, 2, MAPPER, 1ull << 32), -EINVAL);
}

static void test_maptrack(void **state)
{
    unsigned max = 2 * GNTTAB_MAPTRACK_PER_FRAME;
    grant_handle_t h, seen = 0;
    struct gnttab_maptrack *m;
    unsigned n = 0;

    (void)state;
    assert_null(gnttab_maptrack_entry(&gt, 0));
    for (unsigned i = 0; i < max; i++) {
        m = gnttab_maptrack_get(&gt, &h);
        assert_non_null(m);
        assert_int_equal(h, i);             /* lowest first */
        assert_null(gnttab_maptrack_entry(&gt, h));    /* free until filled */
        m->flags = GNTMAP_host_map;
        m->ref = i;
    }
    assert_null(gnttab_maptrack_get(&gt, &h));
    assert_int_equal(gt.nr_maps, max);
    gnttab_maptrack_put(&gt, 7);
    assert_null(gnttab_maptrack_entry(&gt, 7));
    assert_null(gnttab_maptrack_entry(&gt, max));
    assert_null(gnttab_maptrack_entry(&gt, UINT32_MAX));
    for (h = 0; (m = gnttab_maptrack_next(&gt, &h, UINT32_MAX)); h++, n++)
        seen += m->ref == h;
    assert_int_equal(n, max - 1);
    assert_int_equal(seen, max - 1);
    m = gnttab_maptrack_get(&gt, &h);
    assert_non_null(m);
    assert_int_equal(h, 7);     /* reused */
    assert_int_equal(m->ref, 0);
}

/* A dying domain's release: windows of at most max handles visit each mapping once, no more. */
static void test_release_windows(void **state)
{
    const unsigned used = GNTTAB_MAPTRACK_PER_FRAME + 44, max = 16;
    unsigned seen[2 * GNTTAB_MAPTRACK_PER_FRAME] = { 0 }, windows = 0, visited = 0;
    grant_handle_t h, from, end = 0;
    struct gnttab_maptrack *m;

    (void)state;
    for (unsigned i = 0; i < used; i++)
        gnttab_maptrack_get(&gt, &h)->flags = GNTMAP_host_map;
    gnttab_maptrack_put(&gt, 3);                    /* holes: unmapped before the death */
    gnttab_maptrack_put(&gt, 200);
    h = 0;
    assert_non_null(gnttab_maptrack_next(&gt, &h, 4));
    h = 3;
    assert_null(gnttab_maptrack_next(&gt, &h, 4));  /* 3 is free and 4 is past the limit */
    assert_int_equal(h, 4);
    do {
        from = gnttab_release_window(&gt, max, &end);
        assert_true(end - from <= max);
        windows++;
        for (h = from; (m = gnttab_maptrack_next(&gt, &h, end)); h++, visited++) {
            assert_true(h >= from && h < end);
            seen[h]++;
        }
    } while (end > from);
    assert_int_equal(windows, 2 * GNTTAB_MAPTRACK_PER_FRAME / max + 1);   /* the last is empty */
    assert_int_equal(visited, used - 2);
    for (h = 0; h < 2 * GNTTAB_MAPTRACK_PER_FRAME; h++)
        assert_int_equal(seen[h], h < used && h != 3 && h != 200);
    gt.release_from = 0;                            /* UINT32_MAX: everything at once */
    from = gnttab_release_window(&gt, UINT32_MAX, &end);
    assert_int_equal(from, 0);
    assert_int_equal(end, 2 * GNTTAB_MAPTRACK_PER_FRAME);
}

static void test_maptrack_none_allowed(void **state)
{
    struct gnttab t;
    grant_handle_t h;

    (void)state;
    assert_int_equal(gnttab_init(&t, 1, 0, resolve, NULL), 0);
    assert_null(gnttab_maptrack_get(&t, &h));
    gnttab_fini(&t);
    fail_after = 0;
    assert_null(gnttab_maptrack_get(&gt, &h));      /* out of memory */
    fail_after = -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_rw_sets_and_clears_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_checks_the_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_then_write_pins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_while_pinned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_count_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maptrack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maptrack_none_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_windows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
