/* test_log_limit.c (host test): the per-domain token bucket for guest-caused log lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log_limit.h"

#define MS 1000000ull

static unsigned count_allowed(struct log_limit *l, uint64_t now, unsigned tries)
{
    unsigned long sup;
    unsigned n = 0;

    for (unsigned i = 0; i < tries; i++)
        n += log_limit_allow(l, now, &sup);
    return n;
}

static void test_a_burst_then_silence(void **state)
{
    struct log_limit l = { 0 };

    assert_int_equal(count_allowed(&l, 7 * MS, 1000), LOG_LIMIT_BURST);
    assert_int_equal(l.suppressed, 1000 - LOG_LIMIT_BURST);
}

static void test_refill_one_per_interval(void **state)
{
    struct log_limit l = { 0 };
    unsigned long sup = 99;

    count_allowed(&l, 0, 50);
    assert_false(log_limit_allow(&l, LOG_LIMIT_REFILL_NS - 1, &sup));
    assert_true(log_limit_allow(&l, LOG_LIMIT_REFILL_NS, &sup));
    assert_int_equal(sup, 50 - LOG_LIMIT_BURST + 1);    /* reported with the next line, once */
    assert_int_equal(l.suppressed, 0);
    assert_false(log_limit_allow(&l, LOG_LIMIT_REFILL_NS + 1, &sup));
    /* Partial intervals are not lost: 1.5 + 0.5 intervals make one more token. */
    assert_false(log_limit_allow(&l, LOG_LIMIT_REFILL_NS * 3 / 2, &sup));
    assert_true(log_limit_allow(&l, LOG_LIMIT_REFILL_NS * 2, &sup));
}

static void test_long_quiet_refills_only_to_the_burst(void **state)
{
    struct log_limit l = { 0 };

    count_allowed(&l, 0, 20);
    assert_int_equal(count_allowed(&l, 1000000 * MS, 100), LOG_LIMIT_BURST);
}

static void test_steady_flood_rate_is_bounded(void **state)
{
    struct log_limit l = { 0 };
    unsigned allowed = 0;

    /* One attempt per 100 us for 60 s: the burst plus one line per refill interval. */
    for (uint64_t t = 0; t < 60000 * MS; t += MS / 10)
        allowed += count_allowed(&l, t, 1);
    assert_true(allowed <= LOG_LIMIT_BURST + 60000 * MS / LOG_LIMIT_REFILL_NS);
    assert_true(allowed >= 60000 * MS / LOG_LIMIT_REFILL_NS);
}

static void test_time_going_backwards_grants_nothing(void **state)
{
    struct log_limit l = { 0 };
    unsigned long sup;

    count_allowed(&l, 5000 * MS, 20);
    assert_false(log_limit_allow(&l, 0, &sup));
    assert_true(log_limit_allow(&l, UINT64_MAX / 2, &sup));     /* far future: full again */
}

static void test_take_suppressed_clears(void **state)
{
    struct log_limit l = { 0 };

    count_allowed(&l, 0, 13);
    assert_int_equal(log_limit_take_suppressed(&l), 3);
    assert_int_equal(log_limit_take_suppressed(&l), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_burst_then_silence),
        cmocka_unit_test(test_refill_one_per_interval),
        cmocka_unit_test(test_long_quiet_refills_only_to_the_burst),
        cmocka_unit_test(test_steady_flood_rate_is_bounded),
        cmocka_unit_test(test_time_going_backwards_grants_nothing),
        cmocka_unit_test(test_take_suppressed_clears),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
