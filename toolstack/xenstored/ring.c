/* ring.c (xenstore domain, host tests): byte transport over a guest's xenstore ring page, with every guest-written index treated as hostile. */
#include "ring.h"

/*
 * Ordering (Xen's xs_wire ring protocol, as io/xs_wire.h and Linux's
 * xenbus_comms.c use it): read the peer's producer with acquire before the
 * data it covers; publish our consumer or producer with release after the
 * data we read or wrote. The page is shared, so every access is atomic.
 */
static XENSTORE_RING_IDX load_guest_index(const XENSTORE_RING_IDX *idx)
{
    return __atomic_load_n(idx, __ATOMIC_ACQUIRE);
}

static void publish_index(XENSTORE_RING_IDX *idx, XENSTORE_RING_IDX val)
{
    __atomic_store_n(idx, val, __ATOMIC_RELEASE);
}

static int ring_break(struct xs_ring *r)
{
    r->broken = true;
    __atomic_store_n(&r->page->error, XENSTORE_ERROR_RINGIDX, __ATOMIC_RELEASE);
    return -XEN_EIO;
}

void xs_ring_attach(struct xs_ring *r, struct xenstore_domain_interface *page)
{
    r->page = page;
    r->req_cons = __atomic_load_n(&page->req_cons, __ATOMIC_RELAXED);
    r->rsp_prod = __atomic_load_n(&page->rsp_prod, __ATOMIC_RELAXED);
    r->broken = false;
    __atomic_store_n(&page->error, XENSTORE_ERROR_NONE, __ATOMIC_RELAXED);
    __atomic_store_n(&page->server_features, XENSTORE_SERVER_FEATURE_ERROR, __ATOMIC_RELEASE);
}

/* Bytes between cons and prod, or -1 when the guest's index puts them more than a ring apart. */
static long ring_fill(XENSTORE_RING_IDX cons, XENSTORE_RING_IDX prod)
{
    XENSTORE_RING_IDX fill = prod - cons;   /* free-running: wraps modulo 2^32 */

    return fill > XENSTORE_RING_SIZE ? -1 : (long)fill;
}

/* Copies n bytes out of ring starting at free-running index idx, across the wrap. */
static void copy_from_ring(void *dst, const char *ring, XENSTORE_RING_IDX idx, size_t n)
{
    size_t off = MASK_XENSTORE_IDX(idx);
    size_t first = n < XENSTORE_RING_SIZE - off ? n : XENSTORE_RING_SIZE - off;

    memcpy(dst, ring + off, first);
    memcpy((char *)dst + first, ring, n - first);
}

static void copy_to_ring(char *ring, XENSTORE_RING_IDX idx, const void *src, size_t n)
{
    size_t off = MASK_XENSTORE_IDX(idx);
    size_t first = n < XENSTORE_RING_SIZE - off ? n : XENSTORE_RING_SIZE - off;

    memcpy(ring + off, src, first);
    memcpy(ring, (const char *)src + first, n - first);
}

size_t xs_ring_pending(struct xs_ring *r)
{
    long fill;

    if (r->broken)
        return 0;
    fill = ring_fill(r->req_cons, load_guest_index(&r->page->req_prod));
    return fill < 0 ? 0 : (size_t)fill;
}

int xs_ring_read(struct xs_ring *r, void *buf, size_t space)
{
    long fill;
    size_t n;

    if (r->broken)
        return -XEN_EIO;
    fill = ring_fill(r->req_cons, load_guest_index(&r->page->req_prod));
    if (fill < 0)
        return ring_break(r);
    n = (size_t)fill < space ? (size_t)fill : space;
    copy_from_ring(buf, r->page->req, r->req_cons, n);
    r->req_cons += (XENSTORE_RING_IDX)n;
    publish_index(&r->page->req_cons, r->req_cons);
    return (int)n;
}

int xs_ring_write(struct xs_ring *r, const void *data, size_t len)
{
    long fill;
    size_t room, n;

    if (r->broken)
        return -XEN_EIO;
    fill = ring_fill(load_guest_index(&r->page->rsp_cons), r->rsp_prod);
    if (fill < 0)
        return ring_break(r);
    room = XENSTORE_RING_SIZE - (size_t)fill;
    n = len < room ? len : room;
    copy_to_ring(r->page->rsp, r->rsp_prod, data, n);
    r->rsp_prod += (XENSTORE_RING_IDX)n;
    publish_index(&r->page->rsp_prod, r->rsp_prod);
    return (int)n;
}
