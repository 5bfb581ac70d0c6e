/* xlcfg.c (toolstack, pure): the xl.cfg keys `wisp create` understands (docs/toolstack.md). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "xlcfg.h"

#define VALUE_MAX   XLCFG_CMDLINE_MAX
#define MAX_MEMORY  65536
#define MAX_VCPUS   8
#define MAX_WEIGHT  65535
#define MAX_CAP     800
#define MAX_PCPUS   32

struct parse {
    const char *p;
    unsigned line;
    char *err;
    size_t err_size;
    bool seen_maxmem;
    unsigned maxmem;
    char extra[VALUE_MAX];
};

static int fail(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parse *ps, const char *fmt, ...)
{
    int n = ps->line ? snprintf(ps->err, ps->err_size, "line %u: ", ps->line) : 0;
    va_list ap;

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->err_size)
        vsnprintf(ps->err + n, ps->err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_blanks(struct parse *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r')
        ps->p++;
}

/* A quoted string into out; false (after fail) when unterminated or too long. */
static bool quoted(struct parse *ps, char *out, size_t size)
{
    char q = *ps->p++;
    size_t n = 0;

    for (; *ps->p && *ps->p != q && *ps->p != '\n'; ps->p++) {
        if (n + 1 >= size) {
            fail(ps, "value longer than %zu bytes", size - 1);
            return false;
        }
        out[n++] = *ps->p;
    }
    if (*ps->p != q) {
        fail(ps, "unterminated string");
        return false;
    }
    ps->p++;
    out[n] = '\0';
    return true;
}

/* A bare word (a number) into out. */
static bool bare(struct parse *ps, char *out, size_t size)
{
    size_t n = 0;

    while (*ps->p && !strchr(" \t\r\n#,]", *ps->p)) {
        if (n + 1 >= size) {
            fail(ps, "value too long");
            return false;
        }
        out[n++] = *ps->p++;
    }
    out[n] = '\0';
    if (!n)
        fail(ps, "missing value");
    return n > 0;
}

static bool number(struct parse *ps, const char *key, const char *v, unsigned lo, unsigned hi,
                   unsigned *out)
{
    unsigned long n = 0;

    if (!*v)
        return fail(ps, "%s: not a number", key), false;
    for (const char *c = v; *c; c++) {
        if (*c < '0' || *c > '9' || n > hi)
            return fail(ps, "%s: '%s' is not a number from %u to %u", key, v, lo, hi), false;
        n = n * 10 + (unsigned long)(*c - '0');
    }
    if (n < lo || n > hi)
        return fail(ps, "%s: '%s' is not a number from %u to %u", key, v, lo, hi), false;
    *out = (unsigned)n;
    return true;
}

/* xl's cpus: "2", "0-3", "0,2-3" (a pCPU list). */
static bool cpu_list(struct parse *ps, const char *v, uint32_t *mask)
{
    const char *c = v;

    *mask = 0;
    while (*c) {
        unsigned a = 0, b;

        if (*c < '0' || *c > '9')
            return fail(ps, "cpus: '%s' is not a CPU list like \"0-1,3\"", v), false;
        while (*c >= '0' && *c <= '9' && a < MAX_PCPUS)
            a = a * 10 + (unsigned)(*c++ - '0');
        b = a;
        if (*c == '-') {
            b = 0;
            for (c++; *c >= '0' && *c <= '9' && b < MAX_PCPUS; c++)
                b = b * 10 + (unsigned)(*c - '0');
        }
        if (a >= MAX_PCPUS || b >= MAX_PCPUS || b < a || (*c && *c != ','))
            return fail(ps, "cpus: '%s' is not a CPU list of 0 to %d", v, MAX_PCPUS - 1), false;
        for (unsigned i = a; i <= b; i++)
            *mask |= 1u << i;
        c += *c == ',';
    }
    return *mask != 0 || (fail(ps, "cpus: empty list"), false);
}

static bool action(struct parse *ps, const char *key, const char *v, enum xl_action *out)
{
    if (!strcmp(v, "destroy"))
        *out = XL_DESTROY;
    else if (!strcmp(v, "preserve"))
        *out = XL_PRESERVE;
    else if (!strcmp(v, "restart"))
        *out = XL_RESTART;
    else if (!strcmp(v, "rename-restart") || !strcmp(v, "coredump-destroy") ||
             !strcmp(v, "coredump-restart") || !strcmp(v, "soft-reset"))
        return fail(ps, "%s = \"%s\" is not supported yet (destroy, restart or preserve)", key, v),
               false;
    else
        return fail(ps, "%s: '%s' is not an action", key, v), false;
    return true;
}

static bool copy_string(struct parse *ps, const char *key, const char *v, char *out, size_t size)
{
    if (strlen(v) >= size)
        return fail(ps, "%s: longer than %zu bytes", key, size - 1), false;
    strcpy(out, v);
    return true;
}

static bool valid_name(const char *v)
{
    if (!*v)
        return false;
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              *v == '_' || *v == '.' || *v == '-'))
            return false;
    return true;
}

/* The next comma-separated term of a spec, blanks around it dropped; false at the end. */
static bool next_term(const char **s, char *out, size_t size)
{
    size_t n = 0;

    while (**s == ' ' || **s == '\t')
        (*s)++;
    if (!**s)
        return false;
    for (; **s && **s != ','; (*s)++)
        if (n + 1 < size)
            out[n++] = **s;
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
    if (**s == ',')
        (*s)++;
    return true;
}

static bool is_xvd(const char *v)
{
    return strlen(v) == 4 && !strncmp(v, "xvd", 3) && v[3] >= 'a' && v[3] <= 'z';
}

/* One disk setting, named or by position (xl's order: target, format, vdev, access). */
static bool disk_setting(struct parse *ps, struct xl_disk *d, const char *key, const char *v)
{
    if (!strcmp(key, "target")) {
        if (!strncmp(v, "file:", 5) || !strncmp(v, "raw:", 4))
            v = strchr(v, ':') + 1;
        else if (strchr(v, ':') && strchr(v, ':') < strchr(v, '/'))
            return fail(ps, "disk: '%s': only raw image files", v), false;
        if (!*v || strlen(v) >= sizeof(d->target))
            return fail(ps, "disk: target must be a file name of 1 to %zu bytes",
                        sizeof(d->target) - 1), false;
        strcpy(d->target, v);
    } else if (!strcmp(key, "format")) {
        if (strcmp(v, "raw"))
            return fail(ps, "disk: format '%s': only raw", v), false;
    } else if (!strcmp(key, "vdev")) {
        if (!is_xvd(v))
            return fail(ps, "disk: vdev '%s': xvda to xvdz", v), false;
        strcpy(d->vdev, v);
    } else if (!strcmp(key, "access")) {
        if (strcmp(v, "r") && strcmp(v, "ro") && strcmp(v, "w") && strcmp(v, "rw"))
            return fail(ps, "disk: access '%s': r, ro, w or rw", v), false;
        d->readonly = v[0] == 'r' && v[1] != 'w';
    } else if (!strcmp(key, "devtype")) {
        if (strcmp(v, "disk"))
            return fail(ps, "disk: devtype '%s': only disk", v), false;
    } else {
        return fail(ps, "disk: '%s' is not supported (target, format, vdev, access)", key), false;
    }
    return true;
}

/* xl's diskspec: "format=raw, vdev=xvda, access=rw, target=disk.img", or by position. */
static bool disk_spec(struct parse *ps, struct xl_config *c, const char *spec)
{
    static const char *const order[] = { "target", "format", "vdev", "access" };
    struct xl_disk *d = &c->disks[c->nr_disks];
    unsigned pos = 0;
    char term[XLCFG_PATH_MAX + 16];

    if (c->nr_disks == XLCFG_MAX_DISKS)
        return fail(ps, "disk: at most %d disks", XLCFG_MAX_DISKS), false;
    memset(d, 0, sizeof(*d));
    while (next_term(&spec, term, sizeof(term))) {
        char *eq = strchr(term, '=');
        const char *key;

        if (!*term)
            continue;
        if (eq) {
            *eq = '\0';
            key = term;
            while (eq[1] == ' ')
                eq++;
            for (char *e = term + strlen(term); e > term && e[-1] == ' ';)
                *--e = '\0';
        } else {
            /* xl's older "image,xvda,w" leaves out the format: a vdev is a vdev anywhere. */
            if (pos == 1 && is_xvd(term))
                pos = 2;
            if (pos >= 4)
                return fail(ps, "disk: too many settings in '%s'", term), false;
            key = order[pos++];
        }
        if (!disk_setting(ps, d, key, eq ? eq + 1 : term))
            return false;
    }
    if (!d->target[0] || !d->vdev[0])
        return fail(ps, "disk: a disk needs a target and a vdev"), false;
    for (unsigned i = 0; i < c->nr_disks; i++)
        if (!strcmp(c->disks[i].vdev, d->vdev))
            return fail(ps, "disk: vdev %s twice", d->vdev), false;
    c->nr_disks++;
    return true;
}

static bool valid_mac(const char *v)
{
    static const char hex[] = "0123456789abcdef";

    if (strlen(v) != 17)
        return false;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? v[i] != ':' : !strchr(hex, v[i] | 0x20))
            return false;
    /* Bit 0 of the first octet is the group bit: a vif's address must be unicast. */
    return ((strchr(hex, v[1] | 0x20) - hex) & 1) == 0;
}

/* xl's vifspec: "mac=00:16:3e:01:02:03", "bridge=br0"; an empty one takes the defaults. */
static bool vif_spec(struct parse *ps, struct xl_config *c, const char *spec)
{
    struct xl_vif *vif = &c->vifs[c->nr_vifs];
    char term[64];

    if (c->nr_vifs == XLCFG_MAX_VIFS)
        return fail(ps, "vif: at most %d vifs", XLCFG_MAX_VIFS), false;
    memset(vif, 0, sizeof(*vif));
    while (next_term(&spec, term, sizeof(term))) {
        char *eq = strchr(term, '=');

        if (!*term)
            continue;
        if (!eq)
            return fail(ps, "vif: '%s' is not key=value", term), false;
        *eq++ = '\0';
        if (!strcmp(term, "mac")) {
            if (!valid_mac(eq))
                return fail(ps, "vif: mac '%s' is not a unicast XX:XX:XX:XX:XX:XX", eq), false;
            strcpy(vif->mac, eq);
        } else if (!strcmp(term, "bridge")) {
            if (strcmp(eq, "br0"))
                return fail(ps, "vif: bridge '%s': the service domain has only br0", eq), false;
        } else if (!strcmp(term, "type")) {
            if (strcmp(eq, "vif"))
                return fail(ps, "vif: type '%s': only vif", eq), false;
        } else {
            return fail(ps, "vif: '%s' is not supported (mac, bridge)", term), false;
        }
    }
    c->nr_vifs++;
    return true;
}

static bool apply(struct parse *ps, struct xl_config *c, const char *key, const char *v,
                  bool is_list)
{
    if (is_list && strcmp(key, "disk") && strcmp(key, "vif"))
        return fail(ps, "%s: a list where one value belongs", key), false;
    if (!strcmp(key, "name")) {
        if (!valid_name(v) || strlen(v) >= sizeof(c->name))
            return fail(ps, "name: '%s' must be 1 to 31 of A-Z a-z 0-9 _ . -", v), false;
        strcpy(c->name, v);
    } else if (!strcmp(key, "type") || !strcmp(key, "builder")) {
        if (strcmp(v, "pvh"))
            return fail(ps, "%s = \"%s\": Wisp runs only PVH guests", key, v), false;
    } else if (!strcmp(key, "kernel")) {
        return copy_string(ps, key, v, c->kernel, sizeof(c->kernel));
    } else if (!strcmp(key, "ramdisk")) {
        return copy_string(ps, key, v, c->ramdisk, sizeof(c->ramdisk));
    } else if (!strcmp(key, "cmdline")) {
        return copy_string(ps, key, v, c->cmdline, sizeof(c->cmdline));
    } else if (!strcmp(key, "extra")) {
        return copy_string(ps, key, v, ps->extra, sizeof(ps->extra));
    } else if (!strcmp(key, "memory")) {
        return number(ps, key, v, 2, MAX_MEMORY, &c->memory_mib);
    } else if (!strcmp(key, "maxmem")) {
        ps->seen_maxmem = true;
        return number(ps, key, v, 2, MAX_MEMORY, &ps->maxmem);
    } else if (!strcmp(key, "vcpus")) {
        return number(ps, key, v, 1, MAX_VCPUS, &c->vcpus);
    } else if (!strcmp(key, "weight")) {
        return number(ps, key, v, 1, MAX_WEIGHT, &c->weight);
    } else if (!strcmp(key, "cap")) {
        return number(ps, key, v, 0, MAX_CAP, &c->cap);
    } else if (!strcmp(key, "cpus")) {
        return cpu_list(ps, v, &c->cpus);
    } else if (!strcmp(key, "on_poweroff")) {
        return action(ps, key, v, &c->on_poweroff);
    } else if (!strcmp(key, "on_reboot")) {
        return action(ps, key, v, &c->on_reboot);
    } else if (!strcmp(key, "on_crash")) {
        return action(ps, key, v, &c->on_crash);
    } else if (!strcmp(key, "disk")) {
        return disk_spec(ps, c, v);
    } else if (!strcmp(key, "vif")) {
        return vif_spec(ps, c, v);
    } else {
        return fail(ps, "unknown key '%s'", key), false;
    }
    return true;
}

/* Inside a list: blanks and line breaks (a list may span lines, as xl allows). */
static void skip_list_space(struct parse *ps)
{
    for (skip_blanks(ps); *ps->p == '\n'; skip_blanks(ps)) {
        ps->p++;
        ps->line++;
    }
}

/* One `key = value` line (the key already read); a list's items are checked one by one. */
static bool value_line(struct parse *ps, struct xl_config *c, const char *key)
{
    char v[VALUE_MAX];
    bool list = *ps->p == '[';

    if (list) {
        ps->p++;
        for (;;) {
            skip_list_space(ps);
            if (*ps->p == ']') {
                ps->p++;
                break;
            }
            if ((*ps->p != '"' && *ps->p != '\'') || !quoted(ps, v, sizeof(v)))
                return *ps->err ? false : (fail(ps, "%s: a list of quoted strings", key), false);
            if (!apply(ps, c, key, v, true))
                return false;
            skip_list_space(ps);
            if (*ps->p == ',')
                ps->p++;
            else if (*ps->p != ']')
                return fail(ps, "%s: a list of quoted strings", key), false;
        }
        return true;
    }
    if (*ps->p == '"' || *ps->p == '\'') {
        if (!quoted(ps, v, sizeof(v)))
            return false;
    } else if (!bare(ps, v, sizeof(v))) {
        return false;
    }
    return apply(ps, c, key, v, false);
}

/* Whole-file checks: their errors name no line. */
static bool finish(struct parse *ps, struct xl_config *c)
{
    ps->line = 0;
    if (!c->name[0])
        return fail(ps, "no name = \"...\""), false;
    if (!c->kernel[0])
        return fail(ps, "no kernel = \"...\""), false;
    if (ps->seen_maxmem && ps->maxmem != c->memory_mib)
        return fail(ps, "maxmem (%u) differs from memory (%u): no ballooning yet", ps->maxmem,
                    c->memory_mib), false;
    if (ps->extra[0]) {
        size_t n = strlen(c->cmdline);

        if (n + 1 + strlen(ps->extra) >= sizeof(c->cmdline))
            return fail(ps, "cmdline and extra together are too long"), false;
        if (n)
            c->cmdline[n++] = ' ';
        strcpy(c->cmdline + n, ps->extra);
    }
    return true;
}

int xlcfg_parse(const char *text, struct xl_config *c, char *err, size_t err_size)
{
    struct parse ps = { .p = text, .line = 1, .err = err, .err_size = err_size };

    memset(c, 0, sizeof(*c));
    c->memory_mib = 128;
    c->vcpus = 1;
    c->on_reboot = XL_RESTART;          /* xl's defaults: the others destroy */
    if (err_size)
        err[0] = '\0';
    for (; *ps.p; ps.line++) {
        char key[32];
        size_t n = 0;

        skip_blanks(&ps);
        while ((*ps.p >= 'a' && *ps.p <= 'z') || *ps.p == '_' || (*ps.p >= '0' && *ps.p <= '9'))
            if (n + 1 < sizeof(key))
                key[n++] = *ps.p++;
            else
                return fail(&ps, "key too long");
        key[n] = '\0';
        skip_blanks(&ps);
        if (n) {
            if (*ps.p != '=')
                return fail(&ps, "want key = value after '%s'", key);
            ps.p++;
            skip_blanks(&ps);
            if (!value_line(&ps, c, key))
                return -1;
            skip_blanks(&ps);
            if (*ps.p == ';')
                ps.p++;
            skip_blanks(&ps);
        }
        if (*ps.p == '#')
            while (*ps.p && *ps.p != '\n')
                ps.p++;
        if (*ps.p && *ps.p != '\n')
            return fail(&ps, "unexpected '%c'", *ps.p);
        if (*ps.p)
            ps.p++;
    }
    return finish(&ps, c) ? 0 : -1;
}
