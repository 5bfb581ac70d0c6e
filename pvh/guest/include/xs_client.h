/* xs_client.h (guest): a xenstore client over the domain's own store ring (HVM_PARAM_STORE_PFN/EVTCHN), for in-repo test guests. */
#ifndef WISP_PVH_GUEST_XS_CLIENT_H
#define WISP_PVH_GUEST_XS_CLIENT_H

#include "guest.h"
#include "xen/event_channel.h"
#include "xen/xenstore.h"

/*
 * One request at a time, synchronous: write it to the ring, notify, wait
 * for its reply. Watch events that arrive meanwhile are queued (a bounded
 * queue; the oldest stay, later ones are dropped and counted) for
 * xs_wait_watch. Every call returns >= 0 on success or -XEN_E*: the errno
 * named by an XS_ERROR reply, -XEN_ETIMEDOUT when no reply came in time,
 * -XEN_EIO for a reply that breaks the protocol. tx is a transaction id or 0.
 * xs_open maps shared_info itself (xenev_init). A timeout in the middle of a
 * reply leaves the stream out of step: a test should treat it as the end.
 */
#define XS_TIMEOUT_NS (30ull * 1000 * 1000 * 1000)

long xs_open(void);
/* The ring page and our store port, for tests that misbehave on purpose. */
struct xenstore_domain_interface *xs_ring_page(void);
evtchn_port_t xs_store_port(void);

/*
 * Any message: payload of len bytes; the reply's payload goes to reply
 * (NUL-terminated when there is room) and its length to *reply_len.
 */
long xs_request(uint32_t type, uint32_t tx, const void *payload, size_t len, char *reply,
                size_t max, size_t *reply_len);

/* The value's length (the value is copied NUL-terminated, truncated to max - 1). */
long xs_read(uint32_t tx, const char *path, char *buf, size_t max);
long xs_write(uint32_t tx, const char *path, const char *value);
long xs_mkdir(uint32_t tx, const char *path);
long xs_rm(uint32_t tx, const char *path);
/* Child names, each NUL-terminated, back to back; returns their total bytes. */
long xs_directory(uint32_t tx, const char *path, char *buf, size_t max);
/* Permission strings ("n0", "r5", ...), each NUL-terminated, back to back; returns bytes. */
long xs_get_perms(uint32_t tx, const char *path, char *buf, size_t max);
/* perms: count strings such as "n1", "r2". */
long xs_set_perms(uint32_t tx, const char *path, const char *const *perms, unsigned count);
long xs_get_domain_path(uint32_t domid, char *buf, size_t max);
long xs_watch(const char *path, const char *token);
long xs_unwatch(const char *path, const char *token);
long xs_transaction_start(uint32_t *tx);
long xs_transaction_end(uint32_t tx, bool commit);

/*
 * The next queued or arriving watch event: 0 with its path and token, or
 * -XEN_ETIMEDOUT after timeout_ns. Events that do not fit the buffers are
 * truncated.
 */
long xs_wait_watch(char *path, size_t path_max, char *token, size_t token_max,
                   uint64_t timeout_ns);
/*
 * For tests: when non-zero, requests go into the ring at most this many bytes
 * at a time, each piece notified and followed by a yield, so the server sees
 * partial headers and payloads.
 */
extern size_t xs_split_writes;

/* Watch events dropped because the queue was full. */
unsigned xs_dropped_events(void);

#endif
