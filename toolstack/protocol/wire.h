/* wire.h (toolstack, pure): the control protocol's messages (docs/control-protocol.md): one line each, a kind and key=value fields. */
#ifndef WISP_PROTOCOL_WIRE_H
#define WISP_PROTOCOL_WIRE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION    1
#define WIRE_LINE_MAX   4096    /* one message, its newline included */
#define WIRE_MAX_FIELDS 32

struct wire_field {
    const char *key;
    const char *value;          /* decoded, NUL-terminated */
};

/* A parsed line; its strings point into the line it was parsed from. */
struct wire_msg {
    const char *kind;
    unsigned nr;
    struct wire_field f[WIRE_MAX_FIELDS];
};

/*
 * Parses LINE (no newline) in place: `kind key=value key=value`, single spaces,
 * kind and keys of [a-z0-9_], values with %HH for any byte outside printable
 * ASCII and for '%', ' ' and '='. 0, or -1 on anything else (the message is refused whole).
 */
int wire_parse(char *line, struct wire_msg *m);

/*
 * A deep copy of src whose strings live in buf (len bytes; WIRE_LINE_MAX holds
 * any parsed line): 0, or -1 when it does not fit (dst is then empty).
 */
int wire_copy(struct wire_msg *dst, char *buf, size_t len, const struct wire_msg *src);

/* The value of key, or NULL. */
const char *wire_get(const struct wire_msg *m, const char *key);
/* key as a decimal number <= max: 0, -1 when missing, -2 when malformed or too large. */
int wire_get_uint(const struct wire_msg *m, const char *key, uint64_t max, uint64_t *out);

/* A message being written; overflow makes wire_end fail instead of cutting a field. */
struct wire_out {
    char buf[WIRE_LINE_MAX + 1];
    size_t len;
    bool overflow;
};

void wire_begin(struct wire_out *o, const char *kind);
void wire_add(struct wire_out *o, const char *key, const char *value);
void wire_addf(struct wire_out *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends the newline; the line's length, or -1 when it did not fit. */
int wire_end(struct wire_out *o);

/*
 * Cuts a byte stream into lines. A line longer than WIRE_LINE_MAX is dropped
 * whole (on_line gets NULL once for it), so a sender's garbage costs one message.
 */
struct wire_lines {
    char buf[WIRE_LINE_MAX];
    size_t len;
    bool discarding;
};

void wire_feed(struct wire_lines *l, const char *data, size_t len,
               void (*on_line)(void *ctx, char *line), void *ctx);

/*
 * Bulk bytes in a field: base64 with the URL alphabet (- and _) and no
 * padding, so the value needs no %-escapes. encode returns the text's length
 * (out needs 4 * ceil(len / 3) + 1 bytes); decode returns the bytes written,
 * or -1 for text that is not such base64 or does not fit.
 */
size_t wire_b64_encode(const void *data, size_t len, char *out);
long wire_b64_decode(const char *text, void *out, size_t size);

#endif
