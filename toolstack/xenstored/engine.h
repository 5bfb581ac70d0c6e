/* engine.h (xenstore domain, host tests): the xenstore tree engine, byte streams in and out. */
#ifndef WISP_XENSTORED_ENGINE_H
#define WISP_XENSTORED_ENGINE_H

/*
 * A pure module: no hardware, no I/O, no libc beyond env.h. The embedding
 * program (toolstack/xenstored on the pvh/guest runtime, or a host test)
 * owns the rings and event channels; it feeds each client's request bytes
 * in with xs_conn_feed() and copies replies and watch events out with
 * xs_conn_output(). docs/xenstore.md describes the semantics.
 *
 * Locking: none inside. One caller at a time for the whole engine (the
 * xenstore domain runs one vCPU and serves its clients one after another).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Memory, provided by the embedding program (host tests: malloc/free). */
void *xs_alloc(size_t size);  /* NULL when out of memory; the engine then answers ENOMEM */
void xs_free(void *ptr);      /* ptr may be NULL */

struct xs_engine;
struct xs_conn;

/*
 * Per-domain quotas; privileged connections are exempt, as in Xen.
 * Defaults (xs_limits_default) are C xenstored's (Xen 4.17) where it has one.
 */
struct xs_limits {
    unsigned nodes_per_domain;        /* nodes a domain may own (1000); ENOSPC */
    unsigned entry_size;              /* bytes of one node's value (2048); ENOSPC */
    unsigned watches_per_domain;      /* watches per connection (128); E2BIG */
    unsigned transactions_per_domain; /* open transactions per connection (10); ENOSPC */
    unsigned outstanding_per_domain;  /* queued replies before xs_conn_feed stops reading (20) */
    unsigned perms_per_node;          /* entries in a SET_PERMS list (5); ENOSPC */
    unsigned nodes_per_transaction;   /* nodes one transaction may touch (1024); ENOSPC */
    unsigned events_per_conn;         /* queued watch events; later ones are dropped (64) */
    size_t memory_per_domain;         /* bytes of the nodes a domain owns, and separately of a
                                         connection's watches and transaction copies (2 MiB);
                                         ENOSPC */
};

void xs_limits_default(struct xs_limits *limits);

/*
 * What the privileged messages ask of the embedding program. Each returns
 * 0 or a negative XEN_E* (abi/xen/errno.h); the engine turns it into the
 * XS_ERROR reply. On success the engine fires @introduceDomain or
 * @releaseDomain itself. A hook may create or free other connections
 * (xs_conn_new / xs_conn_free) but must not free the connection whose
 * message is being handled; the engine refuses RELEASE of the caller's
 * own domain with EINVAL so that cannot happen through it.
 * Any hook may be NULL: that message then answers ENOSYS.
 */
struct xs_hooks {
    int (*introduce)(void *ctx, uint32_t domid, uint64_t gfn, uint32_t port);
    int (*release)(void *ctx, uint32_t domid);
    bool (*is_introduced)(void *ctx, uint32_t domid);
};

/*
 * The tree starts as "/" (owner 0, "n0") holding nothing else. limits NULL
 * means the defaults; hooks NULL means no privileged domain messages.
 * Returns NULL when out of memory.
 */
struct xs_engine *xs_engine_new(const struct xs_limits *limits,
                                const struct xs_hooks *hooks, void *ctx);
/* Frees the tree and every connection still open. */
void xs_engine_free(struct xs_engine *e);

/*
 * A client. Its relative paths are relative to /local/domain/<domid>.
 * privileged: full access to every node and the privileged messages
 * (Xen: dom0 and the control domain). user is the embedder's pointer,
 * returned by xs_conn_user(). NULL when out of memory.
 */
struct xs_conn *xs_conn_new(struct xs_engine *e, uint32_t domid, bool privileged, void *user);
/* Drops c's watches, transactions and queued output; fires no watches. */
void xs_conn_free(struct xs_engine *e, struct xs_conn *c);
void *xs_conn_user(const struct xs_conn *c);
uint32_t xs_conn_domid(const struct xs_conn *c);

/*
 * Consumes bytes of c's request stream (any split: partial headers and
 * payloads are kept inside the engine until complete) and handles every
 * complete message: its reply, and watch events for every connection it
 * fires, are queued on those connections' output. Returns the bytes
 * consumed. Fewer than n means backpressure: c has too many replies queued
 * (limits.outstanding_per_domain) and the caller must keep the rest, drain
 * c's output and feed it again. A message with len > XENSTORE_PAYLOAD_MAX
 * marks c broken: every byte is then consumed and ignored.
 */
size_t xs_conn_feed(struct xs_engine *e, struct xs_conn *c, const void *bytes, size_t n);

/* Bytes of replies and watch events queued on c, whole messages back to back. */
size_t xs_conn_output_pending(const struct xs_conn *c);
/* Copies up to max queued output bytes into buf and drops them from the queue. */
size_t xs_conn_output(struct xs_conn *c, void *buf, size_t max);
/* True after a framing error; the embedder should report XENSTORE_ERROR_PROTO and stop. */
bool xs_conn_broken(const struct xs_conn *c);

/*
 * xenstored's own privileged access to the tree, as a privileged caller
 * outside any transaction: watches fire as for a client's request. Paths
 * are absolute. Each returns 0 or a negative XEN_E*.
 */
struct xs_perm {
    uint32_t domid;
    uint8_t access;   /* XS_ACCESS_* bits */
};
#define XS_ACCESS_NONE  0
#define XS_ACCESS_READ  1
#define XS_ACCESS_WRITE 2
#define XS_ACCESS_BOTH  (XS_ACCESS_READ | XS_ACCESS_WRITE)

int xs_local_write(struct xs_engine *e, const char *path, const void *value, size_t len);
int xs_local_mkdir(struct xs_engine *e, const char *path);
int xs_local_rm(struct xs_engine *e, const char *path);   /* missing node: 0, as XS_RM */
/* perms[0] is the owner and everyone else's access; the rest per domain. */
int xs_local_set_perms(struct xs_engine *e, const char *path,
                       const struct xs_perm *perms, unsigned count);
/* Copies up to max bytes of the value; *len gets the full length. */
int xs_local_read(struct xs_engine *e, const char *path, void *buf, size_t max, size_t *len);

/* Fires a special watch: "@introduceDomain" or "@releaseDomain". */
void xs_fire_special(struct xs_engine *e, const char *name);

/*
 * A domain is gone (after xs_local_rm of its /local/domain/N): nodes it
 * still owns elsewhere pass to domain 0 and entries naming it leave every
 * permission list, so a later domain with the same id inherits nothing.
 */
void xs_domain_gone(struct xs_engine *e, uint32_t domid);

#endif
