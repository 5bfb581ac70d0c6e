/* console_line.h (hypervisor, pure): a guest's console output assembled into lines and made safe for the serial line. */
#ifndef WISP_CONSOLE_LINE_H
#define WISP_CONSOLE_LINE_H

#include "env.h"

/* Printable ASCII, space to tilde: the guest bytes that may reach a log line as they are. */
static inline bool console_byte_printable(char c)
{
    return (unsigned char)c >= 0x20 && (unsigned char)c <= 0x7e;
}

/* The longest serial form of one guest byte: "\xHH". */
#define CONSOLE_ESCAPED_MAX 4
/*
 * A guest line whose serial form would pass this many bytes goes out in pieces
 * ("(dN+) " lines, docs/cli.md). Serial output is synchronous (uart.c): at
 * 115200 baud a piece with its prefix and newline (at most 107 bytes) takes
 * under 9.3 ms, less than a scheduling slice (sched.c, 10 ms).
 */
#define CONSOLE_PIECE_MAX 96
#define CONSOLE_LINE_MAX CONSOLE_PIECE_MAX

/* One domain's unfinished output line; the domain's console lock (today: the one pCPU) guards it. */
struct console_line {
    unsigned len;
    unsigned serial_len;        /* the serial form's length of buf[0, len) */
    bool cr_held;               /* a CR that may be the first half of CR LF */
    char buf[CONSOLE_LINE_MAX + 1];     /* + a held CR's byte (console_line_put) */
};

enum console_put {
    CONSOLE_PUT_MORE,           /* nothing to emit yet */
    CONSOLE_PUT_LINE_ENDED,     /* the guest ended the line: emit it as "(dN) " */
    CONSOLE_PUT_LINE_FULL,      /* the buffer is full: emit it as a partial "(dN+) " line */
};

/* Adds one byte of guest output; the caller emits (console_escape) and clears the line
 * (console_line_clear) when told. */
enum console_put console_line_put(struct console_line *l, char c);
void console_line_clear(struct console_line *l);
/* A held CR is part of the line after all: it is going out without a newline. */
void console_line_release_cr(struct console_line *l);

/*
 * The serial form of one guest byte, written to out: printable ASCII and TAB
 * as they are, a backslash doubled, every other byte as "\xHH". Returns the
 * length (1 to CONSOLE_ESCAPED_MAX). No guest byte can therefore move the
 * cursor, start an escape sequence or end the serial line its prefix opened.
 */
size_t console_escape(char c, char out[CONSOLE_ESCAPED_MAX]);

#endif
