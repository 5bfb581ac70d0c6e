/* test_time_scale.c (host test): the pvclock scale that turns TSC ticks into nanoseconds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "time.h"

static const uint64_t rates[] = {
    1193182,            /* the PIT */
    4000000,            /* Bochs' default TSC */
    999999999, 1000000000, 1000000001,
    2606834000ull,      /* a QEMU TCG host */
    3000000000ull, 5200000000ull, 9999999999ull,
};

/* Exact ticks -> ns, as a reference: 128-bit arithmetic on the host. */
static uint64_t exact_ns(uint64_t ticks, uint64_t hz)
{
    return (uint64_t)((unsigned __int128)ticks * 1000000000u / hz);
}

static void test_one_second_of_ticks_is_one_second(void **state)
{
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        struct time_scale s = time_scale_for(rates[i]);
        uint64_t ns = time_scale_apply(s, rates[i]);

        /* The 32-bit fraction is exact to ~2^-31: under a microsecond per second. */
        assert_in_range(ns, 1000000000u - 1000, 1000000000u);
    }
}

static void test_scale_is_normalised(void **state)
{
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        struct time_scale s = time_scale_for(rates[i]);

        /* mul in [2^31, 2^32): full precision; shift small enough for Linux's pvclock. */
        assert_true(s.mul >= 0x80000000u);
        assert_true(s.shift >= -8 && s.shift <= 31);
    }
}

static void test_long_uptimes_stay_accurate(void **state)
{
    uint64_t hz = 2606834000ull;
    struct time_scale s = time_scale_for(hz);
    uint64_t ticks = hz * 86400 * 30;       /* thirty days */
    uint64_t ns = time_scale_apply(s, ticks), want = exact_ns(ticks, hz);

    assert_true(ns <= want && want - ns < want / 1000000);     /* within 1 ppm */
}

static void test_monotonic_and_zero(void **state)
{
    struct time_scale s = time_scale_for(3000000000ull);
    uint64_t prev = 0;

    assert_int_equal(time_scale_apply(s, 0), 0);
    for (uint64_t t = 1; t < 100000; t += 7) {
        uint64_t ns = time_scale_apply(s, t);

        assert_true(ns >= prev);
        prev = ns;
    }
}

static void test_zero_rate_does_not_divide_by_zero(void **state)
{
    struct time_scale s = time_scale_for(0);

    assert_true(s.mul >= 0x80000000u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_second_of_ticks_is_one_second),
        cmocka_unit_test(test_scale_is_normalised),
        cmocka_unit_test(test_long_uptimes_stay_accurate),
        cmocka_unit_test(test_monotonic_and_zero),
        cmocka_unit_test(test_zero_rate_does_not_divide_by_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
