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

/* A 2 GHz TSC against the 1.193182 MHz PIT: bracket [at, at + width) read `count`. */
static struct clock_sample sample(uint64_t at, uint64_t width, uint32_t count)
{
    return (struct clock_sample){ .tsc_before = at, .tsc_after = at + width, .count = count };
}

static void test_narrowest_bracket_wins_over_an_interrupted_one(void **state)
{
    /* The second try was descheduled for 6 ms between its TSC reads. */
    struct clock_sample tries[] = {
        sample(1000, 900, 65535), sample(2000, 12000000, 65534), sample(3000, 800, 65520),
        sample(4000, 850, 65519),
    };

    assert_int_equal(clock_sample_narrowest(tries, 4), 2);
    assert_int_equal(clock_sample_narrowest(tries, 1), 0);
}

static void test_rate_between_samples_and_its_error_bound(void **state)
{
    uint64_t ppm = 0;
    /* 23863 PIT ticks (~20 ms) take 40 000 000 TSC ticks at 2 GHz, give or take 1000. */
    uint64_t hz = clock_sample_tsc_hz(sample(1000000, 1000, 60000), sample(41000000, 1000, 36137),
                                      1193182, &ppm);
    uint64_t want = (uint64_t)((unsigned __int128)40000000 * 1193182 / 23863);

    assert_int_equal(hz, want);
    assert_int_equal(ppm, 25);      /* (1000 + 1000) / 2 of 40e6 ticks */
}

static void test_unusable_samples_give_zero(void **state)
{
    uint64_t ppm = 0;

    /* A counter that did not move, or a TSC that did not. */
    assert_int_equal(clock_sample_tsc_hz(sample(0, 10, 500), sample(1000, 10, 500), 1193182, &ppm), 0);
    assert_int_equal(clock_sample_tsc_hz(sample(5000, 10, 500), sample(5000, 10, 400), 1193182, &ppm), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_second_of_ticks_is_one_second),
        cmocka_unit_test(test_scale_is_normalised),
        cmocka_unit_test(test_long_uptimes_stay_accurate),
        cmocka_unit_test(test_monotonic_and_zero),
        cmocka_unit_test(test_zero_rate_does_not_divide_by_zero),
        cmocka_unit_test(test_narrowest_bracket_wins_over_an_interrupted_one),
        cmocka_unit_test(test_rate_between_samples_and_its_error_bound),
        cmocka_unit_test(test_unusable_samples_give_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
