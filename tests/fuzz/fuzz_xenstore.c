/* fuzz_xenstore.c (host fuzzer): the xenstore engine fed byte streams from four clients at once. */
#include "fuzz.h"
#include "../../toolstack/xenstored/engine.c"   /* one translation unit: tests/fuzz/meson.build */

/*
 * Connection 0 is privileged (domain 0), 1..3 are guests 1..3. The input is
 * a list of records; each picks a connection and either feeds it raw bytes
 * (any framing), feeds it one well-framed message with fuzzed type, tx_id
 * and payload (so the fuzzer reaches the handlers), drains its output,
 * closes and reopens it, or calls xenstored's own API.
 * Invariants: no crash or sanitizer report; every reply is a whole message
 * of at most XENSTORE_PAYLOAD_MAX; queued output per connection and the
 * engine's memory stays under MEMORY_BOUND (or, with a tiny heap, every
 * allocation failure is survived); the bookkeeping passes CONTROL "check";
 * afterwards a fresh connection still gets correct answers; freeing the
 * engine returns every byte.
 */
#define NCONN 4
#define MEMORY_BOUND (48u << 20)   /* what an input may make the engine hold (checked) */
#define TIGHT_CAP (256u << 10)     /* a heap this small makes allocations fail (ENOMEM paths) */
#define OUTPUT_BOUND ((20 + 64 + 1) * (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX))

static size_t live_bytes, heap_cap;

void *xs_alloc(size_t size)
{
    size_t *p;

    if (size > heap_cap || live_bytes + size > heap_cap)
        return NULL;
    p = malloc(sizeof(size_t) + size);
    if (!p)
        abort();
    *p = size;
    live_bytes += size;
    return p + 1;
}

void xs_free(void *ptr)
{
    size_t *p = ptr;

    if (p) {
        live_bytes -= p[-1];
        free(p - 1);
    }
}

static int fake_introduce(void *ctx, uint32_t domid, uint64_t gfn, uint32_t port)
{
    return domid & 1 ? 0 : -XEN_EEXIST;
}

static int fake_release(void *ctx, uint32_t domid)
{
    return domid & 2 ? 0 : -XEN_ENOENT;
}

static bool fake_is_introduced(void *ctx, uint32_t domid)
{
    return domid & 1;
}

static const struct xs_hooks fake_hooks = { fake_introduce, fake_release, fake_is_introduced };

struct client {
    struct xs_conn *c;
    size_t partial;   /* bytes of the current output message already taken */
    struct xsd_sockmsg h;
    size_t hbytes;
};

static struct client clients[NCONN];

static struct xs_conn *open_conn(struct xs_engine *e, unsigned i)
{
    memset(&clients[i], 0, sizeof(clients[i]));
    clients[i].c = xs_conn_new(e, i, i == 0, &clients[i]);
    FUZZ_CHECK(clients[i].c != NULL);
    return clients[i].c;
}

/* Takes output in pieces of up to max and checks that it frames as whole, bounded messages. */
static void drain(struct client *cl, size_t max)
{
    uint8_t buf[512];

    while (max) {
        size_t n = xs_conn_output(cl->c, buf, max < sizeof(buf) ? max : sizeof(buf)), i = 0;

        if (!n)
            return;
        max -= n < max ? n : max;
        while (i < n) {
            if (cl->hbytes < sizeof(cl->h)) {
                ((uint8_t *)&cl->h)[cl->hbytes++] = buf[i++];
                if (cl->hbytes == sizeof(cl->h)) {
                    FUZZ_CHECK(cl->h.len <= XENSTORE_PAYLOAD_MAX);
                    FUZZ_CHECK(cl->h.type == XS_WATCH_EVENT || cl->h.type == XS_ERROR ||
                               cl->h.type < XS_TYPE_COUNT);
                    cl->partial = 0;
                }
            } else {
                size_t take = cl->h.len - cl->partial;

                take = take < n - i ? take : n - i;
                cl->partial += take;
                i += take;
            }
            if (cl->hbytes == sizeof(cl->h) && cl->partial == cl->h.len)
                cl->hbytes = 0;
        }
    }
}

static void send_msg(struct xs_engine *e, struct xs_conn *c, uint32_t type, uint32_t tx,
                     const void *payload, size_t len)
{
    uint8_t buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    struct xsd_sockmsg h = { type, 0x5a5a, tx, (uint32_t)len };

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), payload, len);
    (void)xs_conn_feed(e, c, buf, sizeof(h) + len);
}

/* The next whole message on c's output, skipping watch events. */
static bool next_reply(struct xs_conn *c, struct xsd_sockmsg *h, char *body)
{
    while (xs_conn_output(c, h, sizeof(*h)) == sizeof(*h)) {
        FUZZ_CHECK(h->len <= XENSTORE_PAYLOAD_MAX);
        FUZZ_CHECK(xs_conn_output(c, body, h->len) == h->len);
        body[h->len] = 0;
        if (h->type != XS_WATCH_EVENT)
            return true;
    }
    return false;
}

static void check_consistent(struct xs_engine *e)
{
    struct xs_conn *c = xs_conn_new(e, 0, true, NULL);
    struct xsd_sockmsg h;
    static char body[XENSTORE_PAYLOAD_MAX + 1];

    if (!c)
        return;   /* memory at the bound */
    send_msg(e, c, XS_CONTROL, 0, "check", 6);
    if (!next_reply(c, &h, body))
        FUZZ_CHECK(xs_conn_broken(c));   /* no memory even for the error */
    else if (h.type == XS_ERROR)
        FUZZ_CHECK(strcmp(body, "ENOMEM") == 0);
    else
        FUZZ_CHECK(h.type == XS_CONTROL && strcmp(body, "OK") == 0);
    xs_conn_free(e, c);
}

/* After the garbage: a fresh privileged client writes and reads back a node. */
static void check_still_answers(struct xs_engine *e)
{
    struct xs_conn *c = xs_conn_new(e, 0, true, NULL);
    static char body[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg h;

    if (!c)
        return;
    send_msg(e, c, XS_WRITE, 0, "/fuzz-final\0yes", 15);
    if (!next_reply(c, &h, body) || h.type == XS_ERROR) {
        FUZZ_CHECK(xs_conn_broken(c) || strcmp(body, "ENOMEM") == 0);
    } else {
        send_msg(e, c, XS_READ, 0, "/fuzz-final", 12);
        FUZZ_CHECK(next_reply(c, &h, body));
        if (h.type != XS_ERROR) {
            FUZZ_CHECK(h.type == XS_READ && h.len == 3 && memcmp(body, "yes", 3) == 0);
            FUZZ_CHECK(h.req_id == 0x5a5a);
        }
    }
    xs_conn_free(e, c);
}

static const char *const local_paths[] = {
    "/", "/local", "/local/domain/1", "/local/domain/2/device", "/a", "/a/b", "@x", "bad//",
};

static void local_op(struct xs_engine *e, struct fuzz_in *in)
{
    uint8_t op = fuzz_u8(in);
    const char *path = local_paths[fuzz_u8(in) % (sizeof(local_paths) / sizeof(local_paths[0]))];
    struct xs_perm p[3];
    char buf[8];
    size_t len;
    unsigned i;

    switch (op % 7) {
    case 0: (void)xs_local_write(e, path, "v", 1); break;
    case 1: (void)xs_local_mkdir(e, path); break;
    case 2: (void)xs_local_rm(e, path); break;
    case 3:
        for (i = 0; i < 3; i++) {
            p[i].domid = fuzz_u8(in) % 5;
            p[i].access = fuzz_u8(in) % 5;   /* 4 is invalid */
        }
        (void)xs_local_set_perms(e, path, p, 1 + op / 7 % 3);
        break;
    case 4: (void)xs_local_read(e, path, buf, sizeof(buf), &len); break;
    case 5: xs_fire_special(e, op & 8 ? "@introduceDomain" : "@releaseDomain"); break;
    default: xs_domain_gone(e, fuzz_u8(in) % 5); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size, 0 };
    struct xs_limits limits;
    struct xs_engine *e;
    unsigned i, records = 0;
    uint8_t mode;

    live_bytes = 0;
    /* Small quotas, so the fuzzer reaches every limit with short inputs. */
    xs_limits_default(&limits);
    limits.nodes_per_domain = 40;
    limits.watches_per_domain = 8;
    limits.transactions_per_domain = 3;
    limits.outstanding_per_domain = 4;
    limits.nodes_per_transaction = 64;
    limits.events_per_conn = 8;
    mode = fuzz_u8(&in);
    /* Either a heap so small that allocations fail, or one so large that only a leak or an
     * unbounded structure could pass MEMORY_BOUND. */
    heap_cap = mode & 2 ? TIGHT_CAP : (size_t)1 << 30;
    e = xs_engine_new(mode & 1 ? &limits : NULL, &fake_hooks, NULL);
    FUZZ_CHECK(e != NULL);
    for (i = 0; i < NCONN; i++)
        open_conn(e, i);

    while (fuzz_left(&in) && records++ < 2000) {
        uint8_t sel = fuzz_u8(&in);
        struct client *cl = &clients[sel % NCONN];
        uint16_t len = fuzz_u16(&in) % (XENSTORE_PAYLOAD_MAX + 64);
        uint8_t *chunk;

        switch (sel / NCONN % 6) {
        case 0: { /* raw bytes, any framing */
            size_t take = len % 64 < fuzz_left(&in) ? len % 64 : fuzz_left(&in);

            chunk = fuzz_heap_copy(in.data + in.pos, take);
            (void)xs_conn_feed(e, cl->c, chunk, take);
            in.pos += take;
            free(chunk);
            break;
        }
        case 1:
        case 2: { /* one framed message */
            uint32_t type = fuzz_u8(&in) % (XS_TYPE_COUNT + 2);
            uint32_t tx = fuzz_u8(&in) % 4;
            size_t take = len % 96 < fuzz_left(&in) ? len % 96 : fuzz_left(&in);

            send_msg(e, cl->c, type, tx, in.data + in.pos, take);
            in.pos += take;
            break;
        }
        case 3:
            drain(cl, len);
            break;
        case 4:
            if (sel & 0x80) {
                xs_conn_free(e, cl->c);
                open_conn(e, (unsigned)(cl - clients));
            } else {
                local_op(e, &in);
            }
            break;
        default:
            drain(cl, SIZE_MAX);
            break;
        }
        for (i = 0; i < NCONN; i++)
            FUZZ_CHECK(xs_conn_output_pending(clients[i].c) <= OUTPUT_BOUND);
        FUZZ_CHECK(live_bytes <= MEMORY_BOUND);
        if (records % 64 == 0)
            check_consistent(e);
    }
    check_consistent(e);
    check_still_answers(e);
    xs_engine_free(e);
    FUZZ_CHECK(live_bytes == 0);
    return 0;
}
