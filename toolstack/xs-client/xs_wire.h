/* xs_wire.h (guest userspace tool, host tests): xenstore requests built and replies checked, pure (no I/O). */
#ifndef WISP_XS_WIRE_H
#define WISP_XS_WIRE_H

#include "env.h"
#include "xen/xenstore.h"

/* Header plus the largest payload a server may send. */
#define XS_MSG_MAX (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)

/* xs_reply_error's answer for a reply whose type is neither the request's nor XS_ERROR. */
#define XS_REPLY_UNEXPECTED (-1)

/*
 * Writes one request into buf: the header (tx_id 0), then the words joined
 * by NULs. Every word keeps its NUL except the value of an XS_WRITE (its
 * second word), which the protocol sends unterminated. Returns the message
 * length; -XEN_E2BIG when it does not fit in cap or in XENSTORE_PAYLOAD_MAX;
 * -XEN_EINVAL for no words, or a first word (the path) that is empty or
 * longer than XENSTORE_ABS_PATH_MAX.
 */
int __must_check xs_build_request(uint8_t *buf, size_t cap, uint32_t type, uint32_t req_id,
                                  const char *const *words, unsigned int n_words);

/*
 * How much of a received stream buf[0..len) the first message takes: its
 * whole length once buf holds all of it, 0 while more bytes are needed,
 * -XEN_E2BIG for a payload over XENSTORE_PAYLOAD_MAX (nothing after it can
 * be framed).
 */
int __must_check xs_message_length(const uint8_t *buf, size_t len);

/*
 * The status of a reply to a request of type `type`: 0 when the reply has
 * that type; for XS_ERROR the errno number its payload names (an unknown
 * name is XEN_EINVAL, as in Linux's xenbus); XS_REPLY_UNEXPECTED for any
 * other type.
 */
int xs_reply_error(const struct xsd_sockmsg *hdr, const char *payload, uint32_t type);

/* The errno number of an XS_ERROR name (len bytes, NUL optional); XEN_EINVAL when unknown. */
int xs_error_number(const char *name, size_t len);
/* The XS_ERROR name of an errno number, or NULL when the protocol has none. */
const char *xs_error_name(int err);

/*
 * Walks a payload of NUL-terminated strings (a directory listing, a watch
 * event): from *pos, sets *s and *slen to the next string and moves *pos past
 * it and its NUL. Returns false at the end. A last string without a NUL
 * ends at the payload's end.
 */
bool xs_next_string(const char *payload, uint32_t len, uint32_t *pos, const char **s,
                    size_t *slen);

/* A watch event's path and token (payload "path\0token\0"); false unless both are there. */
bool xs_watch_event(const char *payload, uint32_t len, const char **path, size_t *path_len,
                    const char **token, size_t *token_len);

#endif
