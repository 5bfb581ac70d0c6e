/* store.h (service-domain tool): wisp-agent's xenstore connection over /dev/xen/xenbus: requests, transactions, one watch. */
#ifndef WISP_AGENT_STORE_H
#define WISP_AGENT_STORE_H

#include "xs_wire.h"

/* The token of the agent's one watch (@releaseDomain). */
#define STORE_WATCH_TOKEN "wisp-agent"

/* XBT_NULL: a request outside any transaction. */
#define STORE_NO_TX 0u

struct store {
    int fd;
    int reply_timeout_ms;
    uint32_t next_req_id;
    unsigned int events;        /* watch events with our token not yet taken */
    uint8_t in[2 * XS_MSG_MAX]; /* bytes read but not yet framed */
    size_t in_len;
};

/* Every call returns 0 or a negative XEN errno; -XEN_EIO when the transport broke or timed out. */
/* A store error (a negative XEN_E* or errno) as its name ("ENOENT") or text. */
const char *store_strerror(int err);

int store_open(struct store *s, const char *device, int reply_timeout_ms);

int store_read(struct store *s, uint32_t tx, const char *path, char *buf, size_t cap);
int store_write(struct store *s, uint32_t tx, const char *path, const char *value);
int store_mkdir(struct store *s, uint32_t tx, const char *path);
int store_rm(struct store *s, uint32_t tx, const char *path);
/* Sets the list {n<owner>, r<reader>}. */
int store_set_perms(struct store *s, uint32_t tx, const char *path, uint16_t owner,
                    uint16_t reader);

int store_tx_start(struct store *s, uint32_t *tx);
/* Commits (or aborts); -XEN_EAGAIN when a conflicting change won and the caller should retry. */
int store_tx_end(struct store *s, uint32_t tx, bool commit);

int store_watch(struct store *s, const char *path);
/*
 * Waits up to timeout_ms for a watch event with our token (or takes one that
 * came while a reply was awaited). 1: an event; 0: the time ran out.
 */
int store_wait_event(struct store *s, int timeout_ms);

#endif
