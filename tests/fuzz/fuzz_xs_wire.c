/* fuzz_xs_wire.c (host fuzzer): wisp-xs's framing and reply parsing on an arbitrary stream from the store. */
#include "fuzz.h"
#include "../../toolstack/xs-client/xs_wire.c"   /* one translation unit: see tests/fuzz/meson.build */

/* Every string the walker returns lies inside the payload. */
static void walk_strings(const char *payload, uint32_t len)
{
    uint32_t pos = 0;
    const char *s;
    size_t n;
    unsigned int count = 0;

    while (xs_next_string(payload, len, &pos, &s, &n)) {
        FUZZ_CHECK(s >= payload && (size_t)(s - payload) + n <= len);
        FUZZ_CHECK(++count <= len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Frame the stream as wisp-xs does, checking each message as a reply to the first byte's type. */
    while (size > 0) {
        int len = xs_message_length(data, size);

        if (len <= 0)
            break;
        FUZZ_CHECK((size_t)len >= sizeof(struct xsd_sockmsg) && (size_t)len <= size &&
                   (size_t)len <= XS_MSG_MAX);
        struct xsd_sockmsg hdr;
        memcpy(&hdr, data, sizeof(hdr));
        /* A copy of exactly the payload, so ASan sees any read past it. */
        char *payload = malloc(hdr.len ? hdr.len : 1);
        memcpy(payload, data + sizeof(hdr), hdr.len);

        int err = xs_reply_error(&hdr, payload, data[0] % XS_TYPE_COUNT);
        FUZZ_CHECK(err == 0 || err == XS_REPLY_UNEXPECTED || xs_error_name(err) != NULL);
        walk_strings(payload, hdr.len);
        const char *path, *token;
        size_t plen, tlen;
        if (xs_watch_event(payload, hdr.len, &path, &plen, &token, &tlen))
            FUZZ_CHECK(token > path && (size_t)(token - payload) + tlen <= hdr.len);
        free(payload);
        data += len;
        size -= (size_t)len;
    }
    return 0;
}
