/* cmdline.c (hypervisor, pure): applies the hypervisor command line to a table of options. */
/*
 * Syntax (docs/boot-config.md, "Hypervisor command-line options"):
 *  - words are separated by blanks (space, tab, CR, LF);
 *  - inside double quotes a blank does not end the word; a value may be quoted
 *    as a whole: name="a b" gives the value `a b`;
 *  - OPT_BOOL: `name`, `no-name`, or name=on|off|1|0|yes|no|true|false;
 *  - OPT_UINT: name=DECIMAL or name=0xHEX, anything past 2^64-1 is rejected;
 *  - OPT_STRING: name=VALUE; a value that does not fit var_len (with its NUL)
 *    is reported, never truncated;
 *  - later words override earlier ones; a bad word leaves its variable alone.
 */
#include "cmdline.h"

static const char WHY_UNKNOWN[] = "unknown option";
static const char WHY_BAD_VALUE[] = "bad value";
static const char WHY_RANGE[] = "number out of range";
static const char WHY_TOO_LONG[] = "value too long";
static const char WHY_NO_VALUE[] = "missing value";
static const char WHY_QUOTE[] = "unterminated quote";
static const char WHY_NOT_BOOL[] = "only boolean options can be negated";

#define NEGATION_PREFIX "no-"

struct word {
    const char *s;
    size_t len;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool word_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* Finds the word starting at or after *pos; false at the end of the line. */
static bool next_word(const char *line, size_t *pos, struct word *w, bool *open_quote)
{
    size_t i = *pos;
    bool quoted = false;

    while (line[i] && is_blank(line[i]))
        i++;
    if (!line[i])
        return false;
    w->s = line + i;
    for (; line[i] && (quoted || !is_blank(line[i])); i++)
        if (line[i] == '"')
            quoted = !quoted;
    w->len = (size_t)(line + i - w->s);
    *open_quote = quoted;
    *pos = i;
    return true;
}

static const struct option_desc *find_option(const struct option_desc *opts, size_t nr,
                                             const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < nr; i++)
        if (opts[i].name && word_eq(name, len, opts[i].name))
            return &opts[i];
    return NULL;
}

/* Strips one pair of surrounding quotes; any other quote makes the value bad. */
static bool unquote(struct word *v)
{
    size_t i;

    if (v->len >= 2 && v->s[0] == '"' && v->s[v->len - 1] == '"') {
        v->s++;
        v->len -= 2;
    }
    for (i = 0; i < v->len; i++)
        if (v->s[i] == '"')
            return false;
    return true;
}

static int digit_value(char c, unsigned base)
{
    int d;

    if (c >= '0' && c <= '9')
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    else
        return -1;
    return (unsigned)d < base ? d : -1;
}

/* Decimal or 0x-hex; returns NULL or the reason it is not a valid uint64_t. */
static const char *parse_uint(struct word v, uint64_t *out)
{
    unsigned base = 10;
    uint64_t n = 0;
    size_t i;

    if (v.len > 2 && v.s[0] == '0' && (v.s[1] == 'x' || v.s[1] == 'X')) {
        base = 16;
        v.s += 2;
        v.len -= 2;
    }
    if (v.len == 0)
        return WHY_BAD_VALUE;
    for (i = 0; i < v.len; i++) {
        int d = digit_value(v.s[i], base);

        if (d < 0)
            return WHY_BAD_VALUE;
        if (n > (UINT64_MAX - (uint64_t)d) / base)
            return WHY_RANGE;
        n = n * base + (uint64_t)d;
    }
    *out = n;
    return NULL;
}

static const char *parse_bool(struct word v, bool *out)
{
    static const char *const yes[] = { "on", "1", "yes", "true" };
    static const char *const no[] = { "off", "0", "no", "false" };
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (word_eq(v.s, v.len, yes[i])) {
            *out = true;
            return NULL;
        }
        if (word_eq(v.s, v.len, no[i])) {
            *out = false;
            return NULL;
        }
    }
    return WHY_BAD_VALUE;
}

/* Applies `value` to `opt`; returns NULL or why it was rejected. */
static const char *apply_value(const struct option_desc *opt, struct word value)
{
    const char *why;

    if (!unquote(&value))
        return WHY_BAD_VALUE;

    switch (opt->kind) {
    case OPT_BOOL: {
        bool b;

        why = parse_bool(value, &b);
        if (!why)
            *(bool *)opt->var = b;
        return why;
    }
    case OPT_UINT: {
        uint64_t n;

        why = parse_uint(value, &n);
        if (!why)
            *(uint64_t *)opt->var = n;
        return why;
    }
    case OPT_STRING:
        if (value.len >= opt->var_len)
            return WHY_TOO_LONG;
        memcpy(opt->var, value.s, value.len);
        ((char *)opt->var)[value.len] = '\0';
        return NULL;
    }
    return WHY_UNKNOWN;
}

/* A word without '=': a boolean switch, possibly negated with "no-". */
static const char *apply_flag(const struct option_desc *opts, size_t nr, struct word w)
{
    const struct option_desc *opt = find_option(opts, nr, w.s, w.len);
    size_t plen = strlen(NEGATION_PREFIX);
    bool value = true;

    if (!opt && w.len > plen && memcmp(w.s, NEGATION_PREFIX, plen) == 0) {
        opt = find_option(opts, nr, w.s + plen, w.len - plen);
        if (opt && opt->kind != OPT_BOOL)
            return WHY_NOT_BOOL;
        value = false;
    }
    if (!opt)
        return WHY_UNKNOWN;
    if (opt->kind != OPT_BOOL)
        return WHY_NO_VALUE;
    *(bool *)opt->var = value;
    return NULL;
}

static const char *apply_word(const struct option_desc *opts, size_t nr, struct word w)
{
    const struct option_desc *opt;
    struct word value;
    size_t eq;

    for (eq = 0; eq < w.len && w.s[eq] != '='; eq++)
        ;
    if (eq == w.len)
        return apply_flag(opts, nr, w);

    opt = find_option(opts, nr, w.s, eq);
    if (!opt)
        return WHY_UNKNOWN;
    value.s = w.s + eq + 1;
    value.len = w.len - eq - 1;
    return apply_value(opt, value);
}

unsigned cmdline_parse(const char *cmdline, const struct option_desc *opts, size_t nr_opts,
                       option_report_fn report, void *ctx)
{
    unsigned bad = 0;
    size_t pos = 0;
    struct word w;
    bool open_quote;

    if (!cmdline)
        return 0;
    while (next_word(cmdline, &pos, &w, &open_quote)) {
        const char *why = open_quote ? WHY_QUOTE : apply_word(opts, nr_opts, w);

        if (why) {
            bad++;
            if (report)
                report(w.s, w.len, why, ctx);
        }
    }
    return bad;
}
