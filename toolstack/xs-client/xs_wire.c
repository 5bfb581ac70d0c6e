/* xs_wire.c (guest userspace tool, host tests): xenstore requests built and replies checked, pure (no I/O). */
#include "xs_wire.h"

static const struct {
    const char *name;
    int number;
} xs_errors[] = {
#define XS_ERROR_ENTRY(name, value) { #name, value },
    XSD_ERROR_LIST(XS_ERROR_ENTRY)
#undef XS_ERROR_ENTRY
};

#define XS_NR_ERRORS (sizeof(xs_errors) / sizeof(xs_errors[0]))

/* Bytes the i-th word takes on the wire: an XS_WRITE's value has no NUL. */
static size_t word_wire_len(uint32_t type, unsigned int i, const char *word)
{
    size_t len = strlen(word);

    return (type == XS_WRITE && i == 1) ? len : len + 1;
}

int xs_build_request(uint8_t *buf, size_t cap, uint32_t type, uint32_t req_id,
                     const char *const *words, unsigned int n_words)
{
    const size_t hdr = sizeof(struct xsd_sockmsg);
    size_t payload = 0;

    if (n_words == 0 || words[0][0] == '\0' || strlen(words[0]) > XENSTORE_ABS_PATH_MAX)
        return -XEN_EINVAL;
    for (unsigned int i = 0; i < n_words; i++) {
        payload += word_wire_len(type, i, words[i]);
        if (payload > XENSTORE_PAYLOAD_MAX)
            return -XEN_E2BIG;
    }
    if (cap < hdr || cap - hdr < payload)
        return -XEN_E2BIG;

    const struct xsd_sockmsg msg = { .type = type, .req_id = req_id, .len = (uint32_t)payload };
    memcpy(buf, &msg, hdr);   /* buf need not be aligned */
    size_t at = hdr;
    for (unsigned int i = 0; i < n_words; i++) {
        size_t n = word_wire_len(type, i, words[i]);

        memcpy(buf + at, words[i], n);   /* n includes the NUL when it is sent */
        at += n;
    }
    return (int)at;
}

int xs_message_length(const uint8_t *buf, size_t len)
{
    const size_t hdr = sizeof(struct xsd_sockmsg);

    if (len < hdr)
        return 0;
    struct xsd_sockmsg msg;
    memcpy(&msg, buf, hdr);
    if (msg.len > XENSTORE_PAYLOAD_MAX)
        return -XEN_E2BIG;
    return len - hdr >= msg.len ? (int)(hdr + msg.len) : 0;
}

int xs_error_number(const char *name, size_t len)
{
    size_t n = strnlen(name, len);

    for (size_t i = 0; i < XS_NR_ERRORS; i++) {
        if (strlen(xs_errors[i].name) == n && memcmp(xs_errors[i].name, name, n) == 0)
            return xs_errors[i].number;
    }
    return XEN_EINVAL;
}

const char *xs_error_name(int err)
{
    for (size_t i = 0; i < XS_NR_ERRORS; i++) {
        if (xs_errors[i].number == err)
            return xs_errors[i].name;
    }
    return NULL;
}

int xs_reply_error(const struct xsd_sockmsg *hdr, const char *payload, uint32_t type)
{
    if (hdr->type == XS_ERROR)
        return xs_error_number(payload, hdr->len);
    return hdr->type == type ? 0 : XS_REPLY_UNEXPECTED;
}

bool xs_next_string(const char *payload, uint32_t len, uint32_t *pos, const char **s,
                    size_t *slen)
{
    if (*pos >= len)
        return false;
    *s = payload + *pos;
    *slen = strnlen(*s, len - *pos);
    *pos += (uint32_t)*slen + 1;   /* may step one past len when the NUL is missing */
    return true;
}

bool xs_watch_event(const char *payload, uint32_t len, const char **path, size_t *path_len,
                    const char **token, size_t *token_len)
{
    uint32_t pos = 0;

    return xs_next_string(payload, len, &pos, path, path_len) &&
           xs_next_string(payload, len, &pos, token, token_len);
}
