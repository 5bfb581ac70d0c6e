/* test_xs_wire.c (host test): wisp-xs's xenstore message building and reply checks (toolstack/xs-client/xs_wire.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "xs_wire.h"

#define HDR sizeof(struct xsd_sockmsg)

static struct xsd_sockmsg header_of(const uint8_t *buf)
{
    struct xsd_sockmsg h;

    memcpy(&h, buf, HDR);
    return h;
}

static void read_is_path_with_its_nul(void **state)
{
    uint8_t buf[64];
    const char *words[] = { "device/vbd" };
    int len = xs_build_request(buf, sizeof(buf), XS_READ, 7, words, 1);

    assert_int_equal(len, HDR + 11);
    struct xsd_sockmsg h = header_of(buf);
    assert_int_equal(h.type, XS_READ);
    assert_int_equal(h.req_id, 7);
    assert_int_equal(h.tx_id, 0);
    assert_int_equal(h.len, 11);
    assert_memory_equal(buf + HDR, "device/vbd\0", 11);
}

static void write_value_goes_unterminated(void **state)
{
    uint8_t buf[64];
    const char *words[] = { "data/x", "hello" };
    int len = xs_build_request(buf, sizeof(buf), XS_WRITE, 1, words, 2);

    assert_int_equal(len, HDR + 7 + 5);
    assert_int_equal(header_of(buf).len, 12);
    assert_memory_equal(buf + HDR, "data/x\0hello", 12);
}

static void write_of_empty_value_is_path_only(void **state)
{
    uint8_t buf[64];
    const char *words[] = { "data/x", "" };

    assert_int_equal(xs_build_request(buf, sizeof(buf), XS_WRITE, 1, words, 2), HDR + 7);
}

static void watch_keeps_both_nuls(void **state)
{
    uint8_t buf[64];
    const char *words[] = { "a", "tok" };
    int len = xs_build_request(buf, sizeof(buf), XS_WATCH, 1, words, 2);

    assert_int_equal(len, HDR + 6);
    assert_memory_equal(buf + HDR, "a\0tok\0", 6);
}

static void bad_requests_are_refused(void **state)
{
    static uint8_t buf[2 * XS_MSG_MAX];
    static char path[XENSTORE_ABS_PATH_MAX + 2];
    static char value[XENSTORE_PAYLOAD_MAX + 1];
    const char *empty[] = { "" };
    const char *ok[] = { "a" };

    assert_int_equal(xs_build_request(buf, sizeof(buf), XS_READ, 1, ok, 0), -XEN_EINVAL);
    assert_int_equal(xs_build_request(buf, sizeof(buf), XS_READ, 1, empty, 1), -XEN_EINVAL);
    memset(path, 'p', XENSTORE_ABS_PATH_MAX + 1);
    const char *long_path[] = { path };
    assert_int_equal(xs_build_request(buf, sizeof(buf), XS_READ, 1, long_path, 1), -XEN_EINVAL);
    path[XENSTORE_ABS_PATH_MAX] = '\0';   /* exactly the limit: fine */
    assert_true(xs_build_request(buf, sizeof(buf), XS_READ, 1, long_path, 1) > 0);

    /* The payload limit counts the path, its NUL and the value. */
    memset(value, 'v', XENSTORE_PAYLOAD_MAX - 2);
    const char *fits[] = { "a", value };
    assert_int_equal(xs_build_request(buf, sizeof(buf), XS_WRITE, 1, fits, 2),
                     HDR + XENSTORE_PAYLOAD_MAX);
    value[XENSTORE_PAYLOAD_MAX - 2] = 'v';
    assert_int_equal(xs_build_request(buf, sizeof(buf), XS_WRITE, 1, fits, 2), -XEN_E2BIG);

    /* A buffer too small for header or payload. */
    assert_int_equal(xs_build_request(buf, HDR - 1, XS_READ, 1, ok, 1), -XEN_E2BIG);
    assert_int_equal(xs_build_request(buf, HDR + 1, XS_READ, 1, ok, 1), -XEN_E2BIG);
    assert_int_equal(xs_build_request(buf, HDR + 2, XS_READ, 1, ok, 1), HDR + 2);
}

static void framing_waits_for_whole_messages(void **state)
{
    static uint8_t buf[XS_MSG_MAX + 8];
    struct xsd_sockmsg h = { .type = XS_READ, .req_id = 1, .len = 5 };

    memcpy(buf, &h, HDR);
    for (size_t have = 0; have < HDR + 5; have++)
        assert_int_equal(xs_message_length(buf, have), 0);
    assert_int_equal(xs_message_length(buf, HDR + 5), HDR + 5);
    assert_int_equal(xs_message_length(buf, HDR + 9), HDR + 5);   /* the next one follows */

    h.len = 0;
    memcpy(buf, &h, HDR);
    assert_int_equal(xs_message_length(buf, HDR), HDR);
    h.len = XENSTORE_PAYLOAD_MAX;
    memcpy(buf, &h, HDR);
    assert_int_equal(xs_message_length(buf, HDR + XENSTORE_PAYLOAD_MAX), XS_MSG_MAX);
    h.len = XENSTORE_PAYLOAD_MAX + 1;
    memcpy(buf, &h, HDR);
    assert_int_equal(xs_message_length(buf, HDR), -XEN_E2BIG);
    h.len = UINT32_MAX;
    memcpy(buf, &h, HDR);
    assert_int_equal(xs_message_length(buf, sizeof(buf)), -XEN_E2BIG);
}

static void error_names_map_to_numbers(void **state)
{
    assert_int_equal(xs_error_number("EACCES", 7), XEN_EACCES);
    assert_int_equal(xs_error_number("EACCES", 6), XEN_EACCES);     /* NUL left out */
    assert_int_equal(xs_error_number("ENOENT\0junk", 11), XEN_ENOENT);
    assert_int_equal(xs_error_number("EACCESS", 7), XEN_EINVAL);    /* not a prefix match */
    assert_int_equal(xs_error_number("EACC", 4), XEN_EINVAL);
    assert_int_equal(xs_error_number("", 0), XEN_EINVAL);
    assert_int_equal(xs_error_number("EAGAIN", 3), XEN_EINVAL);     /* cut by len */
    assert_string_equal(xs_error_name(XEN_EPERM), "EPERM");
    assert_string_equal(xs_error_name(XEN_E2BIG), "E2BIG");
    assert_null(xs_error_name(XEN_EFAULT));
}

static void reply_status(void **state)
{
    struct xsd_sockmsg h = { .type = XS_READ, .len = 2 };

    assert_int_equal(xs_reply_error(&h, "hi", XS_READ), 0);
    assert_int_equal(xs_reply_error(&h, "hi", XS_WRITE), XS_REPLY_UNEXPECTED);
    h.type = XS_ERROR;
    h.len = 7;
    assert_int_equal(xs_reply_error(&h, "EACCES\0", XS_READ), XEN_EACCES);
    h.len = 3;
    assert_int_equal(xs_reply_error(&h, "EACCES\0", XS_READ), XEN_EINVAL);
    h.type = XS_WATCH_EVENT;
    assert_int_equal(xs_reply_error(&h, "a\0b\0", XS_WATCH), XS_REPLY_UNEXPECTED);
}

static void strings_walk_with_and_without_final_nul(void **state)
{
    const char list[] = "backend\0device\0x";   /* the last has its NUL only past len */
    uint32_t pos = 0;
    const char *s;
    size_t n;

    assert_true(xs_next_string(list, 16, &pos, &s, &n));
    assert_int_equal(n, 7);
    assert_memory_equal(s, "backend", 7);
    assert_true(xs_next_string(list, 16, &pos, &s, &n));
    assert_memory_equal(s, "device", 6);
    assert_true(xs_next_string(list, 16, &pos, &s, &n));
    assert_int_equal(n, 1);
    assert_false(xs_next_string(list, 16, &pos, &s, &n));
    assert_false(xs_next_string(list, 16, &pos, &s, &n));

    pos = 0;
    assert_false(xs_next_string("", 0, &pos, &s, &n));
    /* Empty strings in the middle are entries of length 0. */
    pos = 0;
    assert_true(xs_next_string("\0a", 2, &pos, &s, &n));
    assert_int_equal(n, 0);
    assert_true(xs_next_string("\0a", 2, &pos, &s, &n));
    assert_int_equal(n, 1);
}

static void watch_events_need_path_and_token(void **state)
{
    const char *path, *token;
    size_t plen, tlen;

    assert_true(xs_watch_event("data/w\0wisp-xs\0", 15, &path, &plen, &token, &tlen));
    assert_int_equal(plen, 6);
    assert_int_equal(tlen, 7);
    assert_memory_equal(token, "wisp-xs", 7);
    assert_false(xs_watch_event("data/w\0", 7, &path, &plen, &token, &tlen));
    assert_false(xs_watch_event("", 0, &path, &plen, &token, &tlen));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_is_path_with_its_nul),
        cmocka_unit_test(write_value_goes_unterminated),
        cmocka_unit_test(write_of_empty_value_is_path_only),
        cmocka_unit_test(watch_keeps_both_nuls),
        cmocka_unit_test(bad_requests_are_refused),
        cmocka_unit_test(framing_waits_for_whole_messages),
        cmocka_unit_test(error_names_map_to_numbers),
        cmocka_unit_test(reply_status),
        cmocka_unit_test(strings_walk_with_and_without_final_nul),
        cmocka_unit_test(watch_events_need_path_and_token),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
