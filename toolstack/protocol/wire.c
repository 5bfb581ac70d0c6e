/* wire.c (toolstack, pure): the control protocol's messages (docs/control-protocol.md). */
#include <stdio.h>
#include <string.h>

#include "wire.h"

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Bytes that travel as themselves: printable ASCII but the three separators. */
static bool is_plain(unsigned char c)
{
    return c > ' ' && c < 0x7f && c != '%' && c != '=';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_name(const char *s, size_t len)
{
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_name_char(s[i]))
            return false;
    return true;
}

/* Decodes s in place up to its NUL; false on a bad escape or a byte that should have been one. */
static bool decode(char *s)
{
    char *out = s;

    for (; *s; s++) {
        if (*s != '%') {
            if (!is_plain((unsigned char)*s))
                return false;
            *out++ = *s;
            continue;
        }
        int hi = hex_digit(s[1]), lo = hi < 0 ? -1 : hex_digit(s[2]);

        if (lo < 0)
            return false;
        *out++ = (char)(hi << 4 | lo);
        s += 2;
    }
    *out = '\0';
    return true;
}

int wire_parse(char *line, struct wire_msg *m)
{
    char *word = line, *next;

    m->nr = 0;
    next = strchr(word, ' ');
    if (next)
        *next++ = '\0';
    if (!is_name(word, strlen(word)))
        return -1;
    m->kind = word;
    while (next) {
        char *eq;

        word = next;
        next = strchr(word, ' ');
        if (next)
            *next++ = '\0';
        eq = strchr(word, '=');
        if (!eq || !is_name(word, (size_t)(eq - word)) || m->nr == WIRE_MAX_FIELDS)
            return -1;
        *eq = '\0';
        if (!decode(eq + 1) || wire_get(m, word))
            return -1;          /* a key twice is as ambiguous as a bad escape */
        m->f[m->nr++] = (struct wire_field){ word, eq + 1 };
    }
    return 0;
}

/* str into buf at *used; the copy, or NULL when it does not fit. */
static const char *copy_str(char *buf, size_t len, size_t *used, const char *str)
{
    size_t n = strlen(str) + 1;

    if (n > len - *used)
        return NULL;
    memcpy(buf + *used, str, n);
    *used += n;
    return buf + *used - n;
}

int wire_copy(struct wire_msg *dst, char *buf, size_t len, const struct wire_msg *src)
{
    size_t used = 0;

    dst->nr = 0;
    if (!(dst->kind = copy_str(buf, len, &used, src->kind)))
        return -1;
    for (unsigned i = 0; i < src->nr; i++) {
        const char *key = copy_str(buf, len, &used, src->f[i].key);
        const char *value = key ? copy_str(buf, len, &used, src->f[i].value) : NULL;

        if (!value) {
            dst->nr = 0;
            return -1;
        }
        dst->f[dst->nr++] = (struct wire_field){ key, value };
    }
    return 0;
}

const char *wire_get(const struct wire_msg *m, const char *key)
{
    for (unsigned i = 0; i < m->nr; i++)
        if (!strcmp(m->f[i].key, key))
            return m->f[i].value;
    return NULL;
}

int wire_get_uint(const struct wire_msg *m, const char *key, uint64_t max, uint64_t *out)
{
    const char *v = wire_get(m, key);
    uint64_t n = 0;

    if (!v)
        return -1;
    if (!*v || strlen(v) > 20)
        return -2;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > (UINT64_MAX - (uint64_t)(*v - '0')) / 10)
            return -2;
        n = n * 10 + (uint64_t)(*v - '0');
    }
    if (n > max)
        return -2;
    *out = n;
    return 0;
}

static void put(struct wire_out *o, const char *s, size_t len)
{
    if (o->overflow || o->len + len > WIRE_LINE_MAX - 1) {      /* room for the newline */
        o->overflow = true;
        return;
    }
    memcpy(o->buf + o->len, s, len);
    o->len += len;
}

void wire_begin(struct wire_out *o, const char *kind)
{
    o->len = 0;
    o->overflow = false;
    put(o, kind, strlen(kind));
}

void wire_add(struct wire_out *o, const char *key, const char *value)
{
    static const char hex[] = "0123456789abcdef";

    put(o, " ", 1);
    put(o, key, strlen(key));
    put(o, "=", 1);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

        if (is_plain(*p))
            put(o, (const char *)p, 1);
        else
            put(o, esc, 3);
    }
}

void wire_addf(struct wire_out *o, const char *key, const char *fmt, ...)
{
    char value[WIRE_LINE_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(value))
        o->overflow = true;
    else
        wire_add(o, key, value);
}

int wire_end(struct wire_out *o)
{
    if (o->overflow)
        return -1;
    o->buf[o->len++] = '\n';
    o->buf[o->len] = '\0';
    return (int)o->len;
}

void wire_feed(struct wire_lines *l, const char *data, size_t len,
               void (*on_line)(void *ctx, char *line), void *ctx)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (c == '\n') {
            if (l->discarding)
                on_line(ctx, NULL);
            else {
                l->buf[l->len] = '\0';
                on_line(ctx, l->buf);
            }
            l->len = 0;
            l->discarding = false;
        } else if (!l->discarding) {
            if (l->len == sizeof(l->buf) - 1)
                l->discarding = true;   /* no newline within WIRE_LINE_MAX */
            else
                l->buf[l->len++] = c;
        }
    }
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t wire_b64_encode(const void *data, size_t len, char *out)
{
    const unsigned char *in = data;
    size_t n = 0;

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);

        out[n++] = b64[v >> 18 & 63];
        out[n++] = b64[v >> 12 & 63];
        if (i + 1 < len)
            out[n++] = b64[v >> 6 & 63];
        if (i + 2 < len)
            out[n++] = b64[v & 63];
    }
    out[n] = '\0';
    return n;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;

    return p ? (int)(p - b64) : -1;
}

long wire_b64_decode(const char *text, void *out, size_t size)
{
    unsigned char *o = out;
    size_t len = strlen(text), n = 0;

    if (len % 4 == 1)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        size_t chars = len - i < 4 ? len - i : 4;

        for (size_t j = 0; j < 4; j++) {
            int d = j < chars ? b64_value(text[i + j]) : 0;

            if (d < 0)
                return -1;
            v = v << 6 | (uint32_t)d;
        }
        for (size_t j = 0; j + 1 < chars; j++) {
            if (n == size)
                return -1;
            o[n++] = (unsigned char)(v >> (16 - 8 * j));
        }
    }
    return (long)n;
}
