/* console.c (guest): line-buffered console over CONSOLEIO_write (port 0xE9 without Xen), and a small printf. */
#include "guest.h"
#include "xen/console_io.h"

/* Bochs/QEMU "debugcon" port; Xen also offers it (XEN_HVM_DEBUGCONS_IOPORT). */
#define DEBUGCON_PORT XEN_HVM_DEBUGCONS_IOPORT

/* One hypercall per line keeps verdict lines whole in the hypervisor's console log. */
static char line[256];
static size_t line_len;

static void emit(const char *s, size_t n)
{
    if (!n)
        return;
    if (xen_cpuid_base()) {
        (void)hv_console_io(CONSOLEIO_write, n, HV_PTR(s));
        return;
    }
    for (size_t i = 0; i < n; i++)
        outb(DEBUGCON_PORT, (uint8_t)s[i]);
}

void con_flush(void)
{
    emit(line, line_len);
    line_len = 0;
}

static void con_putc(char c)
{
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof(line))
        con_flush();
}

void con_write(const char *s, size_t n)
{
    while (n--)
        con_putc(*s++);
}

/*
 * *v /= base, returning the remainder, in 16-bit steps so that 32-bit
 * guests need no libgcc 64-bit division helper (base <= 16).
 */
static unsigned int divmod_small(unsigned long long *v, unsigned int base)
{
    unsigned long long q = 0;
    unsigned int r = 0;

    for (int shift = 48; shift >= 0; shift -= 16) {
        unsigned int cur = (r << 16) | (unsigned int)((*v >> shift) & 0xffff);

        q |= (unsigned long long)(cur / base) << shift;
        r = cur % base;
    }
    *v = q;
    return r;
}

static void put_unsigned(unsigned long long v, unsigned int base, int width, char pad)
{
    char digits[24];
    int n = 0;

    do {
        digits[n++] = "0123456789abcdef"[divmod_small(&v, base)];
    } while (v);
    for (; width > n; width--)
        con_putc(pad);
    while (n)
        con_putc(digits[--n]);
}

static void put_signed(long long v, int width, char pad)
{
    if (v < 0) {
        con_putc('-');
        put_unsigned(0ULL - (unsigned long long)v, 10, width > 0 ? width - 1 : 0, pad);
    } else {
        put_unsigned((unsigned long long)v, 10, width, pad);
    }
}

/* Size prefix of a conversion: 0 int, 1 long, 2 long long, 3 size_t. */
static const char *parse_size(const char *f, int *size)
{
    *size = 0;
    if (*f == 'z') {
        *size = 3;
        return f + 1;
    }
    while (*f == 'l' && *size < 2) {
        (*size)++;
        f++;
    }
    return f;
}

static unsigned long long arg_unsigned(va_list *ap, int size)
{
    switch (size) {
    case 1: return va_arg(*ap, unsigned long);
    case 2: return va_arg(*ap, unsigned long long);
    case 3: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static long long arg_signed(va_list *ap, int size)
{
    switch (size) {
    case 1: return va_arg(*ap, long);
    case 2: return va_arg(*ap, long long);
    case 3: return (long long)va_arg(*ap, size_t);
    default: return va_arg(*ap, int);
    }
}

void con_vprintf(const char *fmt, va_list ap_in)
{
    va_list ap;

    va_copy(ap, ap_in);
    for (const char *f = fmt; *f; f++) {
        char pad = ' ';
        int width = 0, size;
        const char *s;

        if (*f != '%') {
            con_putc(*f);
            continue;
        }
        f++;
        if (*f == '0')
            pad = '0';
        while (*f >= '0' && *f <= '9')
            width = width * 10 + (*f++ - '0');
        f = parse_size(f, &size);
        switch (*f) {
        case 'd':
        case 'i':
            put_signed(arg_signed(&ap, size), width, pad);
            break;
        case 'u':
            put_unsigned(arg_unsigned(&ap, size), 10, width, pad);
            break;
        case 'x':
        case 'X':
            put_unsigned(arg_unsigned(&ap, size), 16, width, pad);
            break;
        case 'p':
            con_write("0x", 2);
            put_unsigned((uintptr_t)va_arg(ap, void *), 16, width, pad);
            break;
        case 'c':
            con_putc((char)va_arg(ap, int));
            break;
        case 's':
            s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            con_write(s, strlen(s));
            break;
        case '%':
            con_putc('%');
            break;
        case '\0':
            f--;
            break;
        default:
            con_putc('%');
            con_putc(*f);
            break;
        }
    }
    va_end(ap);
}

void con_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    con_vprintf(fmt, ap);
    va_end(ap);
}
