/* test_abi_layout.c (host test): abi/xen headers must match libxen-dev's field by field and constant by constant. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "abi_layout.h"

/* Counts differing layout rows, printing each when `report` is set. */
static size_t count_layout_mismatches(const struct abi_tables *ours, const struct abi_tables *xen,
                                      bool report)
{
    size_t bad = 0;

    for (size_t i = 0; i < ours->nr_layout && i < xen->nr_layout; i++) {
        const struct abi_layout_row *o = &ours->layout[i], *x = &xen->layout[i];

        if (strcmp(o->name, x->name) != 0) {
            if (report)
                print_error("row %zu: names differ: %s vs %s\n", i, o->name, x->name);
            bad++;
        } else if (o->offset != x->offset || o->size != x->size) {
            if (report)
                print_error("%s: ours offset %llu size %llu, Xen offset %llu size %llu\n", o->name,
                            (unsigned long long)o->offset, (unsigned long long)o->size,
                            (unsigned long long)x->offset, (unsigned long long)x->size);
            bad++;
        }
    }
    return bad + (ours->nr_layout != xen->nr_layout);
}

/* Counts differing constants, printing each when `report` is set. */
static size_t count_const_mismatches(const struct abi_tables *ours, const struct abi_tables *xen,
                                     bool report)
{
    size_t bad = 0;

    for (size_t i = 0; i < ours->nr_consts && i < xen->nr_consts; i++) {
        const struct abi_const_row *o = &ours->consts[i], *x = &xen->consts[i];

        if (strcmp(o->name, x->name) != 0) {
            if (report)
                print_error("const %zu: names differ: %s vs %s\n", i, o->name, x->name);
            bad++;
        } else if (o->value != x->value) {
            if (report)
                print_error("%s: ours %lld (%#llx), Xen %lld (%#llx)\n", o->name,
                            (long long)o->value, (unsigned long long)o->value,
                            (long long)x->value, (unsigned long long)x->value);
            bad++;
        }
    }
    return bad + (ours->nr_consts != xen->nr_consts);
}

static void test_tables_are_populated(void **state)
{
    (void)state;
    /* Guards against an X-macro list that silently expanded to nothing. */
    assert_true(abi_tables_ours.nr_layout > 300);
    assert_true(abi_tables_ours.nr_consts > 300);
    assert_int_equal(abi_tables_ours.nr_layout, abi_tables_xen.nr_layout);
    assert_int_equal(abi_tables_ours.nr_consts, abi_tables_xen.nr_consts);
}

static void test_layouts_match_xen(void **state)
{
    (void)state;
    size_t bad = count_layout_mismatches(&abi_tables_ours, &abi_tables_xen, true);

    if (bad)
        fail_msg("%zu layout row(s) differ from Xen's headers (listed above)", bad);
}

static void test_constants_match_xen(void **state)
{
    (void)state;
    size_t bad = count_const_mismatches(&abi_tables_ours, &abi_tables_xen, true);

    if (bad)
        fail_msg("%zu constant(s) differ from Xen's headers (listed above)", bad);
}

/* The comparators themselves must notice a one-byte shift, a size change and a wrong value. */
static void test_comparators_detect_breakage(void **state)
{
    (void)state;
    static struct abi_layout_row layout[2];
    static struct abi_const_row consts[2];
    struct abi_tables broken = abi_tables_ours;

    memcpy(layout, abi_tables_ours.layout, sizeof(layout));
    memcpy(consts, abi_tables_ours.consts, sizeof(consts));
    broken.layout = layout;
    broken.nr_layout = 2;
    broken.consts = consts;
    broken.nr_consts = 2;

    struct abi_tables xen_prefix = abi_tables_xen;
    xen_prefix.nr_layout = 2;
    xen_prefix.nr_consts = 2;

    assert_int_equal(count_layout_mismatches(&broken, &xen_prefix, false), 0);
    layout[1].offset++;
    assert_int_equal(count_layout_mismatches(&broken, &xen_prefix, false), 1);
    layout[1].offset--;
    layout[0].size--;
    assert_int_equal(count_layout_mismatches(&broken, &xen_prefix, false), 1);

    assert_int_equal(count_const_mismatches(&broken, &xen_prefix, false), 0);
    consts[1].value ^= 1;
    assert_int_equal(count_const_mismatches(&broken, &xen_prefix, false), 1);

    /* A table of a different length is itself a mismatch. */
    broken.nr_consts = 1;
    consts[1].value ^= 1;
    assert_int_equal(count_const_mismatches(&broken, &xen_prefix, false), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_are_populated),
        cmocka_unit_test(test_layouts_match_xen),
        cmocka_unit_test(test_constants_match_xen),
        cmocka_unit_test(test_comparators_detect_breakage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
