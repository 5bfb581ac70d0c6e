/* check.h (guest): verdict lines of the in-repo test guests: "CHECK <name> PASS|FAIL <detail>". */
#ifndef WISP_TESTS_GUESTS_CHECK_H
#define WISP_TESTS_GUESTS_CHECK_H

#include "guest.h"

/* Lines that are not verdicts start with "# " so harnesses can skip them. */
#define note(...) con_printf("# " __VA_ARGS__)

void check_pass(const char *name);
/* detail must stay on one line: no '\n' in fmt or in %s arguments. */
void check_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* PASS when ok, otherwise FAIL with the detail. Returns ok. */
bool check(const char *name, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints "CHECKS DONE <n>" and returns how many failed. */
unsigned int checks_done(void);

#endif
