/* test_guest_heap.c (host test): unit.guest_heap: the pvh/guest runtime's first-fit allocator: fit, split, merge, exhaustion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "heap.h"

#define ARENA 4096
static _Alignas(16) uint8_t arena[ARENA + 16];
static struct heap h;

static int setup(void **state)
{
    memset(arena, 0x5a, sizeof(arena));
    heap_init(&h, arena, ARENA);
    return 0;
}

static void aligned_and_inside(void **state)
{
    for (size_t n = 0; n < 40; n++) {
        uint8_t *p = heap_alloc(&h, n);

        assert_non_null(p);
        assert_int_equal((uintptr_t)p % HEAP_ALIGN, 0);
        assert_true(p >= arena && p + n <= arena + ARENA);
        memset(p, 0xee, n);
    }
}

static void unaligned_arena_is_rounded(void **state)
{
    uint8_t *p;

    heap_init(&h, arena + 3, ARENA);
    p = heap_alloc(&h, 8);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % HEAP_ALIGN, 0);
    assert_true(p + 8 <= arena + 3 + ARENA);
}

static void blocks_do_not_overlap(void **state)
{
    uint8_t *a = heap_alloc(&h, 100), *b = heap_alloc(&h, 100);

    assert_non_null(a);
    assert_non_null(b);
    assert_true(a + 100 <= b || b + 100 <= a);
}

static void exhaustion_returns_null(void **state)
{
    unsigned n = 0;

    while (heap_alloc(&h, 100))
        n++;
    assert_true(n > 10 && n < ARENA / 100);
    assert_null(heap_alloc(&h, 100));
    assert_null(heap_alloc(&h, SIZE_MAX));       /* no overflow in the rounding */
    assert_null(heap_alloc(&h, SIZE_MAX - 8));
}

static void free_merges_back_to_one_block(void **state)
{
    size_t whole = heap_largest_free(&h);
    void *p[10];

    for (int i = 0; i < 10; i++)
        assert_non_null(p[i] = heap_alloc(&h, 50 + i));
    /* Free in an order that needs merging with the previous, the next and both. */
    int order[10] = { 1, 3, 2, 0, 9, 5, 7, 6, 8, 4 };

    for (int i = 0; i < 10; i++)
        heap_free(&h, p[order[i]]);
    assert_int_equal(heap_largest_free(&h), whole);
    assert_int_equal(h.used, 0);
    assert_non_null(heap_alloc(&h, whole));
}

static void freed_space_is_reused(void **state)
{
    void *a = heap_alloc(&h, 1000), *b = heap_alloc(&h, 1000), *c;

    assert_non_null(a);
    assert_non_null(b);
    heap_free(&h, a);
    c = heap_alloc(&h, 900);
    assert_ptr_equal(c, a);          /* first fit */
    heap_free(&h, NULL);             /* no-op */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(aligned_and_inside, setup),
        cmocka_unit_test_setup(unaligned_arena_is_rounded, setup),
        cmocka_unit_test_setup(blocks_do_not_overlap, setup),
        cmocka_unit_test_setup(exhaustion_returns_null, setup),
        cmocka_unit_test_setup(free_merges_back_to_one_block, setup),
        cmocka_unit_test_setup(freed_space_is_reused, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
