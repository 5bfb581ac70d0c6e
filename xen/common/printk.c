/* printk.c (hypervisor): formatted logging to the serial line with the "(wisp) " prefix. */
#include "env.h"
#include "log_limit.h"
#include "percpu.h"
#include "printk.h"
#include "spinlock.h"
#include "time.h"
#include "uart.h"

enum log_level log_threshold = LOG_INFO;

struct out {
    char *buf;
    size_t size, len;
};

static void out_char(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void out_number(struct out *o, uint64_t v, unsigned base, bool negative,
                       unsigned width, char pad, bool left)
{
    char digits[24];
    unsigned n = 0;

    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (negative)
        digits[n++] = '-';
    unsigned printed = n;

    if (!left)
        for (unsigned i = n; i < width; i++)
            out_char(o, pad);
    while (n)
        out_char(o, digits[--n]);
    for (; left && printed < width; printed++)
        out_char(o, ' ');
}

static void out_string(struct out *o, const char *s, int precision, unsigned width, bool left)
{
    size_t n;

    if (!s)
        s = "(null)";
    n = precision >= 0 ? strnlen(s, (size_t)precision) : strlen(s);
    if (!left)
        for (size_t i = n; i < width; i++)
            out_char(o, ' ');
    for (size_t i = 0; i < n; i++)
        out_char(o, s[i]);
    if (left)
        for (size_t i = n; i < width; i++)
            out_char(o, ' ');
}

/* Supports %c %s %d %i %u %x %p %%, the l/ll/z lengths, width, '0', '-' and ".*". */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_char(&o, *fmt);
            continue;
        }
        fmt++;
        bool left = false;
        char pad = ' ';
        unsigned width = 0, longs = 0;
        int precision = -1;

        for (; *fmt == '-' || *fmt == '0'; fmt++) {
            if (*fmt == '-')
                left = true;
            else
                pad = '0';
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            width = width * 10 + (unsigned)(*fmt - '0');
        if (fmt[0] == '.' && fmt[1] == '*') {
            precision = va_arg(ap, int);
            fmt += 2;
        }
        for (; *fmt == 'l' || *fmt == 'z'; fmt++)
            longs++;

        switch (*fmt) {
        case 'c':
            out_char(&o, (char)va_arg(ap, int));
            break;
        case 's':
            out_string(&o, va_arg(ap, const char *), precision, width, left);
            break;
        case 'd': case 'i': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            out_number(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad, left);
            break;
        }
        case 'u': case 'x': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            out_number(&o, v, *fmt == 'u' ? 10 : 16, false, width, pad, left);
            break;
        }
        case 'p':
            out_string(&o, "0x", -1, 0, false);
            out_number(&o, (uintptr_t)va_arg(ap, void *), 16, false, 0, ' ', false);
            break;
        case '%':
            out_char(&o, '%');
            break;
        default:            /* unknown conversion: show it rather than guess */
            out_char(&o, '%');
            if (*fmt)
                out_char(&o, *fmt);
            else
                fmt--;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void serial_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        uart_putc(s[i]);
}

static spinlock_t console_spin = SPINLOCK_INIT;
static int console_owner = -1;      /* CPU holding console_spin, -1: none (written under it) */
static unsigned console_depth;      /* its nesting on that CPU (console_spin) */

void console_lock(void)
{
    int me = (int)this_cpu_id();

    if (__atomic_load_n(&console_owner, __ATOMIC_RELAXED) == me) {
        console_depth++;
        return;
    }
    spin_lock(&console_spin);
    __atomic_store_n(&console_owner, me, __ATOMIC_RELAXED);
    console_depth = 1;
}

void console_unlock(void)
{
    if (--console_depth)
        return;
    __atomic_store_n(&console_owner, -1, __ATOMIC_RELAXED);
    spin_unlock(&console_spin);
}

static const char *const level_tags[] = {
    [LOG_ERROR] = "error: ", [LOG_WARN] = "warning: ", [LOG_INFO] = "", [LOG_DEBUG] = "",
};

/* Each line of a message gets its own prefix, so the host can tell our lines from a guest's. */
static void emit_prefixed(enum log_level level, const char *text)
{
    console_lock();
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);

        serial_write("(wisp) ", 7);
        serial_write(level_tags[level], strlen(level_tags[level]));
        serial_write(text, n);
        serial_write("\n", 1);
        text += n + (nl ? 1 : 0);
    }
    console_unlock();
}

void printk(enum log_level level, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (level > log_threshold)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    emit_prefixed(level, buf);
}

static void report_suppressed(unsigned domid, unsigned long n)
{
    if (n)
        printk(LOG_WARN, "d%u: %lu messages suppressed", domid, n);
}

void printk_limited(struct log_limit *limit, unsigned domid, enum log_level level,
                    const char *fmt, ...)
{
    unsigned long suppressed;
    char buf[512];
    va_list ap;

    /* Lines the log level hides cost nothing and take no token. */
    if (level > log_threshold || !log_limit_allow(limit, now_ns(), &suppressed))
        return;
    report_suppressed(domid, suppressed);
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    emit_prefixed(level, buf);
}

void printk_limited_flush(struct log_limit *limit, unsigned domid)
{
    report_suppressed(domid, log_limit_take_suppressed(limit));
}
