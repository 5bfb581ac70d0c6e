/* test_lib.c (host test): the hypervisor's memcpy, memset and memmove agree with libc's at every length and alignment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

/* xen/common/lib.c, built under these names (tests/unit/meson.build). */
void *wisp_memcpy(void *dst, const void *src, size_t n);
void *wisp_memset(void *dst, int c, size_t n);
void *wisp_memmove(void *dst, const void *src, size_t n);

#define AREA 96

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 31u + i * 7u + 1u);
}

/* Every length up to 40 at every offset up to 8 (the word loop, the byte tail, both). */
static void test_memcpy_lengths_and_alignments(void **state)
{
    (void)state;
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= 40; n++) {
            unsigned char src[AREA], got[AREA], want[AREA];

            fill(src, AREA, (unsigned)n);
            fill(got, AREA, 99);
            memcpy(want, got, AREA);
            memcpy(want + off, src + (n % 8), n);
            assert_ptr_equal(wisp_memcpy(got + off, src + (n % 8), n), got + off);
            assert_memory_equal(got, want, AREA);
        }
}

#define SET_AREA 400

/* Every length up to 300 (none, one and four 64-byte blocks, words, bytes) at every offset up to 8. */
static void test_memset_lengths_alignments_and_byte_value(void **state)
{
    (void)state;
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= 300; n++) {
            unsigned char got[SET_AREA], want[SET_AREA];

            fill(got, SET_AREA, 5);
            memcpy(want, got, SET_AREA);
            memset(want + off, 0xa5, n);
            /* Only the low byte of c counts, as in C. */
            assert_ptr_equal(wisp_memset(got + off, 0x7a5, n), got + off);
            assert_memory_equal(got, want, SET_AREA);
        }
}

static void test_memmove_overlaps_both_ways(void **state)
{
    (void)state;
    for (size_t shift = 0; shift < 12; shift++)
        for (size_t n = 0; n <= 40; n++) {
            unsigned char got[AREA], want[AREA];

            fill(got, AREA, 3);
            memcpy(want, got, AREA);
            memmove(want + shift, want + 12, n);
            assert_ptr_equal(wisp_memmove(got + shift, got + 12, n), got + shift);
            assert_memory_equal(got, want, AREA);

            fill(got, AREA, 4);
            memcpy(want, got, AREA);
            memmove(want + 12, want + shift, n);
            assert_ptr_equal(wisp_memmove(got + 12, got + shift, n), got + 12);
            assert_memory_equal(got, want, AREA);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memcpy_lengths_and_alignments),
        cmocka_unit_test(test_memset_lengths_alignments_and_byte_value),
        cmocka_unit_test(test_memmove_overlaps_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
