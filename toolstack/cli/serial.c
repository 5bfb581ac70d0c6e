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

/* "(d<digits>) " -> prefix length and domid; 0 if the line has no such prefix. */
static size_t guest_prefix_len(const char *line, size_t len, unsigned *domid)
{
    size_t i = 2;
    unsigned id = 0;

    if (len < 5 || line[0] != '(' || line[1] != 'd')
        return 0;
    /* Domain ids are 16-bit (Xen's domid_t): at most 5 digits. */
    while (i < len && i < 2 + 5 && line[i] >= '0' && line[i] <= '9')
        id = id * 10 + (unsigned)(line[i++] - '0');
    if (i == 2 || id > 0xffff || i + 1 >= len || line[i] != ')' || line[i + 1] != ' ')
        return 0;
    *domid = id;
    return i + 2;
}

void serial_classify(const char *line, size_t len, struct serial_line *out)
{
    size_t prefix;

    while (len > 0 && line[len - 1] == '\r')
        len--;
    memset(out, 0, sizeof(*out));
    if (has_prefix(line, len, SERIAL_HV_PREFIX)) {
        out->kind = LINE_HYPERVISOR;
        out->text = line + strlen(SERIAL_HV_PREFIX);
        out->len = len - strlen(SERIAL_HV_PREFIX);
        if (has_prefix(line, len, SERIAL_END_PREFIX))
            out->end = parse_end_status(line + strlen(SERIAL_END_PREFIX),
                                        len - strlen(SERIAL_END_PREFIX));
        return;
    }
    prefix = guest_prefix_len(line, len, &out->domid);
    if (prefix) {
        out->kind = LINE_GUEST;
        out->text = line + prefix;
        out->len = len - prefix;
        return;
    }
    out->kind = LINE_OTHER;
    out->text = line;
    out->len = len;
}

void serial_splitter_init(struct serial_splitter *s, serial_line_fn on_line, void *ctx)
{
    s->len = 0;
    s->on_line = on_line;
    s->ctx = ctx;
}

void serial_feed(struct serial_splitter *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            s->on_line(s->ctx, s->buf, s->len);
            s->len = 0;
            continue;
        }
        if (s->len == sizeof(s->buf)) {
            s->on_line(s->ctx, s->buf, s->len);
            s->len = 0;
        }
        s->buf[s->len++] = data[i];
    }
}

void serial_flush(struct serial_splitter *s)
{
    if (s->len > 0)
        s->on_line(s->ctx, s->buf, s->len);
    s->len = 0;
}
