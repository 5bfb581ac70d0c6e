/* console.c (host tool): a guest's console stream as `wisp` shows it: CR LF folded, exit marker taken out. */
#include <stdlib.h>
#include <string.h>

#include "console.h"

static void stage_flush(struct console_stream *c)
{
    if (c->stage_len > 0)
        c->write(c->ctx, c->stage, c->stage_len);
    c->stage_len = 0;
}

static void release_marker(struct console_stream *c);

static void append_tail(struct console_stream *c, const char *data, size_t len)
{
    char *grown;

    if (c->tail_len + len > MARKER_TAIL_MAX ||
        !(grown = realloc(c->tail, c->tail_len + len))) {
        release_marker(c);      /* too much after it: the command printed that marker */
        return;
    }
    c->tail = grown;
    memcpy(c->tail + c->tail_len, data, len);
    c->tail_len += len;
}

/* Output in stream order: written, or kept while a marker is held back. */
static void emit(struct console_stream *c, const char *data, size_t len)
{
    if (c->marker_held) {
        append_tail(c, data, len);
        if (c->marker_held)
            return;
    }
    while (len > 0) {
        size_t room = sizeof(c->stage) - c->stage_len, n = room < len ? room : len;

        memcpy(c->stage + c->stage_len, data, n);
        c->stage_len += n;
        data += n;
        len -= n;
        if (c->stage_len == sizeof(c->stage))
            stage_flush(c);
    }
}

/*
 * The held marker turned out to be the command's own text: write it where it
 * was. The tail starts with the marker line's own "\n", if anything followed.
 */
static void release_marker(struct console_stream *c)
{
    char *tail = c->tail;
    size_t tail_len = c->tail_len;

    c->marker_held = false;
    c->tail = NULL;
    c->tail_len = 0;
    if (c->marker_had_newline)
        emit(c, "\n", 1);
    emit(c, c->marker_text, c->marker_len);
    emit(c, tail, tail_len);
    free(tail);
}

/* A complete marker line is in head: hold it (and the "\n" before it) back. */
static void take_marker(struct console_stream *c, int status)
{
    if (c->marker_held)
        release_marker(c);      /* only the last marker counts */
    stage_flush(c);
    c->marker_held = true;
    c->marker_had_newline = c->newline_held;
    c->marker_status = status;
    memcpy(c->marker_text, c->head, c->head_len);
    c->marker_len = c->head_len;
    /* Its "\n" is held like any other: it goes before the next marker, if one follows. */
    c->newline_held = true;
    c->in_head = true;
    c->head_len = 0;
}

/* The current line is not a marker: write what was held for it. */
static void flush_head(struct console_stream *c)
{
    if (c->newline_held)
        emit(c, "\n", 1);
    emit(c, c->head, c->head_len);
    c->newline_held = false;
    c->in_head = false;
    c->head_len = 0;
}

int console_match_marker(const char *text, size_t len, bool *prefix)
{
    const size_t open_len = strlen(MARKER_OPEN), close_len = strlen(MARKER_CLOSE);
    size_t i = open_len, digits = 0, rest;
    unsigned value = 0;

    *prefix = false;
    if (memcmp(text, MARKER_OPEN, len < open_len ? len : open_len) != 0)
        return -1;
    if (len <= open_len) {
        *prefix = true;
        return -1;
    }
    while (i < len && digits < 3 && text[i] >= '0' && text[i] <= '9') {
        value = value * 10 + (unsigned)(text[i++] - '0');
        digits++;
    }
    if (digits == 0)
        return -1;
    rest = len - i;
    if (rest > close_len || memcmp(text + i, MARKER_CLOSE, rest) != 0)
        return -1;
    *prefix = true;
    return rest == close_len && value <= 255 ? (int)value : -1;
}

static void filter_byte(struct console_stream *c, char ch)
{
    bool prefix = false;

    if (!c->find_marker) {
        emit(c, &ch, 1);
        return;
    }
    if (ch == '\n') {
        if (c->in_head) {
            int status = console_match_marker(c->head, c->head_len, &prefix);

            if (status >= 0) {
                take_marker(c, status);
                return;
            }
            flush_head(c);
        }
        c->newline_held = true;     /* written when the next line is not a marker */
        c->in_head = true;
        return;
    }
    if (c->in_head) {
        if (c->head_len < sizeof(c->head)) {
            c->head[c->head_len] = ch;
            console_match_marker(c->head, c->head_len + 1, &prefix);
            if (prefix) {
                c->head_len++;
                return;
            }
        }
        flush_head(c);
    }
    emit(c, &ch, 1);
}

void console_init(struct console_stream *c, bool find_marker, console_write_fn write,
                  void *ctx)
{
    memset(c, 0, sizeof(*c));
    c->write = write;
    c->ctx = ctx;
    c->find_marker = find_marker;
    c->in_head = true;          /* the stream starts at the start of a line */
}

/* One of the guest's own bytes, after the serial form is undone. */
static void guest_byte(struct console_stream *c, char ch)
{
    if (c->cr_held) {
        c->cr_held = false;
        if (ch != '\n')
            filter_byte(c, '\r');
    }
    if (ch == '\r') {
        c->cr_held = true;      /* "\r\n" becomes "\n" */
        return;
    }
    filter_byte(c, ch);
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* An escape that turned out not to be one: its bytes are the guest's text. */
static void esc_release(struct console_stream *c)
{
    for (size_t i = 0; i < c->esc_len; i++)
        guest_byte(c, c->esc[i]);
    c->esc_len = 0;
}

/* Undoes Wisp's serial form: "\\" is a backslash, "\xHH" the byte HH (lower-case hex). */
static void serial_form_byte(struct console_stream *c, char ch)
{
    if (c->esc_len == 0) {
        if (ch == '\\')
            c->esc[c->esc_len++] = ch;
        else
            guest_byte(c, ch);
        return;
    }
    if (c->esc_len == 1 && ch == '\\') {
        c->esc_len = 0;
        guest_byte(c, '\\');
        return;
    }
    if ((c->esc_len == 1 && ch == 'x') || (c->esc_len >= 2 && hex_value(ch) >= 0)) {
        c->esc[c->esc_len++] = ch;
        if (c->esc_len == 4) {
            c->esc_len = 0;
            guest_byte(c, (char)(hex_value(c->esc[2]) << 4 | hex_value(c->esc[3])));
        }
        return;
    }
    esc_release(c);
    serial_form_byte(c, ch);
}

void console_feed(struct console_stream *c, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        serial_form_byte(c, data[i]);
    stage_flush(c);
}

bool console_holding(const struct console_stream *c)
{
    return c->cr_held || c->newline_held || c->head_len > 0;
}

void console_release_held(struct console_stream *c)
{
    bool at_line_start = c->in_head && c->head_len == 0;

    if (c->cr_held)
        filter_byte(c, '\r');
    c->cr_held = false;
    if (c->in_head && (c->newline_held || c->head_len > 0))
        flush_head(c);
    c->in_head = at_line_start;     /* a marker may still start this line */
    stage_flush(c);
}

int console_finish(struct console_stream *c, char **tail, size_t *tail_len)
{
    bool prefix;
    int status = -1;

    esc_release(c);
    if (c->cr_held)
        filter_byte(c, '\r');
    c->cr_held = false;
    if (c->find_marker && c->in_head) {
        /* A marker line cut short of its "\n" by the end of the stream still counts. */
        int last = console_match_marker(c->head, c->head_len, &prefix);

        if (last >= 0)
            take_marker(c, last);
        else
            flush_head(c);
    }
    *tail = NULL;
    *tail_len = 0;
    if (c->marker_held) {
        /* The marker line's own "\n" is the marker's, not the tail's. */
        bool own_newline = c->tail_len > 0 && c->tail[0] == '\n';

        status = c->marker_status;
        *tail_len = c->tail_len - own_newline;
        *tail = c->tail;
        if (own_newline)
            memmove(c->tail, c->tail + 1, *tail_len);
        c->tail = NULL;
        c->tail_len = 0;
        c->marker_held = false;
        c->newline_held = false;
    }
    stage_flush(c);
    return status;
}
