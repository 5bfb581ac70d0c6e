/* fuzz_cmdline.c (host fuzzer): the hypervisor command-line parser on arbitrary strings. */
#include "fuzz.h"
#include "../../xen/common/cmdline.c"       /* one translation unit: see tests/fuzz/meson.build */

#define GUARD 0x5A

static bool opt_flag, opt_other;
static uint64_t opt_num;
/* String options with a guard byte after each, so a write past var_len is seen. */
static struct { char v[8]; char guard; } opt_str;
static struct { char v[1]; char guard; } opt_tiny;

static const struct option_desc opts[] = {
    { "flag",  OPT_BOOL,   &opt_flag,   0, "" },
    { "other", OPT_BOOL,   &opt_other,  0, "" },
    { "num",   OPT_UINT,   &opt_num,    0, "" },
    { "str",   OPT_STRING, opt_str.v,   sizeof(opt_str.v), "" },
    { "tiny",  OPT_STRING, opt_tiny.v,  sizeof(opt_tiny.v), "" },
};

struct report_ctx {
    const char *line;
    size_t len;
    unsigned reports;
};

/* Every reported word must lie inside the command line. */
static void report(const char *word, size_t len, const char *why, void *ctx)
{
    struct report_ctx *r = ctx;

    FUZZ_CHECK(why != NULL);
    FUZZ_CHECK(word >= r->line && len <= r->len && word - r->line <= (ptrdiff_t)(r->len - len));
    r->reports++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    struct report_ctx r = { .line = line, .len = size };
    unsigned bad;

    if (!line)
        abort();
    memcpy(line, data, size);
    line[size] = '\0';
    memset(&opt_str, GUARD, sizeof(opt_str));
    memset(&opt_tiny, GUARD, sizeof(opt_tiny));
    opt_str.v[0] = opt_tiny.v[0] = '\0';
    bad = cmdline_parse(line, opts, sizeof(opts) / sizeof(opts[0]), report, &r);
    FUZZ_CHECK(bad == r.reports);
    FUZZ_CHECK(opt_str.guard == GUARD && opt_tiny.guard == GUARD);
    FUZZ_CHECK(memchr(opt_str.v, '\0', sizeof(opt_str.v)) != NULL);
    FUZZ_CHECK(opt_tiny.v[0] == '\0');
    free(line);
    return 0;
}
