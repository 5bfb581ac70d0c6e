/* test_cmdline.c (host test): the table-driven hypervisor command-line parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmdline.h"

static bool opt_smt, opt_debug;
static uint64_t opt_mem, opt_count;
static char opt_config[16];
static char opt_tiny[1];

static const struct option_desc opts[] = {
    { "smt",     OPT_BOOL,   &opt_smt,    0, "use SMT siblings" },
    { "debug",   OPT_BOOL,   &opt_debug,  0, "verbose" },
    { "mem",     OPT_UINT,   &opt_mem,    0, "memory limit" },
    { "count",   OPT_UINT,   &opt_count,  0, "a number" },
    { "config",  OPT_STRING, opt_config,  sizeof(opt_config), "boot config module" },
    { "tiny",    OPT_STRING, opt_tiny,    sizeof(opt_tiny), "only empty fits" },
};
#define NR_OPTS (sizeof(opts) / sizeof(opts[0]))

/* Every report, as "word|why" lines. */
static char reports[1024];

static void record(const char *word, size_t len, const char *why, void *ctx)
{
    size_t used = strlen(reports);

    assert_ptr_equal(ctx, reports);
    snprintf(reports + used, sizeof(reports) - used, "%.*s|%s\n", (int)len, word, why);
}

static int reset(void **state)
{
    opt_smt = false;
    opt_debug = true;
    opt_mem = 7;
    opt_count = 9;
    strcpy(opt_config, "wisp.cfg");
    opt_tiny[0] = '\0';
    reports[0] = '\0';
    return 0;
}

static unsigned parse(const char *s)
{
    return cmdline_parse(s, opts, NR_OPTS, record, reports);
}

static void test_empty(void **state)
{
    assert_int_equal(parse(""), 0);
    assert_int_equal(parse("   \t\n "), 0);
    assert_int_equal(cmdline_parse(NULL, opts, NR_OPTS, record, reports), 0);
    assert_string_equal(reports, "");
    assert_int_equal(opt_mem, 7);
}

static void test_bools(void **state)
{
    assert_int_equal(parse("smt no-debug"), 0);
    assert_true(opt_smt);
    assert_false(opt_debug);

    static const struct { const char *word; bool value; } forms[] = {
        { "smt=on", true }, { "smt=off", false }, { "smt=1", true }, { "smt=0", false },
        { "smt=yes", true }, { "smt=no", false }, { "smt=true", true }, { "smt=false", false },
        { "smt=\"on\"", true },
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        opt_smt = !forms[i].value;
        assert_int_equal(parse(forms[i].word), 0);
        assert_int_equal(opt_smt, forms[i].value);
    }
    assert_string_equal(reports, "");
}

static void test_bad_bools(void **state)
{
    assert_int_equal(parse("smt=maybe smt= smt=ON smt=2 no-smt=1 no-mem"), 6);
    assert_false(opt_smt);
    assert_int_equal(opt_mem, 7);
    assert_string_equal(reports,
                        "smt=maybe|bad value\n"
                        "smt=|bad value\n"
                        "smt=ON|bad value\n"
                        "smt=2|bad value\n"
                        "no-smt=1|unknown option\n"
                        "no-mem|only boolean options can be negated\n");
}

static void test_uints(void **state)
{
    assert_int_equal(parse("mem=4096 count=0x1F"), 0);
    assert_int_equal(opt_mem, 4096);
    assert_int_equal(opt_count, 31);
    assert_int_equal(parse("mem=0 count=0XaBc"), 0);
    assert_int_equal(opt_mem, 0);
    assert_int_equal(opt_count, 0xabc);
    assert_int_equal(parse("mem=18446744073709551615 count=0xffffffffffffffff"), 0);
    assert_int_equal(opt_mem, UINT64_MAX);
    assert_int_equal(opt_count, UINT64_MAX);
    assert_int_equal(parse("mem=010"), 0);          /* decimal, not octal */
    assert_int_equal(opt_mem, 10);
    assert_int_equal(parse("mem=\"12\""), 0);
    assert_int_equal(opt_mem, 12);
    assert_string_equal(reports, "");
}

static void test_bad_uints(void **state)
{
    assert_int_equal(parse("mem=18446744073709551616 mem=0x10000000000000000 "
                           "mem=99999999999999999999999"), 3);
    assert_int_equal(parse("mem= mem=0x mem=-1 mem=+1 mem=12k mem=0x1g mem mem=1.5"), 8);
    assert_int_equal(opt_mem, 7);
    assert_string_equal(reports,
                        "mem=18446744073709551616|number out of range\n"
                        "mem=0x10000000000000000|number out of range\n"
                        "mem=99999999999999999999999|number out of range\n"
                        "mem=|bad value\n"
                        "mem=0x|bad value\n"
                        "mem=-1|bad value\n"
                        "mem=+1|bad value\n"
                        "mem=12k|bad value\n"
                        "mem=0x1g|bad value\n"
                        "mem|missing value\n"
                        "mem=1.5|bad value\n");
}

static void test_strings(void **state)
{
    assert_int_equal(parse("config=other.cfg"), 0);
    assert_string_equal(opt_config, "other.cfg");
    assert_int_equal(parse("config=\"a b  c\""), 0);
    assert_string_equal(opt_config, "a b  c");
    assert_int_equal(parse("config="), 0);
    assert_string_equal(opt_config, "");
    assert_int_equal(parse("config=\"\""), 0);
    assert_string_equal(opt_config, "");
    assert_int_equal(parse("config=a=b"), 0);       /* only the first '=' splits */
    assert_string_equal(opt_config, "a=b");
    assert_int_equal(parse("config=123456789012345"), 0);   /* exactly fits 15 + NUL */
    assert_string_equal(opt_config, "123456789012345");
    assert_int_equal(parse("tiny="), 0);
    assert_string_equal(reports, "");
}

static void test_bad_strings(void **state)
{
    assert_int_equal(parse("config=1234567890123456 tiny=x config"), 3);
    assert_string_equal(opt_config, "wisp.cfg");    /* untouched, not truncated */
    /* Quotes: the word runs to the next blank outside quotes; only a whole value may be quoted. */
    assert_int_equal(parse("config=a\"b config=\"ab config=ab\" config=\" "), 2);
    assert_int_equal(parse("config=\"a\"b config=\"a\"\"b\" config=\""), 3);
    assert_string_equal(opt_config, "wisp.cfg");
    assert_string_equal(reports,
                        "config=1234567890123456|value too long\n"
                        "tiny=x|value too long\n"
                        "config|missing value\n"
                        "config=a\"b config=\"ab|bad value\n"
                        "config=ab\" config=\"|bad value\n"
                        "config=\"a\"b|bad value\n"
                        "config=\"a\"\"b\"|bad value\n"
                        "config=\"|unterminated quote\n");
}

static void test_unterminated_quote(void **state)
{
    reset(NULL);
    assert_int_equal(parse("smt config=\"abc def"), 1);
    assert_true(opt_smt);
    assert_string_equal(opt_config, "wisp.cfg");
    assert_string_equal(reports, "config=\"abc def|unterminated quote\n");
}

static void test_unknown_and_order(void **state)
{
    assert_int_equal(parse("  foo mem=1 bar=2 = =x \"\" smtx mem=2  "), 6);
    assert_int_equal(opt_mem, 2);                   /* later words win */
    assert_string_equal(reports,
                        "foo|unknown option\n"
                        "bar=2|unknown option\n"
                        "=|unknown option\n"
                        "=x|unknown option\n"
                        "\"\"|unknown option\n"
                        "smtx|unknown option\n");
}

static void test_separators(void **state)
{
    assert_int_equal(parse("smt\tmem=5\ncount=6\r\n"), 0);
    assert_true(opt_smt);
    assert_int_equal(opt_mem, 5);
    assert_int_equal(opt_count, 6);
}

static void test_no_reporter(void **state)
{
    assert_int_equal(cmdline_parse("junk mem=x smt", opts, NR_OPTS, NULL, NULL), 2);
    assert_true(opt_smt);
}

static void test_negation_prefers_exact_name(void **state)
{
    bool no_thing = false, thing = true;
    const struct option_desc table[] = {
        { "no-thing", OPT_BOOL, &no_thing, 0, "" },
        { "thing",    OPT_BOOL, &thing,    0, "" },
    };

    assert_int_equal(cmdline_parse("no-thing", table, 2, NULL, NULL), 0);
    assert_true(no_thing);
    assert_true(thing);
    assert_int_equal(cmdline_parse("no-", table, 2, NULL, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty, reset),
        cmocka_unit_test_setup(test_bools, reset),
        cmocka_unit_test_setup(test_bad_bools, reset),
        cmocka_unit_test_setup(test_uints, reset),
        cmocka_unit_test_setup(test_bad_uints, reset),
        cmocka_unit_test_setup(test_strings, reset),
        cmocka_unit_test_setup(test_bad_strings, reset),
        cmocka_unit_test_setup(test_unterminated_quote, reset),
        cmocka_unit_test_setup(test_unknown_and_order, reset),
        cmocka_unit_test_setup(test_separators, reset),
        cmocka_unit_test_setup(test_no_reporter, reset),
        cmocka_unit_test_setup(test_negation_prefers_exact_name, reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
