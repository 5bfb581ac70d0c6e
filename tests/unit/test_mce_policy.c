/* test_mce_policy.c (host test): which machine checks stop Wisp and which it logs and survives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mce_policy.h"

#define IN_PROGRESS_RESUMABLE (MCG_STATUS_MCIP | MCG_STATUS_RIPV)

static enum mce_verdict decide(uint64_t mcg, uint64_t s0, uint64_t s1, const char **why)
{
    uint64_t banks[2] = { s0, s1 };

    return mce_decide(mcg, banks, 2, why);
}

static void test_uncorrected_error_is_fatal(void **state)
{
    const char *why = NULL;

    /* What `mce 0 1 0xb000000000000000 0x5 0 0` injects in QEMU: VAL|UC|EN, RIPV|MCIP. */
    assert_int_equal(decide(IN_PROGRESS_RESUMABLE, 0, MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN,
                            &why), MCE_FATAL);
    assert_string_equal(why, "uncorrected hardware error");
}

static void test_corrupt_context_is_fatal(void **state)
{
    const char *why;

    assert_int_equal(decide(IN_PROGRESS_RESUMABLE, MCI_STATUS_VAL | MCI_STATUS_PCC, 0, &why),
                     MCE_FATAL);
    assert_string_equal(why, "processor context corrupt");
}

static void test_not_resumable_is_fatal_even_without_a_bank(void **state)
{
    const char *why;

    assert_int_equal(decide(MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0, 0, &why), MCE_FATAL);
    assert_int_equal(decide(MCG_STATUS_MCIP, MCI_STATUS_VAL, 0, &why), MCE_FATAL);
}

static void test_corrected_errors_are_survived(void **state)
{
    const char *why;

    assert_int_equal(decide(IN_PROGRESS_RESUMABLE, MCI_STATUS_VAL | MCI_STATUS_EN,
                            MCI_STATUS_VAL | MCI_STATUS_OVER, &why), MCE_CORRECTED);
}

static void test_no_error_anywhere_is_spurious(void **state)
{
    const char *why;

    assert_int_equal(decide(IN_PROGRESS_RESUMABLE, MCI_STATUS_UC, MCI_STATUS_PCC, &why),
                     MCE_SPURIOUS);     /* VAL clear: stale bits mean nothing */
    assert_int_equal(decide(0, 0, 0, &why), MCE_SPURIOUS);
}

static void test_bank_count_is_clamped(void **state)
{
    uint64_t banks[MCE_MAX_BANKS] = { 0 };
    const char *why;

    banks[MCE_MAX_BANKS - 1] = MCI_STATUS_VAL | MCI_STATUS_UC;
    assert_int_equal(mce_decide(IN_PROGRESS_RESUMABLE, banks, MCE_MAX_BANKS, &why), MCE_FATAL);
    assert_int_equal(mce_decide(IN_PROGRESS_RESUMABLE, banks, MCE_MAX_BANKS - 1, &why),
                     MCE_SPURIOUS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uncorrected_error_is_fatal),
        cmocka_unit_test(test_corrupt_context_is_fatal),
        cmocka_unit_test(test_not_resumable_is_fatal_even_without_a_bank),
        cmocka_unit_test(test_corrected_errors_are_survived),
        cmocka_unit_test(test_no_error_anywhere_is_spurious),
        cmocka_unit_test(test_bank_count_is_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
