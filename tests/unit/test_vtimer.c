/* test_vtimer.c (host test): vCPU timer arithmetic: VCPUOP periodic bounds, re-arming, set_timer_op's far timeouts, the run deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env.h"
#include "vtimer.h"

#define MS 1000000ull

static void test_add_saturates(void **state)
{
    (void)state;
    assert_int_equal(vtimer_add(1, 2), 3);
    assert_int_equal(vtimer_add(UINT64_MAX - 1, 1), UINT64_MAX);
    assert_int_equal(vtimer_add(UINT64_MAX - 1, 2), UINT64_MAX);
    assert_int_equal(vtimer_add(5, UINT64_MAX), UINT64_MAX);
    assert_int_equal(vtimer_add(UINT64_MAX, UINT64_MAX), UINT64_MAX);
}

/* Xen's do_vcpu_op: [MILLISECS(1), STIME_DELTA_MAX]. */
static void test_periodic_bounds(void **state)
{
    (void)state;
    assert_false(vtimer_periodic_ok(0));
    assert_false(vtimer_periodic_ok(1));
    assert_false(vtimer_periodic_ok(MS - 1));
    assert_true(vtimer_periodic_ok(MS));
    assert_true(vtimer_periodic_ok(10 * MS));
    assert_true(vtimer_periodic_ok((1ull << 62) - 1));
    assert_false(vtimer_periodic_ok(1ull << 62));
    assert_false(vtimer_periodic_ok(INT64_MAX));
    assert_false(vtimer_periodic_ok(UINT64_MAX));
}

static void test_periodic_next(void **state)
{
    (void)state;
    /* On time, a little late, several periods late (coalesced). */
    assert_int_equal(vtimer_periodic_next(1000, 10, 1000), 1010);
    assert_int_equal(vtimer_periodic_next(1000, 10, 1009), 1010);
    assert_int_equal(vtimer_periodic_next(1000, 10, 1010), 1020);
    assert_int_equal(vtimer_periodic_next(1000, 10, 1055), 1060);
    /* Not due yet: unchanged. Stopped: 0. */
    assert_int_equal(vtimer_periodic_next(1000, 10, 999), 1000);
    assert_int_equal(vtimer_periodic_next(1000, 0, 5000), 0);
    /* Huge periods and late clocks saturate rather than wrap into the past. */
    assert_int_equal(vtimer_periodic_next(1000, UINT64_MAX, 1000), UINT64_MAX);
    assert_int_equal(vtimer_periodic_next(1000, INT64_MAX, 1000), 1000 + (uint64_t)INT64_MAX);
    assert_int_equal(vtimer_periodic_next(UINT64_MAX - 5, 10, UINT64_MAX - 1), UINT64_MAX);
    assert_int_equal(vtimer_periodic_next(0, 1, UINT64_MAX), UINT64_MAX);
}

/* Whatever the inputs, the next deadline is strictly after now (or UINT64_MAX). */
static void test_periodic_next_never_in_the_past(void **state)
{
    (void)state;
    static const uint64_t values[] = {
        0, 1, 2, 999, MS - 1, MS, 100 * MS, 1ull << 32, 1ull << 50, INT64_MAX,
        (uint64_t)INT64_MAX + 1, UINT64_MAX - MS, UINT64_MAX - 1, UINT64_MAX,
    };
    const size_t n = sizeof(values) / sizeof(values[0]);

    for (size_t d = 0; d < n; d++)
        for (size_t p = 1; p < n; p++)
            for (size_t t = 0; t < n; t++) {
                uint64_t deadline = values[d], period = values[p], now = values[t];
                uint64_t next = vtimer_periodic_next(deadline, period, now);

                if (now < deadline) {
                    assert_int_equal(next, deadline);
                    continue;
                }
                assert_true(next > now || next == UINT64_MAX);
                assert_true(next == UINT64_MAX || (next - deadline) % period == 0);
                /* The smallest such deadline: one period earlier is not after now. */
                assert_true(next == UINT64_MAX || next - period <= now);
            }
}

/* Xen's do_set_timer_op: wrapped-negative or > 2^50 ns ahead fires in 100 ms. */
static void test_set_timer_op(void **state)
{
    (void)state;
    const uint64_t now = 5000 * MS;

    assert_int_equal(vtimer_set_timer_op_deadline(0, now), 0);
    assert_int_equal(vtimer_set_timer_op_deadline(now + MS, now), now + MS);
    assert_int_equal(vtimer_set_timer_op_deadline(1, now), 1);                 /* past: fires at once */
    assert_int_equal(vtimer_set_timer_op_deadline(now + (1ull << 50) - 1, now), now + (1ull << 50) - 1);
    assert_int_equal(vtimer_set_timer_op_deadline(now + (1ull << 50), now), now + 100 * MS);
    assert_int_equal(vtimer_set_timer_op_deadline(INT64_MAX, now), now + 100 * MS);
    assert_int_equal(vtimer_set_timer_op_deadline((uint64_t)INT64_MAX + 1, now), now + 100 * MS);
    assert_int_equal(vtimer_set_timer_op_deadline(UINT64_MAX, now), now + 100 * MS);
    /* The 32-bit guest's lo/hi pair -1, -1 is the same UINT64_MAX. */
    assert_int_equal(vtimer_set_timer_op_deadline(0xffffffffull | (0xffffffffull << 32), now),
                     now + 100 * MS);
}

static void test_run_deadline(void **state)
{
    (void)state;
    const uint64_t min_run = 50000;

    assert_int_equal(vtimer_run_deadline(0, 1000, min_run), 0);                 /* no event */
    assert_int_equal(vtimer_run_deadline(10 * MS, 1000, min_run), 10 * MS);     /* far: as is */
    assert_int_equal(vtimer_run_deadline(1, 1000, min_run), 1000 + min_run);    /* due: after min_run */
    assert_int_equal(vtimer_run_deadline(1000 + min_run - 1, 1000, min_run), 1000 + min_run);
    assert_int_equal(vtimer_run_deadline(UINT64_MAX, UINT64_MAX - 1, min_run), UINT64_MAX);
    assert_int_equal(vtimer_run_deadline(5, UINT64_MAX - 1, min_run), UINT64_MAX);
}

static void test_preemption_ticks(void **state)
{
    (void)state;
    /* Exact multiples, rounded up otherwise: never an exit before the deadline. */
    assert_int_equal(vtimer_preemption_ticks(1000 + 64, 1000, 5), 2);
    assert_int_equal(vtimer_preemption_ticks(1000 + 65, 1000, 5), 3);
    assert_int_equal(vtimer_preemption_ticks(1000 + 1, 1000, 5), 1);
    assert_int_equal(vtimer_preemption_ticks(1000 + 10, 1000, 0), 10);
    /* Due or past: the smallest run, one tick. */
    assert_int_equal(vtimer_preemption_ticks(1000, 1000, 5), 1);
    assert_int_equal(vtimer_preemption_ticks(0, UINT64_MAX, 5), 1);
    /* Far: the largest value the 32-bit field holds. */
    assert_int_equal(vtimer_preemption_ticks(UINT64_MAX, 0, 0), UINT32_MAX);
    assert_int_equal(vtimer_preemption_ticks(UINT64_MAX, 0, 31), UINT32_MAX);
    assert_int_equal(vtimer_preemption_ticks(1ull << 40, 0, 31), 512);
    /* Every rate the 5-bit field can give: ticks << shift covers the whole wait, by less than a tick. */
    for (unsigned shift = 0; shift < 32; shift++)
        for (uint64_t left = 1; left < (1ull << 36); left = left * 3 + 1) {
            uint64_t t = vtimer_preemption_ticks(5000 + left, 5000, shift);

            if (t == UINT32_MAX) {          /* capped: the wait is longer than the field */
                assert_true(((uint64_t)UINT32_MAX << shift) < left + (1ull << shift));
                continue;
            }
            assert_true((t << shift) >= left);
            assert_true(t == 1 || ((t - 1) << shift) < left);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_saturates),
        cmocka_unit_test(test_periodic_bounds),
        cmocka_unit_test(test_periodic_next),
        cmocka_unit_test(test_periodic_next_never_in_the_past),
        cmocka_unit_test(test_set_timer_op),
        cmocka_unit_test(test_run_deadline),
        cmocka_unit_test(test_preemption_ticks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
