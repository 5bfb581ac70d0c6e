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

/* Keys from KEY_DISK on may repeat: each line adds devices. */
enum domain_key { KEY_KERNEL, KEY_INITRD, KEY_CMDLINE, KEY_MEMORY, KEY_VCPUS, KEY_ROLES,
                  KEY_PAUSED, KEY_GRANT_FRAMES, KEY_MAPTRACK_FRAMES, KEY_WEIGHT, KEY_CAP,
                  KEY_CPUS, KEY_DISK, KEY_VIF, NR_KEYS };

static const char *const key_names[NR_KEYS] = {
    [KEY_KERNEL] = "kernel", [KEY_INITRD] = "initrd", [KEY_CMDLINE] = "cmdline",
    [KEY_MEMORY] = "memory", [KEY_VCPUS] = "vcpus", [KEY_ROLES] = "roles",
    [KEY_PAUSED] = "paused", [KEY_GRANT_FRAMES] = "max_grant_frames",
    [KEY_MAPTRACK_FRAMES] = "max_maptrack_frames", [KEY_WEIGHT] = "weight", [KEY_CAP] = "cap",
    [KEY_CPUS] = "cpus", [KEY_DISK] = "disk", [KEY_VIF] = "vif",
};

/* The terms of a disk spec (xl's diskspec, docs/boot-config.md). */
enum disk_term { TERM_TARGET, TERM_VDEV, TERM_ACCESS, TERM_FORMAT, NR_DISK_TERMS };
static const char *const disk_terms[NR_DISK_TERMS] = { "target", "vdev", "access", "format" };

/* Xen's vbd ids (xen/include/public/io/blkif.h, "xvd" style): xvda 51712, xvdq (1<<28)|(16<<8). */
#define XVD_MAJOR 202u
#define XVD_EXTENDED (1u << 28)

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
    unsigned device_line[BOOTCFG_MAX_DOMAINS];  /* each domain's first device; 0: none */
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

/* Cuts *rest at its first sep: *head gets what precedes it (all of *rest when there is
 * none), *rest what follows. True when sep was found. */
static bool split_at(struct span *rest, char sep, struct span *head)
{
    size_t n = 0;
    bool found;

    while (n < rest->len && rest->s[n] != sep)
        n++;
    found = n < rest->len;
    *head = (struct span){ rest->s, n };
    rest->s += n + found;
    rest->len -= n + found;
    return found;
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

bool bootcfg_name_valid(const char *name, size_t len)
{
    return is_valid_domain_name((struct span){ name, len });
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
    struct span list, role;
    bool more = true;
    int rc = single_word(p, KEY_ROLES, value, &list);

    while (!rc && more) {
        more = split_at(&list, ',', &role);
        rc = add_role(p, role);
    }
    return rc;
}

static int bad_cpus(struct parser *p, const char *what, struct span item)
{
    struct msg *m = error_here(p);

    msg_str(m, what);
    msg_quote(m, item);
    msg_str(m, " (cpus takes 'all' or a list like 0-3,6 of pCPUs 0 to ");
    msg_uint(m, BOOTCFG_MAX_PCPU);
    msg_char(m, ')');
    return -EINVAL;
}

/* One item of a cpus list: N or N-M. */
static int add_cpus(struct parser *p, struct span item)
{
    struct span rest = item, first;
    bool range = split_at(&rest, '-', &first);
    struct span last = range ? rest : first;
    uint64_t lo, hi;

    if (parse_decimal(first, &lo) || parse_decimal(last, &hi))
        return bad_cpus(p, "bad pCPU number in ", item);
    if (lo > hi || hi > BOOTCFG_MAX_PCPU)
        return bad_cpus(p, "bad pCPU range ", item);
    for (uint64_t c = lo; c <= hi; c++)
        p->dom->cpus |= 1ull << c;
    return 0;
}

/* `cpus all` or `cpus 0-1,3`: the pCPUs the domain's vCPUs may run on (xl.cfg's cpus). */
static int set_cpus(struct parser *p, struct span value)
{
    struct span list, item;
    bool more = true;
    int rc = single_word(p, KEY_CPUS, value, &list);

    if (rc || span_eq(list, "all"))
        return rc;
    p->dom->cpus = 0;
    while (!rc && more) {
        more = split_at(&list, ',', &item);
        rc = add_cpus(p, item);
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

/* ---- devices: xl.cfg's disk and vif specs ---- */

/* "line N: <what>'<word>'<hint>" */
static int device_error(struct parser *p, const char *what, struct span word, const char *hint)
{
    struct msg *m = error_here(p);

    msg_str(m, what);
    msg_quote(m, word);
    msg_str(m, hint);
    return -EINVAL;
}

static int too_many_devices(struct parser *p, const char *what, unsigned max)
{
    struct msg *m = error_here(p);

    msg_str(m, "too many ");
    msg_str(m, what);
    msg_str(m, " in domain '");
    msg_str(m, p->dom->name);
    msg_str(m, "' (max ");
    msg_uint(m, max);
    msg_char(m, ')');
    return -E2BIG;
}

/* A device was added to the open domain (check_devices pauses it for its backend). */
static void device_added(struct parser *p)
{
    unsigned *line = &p->device_line[p->out->nr_domains - 1];

    if (!*line)
        *line = p->line;
}

/*
 * The next key=value term of a spec, blanks around both trimmed; empty terms
 * are skipped. 0 with key.len == 0 when the spec is used up.
 */
static int next_term(struct parser *p, struct span *spec, const char *what, struct span *key,
                     struct span *val)
{
    bool more = true;

    key->len = 0;
    while (more && !key->len) {
        more = split_at(spec, ',', val);
        *val = trim(*val);
        if (!val->len)
            continue;
        if (!split_at(val, '=', key))
            return device_error(p, what, *key, " is not key=value");
        *key = trim(*key);
        *val = trim(*val);
        if (!key->len || !val->len)
            return device_error(p, what, !key->len ? *val : *key, " needs a key and a value");
    }
    return 0;
}

static int set_vdev(struct parser *p, struct disk_config *disk, struct span val)
{
    unsigned i;

    if (val.len != 4 || memcmp(val.s, "xvd", 3) || val.s[3] < 'a' || val.s[3] > 'z')
        return device_error(p, "unsupported vdev ", val, " (xvda..xvdz)");
    i = (unsigned)(val.s[3] - 'a');
    disk->devid = i < 16 ? (XVD_MAJOR << 8) | (i << 4) : XVD_EXTENDED | (i << 8);
    copy_span(disk->vdev, val);
    return 0;
}

static int set_disk_term(struct parser *p, struct disk_config *disk, enum disk_term t,
                         struct span val)
{
    switch (t) {
    case TERM_TARGET:
        return set_module(p, KEY_DISK, val, disk->target);
    case TERM_VDEV:
        return set_vdev(p, disk, val);
    case TERM_ACCESS:
        disk->readonly = span_eq(val, "ro") || span_eq(val, "r");
        if (disk->readonly || span_eq(val, "rw") || span_eq(val, "w"))
            return 0;
        return device_error(p, "bad disk access ", val, " (rw, w, ro or r)");
    case TERM_FORMAT:
        return span_eq(val, "raw") ? 0 : device_error(p, "unsupported disk format ", val,
                                                        " (only raw)");
    case NR_DISK_TERMS:
        break;
    }
    return -EINVAL;
}

/* A disk of another domain (or this one) already on this module, or NULL. */
static const struct domain_config *module_user(struct parser *p, const char *target,
                                               const struct disk_config **disk)
{
    for (unsigned i = 0; i < p->out->nr_domains; i++)
        for (unsigned j = 0; j < p->out->domains[i].nr_disks; j++)
            if (!strcmp(p->out->domains[i].disks[j].target, target)) {
                *disk = &p->out->domains[i].disks[j];
                return &p->out->domains[i];
            }
    return NULL;
}

/* The disk is complete and new: a vdev once per domain, a module once per machine. */
static int check_disk(struct parser *p, const struct disk_config *disk, struct span spec)
{
    const struct disk_config *other;
    const struct domain_config *user;
    struct msg *m;

    if (!disk->target[0] || !disk->vdev[0])
        return device_error(p, disk->target[0] ? "disk without vdev=xvdX: " :
                            "disk without target=MODULE: ", spec, "");
    for (unsigned i = 0; i < p->dom->nr_disks; i++)
        if (!strcmp(p->dom->disks[i].vdev, disk->vdev)) {
            m = error_here(p);
            msg_str(m, "vdev ");
            msg_str(m, disk->vdev);
            msg_str(m, " twice in domain '");
            msg_str(m, p->dom->name);
            msg_char(m, '\'');
            return -EEXIST;
        }
    if ((user = module_user(p, disk->target, &other))) {
        m = error_here(p);
        msg_str(m, "module '");
        msg_str(m, disk->target);
        msg_str(m, "' is already the image of ");
        msg_str(m, other->vdev);
        msg_str(m, " in domain '");
        msg_str(m, user->name);
        msg_str(m, "' (one disk per module)");
        return -EEXIST;
    }
    return 0;
}

static int add_disk(struct parser *p, struct span spec)
{
    struct disk_config disk = { 0 };
    struct span rest = spec, key, val;
    unsigned seen = 0, t;
    int rc;

    if (p->dom->nr_disks == BOOTCFG_MAX_DISKS)
        return too_many_devices(p, "disks", BOOTCFG_MAX_DISKS);
    while (!(rc = next_term(p, &rest, "disk term ", &key, &val)) && key.len) {
        for (t = 0; t < NR_DISK_TERMS && !span_eq(key, disk_terms[t]); t++)
            ;
        if (t == NR_DISK_TERMS)
            return device_error(p, "unknown disk key ", key, " (target, vdev, access, format)");
        if (seen & (1u << t))
            return device_error(p, "disk key given twice: ", key, "");
        seen |= 1u << t;
        if ((rc = set_disk_term(p, &disk, (enum disk_term)t, val)))
            return rc;
    }
    if (!rc && !(rc = check_disk(p, &disk, spec))) {
        p->dom->disks[p->dom->nr_disks++] = disk;
        device_added(p);
    }
    return rc;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* XX:XX:XX:XX:XX:XX, hex. */
static bool parse_mac(struct span s, uint8_t mac[6])
{
    if (s.len != 17)
        return false;
    for (unsigned i = 0; i < 6; i++) {
        int hi = hex_digit(s.s[3 * i]), lo = hex_digit(s.s[3 * i + 1]);

        if (hi < 0 || lo < 0 || (i < 5 && s.s[3 * i + 2] != ':'))
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Empty, or mac=XX:XX:XX:XX:XX:XX (unicast); the default is 00:16:3e:00:DD:NN. */
static int add_vif(struct parser *p, struct span spec)
{
    struct vif_config vif = {
        .mac = { 0x00, 0x16, 0x3e, 0x00, (uint8_t)p->out->nr_domains, (uint8_t)p->dom->nr_vifs },
        .handle = (uint16_t)p->dom->nr_vifs,
    };
    struct span key, val;
    bool have_mac = false;
    int rc;

    if (p->dom->nr_vifs == BOOTCFG_MAX_VIFS)
        return too_many_devices(p, "vifs", BOOTCFG_MAX_VIFS);
    while (!(rc = next_term(p, &spec, "vif term ", &key, &val)) && key.len) {
        if (!span_eq(key, "mac"))
            return device_error(p, "unknown vif key ", key, " (only mac)");
        if (have_mac)
            return device_error(p, "vif key given twice: ", key, "");
        have_mac = true;
        if (!parse_mac(val, vif.mac))
            return device_error(p, "bad MAC ", val, " (want XX:XX:XX:XX:XX:XX)");
        if (vif.mac[0] & 1)
            return device_error(p, "multicast MAC ", val, " (the first octet must be even)");
    }
    if (!rc) {
        p->dom->vifs[p->dom->nr_vifs++] = vif;
        device_added(p);
    }
    return rc;
}

/* `disk SPEC`, or xl's list form `disk = [ 'SPEC', "SPEC", ]`: each spec adds a device. */
static int set_devices(struct parser *p, enum domain_key key, struct span value)
{
    int (*add)(struct parser *, struct span) = key == KEY_DISK ? add_disk : add_vif;
    struct span list, item;
    int rc = 0;

    if (!value.len || value.s[0] != '=')
        return add(p, value);
    list = trim((struct span){ value.s + 1, value.len - 1 });
    if (list.len < 2 || list.s[0] != '[' || list.s[list.len - 1] != ']')
        return device_error(p, "want a list [ 'SPEC', ... ] after '=', found ", list, "");
    list = trim((struct span){ list.s + 1, list.len - 2 });
    while (!rc && list.len) {
        char quote = list.s[0];

        if (quote != '\'' && quote != '"')
            return device_error(p, "want a quoted spec in the list, found ", list, "");
        list = (struct span){ list.s + 1, list.len - 1 };
        if (!split_at(&list, quote, &item))
            return device_error(p, "unterminated quote: ", item, "");
        rc = add(p, item);
        list = trim(list);
        if (!rc && list.len && list.s[0] != ',')
            return device_error(p, "want ',' between list items, found ", list, "");
        if (list.len)
            list = trim((struct span){ list.s + 1, list.len - 1 });
    }
    return rc;
}

/*
 * Devices need their service domain: exactly one backend domain and a xenstore
 * domain without devices. The backend's own disks are its pmem, served to no
 * one (the tool stack's inbox); a guest with devices waits, paused, for the
 * agent to unpause it.
 */
static int check_devices(struct parser *p)
{
    struct domain_config *backend = NULL, *d;
    unsigned first = 0, nr_backends = 0;
    struct msg *m;

    for (unsigned i = 0; i < p->out->nr_domains; i++) {
        if (!first && p->device_line[i])
            first = p->device_line[i];
        if (p->out->domains[i].roles & WISP_ROLE_BACKEND && !nr_backends++)
            backend = &p->out->domains[i];
    }
    if (!first)
        return 0;
    if (nr_backends != 1) {
        msg_str(error_at(p, first), nr_backends ? "disks and vifs need exactly one domain with role backend, "
                                 "found more" :
                                 "disks and vifs need a domain with role backend (the service "
                                 "domain)");
        return -EINVAL;
    }
    if (!p->xenstore_line) {
        msg_str(error_at(p, first), "disks and vifs need a domain with role xenstore");
        return -EINVAL;
    }
    for (unsigned i = 0; i < p->out->nr_domains; i++) {
        d = &p->out->domains[i];
        if (p->device_line[i] && (d->roles & WISP_ROLE_XENSTORE || (d == backend && d->nr_vifs))) {
            m = error_at(p, p->device_line[i]);
            msg_str(m, "domain '");
            msg_str(m, d->name);
            msg_str(m, d == backend ? "' is the backend domain: it cannot have vifs"
                                    : "' is the xenstore domain: it cannot have disks or vifs");
            return -EINVAL;
        }
        d->paused |= p->device_line[i] && d != backend;
    }
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
    case KEY_WEIGHT:
        return set_bounded(p, key, value, 1, BOOTCFG_MAX_WEIGHT, &p->dom->weight);
    case KEY_CAP:
        return set_bounded(p, key, value, 0, BOOTCFG_MAX_CAP, &p->dom->cap);
    case KEY_CPUS:
        return set_cpus(p, value);
    case KEY_DISK:
    case KEY_VIF:
        return set_devices(p, key, value);
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
    if (key < KEY_DISK && (p->seen_keys & (1u << key))) {
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
    p->dom->weight = BOOTCFG_DEFAULT_WEIGHT;
    p->dom->cpus = BOOTCFG_ALL_PCPUS;
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
    /* xl writes `disk=[ ... ]`: the '=' may touch the key. */
    for (unsigned k = KEY_DISK; k < NR_KEYS; k++) {
        size_t n = strlen(key_names[k]);

        if (keyword.len > n && keyword.s[n] == '=' && !memcmp(keyword.s, key_names[k], n)) {
            keyword.len = n;
            value = (struct span){ line.s + n, line.len - n };
        }
    }
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
    return check_devices(p);
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
