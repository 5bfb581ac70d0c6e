/* test_frame_map.c (host test): the frame allocator's bitmaps: no frame lost or doubled under split/merge churn and hostile frees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "env.h"
#include "frame_map.h"

/* A small machine: 64 MiB of frames, RAM from 1 MiB with a hole, as a boot map gives it. */
#define NR_FRAMES   16384u
#define RAM_FIRST   256u            /* 1 MiB */
#define HOLE_FIRST  4000u           /* a firmware range inside RAM */
#define HOLE_N      37u
#define IMAGE_FIRST 300u            /* the hypervisor image and modules */
#define IMAGE_N     500u

static uint64_t free_bits[FRAME_MAP_WORDS(NR_FRAMES)];
static uint64_t owned_bits[FRAME_MAP_WORDS(NR_FRAMES)];
static struct frame_map m;

static uint64_t popcount_free(void)
{
    uint64_t n = 0;

    for (size_t i = 0; i < FRAME_MAP_WORDS(NR_FRAMES); i++)
        n += (uint64_t)__builtin_popcountll(free_bits[i]);
    return n;
}

/* The invariants every test re-checks: the count matches the bits, free implies owned. */
static void check_consistent(void)
{
    assert_int_equal(frame_map_nr_free(&m), popcount_free());
    for (size_t i = 0; i < FRAME_MAP_WORDS(NR_FRAMES); i++)
        assert_int_equal(free_bits[i] & ~owned_bits[i], 0);
}

static uint64_t boot_free;

static int setup(void **state)
{
    frame_map_init(&m, free_bits, owned_bits, NR_FRAMES);
    frame_map_add(&m, RAM_FIRST, NR_FRAMES - RAM_FIRST + 1000);  /* clamped to the map */
    frame_map_remove(&m, HOLE_FIRST, HOLE_N);
    frame_map_remove(&m, IMAGE_FIRST, IMAGE_N);
    boot_free = NR_FRAMES - RAM_FIRST - HOLE_N - IMAGE_N;
    return 0;
}

static uint64_t alloc_ok(uint64_t n, uint64_t align)
{
    uint64_t first = ~0ull;

    assert_true(frame_map_alloc(&m, n, align, &first));
    assert_int_equal(first % align, 0);
    return first;
}

static void free_ok(uint64_t first, uint64_t n)
{
    uint64_t bad = ~0ull;

    assert_int_equal(frame_map_free(&m, first, n, &bad), 0);
}

static void test_boot_counts(void **state)
{
    assert_int_equal(frame_map_nr_free(&m), boot_free);
    check_consistent();
    assert_false(frame_map_is_free(&m, RAM_FIRST - 1));
    assert_true(frame_map_is_free(&m, RAM_FIRST));
    assert_false(frame_map_is_free(&m, IMAGE_FIRST));
    assert_false(frame_map_is_free(&m, HOLE_FIRST + HOLE_N - 1));
    assert_true(frame_map_is_free(&m, HOLE_FIRST + HOLE_N));
    assert_false(frame_map_is_free(&m, NR_FRAMES));
}

static void test_lowest_fit_and_alignment(void **state)
{
    assert_int_equal(alloc_ok(1, 1), RAM_FIRST);
    assert_int_equal(alloc_ok(1, 1), RAM_FIRST + 1);
    /* 42 frames are left below the image: 43 must go past it. */
    assert_int_equal(alloc_ok(43, 1), IMAGE_FIRST + IMAGE_N);
    assert_int_equal(alloc_ok(42, 1), RAM_FIRST + 2);
    assert_int_equal(alloc_ok(1, 1), IMAGE_FIRST + IMAGE_N + 43);
    /* 2 MiB aligned (512 frames): the first multiple of 512 past what is taken. */
    assert_int_equal(alloc_ok(512, 512), 1024);
    /* A run may not cross the firmware hole. */
    uint64_t big = alloc_ok(HOLE_FIRST - 1536 + 1, 1);
    assert_true(big >= HOLE_FIRST + HOLE_N);
    assert_int_equal(frame_map_nr_free(&m),
                     boot_free - 2 - 43 - 42 - 1 - 512 - (HOLE_FIRST - 1536 + 1));
    check_consistent();
}

static void test_bad_requests(void **state)
{
    uint64_t first = 7;

    assert_false(frame_map_alloc(&m, 0, 1, &first));
    assert_false(frame_map_alloc(&m, NR_FRAMES, 1, &first));
    assert_false(frame_map_alloc(&m, ~0ull, 1, &first));
    assert_false(frame_map_alloc(&m, 1, 3, &first));           /* not a power of two */
    assert_false(frame_map_alloc(&m, 1, 0, &first));
    assert_false(frame_map_alloc(&m, 1, 1ull << 40, &first));  /* no aligned start in the map */
    assert_int_equal(first, 7);
    assert_int_equal(frame_map_nr_free(&m), boot_free);
}

static void test_exhaustion_and_recovery(void **state)
{
    uint64_t n = 0, first;

    while (frame_map_alloc(&m, 1, 1, &first))
        n++;
    assert_int_equal(n, boot_free);
    assert_int_equal(frame_map_nr_free(&m), 0);
    assert_false(frame_map_alloc(&m, 1, 1, &first));
    /* Give everything back in one call per owned range; the map is as at boot. */
    free_ok(RAM_FIRST, IMAGE_FIRST - RAM_FIRST);
    free_ok(IMAGE_FIRST + IMAGE_N, HOLE_FIRST - IMAGE_FIRST - IMAGE_N);
    free_ok(HOLE_FIRST + HOLE_N, NR_FRAMES - HOLE_FIRST - HOLE_N);
    assert_int_equal(frame_map_nr_free(&m), boot_free);
    check_consistent();
}

static void test_double_free_is_refused(void **state)
{
    uint64_t a = alloc_ok(4, 1), bad = 0;
    uint64_t snapshot_free[FRAME_MAP_WORDS(NR_FRAMES)];

    free_ok(a, 4);
    memcpy(snapshot_free, free_bits, sizeof(free_bits));
    assert_int_equal(frame_map_free(&m, a, 4, &bad), 4);
    assert_int_equal(bad, a);
    /* Partly double: only the allocated half goes back. */
    uint64_t b = alloc_ok(2, 1);
    assert_int_equal(b, a);
    assert_int_equal(frame_map_free(&m, a, 4, &bad), 2);
    assert_int_equal(bad, a + 2);
    assert_memory_equal(snapshot_free, free_bits, sizeof(free_bits));
    assert_int_equal(frame_map_nr_free(&m), boot_free);
    check_consistent();
}

static void test_foreign_free_is_refused(void **state)
{
    uint64_t bad = 0;

    assert_int_equal(frame_map_free(&m, IMAGE_FIRST, 3, &bad), 3);      /* the image */
    assert_int_equal(bad, IMAGE_FIRST);
    assert_int_equal(frame_map_free(&m, 0, 1, &bad), 1);                /* below 1 MiB */
    assert_int_equal(frame_map_free(&m, HOLE_FIRST, HOLE_N, &bad), HOLE_N);
    assert_int_equal(frame_map_free(&m, NR_FRAMES - 1, 5, &bad), 5);    /* free, then past the end */
    assert_int_equal(bad, NR_FRAMES - 1);
    /* A huge count costs no more than the map: the tail past the end is counted, not walked. */
    assert_int_equal(frame_map_free(&m, NR_FRAMES + 5, ~0ull, &bad), ~0ull);
    assert_int_equal(bad, NR_FRAMES + 5);
    assert_int_equal(frame_map_nr_free(&m), boot_free);
    assert_false(frame_map_is_free(&m, IMAGE_FIRST));
    check_consistent();
}

/*
 * What a guest that splits and merges 2 MiB p2m mappings does to the
 * allocator: every split takes one table page, every merge gives one back.
 * Two domains interleave, merging in an order that leaves a hole per table
 * (the pattern that filled the old 256-entry free list).
 */
#define CHURN_TABLES 600u
#define CHURN_ROUNDS 200u

static void test_split_merge_churn_does_not_drift(void **state)
{
    static uint64_t tables[2][CHURN_TABLES];

    for (unsigned round = 0; round < CHURN_ROUNDS; round++) {
        for (unsigned i = 0; i < CHURN_TABLES; i++)
            for (unsigned d = 0; d < 2; d++)
                tables[d][i] = alloc_ok(1, 1);
        for (unsigned d = 0; d < 2; d++)        /* every other table: a checkerboard of holes */
            for (unsigned i = round % 2; i < CHURN_TABLES; i += 2)
                free_ok(tables[d][i], 1);
        for (unsigned d = 0; d < 2; d++)
            for (unsigned i = 1 - round % 2; i < CHURN_TABLES; i += 2)
                free_ok(tables[d][i], 1);
        assert_int_equal(frame_map_nr_free(&m), boot_free);
    }
    check_consistent();
    /* Nothing fragmented for good: the largest block is whole again. */
    assert_int_equal(alloc_ok(NR_FRAMES - HOLE_FIRST - HOLE_N, 1), HOLE_FIRST + HOLE_N);
}

/* The worst holes: every other frame of the whole map free at once, then all back. */
static void test_checkerboard_of_every_frame(void **state)
{
    uint64_t first, n = 0;
    static uint64_t taken[NR_FRAMES];

    while (frame_map_alloc(&m, 1, 1, &first))
        taken[n++] = first;
    for (uint64_t i = 0; i < n; i += 2)
        free_ok(taken[i], 1);
    assert_int_equal(frame_map_nr_free(&m), (n + 1) / 2);
    /* No two adjacent frames are free: a 2-frame request must fail, a 1-frame one succeed. */
    assert_false(frame_map_alloc(&m, 2, 1, &first));
    free_ok(alloc_ok(1, 1), 1);
    for (uint64_t i = 1; i < n; i += 2)
        free_ok(taken[i], 1);
    assert_int_equal(frame_map_nr_free(&m), boot_free);
    check_consistent();
}

/* ---- random operations against a plain reference model ---- */

static bool model_free[NR_FRAMES];
static bool model_owned[NR_FRAMES];

static bool model_alloc(uint64_t n, uint64_t align, uint64_t *first)
{
    for (uint64_t s = 0; s + n <= NR_FRAMES; s += align) {
        uint64_t i = 0;

        while (i < n && model_free[s + i])
            i++;
        if (i == n) {
            for (i = 0; i < n; i++)
                model_free[s + i] = false;
            *first = s;
            return true;
        }
    }
    return false;
}

static uint64_t model_release(uint64_t first, uint64_t n)
{
    uint64_t refused = 0;

    for (uint64_t f = first; f < first + n; f++) {
        if (f >= NR_FRAMES || !model_owned[f] || model_free[f])
            refused++;
        else
            model_free[f] = true;
    }
    return refused;
}

struct block { uint64_t first, n; };

static void test_random_against_model(void **state)
{
    static struct block live[4096];
    unsigned nr_live = 0;
    uint64_t model_nr_free = 0;

    srand(8);
    for (uint64_t f = 0; f < NR_FRAMES; f++) {
        model_owned[f] = frame_map_is_free(&m, f);
        model_free[f] = model_owned[f];
        model_nr_free += model_free[f];
    }
    for (unsigned step = 0; step < 60000; step++) {
        int op = rand() % 10;

        if (op < 5 && nr_live < 4096) {
            uint64_t n = rand() % 4 ? 1 + rand() % 8 : 1 + rand() % 700;
            uint64_t align = 1ull << (rand() % 4 ? 0 : rand() % 10);
            uint64_t a = 0, b = 0;
            bool ok = frame_map_alloc(&m, n, align, &a);

            assert_int_equal(ok, model_alloc(n, align, &b));
            if (ok) {
                assert_int_equal(a, b);
                live[nr_live++] = (struct block){ a, n };
            }
        } else if (op < 9 && nr_live) {
            unsigned i = (unsigned)rand() % nr_live;
            uint64_t bad;

            /* Non-zero only when a hostile free below already gave some of it back. */
            assert_int_equal(frame_map_free(&m, live[i].first, live[i].n, &bad),
                             model_release(live[i].first, live[i].n));
            live[i] = live[--nr_live];
        } else {
            /* Hostile: a random range, mostly double or foreign frees. */
            uint64_t first = (uint64_t)rand() % (NR_FRAMES + 100), n = 1 + rand() % 64, bad;

            assert_int_equal(frame_map_free(&m, first, n, &bad), model_release(first, n));
        }
        if (step % 5000 == 0)
            check_consistent();
    }
    while (nr_live) {
        uint64_t bad;

        nr_live--;
        (void)frame_map_free(&m, live[nr_live].first, live[nr_live].n, &bad);
        (void)model_release(live[nr_live].first, live[nr_live].n);
    }
    for (uint64_t f = 0; f < NR_FRAMES; f++)
        assert_int_equal(frame_map_is_free(&m, f), model_free[f]);
    /* Hostile frees of never-allocated frames returned... nothing that was not ours. */
    assert_int_equal(frame_map_nr_free(&m), model_nr_free);
    assert_int_equal(frame_map_nr_free(&m), boot_free);
    check_consistent();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_boot_counts, setup),
        cmocka_unit_test_setup(test_lowest_fit_and_alignment, setup),
        cmocka_unit_test_setup(test_bad_requests, setup),
        cmocka_unit_test_setup(test_exhaustion_and_recovery, setup),
        cmocka_unit_test_setup(test_double_free_is_refused, setup),
        cmocka_unit_test_setup(test_foreign_free_is_refused, setup),
        cmocka_unit_test_setup(test_split_merge_churn_does_not_drift, setup),
        cmocka_unit_test_setup(test_checkerboard_of_every_frame, setup),
        cmocka_unit_test_setup(test_random_against_model, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
