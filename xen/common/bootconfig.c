/* bootconfig.c (hypervisor, pure): parses the boot configuration text (docs/boot-config.md). */
/*
 * The text comes from a boot module, so it is untrusted and not NUL-terminated:
 * every access is bounded by (text, len), NUL and other control bytes are
 * rejected, and every value is checked against its destination before it is
 * copied. The first error stops parsing, is reported as "line N: ...", and
 * leaves *out zeroed so a caller cannot use half a configuration.
 */
#include "bootconfig.h"
#include "errno.h"

/* Longest accepted line without its newline: a full cmdline plus key and indentation. */
#define BOOTCFG_LINE_MAX      4096u
#define DEFAULT_MEMORY_MIB    128u
#define DEFAULT_VCPUS         1u
#define MIB_PER_GIB           1024u
/* How much of an offending word an error message quotes. */
#define ERR_QUOTE_MAX         40u

struct span {
    const char *s;
    size_t len;
};

enum domain_key { KEY_KERNEL, KEY_INITRD, KEY_CMDLINE, KEY_MEMORY, KEY_VCPUS, KEY_ROLES,
                  KEY_PAUSED, KEY_GRANT_FRAMES, KEY_MAPTRACK_FRAMES, NR_KEYS };

static const char *const key_names[NR_KEYS] = {
    [KEY_KERNEL] = "kernel", [KEY_INITRD] = "initrd", [KEY_CMDLINE] = "cmdline",
    [KEY_MEMORY] = "memory", [KEY_VCPUS] = "vcpus", [KEY_ROLES] = "roles",
    [KEY_PAUSED] = "paused", [KEY_GRANT_FRAMES] = "max_grant_frames",
    [KEY_MAPTRACK_FRAMES] = "max_maptrack_frames",
};

/* Role names as the `roles` key spells them, by WISP_ROLE_* bit. */
static const struct { const char *name; uint32_t bit; } role_names[] = {
    { "xenstore", WISP_ROLE_XENSTORE }, { "control", WISP_ROLE_CONTROL },
    { "backend", WISP_ROLE_BACKEND },
};

/* An error message under construction in the caller's buffer; always NUL-terminated. */
struct msg {
    char *buf;
    size_t size, pos;
};

struct parser {
    struct boot_config *out;
    struct domain_config *dom;  /* the open domain block, or NULL before the first */
    unsigned dom_line;          /* line of the open block's `domain` keyword */
    unsigned seen_keys;         /* bit per enum domain_key already set in the open block */
    unsigned line;              /* current line number, from 1 */
    unsigned xenstore_line;     /* line of the `roles` that named the xenstore domain; 0: none yet */
    struct msg msg;
};

/* ---- error messages (no printf in pure modules) ---- */

static void msg_char(struct msg *m, char c)
{
    if (m->size && m->pos + 1 < m->size) {
        m->buf[m->pos++] = c;
        m->buf[m->pos] = '\0';
    }
}

static void msg_str(struct msg *m, const char *s)
{
    while (*s)
        msg_char(m, *s++);
}

static void msg_uint(struct msg *m, unsigned long n)
{
    char digits[24];
    size_t i = 0;

    do {
        digits[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (i)
        msg_char(m, digits[--i]);
}

/* Quotes user text, shortened and with non-printable bytes shown as '?'. */
static void msg_quote(struct msg *m, struct span s)
{
    size_t i;

    msg_char(m, '\'');
    for (i = 0; i < s.len && i < ERR_QUOTE_MAX; i++)
        msg_char(m, s.s[i] >= 0x20 && s.s[i] < 0x7f ? s.s[i] : '?');
    if (s.len > ERR_QUOTE_MAX)
        msg_str(m, "...");
    msg_char(m, '\'');
}

/* Starts "line N: " and returns the message to complete. */
static struct msg *error_at(struct parser *p, unsigned line)
{
    p->msg.pos = 0;
    if (p->msg.size)
        p->msg.buf[0] = '\0';
    msg_str(&p->msg, "line ");
    msg_uint(&p->msg, line);
    msg_str(&p->msg, ": ");
    return &p->msg;
}

static struct msg *error_here(struct parser *p)
{
    return error_at(p, p->line);
}

/* ---- lexical helpers ---- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static struct span trim(struct span s)
{
    while (s.len && is_blank(s.s[0])) {
        s.s++;
        s.len--;
    }
    while (s.len && is_blank(s.s[s.len - 1]))
        s.len--;
    return s;
}

/* Splits off the first word; *rest gets the remainder with leading blanks removed. */
static struct span first_word(struct span s, struct span *rest)
{
    struct span w = { s.s, 0 };

    while (w.len < s.len && !is_blank(s.s[w.len]))
        w.len++;
    rest->s = s.s + w.len;
    rest->len = s.len - w.len;
    *rest = trim(*rest);
    return w;
}

static bool span_eq(struct span s, const char *lit)
{
    return strlen(lit) == s.len && memcmp(s.s, lit, s.len) == 0;
}

static void copy_span(char *dst, struct span s)
{
    memcpy(dst, s.s, s.len);
    dst[s.len] = '\0';
}

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

static bool is_valid_domain_name(struct span s)
{
    size_t i;

    if (s.len == 0 || s.len >= BOOTCFG_NAME_MAX)
        return false;
    for (i = 0; i < s.len; i++)
        if (!is_name_char(s.s[i]))
            return false;
    return true;
}

/* Decimal digits only; -EINVAL when not a number, -ERANGE when past uint64_t. */
static int parse_decimal(struct span s, uint64_t *out)
{
    uint64_t n = 0;
    size_t i;

    if (s.len == 0)
        return -EINVAL;
    for (i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(s.s[i] - '0');

        if (s.s[i] < '0' || s.s[i] > '9')
            return -EINVAL;
        if (n > (UINT64_MAX - d) / 10)
            return -ERANGE;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* ---- keys ---- */

static int bad_number(struct parser *p, enum domain_key key, struct span value, int rc)
{
    struct msg *m = error_here(p);

    msg_str(m, rc == -ERANGE ? "number too large for '" : "bad number for '");
    msg_str(m, key_names[key]);
    msg_str(m, "': ");
    msg_quote(m, value);
    return rc;
}

static int out_of_range(struct parser *p, enum domain_key key, unsigned long min,
                        unsigned long max, const char *unit)
{
    struct msg *m = error_here(p);

    msg_char(m, '\'');
    msg_str(m, key_names[key]);
    msg_str(m, "' must be ");
    msg_uint(m, min);
    msg_str(m, "..");
    msg_uint(m, max);
    msg_str(m, unit);
    return -ERANGE;
}

static int too_long(struct parser *p, const char *what, size_t max)
{
    struct msg *m = error_here(p);

    msg_str(m, what);
    msg_str(m, " too long (max ");
    msg_uint(m, max);
    msg_str(m, " characters)");
    return -E2BIG;
}

/* The value of a single-word key: present, one word. */
static int single_word(struct parser *p, enum domain_key key, struct span value,
                       struct span *word)
{
    struct span rest;
    struct msg *m;

    *word = first_word(value, &rest);
    if (word->len && !rest.len)
        return 0;
    m = error_here(p);
    msg_char(m, '\'');
    msg_str(m, key_names[key]);
    msg_str(m, word->len ? "' takes one word, found more: " : "' needs a value");
    if (word->len)
        msg_quote(m, rest);
    return -EINVAL;
}

static int set_module(struct parser *p, enum domain_key key, struct span value, char *dst)
{
    struct span word;
    size_t i;
    int rc = single_word(p, key, value, &word);

    if (rc)
        return rc;
    if (word.len >= BOOTCFG_MODULE_MAX)
        return too_long(p, "module name", BOOTCFG_MODULE_MAX - 1);
    for (i = 0; i < word.len; i++) {
        if (word.s[i] == '/') {
            struct msg *m = error_here(p);

            msg_str(m, "module names have no '/' (a module is named by its file's basename): ");
            msg_quote(m, word);
            return -EINVAL;
        }
    }
    copy_span(dst, word);
    return 0;
}

static int set_cmdline(struct parser *p, struct span value)
{
    if (value.len >= BOOTCFG_CMDLINE_MAX)
        return too_long(p, "cmdline", BOOTCFG_CMDLINE_MAX - 1);
    copy_span(p->dom->cmdline, value);
    return 0;
}

/* MIB, or MIB with suffix M, or GIB with suffix G. */
static int set_memory(struct parser *p, struct span value)
{
    struct span word;
    uint64_t n, scale = 1;
    int rc = single_word(p, KEY_MEMORY, value, &word);

    if (rc)
        return rc;
    if (word.s[word.len - 1] == 'M') {
        word.len--;
    } else if (word.s[word.len - 1] == 'G') {
        word.len--;
        scale = MIB_PER_GIB;
    }
    rc = parse_decimal(word, &n);
    if (!rc && n > UINT64_MAX / scale)
        rc = -ERANGE;
    if (rc)
        return bad_number(p, KEY_MEMORY, value, rc);
    n *= scale;
    if (n < BOOTCFG_MIN_MEMORY_MIB || n > BOOTCFG_MAX_MEMORY_MIB)
        return out_of_range(p, KEY_MEMORY, BOOTCFG_MIN_MEMORY_MIB, BOOTCFG_MAX_MEMORY_MIB, " MiB");
    p->dom->memory_mib = (uint32_t)n;
    return 0;
}

/* A decimal number in [min, max] into *dst. */
static int set_bounded(struct parser *p, enum domain_key key, struct span value, uint32_t min,
                       uint32_t max, uint32_t *dst)
{
    struct span word;
    uint64_t n;
    int rc = single_word(p, key, value, &word);

    if (rc)
        return rc;
    rc = parse_decimal(word, &n);
    if (rc)
        return bad_number(p, key, word, rc);
    if (n < min || n > max)
        return out_of_range(p, key, min, max, "");
    *dst = (uint32_t)n;
    return 0;
}

static int bad_role(struct parser *p, const char *what, struct span role)
{
    struct msg *m = error_here(p);

    msg_str(m, what);
    msg_quote(m, role);
    if (what[0] == 'u')
        msg_str(m, " (roles: xenstore, control, backend)");
    return -EINVAL;
}

/* One role of the comma list; the xenstore role may go to one domain only. */
static int add_role(struct parser *p, struct span role)
{
    uint32_t bit = 0;
    struct msg *m;

    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
        if (span_eq(role, role_names[i].name))
            bit = role_names[i].bit;
    if (!bit)
        return bad_role(p, role.len ? "unknown role " : "empty role in list ", role);
    if (p->dom->roles & bit)
        return bad_role(p, "role given twice: ", role);
    if (bit == WISP_ROLE_XENSTORE && p->xenstore_line) {
        m = error_here(p);
        msg_str(m, "a second xenstore domain (the first is named on line ");
        msg_uint(m, p->xenstore_line);
        msg_str(m, "; at most one domain may have the xenstore role)");
        return -EEXIST;
    }
    if (bit == WISP_ROLE_XENSTORE)
        p->xenstore_line = p->line;
    p->dom->roles |= bit;
    return 0;
}

/* `roles a,b,c`: one word, comma-separated role names. */
static int set_roles(struct parser *p, struct span value)
{
    struct span list;
    int rc = single_word(p, KEY_ROLES, value, &list);

    while (!rc) {
        struct span role = { list.s, 0 };

        while (role.len < list.len && list.s[role.len] != ',')
            role.len++;
        rc = add_role(p, role);
        if (role.len == list.len)
            break;
        list.s += role.len + 1;
        list.len -= role.len + 1;
    }
    return rc;
}

/* A flag key: present means set; it takes no value. */
static int set_flag(struct parser *p, enum domain_key key, struct span value, bool *dst)
{
    struct msg *m;

    if (value.len) {
        m = error_here(p);
        msg_char(m, '\'');
        msg_str(m, key_names[key]);
        msg_str(m, "' takes no value, found ");
        msg_quote(m, value);
        return -EINVAL;
    }
    *dst = true;
    return 0;
}

static int set_key(struct parser *p, enum domain_key key, struct span value)
{
    switch (key) {
    case KEY_KERNEL:
        return set_module(p, key, value, p->dom->kernel);
    case KEY_INITRD:
        return set_module(p, key, value, p->dom->initrd);
    case KEY_CMDLINE:
        return set_cmdline(p, value);
    case KEY_MEMORY:
        return set_memory(p, value);
    case KEY_VCPUS:
        return set_bounded(p, key, value, 1, BOOTCFG_MAX_VCPUS, &p->dom->vcpus);
    case KEY_ROLES:
        return set_roles(p, value);
    case KEY_PAUSED:
        return set_flag(p, key, value, &p->dom->paused);
    case KEY_GRANT_FRAMES:
        return set_bounded(p, key, value, 1, BOOTCFG_MAX_GRANT_FRAMES, &p->dom->max_grant_frames);
    case KEY_MAPTRACK_FRAMES:
        return set_bounded(p, key, value, 0, BOOTCFG_MAX_MAPTRACK_FRAMES,
                           &p->dom->max_maptrack_frames);
    case NR_KEYS:
        break;
    }
    return -EINVAL;
}

static int domain_key_line(struct parser *p, struct span keyword, struct span value)
{
    struct msg *m;
    unsigned key;

    for (key = 0; key < NR_KEYS; key++)
        if (span_eq(keyword, key_names[key]))
            break;
    if (key == NR_KEYS) {
        m = error_here(p);
        msg_str(m, "unknown key ");
        msg_quote(m, keyword);
        return -EINVAL;
    }
    if (!p->dom) {
        m = error_here(p);
        msg_quote(m, keyword);
        msg_str(m, " outside a domain block (start one with 'domain NAME')");
        return -EINVAL;
    }
    if (p->seen_keys & (1u << key)) {
        m = error_here(p);
        msg_str(m, "duplicate key ");
        msg_quote(m, keyword);
        return -EEXIST;
    }
    p->seen_keys |= 1u << key;
    return set_key(p, (enum domain_key)key, value);
}

/* ---- domains ---- */

static int finish_domain(struct parser *p)
{
    struct msg *m;

    if (!p->dom || p->dom->kernel[0])
        return 0;
    m = error_at(p, p->dom_line);
    msg_str(m, "domain '");
    msg_str(m, p->dom->name);
    msg_str(m, "' has no kernel");
    return -EINVAL;
}

static int start_domain(struct parser *p, struct span value)
{
    struct span name, rest;
    struct msg *m;
    unsigned i;
    int rc = finish_domain(p);

    if (rc)
        return rc;
    name = first_word(value, &rest);
    if (!name.len || rest.len) {
        m = error_here(p);
        msg_str(m, name.len ? "'domain' takes one name, found more: " : "'domain' needs a name");
        if (name.len)
            msg_quote(m, rest);
        return -EINVAL;
    }
    if (!is_valid_domain_name(name)) {
        m = error_here(p);
        msg_str(m, "bad domain name ");
        msg_quote(m, name);
        msg_str(m, " (1-31 characters of A-Z a-z 0-9 _ . -)");
        return -EINVAL;
    }
    for (i = 0; i < p->out->nr_domains; i++) {
        if (span_eq(name, p->out->domains[i].name)) {
            m = error_here(p);
            msg_str(m, "duplicate domain ");
            msg_quote(m, name);
            return -EEXIST;
        }
    }
    if (p->out->nr_domains >= BOOTCFG_MAX_DOMAINS) {
        m = error_here(p);
        msg_str(m, "too many domains (max ");
        msg_uint(m, BOOTCFG_MAX_DOMAINS);
        msg_char(m, ')');
        return -E2BIG;
    }

    p->dom = &p->out->domains[p->out->nr_domains++];
    copy_span(p->dom->name, name);
    p->dom->memory_mib = DEFAULT_MEMORY_MIB;
    p->dom->vcpus = DEFAULT_VCPUS;
    p->dom->max_grant_frames = BOOTCFG_DEFAULT_GRANT_FRAMES;
    p->dom->max_maptrack_frames = BOOTCFG_DEFAULT_MAPTRACK_FRAMES;
    p->dom_line = p->line;
    p->seen_keys = 0;
    return 0;
}

/* ---- lines ---- */

static int parse_line(struct parser *p, struct span line)
{
    struct span keyword, value;

    line = trim(line);
    if (line.len == 0 || line.s[0] == '#')
        return 0;       /* blank or whole-line comment */
    keyword = first_word(line, &value);
    if (span_eq(keyword, "domain"))
        return start_domain(p, value);
    return domain_key_line(p, keyword, value);
}

/*
 * Measures the line starting at text[pos]: its length without the newline (and
 * without a CR right before it), rejecting NUL, other control bytes and overlong lines.
 */
static int scan_line(struct parser *p, const char *text, size_t len, size_t pos,
                     struct span *line, size_t *next)
{
    size_t end = pos;
    struct msg *m;

    while (end < len && text[end] != '\n') {
        char c = text[end];

        if (end - pos >= BOOTCFG_LINE_MAX) {
            m = error_here(p);
            msg_str(m, "line too long (max ");
            msg_uint(m, BOOTCFG_LINE_MAX);
            msg_str(m, " bytes)");
            return -E2BIG;
        }
        if ((unsigned char)c < 0x20 && c != '\t' &&
            !(c == '\r' && (end + 1 == len || text[end + 1] == '\n'))) {
            m = error_here(p);
            msg_str(m, c == '\0' ? "NUL byte" : "control character");
            msg_str(m, " in text");
            return -EINVAL;
        }
        end++;
    }
    line->s = text + pos;
    line->len = end - pos;
    if (line->len && line->s[line->len - 1] == '\r')
        line->len--;
    *next = end < len ? end + 1 : end;
    return 0;
}

static int parse_text(struct parser *p, const char *text, size_t len)
{
    size_t pos = 0, next;
    struct span line;
    int rc;

    while (pos < len) {
        p->line++;
        rc = scan_line(p, text, len, pos, &line, &next);
        if (!rc)
            rc = parse_line(p, line);
        if (rc)
            return rc;
        pos = next;
    }
    rc = finish_domain(p);
    if (rc)
        return rc;
    if (p->out->nr_domains == 0) {
        msg_str(error_at(p, p->line ? p->line : 1), "no domain defined");
        return -ENOENT;
    }
    return 0;
}

int bootconfig_parse(const char *text, size_t len, struct boot_config *out,
                     char *err, size_t err_len)
{
    struct parser p = {
        .out = out,
        .msg = { .buf = err, .size = err ? err_len : 0 },
    };
    int rc;

    memset(out, 0, sizeof(*out));
    if (p.msg.size)
        err[0] = '\0';
    if (!text && len) {
        msg_str(error_at(&p, 1), "no text");
        return -EINVAL;
    }
    rc = parse_text(&p, text, len);
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}
