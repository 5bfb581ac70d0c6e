/* console_route.c (pure: hypervisor and host tests): shows each guest console line once (console_route.h). */
#include "console_route.h"
#include "console_line.h"

void console_route_io_begin(struct console_route *r, uint64_t count)
{
    if (r->ring_used)
        return;
    r->echo_len = 0;
    r->echo_pos = 0;
    r->echo_valid = count <= CONSOLE_ROUTE_ECHO_MAX;
}

static void log_flush(struct console_route *r, const struct console_sink *s)
{
    r->log[r->log_len] = '\0';
    s->log(s->ctx, r->log);
    r->log_len = 0;
}

/*
 * Rule 2. Only printable ASCII reaches the log line; anything else becomes
 * '.', so the guest cannot end the line or drive the terminal from here.
 */
static void log_bytes(struct console_route *r, const struct console_sink *s,
                      const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];

        if (c == '\n') {
            log_flush(r, s);
            continue;
        }
        r->log[r->log_len++] = console_byte_printable(c) ? c : '.';
        if (r->log_len == CONSOLE_ROUTE_LOG_MAX)
            log_flush(r, s);
    }
}

void console_route_io(struct console_route *r, const struct console_sink *s,
                      const char *buf, size_t len)
{
    if (r->ring_used) {
        if (s->log_enabled)
            log_bytes(r, s, buf, len);
        return;
    }
    s->show(s->ctx, buf, len);                          /* rule 1 */
    if (!r->echo_valid)
        return;
    if (len > (size_t)(CONSOLE_ROUTE_ECHO_MAX - r->echo_len)) {
        r->echo_valid = false;                          /* a caller that lied about count */
        r->echo_len = 0;
        return;
    }
    memcpy(r->echo + r->echo_len, buf, len);
    r->echo_len = (uint16_t)(r->echo_len + len);
}

/* Rule 3: true if c is the next byte of the echo (and so already shown). */
static bool echo_swallows(struct console_route *r, const struct console_sink *s, char c)
{
    if (r->echo_pos == r->echo_len)
        return false;
    if (c == r->echo[r->echo_pos]) {
        r->echo_pos++;
        if (r->echo_pos == r->echo_len)
            r->echo_len = r->echo_pos = 0;              /* the whole copy arrived */
        return true;
    }
    s->show(s->ctx, r->echo, r->echo_pos);             /* a different message after all */
    r->echo_len = r->echo_pos = 0;
    return false;
}

void console_route_ring(struct console_route *r, const struct console_sink *s,
                        const char *buf, size_t len)
{
    size_t run = 0;         /* start of the bytes not yet shown */

    if (!len)
        return;
    if (!r->ring_used) {
        r->ring_used = true;
        if (!r->echo_valid)
            r->echo_len = 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (r->echo_pos == r->echo_len) {
            r->echo_len = r->echo_pos = 0;
            continue;                                   /* the common case: shown below */
        }
        if (i > run)
            s->show(s->ctx, buf + run, i - run);
        run = echo_swallows(r, s, buf[i]) ? i + 1 : i;
    }
    if (len > run)
        s->show(s->ctx, buf + run, len - run);
}
