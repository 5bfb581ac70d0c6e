/* store.c (service-domain tool): wisp-agent's xenstore connection over /dev/xen/xenbus: requests, transactions, one watch. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

/* A received message, its payload NUL-terminated. */
struct message {
    struct xsd_sockmsg hdr;
    char payload[XENSTORE_PAYLOAD_MAX + 1];
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_open(struct store *s, const char *device, int reply_timeout_ms)
{
    memset(s, 0, sizeof(*s));
    s->reply_timeout_ms = reply_timeout_ms;
    s->next_req_id = 1;
    s->fd = open(device, O_RDWR | O_CLOEXEC);
    return s->fd < 0 ? -errno : 0;
}

/* Frames the next whole message into *m, reading until deadline. 1: a message; 0: time ran out. */
static int receive(struct store *s, struct message *m, int64_t deadline)
{
    int len;

    while ((len = xs_message_length(s->in, s->in_len)) == 0) {
        struct pollfd p = { .fd = s->fd, .events = POLLIN };
        int64_t left = deadline - now_ms();
        /* At least one look, so a deadline of now still takes what is already there. */
        int ready = poll(&p, 1, left > 0 ? (int)left : 0);

        if (ready < 0 && errno != EINTR)
            return -XEN_EIO;
        if (ready == 0)
            return 0;
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = read(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            return -XEN_EIO;
        if (n > 0)
            s->in_len += (size_t)n;
    }
    if (len < 0)
        return -XEN_EIO;
    memcpy(&m->hdr, s->in, sizeof(m->hdr));
    memcpy(m->payload, s->in + sizeof(m->hdr), m->hdr.len);
    m->payload[m->hdr.len] = '\0';
    s->in_len -= (size_t)len;
    memmove(s->in, s->in + len, s->in_len);
    return 1;
}

/* Counts a watch event when it carries our token; others are not ours. */
static void take_event(struct store *s, const struct message *m)
{
    const char *path, *token;
    size_t path_len, token_len;

    if (xs_watch_event(m->payload, m->hdr.len, &path, &path_len, &token, &token_len) &&
        token_len == strlen(STORE_WATCH_TOKEN) &&
        memcmp(token, STORE_WATCH_TOKEN, token_len) == 0)
        s->events++;
}

/* One request in transaction tx and its reply (events that come first are counted). */
static int request(struct store *s, uint32_t tx, uint32_t type, const char *const *words,
                   unsigned int n, struct message *reply)
{
    static uint8_t out[XS_MSG_MAX];
    uint32_t req_id = s->next_req_id++;
    int len = xs_build_request(out, sizeof(out), type, req_id, words, n);

    if (len < 0)
        return len;
    struct xsd_sockmsg hdr;
    memcpy(&hdr, out, sizeof(hdr));
    hdr.tx_id = tx;
    memcpy(out, &hdr, sizeof(hdr));
    /* The device takes a message only whole, so it goes in one write. */
    if (write(s->fd, out, (size_t)len) != len)
        return -XEN_EIO;

    int64_t deadline = now_ms() + s->reply_timeout_ms;
    for (;;) {
        int got = receive(s, reply, deadline);
        if (got <= 0)
            return got < 0 ? got : -XEN_EIO;
        if (reply->hdr.type == XS_WATCH_EVENT) {
            take_event(s, reply);
            continue;
        }
        if (reply->hdr.req_id != req_id)
            continue;   /* the late reply to a request that timed out */
        break;
    }
    int err = xs_reply_error(&reply->hdr, reply->payload, type);
    return err == XS_REPLY_UNEXPECTED ? -XEN_EIO : -err;
}

static struct message reply;   /* one request at a time: the agent is single-threaded */

int store_read(struct store *s, uint32_t tx, const char *path, char *buf, size_t cap)
{
    const char *words[] = { path };
    int err = request(s, tx, XS_READ, words, 1, &reply);

    if (!err)
        snprintf(buf, cap, "%s", reply.payload);
    return err;
}

int store_write(struct store *s, uint32_t tx, const char *path, const char *value)
{
    const char *words[] = { path, value };

    return request(s, tx, XS_WRITE, words, 2, &reply);
}

int store_mkdir(struct store *s, uint32_t tx, const char *path)
{
    const char *words[] = { path };

    return request(s, tx, XS_MKDIR, words, 1, &reply);
}

int store_rm(struct store *s, uint32_t tx, const char *path)
{
    const char *words[] = { path };

    return request(s, tx, XS_RM, words, 1, &reply);
}

int store_set_perms(struct store *s, uint32_t tx, const char *path, uint16_t owner,
                    uint16_t reader)
{
    char own[8], read[8];
    const char *words[] = { path, own, read };

    snprintf(own, sizeof(own), "n%u", owner);
    snprintf(read, sizeof(read), "r%u", reader);
    return request(s, tx, XS_SET_PERMS, words, 3, &reply);
}

int store_tx_start(struct store *s, uint32_t *tx)
{
    /* TRANSACTION_START's payload is one empty string; xs_build_request wants a non-empty first word. */
    static uint8_t out[sizeof(struct xsd_sockmsg) + 1];
    struct xsd_sockmsg hdr = { .type = XS_TRANSACTION_START, .req_id = s->next_req_id++,
                               .len = 1 };
    int64_t deadline = now_ms() + s->reply_timeout_ms;

    memcpy(out, &hdr, sizeof(hdr));
    out[sizeof(hdr)] = '\0';
    if (write(s->fd, out, sizeof(out)) != (ssize_t)sizeof(out))
        return -XEN_EIO;
    for (;;) {
        int got = receive(s, &reply, deadline);
        if (got <= 0)
            return got < 0 ? got : -XEN_EIO;
        if (reply.hdr.type == XS_WATCH_EVENT) {
            take_event(s, &reply);
            continue;
        }
        if (reply.hdr.req_id != hdr.req_id)
            continue;   /* the late reply to a request that timed out */
        break;
    }
    int err = xs_reply_error(&reply.hdr, reply.payload, XS_TRANSACTION_START);
    if (err)
        return err == XS_REPLY_UNEXPECTED ? -XEN_EIO : -err;
    char *end;
    unsigned long id = strtoul(reply.payload, &end, 10);
    if (end == reply.payload || *end || id == 0 || id > UINT32_MAX)
        return -XEN_EIO;
    *tx = (uint32_t)id;
    return 0;
}

int store_tx_end(struct store *s, uint32_t tx, bool commit)
{
    const char *words[] = { commit ? "T" : "F" };

    return request(s, tx, XS_TRANSACTION_END, words, 1, &reply);
}

int store_watch(struct store *s, const char *path)
{
    const char *words[] = { path, STORE_WATCH_TOKEN };

    return request(s, STORE_NO_TX, XS_WATCH, words, 2, &reply);
}

int store_wait_event(struct store *s, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;

    while (s->events == 0) {
        int got = receive(s, &reply, deadline);
        if (got <= 0)
            return got;
        if (reply.hdr.type == XS_WATCH_EVENT)
            take_event(s, &reply);
    }
    s->events = 0;   /* one pass of the caller handles every event so far */
    return 1;
}

const char *store_strerror(int err)
{
    const char *name = xs_error_name(err < 0 ? -err : err);

    return name ? name : strerror(err < 0 ? -err : err);
}
