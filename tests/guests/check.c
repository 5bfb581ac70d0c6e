/* check.c (guest): prints verdict lines and counts them. */
#include "check.h"

static unsigned int checks_total, checks_failed;

void check_pass(const char *name)
{
    checks_total++;
    con_printf("CHECK %s PASS\n", name);
}

static void fail_v(const char *name, const char *fmt, va_list ap)
{
    checks_total++;
    checks_failed++;
    con_printf("CHECK %s FAIL ", name);
    con_vprintf(fmt, ap);
    con_printf("\n");
}

void check_fail(const char *name, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fail_v(name, fmt, ap);
    va_end(ap);
}

bool check(const char *name, bool ok, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        check_pass(name);
        return true;
    }
    va_start(ap, fmt);
    fail_v(name, fmt, ap);
    va_end(ap);
    return false;
}

unsigned int checks_done(void)
{
    con_printf("CHECKS DONE %u\n", checks_total);
    return checks_failed;
}
