/* console_line.c (hypervisor, pure): a guest's console bytes become prefixed serial lines that cannot drive a terminal. */
#include "console_line.h"

static void append(struct console_line *l, char c)
{
    char e[CONSOLE_ESCAPED_MAX];

    l->buf[l->len++] = c;
    l->serial_len += (unsigned)console_escape(c, e);
}

void console_line_clear(struct console_line *l)
{
    l->len = 0;
    l->serial_len = 0;
}

void console_line_release_cr(struct console_line *l)
{
    if (l->cr_held)
        append(l, '\r');
    l->cr_held = false;
}

/*
 * CR LF is how terminals end lines (Linux's hvc sends it): that CR carries
 * nothing and is dropped. A CR anywhere else is the guest's text, kept and
 * escaped on output. NUL bytes are dropped, as before. The caller empties a
 * full line before the next byte, so on entry the line has room for two more
 * escaped bytes: a held CR and this one (buf has one byte to spare).
 */
enum console_put console_line_put(struct console_line *l, char c)
{
    if (c == '\n') {
        l->cr_held = false;
        return CONSOLE_PUT_LINE_ENDED;
    }
    if (c == '\0')
        return CONSOLE_PUT_MORE;
    console_line_release_cr(l);
    if (c == '\r')
        l->cr_held = true;
    else
        append(l, c);
    return l->serial_len + 2 * CONSOLE_ESCAPED_MAX > CONSOLE_PIECE_MAX ? CONSOLE_PUT_LINE_FULL
                                                                       : CONSOLE_PUT_MORE;
}

size_t console_escape(char c, char out[CONSOLE_ESCAPED_MAX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b = (unsigned char)c;

    if (c == '\\') {
        out[0] = out[1] = '\\';
        return 2;
    }
    if (console_byte_printable(c) || c == '\t') {
        out[0] = c;
        return 1;
    }
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[b >> 4];
    out[3] = hex[b & 15];
    return 4;
}
