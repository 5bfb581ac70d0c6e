/* cmdline.h (hypervisor, pure): table-driven parsing of the hypervisor command line. */
#ifndef WISP_CMDLINE_H
#define WISP_CMDLINE_H

#include "env.h"

enum option_kind { OPT_BOOL, OPT_UINT, OPT_STRING };

struct option_desc {
    const char *name;
    enum option_kind kind;
    void *var;          /* bool *, uint64_t *, or char[var_len] */
    size_t var_len;     /* OPT_STRING only */
    const char *help;
};

/* Called for each word that matches no option or has a bad value. */
typedef void (*option_report_fn)(const char *word, size_t len, const char *why, void *ctx);

/*
 * Applies "name=value" and "name" (bool true; "no-name" false) words in order.
 * Returns the number of words reported as unknown or malformed.
 */
unsigned cmdline_parse(const char *cmdline, const struct option_desc *opts, size_t nr_opts,
                       option_report_fn report, void *ctx);

#endif
