/* console_attach.c (host tool): `wisp console NAME|ID`: a running Wisp's domain console on the terminal, Ctrl-] to leave (docs/toolstack.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "console_attach.h"
#include "exit_codes.h"
#include "proc.h"
#include "terminal.h"
#include "wire.h"

#define KEYS_MAX 1024           /* WISP_CONSOLE_INPUT_MAX: one request's worth */
#define LEAVE_WAIT_MS 10000     /* for the last keys to reach the guest */

struct session {
    int fd;
    unsigned domid;
    char in[2 * WIRE_LINE_MAX];     /* from the broker, not yet a whole line */
    size_t in_len;
    char keys[KEYS_MAX];            /* typed, not yet sent */
    size_t keys_len;
    bool waiting;                   /* a console_input is with the agent */
};

static bool send_line(int fd, struct wire_out *o)
{
    int len = wire_end(o);

    return len > 0 && write(fd, o->buf, (size_t)len) == len;
}

/* The keys typed so far, as one console_input request (its reply says how many were taken). */
static bool send_keys(struct session *s)
{
    static char b64[KEYS_MAX / 3 * 4 + 8];
    struct wire_out o;

    if (s->waiting || !s->keys_len)
        return true;
    wire_b64_encode(s->keys, s->keys_len, b64);
    wire_begin(&o, "req");
    wire_add(&o, "id", "keys");
    wire_add(&o, "op", "console_input");
    wire_addf(&o, "domid", "%u", s->domid);
    wire_add(&o, "data", b64);
    s->waiting = send_line(s->fd, &o);
    return s->waiting;
}

static void on_message(struct session *s, char *line)
{
    static char text[WIRE_LINE_MAX];
    struct wire_msg m;
    uint64_t taken = 0;

    if (wire_parse(line, &m))
        return;
    if (!strcmp(m.kind, "cons")) {
        long n = wire_b64_decode(wire_get(&m, "data") ? wire_get(&m, "data") : "", text,
                                 sizeof(text));
        if (n > 0)
            (void)!write(1, text, (size_t)n);
    } else if (!strcmp(m.kind, "reply")) {
        /* The ring takes what it has room for; the rest goes again. */
        if (wire_get_uint(&m, "taken", s->keys_len, &taken) == 0) {
            memmove(s->keys, s->keys + taken, s->keys_len - taken);
            s->keys_len -= taken;
        } else {
            const char *msg = wire_get(&m, "message");

            fprintf(stderr, "\r\nwisp: console input refused: %s\r\n", msg ? msg : "?");
            s->keys_len = 0;
        }
        s->waiting = false;
    }
}

/* Broker -> terminal; false when the broker went away. */
static bool from_broker(struct session *s)
{
    ssize_t got = read(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len);
    char *nl;

    if (got <= 0)
        return false;
    s->in_len += (size_t)got;
    while ((nl = memchr(s->in, '\n', s->in_len))) {
        size_t n = (size_t)(nl - s->in);

        *nl = '\0';
        on_message(s, s->in);
        memmove(s->in, nl + 1, s->in_len - n - 1);
        s->in_len -= n + 1;
    }
    if (s->in_len == sizeof(s->in))
        s->in_len = 0;          /* no newline in 8 KiB: not the broker talking */
    return true;
}

enum keys_state { KEYS_MORE, KEYS_END, KEYS_ESCAPE };

/* Terminal (or pipe) -> keys, up to Ctrl-]; typing faster than the ring drains loses keys. */
static enum keys_state from_terminal(struct session *s)
{
    char buf[256];
    ssize_t got = read(0, buf, sizeof(buf));

    if (got <= 0)
        return KEYS_END;
    for (ssize_t i = 0; i < got; i++) {
        if (buf[i] == TERMINAL_ESCAPE_BYTE)
            return KEYS_ESCAPE;
        if (s->keys_len < sizeof(s->keys))
            s->keys[s->keys_len++] = buf[i];
    }
    return KEYS_MORE;
}

/* What was typed before Ctrl-] goes in before we leave (each send waits for the last's reply). */
static void deliver_rest(struct session *s)
{
    long long deadline = monotonic_ms() + LEAVE_WAIT_MS;

    while ((s->keys_len || s->waiting) && monotonic_ms() < deadline) {
        struct pollfd p = { .fd = s->fd, .events = POLLIN };

        if (!send_keys(s) || poll(&p, 1, 100) < 0 || (p.revents && !from_broker(s)))
            return;
    }
}

static int attach(struct session *s, const char *name)
{
    char buf[WIRE_LINE_MAX];
    struct client_conn *c;
    struct wire_out req;
    struct wire_msg reply;
    bool tty = isatty(0), stdin_open = true;
    int rc = client_open(&c);

    if (rc)
        return rc;
    wire_begin(&req, "req");
    wire_add(&req, "id", "console");
    wire_add(&req, "op", "console");
    wire_add(&req, "name", name);
    if ((rc = client_exchange(c, &req, NULL, NULL, &reply, buf, sizeof(buf))) ||
        (rc = client_judge("console", &reply))) {
        client_close(c);
        return rc;
    }
    s->fd = client_fd(c);
    if (tty && terminal_enter_raw(0) == 0)
        fprintf(stderr, "wisp: attached to %s; Ctrl-] leaves\r\n", name);
    for (;;) {
        struct pollfd fds[2] = { { .fd = s->fd, .events = POLLIN },
                                 { .fd = stdin_open ? 0 : -1, .events = POLLIN } };

        if (!send_keys(s) || poll(fds, 2, -1) < 0)
            break;
        if (fds[0].revents && !from_broker(s)) {
            fprintf(stderr, "\r\nwisp: the broker went away (is Wisp still up?)\r\n");
            rc = WISP_EXIT_INFRA;
            break;
        }
        if (fds[1].revents) {
            enum keys_state k = from_terminal(s);

            if (k == KEYS_ESCAPE || (k == KEYS_END && tty))
                break;
            stdin_open = k == KEYS_MORE;    /* piped input all sent: stay for the output */
        }
    }
    deliver_rest(s);
    terminal_restore();
    fprintf(stderr, "\nwisp: left %s's console\n", name);
    client_close(c);
    return rc;
}

int cmd_console(int argc, char **argv)
{
    static struct session s;
    char name[64];
    int rc;

    if (argc != 2) {
        fputs("usage: wisp console NAME|ID   (Ctrl-] leaves)\n", stderr);
        return WISP_EXIT_USAGE;
    }
    if ((rc = client_domain(argv[1], &s.domid, name, sizeof(name))))
        return rc;
    return attach(&s, name);
}
