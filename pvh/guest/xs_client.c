/* xs_client.c (guest): a xenstore client over the domain's own store ring (HVM_PARAM_STORE_PFN/EVTCHN), for in-repo test guests. */
#include "xs_client.h"
#include "xenev.h"
#include "xen/hvm_params.h"
#include "xen/sched.h"

#define EVENT_QUEUE 16
#define EVENT_MAX 256      /* bytes of "path\0token\0" kept per event */

static volatile struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static uint32_t next_req_id = 1;
static bool events_ready;
size_t xs_split_writes;

/* Watch events that came while a reply was awaited, oldest first. */
static struct {
    char data[EVENT_MAX];
    size_t len;
} events[EVENT_QUEUE];
static unsigned nr_events, dropped;

/* One whole incoming message (header + payload). */
static struct xsd_sockmsg in_hdr;
static char in_payload[XENSTORE_PAYLOAD_MAX + 1];

long xs_open(void)
{
    uint64_t pfn, evtchn;
    long rc;

    if (!events_ready) {
        rc = xenev_init();
        if (rc)
            return rc;
        events_ready = true;
    }
    rc = hvm_param_get(HVM_PARAM_STORE_PFN, &pfn);
    if (!rc)
        rc = hvm_param_get(HVM_PARAM_STORE_EVTCHN, &evtchn);
    if (rc)
        return rc;
    if (!pfn || pfn >= (1ull << 20))      /* must be inside the identity-mapped 4 GiB */
        return -XEN_EINVAL;
    ring = (volatile struct xenstore_domain_interface *)(uintptr_t)(pfn * PAGE_SIZE);
    port = (evtchn_port_t)evtchn;
    return 0;
}

struct xenstore_domain_interface *xs_ring_page(void)
{
    return (struct xenstore_domain_interface *)ring;
}

evtchn_port_t xs_store_port(void)
{
    return port;
}

/* Sleeps until the server signals or the deadline passes; false on timeout. */
static bool wait_for_server(uint64_t deadline)
{
    if (xenev_now() >= deadline)
        return false;
    (void)evtchn_poll(port, deadline);
    (void)evtchn_take(port);
    return true;
}

/* Ring protocol: read the peer's index with acquire, publish ours with release. */
static long write_bytes(const void *data, size_t n, uint64_t deadline)
{
    const char *p = data;

    while (n) {
        XENSTORE_RING_IDX cons = __atomic_load_n(&ring->req_cons, __ATOMIC_ACQUIRE);
        XENSTORE_RING_IDX prod = ring->req_prod;
        size_t room = XENSTORE_RING_SIZE - (size_t)(prod - cons);

        if (prod - cons > XENSTORE_RING_SIZE)
            return -XEN_EIO;
        if (!room) {
            if (!wait_for_server(deadline))
                return -XEN_ETIMEDOUT;
            continue;
        }
        size_t chunk = n < room ? n : room;

        if (xs_split_writes && chunk > xs_split_writes)
            chunk = xs_split_writes;
        for (size_t i = 0; i < chunk; i++)
            ring->req[MASK_XENSTORE_IDX(prod + i)] = p[i];
        __atomic_store_n(&ring->req_prod, prod + (XENSTORE_RING_IDX)chunk, __ATOMIC_RELEASE);
        (void)evtchn_send(port);
        if (xs_split_writes)
            (void)hv_sched_op(SCHEDOP_yield, 0);
        p += chunk;
        n -= chunk;
    }
    return 0;
}

static long read_bytes(void *data, size_t n, uint64_t deadline)
{
    char *p = data;

    while (n) {
        XENSTORE_RING_IDX prod = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE);
        XENSTORE_RING_IDX cons = ring->rsp_cons;
        size_t avail = (size_t)(prod - cons);

        if (avail > XENSTORE_RING_SIZE)
            return -XEN_EIO;
        if (!avail) {
            if (!wait_for_server(deadline))
                return -XEN_ETIMEDOUT;
            continue;
        }
        size_t chunk = n < avail ? n : avail;

        for (size_t i = 0; i < chunk; i++)
            p[i] = ring->rsp[MASK_XENSTORE_IDX(cons + i)];
        __atomic_store_n(&ring->rsp_cons, cons + (XENSTORE_RING_IDX)chunk, __ATOMIC_RELEASE);
        (void)evtchn_send(port);     /* the server may be waiting for room */
        p += chunk;
        n -= chunk;
    }
    return 0;
}

static long read_message(uint64_t deadline)
{
    long rc = read_bytes(&in_hdr, sizeof(in_hdr), deadline);

    if (rc)
        return rc;
    if (in_hdr.len > XENSTORE_PAYLOAD_MAX)
        return -XEN_EIO;
    rc = read_bytes(in_payload, in_hdr.len, deadline);
    in_payload[rc ? 0 : in_hdr.len] = '\0';
    return rc;
}

static void queue_event(void)
{
    if (nr_events == EVENT_QUEUE) {
        dropped++;
        return;
    }
    events[nr_events].len = in_hdr.len < EVENT_MAX ? in_hdr.len : EVENT_MAX;
    memcpy(events[nr_events].data, in_payload, events[nr_events].len);
    nr_events++;
}

static long error_number(const char *name)
{
#define XS_CLIENT_ERR(n, v) if (strcmp(name, #n) == 0) return -(v);
    XSD_ERROR_LIST(XS_CLIENT_ERR)
#undef XS_CLIENT_ERR
    return -XEN_EINVAL;
}

long xs_request(uint32_t type, uint32_t tx, const void *payload, size_t len, char *reply,
                size_t max, size_t *reply_len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = next_req_id++, .tx_id = tx,
                             .len = (uint32_t)len };
    uint64_t deadline = xenev_now() + XS_TIMEOUT_NS;
    long rc;

    if (!ring)
        return -XEN_ENOSYS;
    rc = write_bytes(&h, sizeof(h), deadline);
    if (!rc)
        rc = write_bytes(payload, len, deadline);
    while (!rc) {
        rc = read_message(deadline);
        if (rc)
            break;
        if (in_hdr.type == XS_WATCH_EVENT) {
            queue_event();
            continue;
        }
        if (in_hdr.req_id != h.req_id)
            return -XEN_EIO;
        if (in_hdr.type == XS_ERROR)
            return error_number(in_payload);
        if (in_hdr.type != type)
            return -XEN_EIO;
        if (reply && max) {
            size_t n = in_hdr.len < max - 1 ? in_hdr.len : max - 1;

            memcpy(reply, in_payload, n);
            reply[n] = '\0';
        }
        if (reply_len)
            *reply_len = in_hdr.len;
        return 0;
    }
    return rc;
}

/* Payload builder: strings joined with their NULs; the last NUL is dropped when !final_nul. */
static size_t join(char *out, size_t max, const char *const *parts, unsigned count,
                   bool final_nul)
{
    size_t len = 0;

    for (unsigned i = 0; i < count; i++) {
        size_t n = strlen(parts[i]) + 1;

        if (len + n > max)
            return (size_t)-1;
        memcpy(out + len, parts[i], n);
        len += n;
    }
    return final_nul || !len ? len : len - 1;
}

static char out_payload[XENSTORE_PAYLOAD_MAX];

static long simple(uint32_t type, uint32_t tx, const char *const *parts, unsigned count,
                   bool final_nul, char *reply, size_t max, size_t *reply_len)
{
    size_t len = join(out_payload, sizeof(out_payload), parts, count, final_nul);

    if (len == (size_t)-1)
        return -XEN_E2BIG;
    return xs_request(type, tx, out_payload, len, reply, max, reply_len);
}

long xs_read(uint32_t tx, const char *path, char *buf, size_t max)
{
    size_t len = 0;
    long rc = simple(XS_READ, tx, &path, 1, true, buf, max, &len);

    return rc ? rc : (long)len;
}

long xs_write(uint32_t tx, const char *path, const char *value)
{
    const char *parts[2] = { path, value };

    return simple(XS_WRITE, tx, parts, 2, false, NULL, 0, NULL);
}

long xs_mkdir(uint32_t tx, const char *path)
{
    return simple(XS_MKDIR, tx, &path, 1, true, NULL, 0, NULL);
}

long xs_rm(uint32_t tx, const char *path)
{
    return simple(XS_RM, tx, &path, 1, true, NULL, 0, NULL);
}

long xs_directory(uint32_t tx, const char *path, char *buf, size_t max)
{
    size_t len = 0;
    long rc = simple(XS_DIRECTORY, tx, &path, 1, true, buf, max, &len);

    return rc ? rc : (long)len;
}

long xs_get_perms(uint32_t tx, const char *path, char *buf, size_t max)
{
    size_t len = 0;
    long rc = simple(XS_GET_PERMS, tx, &path, 1, true, buf, max, &len);

    return rc ? rc : (long)len;
}

long xs_set_perms(uint32_t tx, const char *path, const char *const *perms, unsigned count)
{
    const char *parts[8];

    if (count + 1 > ARRAY_SIZE(parts))
        return -XEN_E2BIG;
    parts[0] = path;
    for (unsigned i = 0; i < count; i++)
        parts[i + 1] = perms[i];
    return simple(XS_SET_PERMS, tx, parts, count + 1, true, NULL, 0, NULL);
}

long xs_get_domain_path(uint32_t domid, char *buf, size_t max)
{
    char num[12];
    const char *p = num;
    int i = (int)sizeof(num) - 1;

    num[i] = '\0';
    do {
        num[--i] = (char)('0' + domid % 10);
        domid /= 10;
    } while (domid);
    p = &num[i];
    return simple(XS_GET_DOMAIN_PATH, 0, &p, 1, true, buf, max, NULL);
}

long xs_watch(const char *path, const char *token)
{
    const char *parts[2] = { path, token };

    return simple(XS_WATCH, 0, parts, 2, true, NULL, 0, NULL);
}

long xs_unwatch(const char *path, const char *token)
{
    const char *parts[2] = { path, token };

    return simple(XS_UNWATCH, 0, parts, 2, true, NULL, 0, NULL);
}

long xs_transaction_start(uint32_t *tx)
{
    static const char *const empty = "";
    char reply[16];
    long rc = simple(XS_TRANSACTION_START, 0, &empty, 1, true, reply, sizeof(reply), NULL);
    uint32_t id = 0;

    if (rc)
        return rc;
    for (const char *p = reply; *p >= '0' && *p <= '9'; p++)
        id = id * 10 + (uint32_t)(*p - '0');
    *tx = id;
    return id ? 0 : -XEN_EIO;
}

long xs_transaction_end(uint32_t tx, bool commit)
{
    const char *flag = commit ? "T" : "F";

    return simple(XS_TRANSACTION_END, tx, &flag, 1, true, NULL, 0, NULL);
}

/* Copies NUL-terminated s into out (max bytes), truncating. */
static void copy_str(char *out, size_t max, const char *s, size_t len)
{
    size_t n = strnlen(s, len);

    if (!max)
        return;
    n = n < max - 1 ? n : max - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static void take_event(char *path, size_t path_max, char *token, size_t token_max)
{
    const char *d = events[0].data;
    size_t len = events[0].len, plen = strnlen(d, len);

    copy_str(path, path_max, d, len);
    copy_str(token, token_max, plen < len ? d + plen + 1 : "", plen < len ? len - plen - 1 : 0);
    nr_events--;
    memmove(events, events + 1, nr_events * sizeof(events[0]));
}

long xs_wait_watch(char *path, size_t path_max, char *token, size_t token_max,
                   uint64_t timeout_ns)
{
    uint64_t deadline = xenev_now() + timeout_ns;

    if (!ring)
        return -XEN_ENOSYS;
    while (!nr_events) {
        long rc = read_message(deadline);

        if (rc)
            return rc;
        if (in_hdr.type != XS_WATCH_EVENT)
            return -XEN_EIO;     /* no request is outstanding: only events may come */
        queue_event();
    }
    take_event(path, path_max, token, token_max);
    return 0;
}

unsigned xs_dropped_events(void)
{
    return dropped;
}
