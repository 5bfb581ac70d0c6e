/* serial.c (host tool): splits Wisp's serial output into lines and classifies them. */
#include <string.h>

#include "serial.h"

static const char *const end_status_names[] = {
    [END_NONE] = "none",
#define END_STATUS_NAME(name, text) [END_##name] = text,
    END_STATUSES(END_STATUS_NAME)
#undef END_STATUS_NAME
};

const char *end_status_name(enum end_status status)
{
    return end_status_names[status];
}

static bool has_prefix(const char *line, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);

    return len >= plen && memcmp(line, prefix, plen) == 0;
}

/* "poweroff" etc.; anything else (including trailing words) is END_NONE. */
static enum end_status parse_end_status(const char *text, size_t len)
{
    for (int status = END_NONE + 1; status <= END_PANIC; status++) {
        const char *name = end_status_names[status];

        if (len == strlen(name) && memcmp(text, name, len) == 0)
            return (enum end_status)status;
    }
    return END_NONE;
}

/*
 * "(d<digits>) " or "(d<digits>+) " -> prefix length, domid and whether the
 * text is a partial line; 0 if the line has no such prefix.
 */
static size_t guest_prefix_len(const char *line, size_t len, unsigned *domid, bool *partial)
{
    size_t i = 2;
    unsigned id = 0;

    if (len < 5 || line[0] != '(' || line[1] != 'd')
        return 0;
    /* Domain ids are 16-bit (Xen's domid_t): at most 5 digits. */
    while (i < len && i < 2 + 5 && line[i] >= '0' && line[i] <= '9')
        id = id * 10 + (unsigned)(line[i++] - '0');
    if (i == 2 || id > 0xffff)
        return 0;
    *partial = i < len && line[i] == '+';
    if (*partial)
        i++;
    if (i + 1 >= len || line[i] != ')' || line[i + 1] != ' ')
        return 0;
    *domid = id;
    return i + 2;
}

static size_t without_trailing_cr(const char *line, size_t len)
{
    while (len > 0 && line[len - 1] == '\r')
        len--;
    return len;
}

void serial_classify(const char *line, size_t len, struct serial_line *out)
{
    size_t prefix;

    memset(out, 0, sizeof(*out));
    prefix = guest_prefix_len(line, len, &out->domid, &out->partial);
    if (prefix) {
        out->kind = LINE_GUEST;
        out->text = line + prefix;
        out->len = len - prefix;
        return;
    }
    len = without_trailing_cr(line, len);
    if (has_prefix(line, len, SERIAL_HV_PREFIX)) {
        out->kind = LINE_HYPERVISOR;
        out->text = line + strlen(SERIAL_HV_PREFIX);
        out->len = len - strlen(SERIAL_HV_PREFIX);
        if (has_prefix(line, len, SERIAL_END_PREFIX))
            out->end = parse_end_status(line + strlen(SERIAL_END_PREFIX),
                                        len - strlen(SERIAL_END_PREFIX));
        return;
    }
    out->kind = LINE_OTHER;
    out->text = line;
    out->len = len;
}

void serial_splitter_init(struct serial_splitter *s, serial_line_fn on_line, void *ctx)
{
    s->len = 0;
    s->continuing = false;
    s->on_line = on_line;
    s->ctx = ctx;
}

static void hand_over(struct serial_splitter *s, bool complete)
{
    s->on_line(s->ctx, s->buf, s->len, !s->continuing, complete);
    s->continuing = !complete;
    s->len = 0;
}

void serial_feed(struct serial_splitter *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            hand_over(s, true);
            continue;
        }
        if (s->len == sizeof(s->buf))
            hand_over(s, false);
        s->buf[s->len++] = data[i];
    }
}

void serial_flush(struct serial_splitter *s)
{
    if (s->len > 0)
        hand_over(s, false);
    s->continuing = false;
}
