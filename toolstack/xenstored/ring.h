/* ring.h (xenstore domain, host tests): byte transport over a guest's xenstore ring page, with every guest-written index treated as hostile. */
#ifndef WISP_XENSTORED_RING_H
#define WISP_XENSTORED_RING_H

#include "env.h"
#include "xen/xenstore.h"

/*
 * The server's side of one store ring. The page is shared with the guest,
 * which may rewrite any byte of it at any time, so the indices the server
 * owns (req_cons, rsp_prod) live here and are only ever written to the page,
 * never read back; the guest's indices (req_prod, rsp_cons) are read once per
 * call and checked before use. A guest whose indices are impossible (more
 * than a ring apart) breaks its connection for good, as Xen's xenstored does.
 *
 * Owned by the single xenstored thread; no locking.
 */
struct xs_ring {
    struct xenstore_domain_interface *page;  /* guest-shared */
    XENSTORE_RING_IDX req_cons;  /* our copy: requests consumed */
    XENSTORE_RING_IDX rsp_prod;  /* our copy: reply bytes produced */
    bool broken;                 /* impossible indices seen; nothing moves any more */
};

/*
 * Starts serving page: takes the server's indices from it (a freshly built
 * domain's page is zero; a guest that lies here only garbles its own stream),
 * advertises XENSTORE_SERVER_FEATURE_ERROR and clears `error`.
 */
void xs_ring_attach(struct xs_ring *r, struct xenstore_domain_interface *page);

/*
 * Copies up to space request bytes into buf and hands the ring space back
 * to the guest. Returns the bytes copied (0 when none are waiting), or
 * -XEN_EIO when the ring is (now) broken. Copies at most one ring's worth.
 */
int __must_check xs_ring_read(struct xs_ring *r, void *buf, size_t space);

/*
 * Copies up to len reply bytes into the ring. Returns the bytes written (0
 * when the guest has not read enough to make room), or -XEN_EIO when the
 * ring is (now) broken.
 */
int __must_check xs_ring_write(struct xs_ring *r, const void *data, size_t len);

/* Request bytes waiting (0 when broken or impossible). */
size_t xs_ring_pending(struct xs_ring *r);

#endif
