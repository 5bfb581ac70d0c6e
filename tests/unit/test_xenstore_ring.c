/* test_xenstore_ring.c (host test): unit.xenstore_ring: the xenstore domain's ring transport against honest and hostile guests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../toolstack/xenstored/ring.h"

static struct xenstore_domain_interface page;
static struct xs_ring ring;

static int setup(void **state)
{
    memset(&page, 0, sizeof(page));
    xs_ring_attach(&ring, &page);
    return 0;
}

/* The guest's side: queues n request bytes at its producer. */
static void guest_put(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        page.req[MASK_XENSTORE_IDX(page.req_prod + i)] = s[i];
    page.req_prod += (XENSTORE_RING_IDX)n;
}

static void attach_advertises_error_feature(void **state)
{
    page.error = XENSTORE_ERROR_PROTO;
    xs_ring_attach(&ring, &page);
    assert_int_equal(page.server_features, XENSTORE_SERVER_FEATURE_ERROR);
    assert_int_equal(page.error, XENSTORE_ERROR_NONE);
    assert_false(ring.broken);
}

static void read_nothing_waiting(void **state)
{
    char buf[16];

    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), 0);
    assert_int_equal(xs_ring_pending(&ring), 0);
}

static void read_partial_then_rest(void **state)
{
    char buf[16] = { 0 };

    guest_put("abcdefgh", 8);
    assert_int_equal(xs_ring_pending(&ring), 8);
    assert_int_equal(xs_ring_read(&ring, buf, 3), 3);
    assert_memory_equal(buf, "abc", 3);
    assert_int_equal(page.req_cons, 3);      /* space handed back as it is consumed */
    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "defgh", 5);
    assert_int_equal(page.req_cons, 8);
}

static void read_across_wrap(void **state)
{
    char big[XENSTORE_RING_SIZE], buf[XENSTORE_RING_SIZE];

    /* Start both indices 6 bytes before the end of the ring, near 2^32 too. */
    page.req_prod = page.req_cons = 0xFFFFFFFAu;
    xs_ring_attach(&ring, &page);
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7);
    guest_put(big, 20);
    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), 20);
    assert_memory_equal(buf, big, 20);
    assert_int_equal(page.req_cons, 0x0000000Eu);
}

static void read_full_ring(void **state)
{
    char big[XENSTORE_RING_SIZE], buf[XENSTORE_RING_SIZE + 8];

    memset(big, 'x', sizeof(big));
    guest_put(big, sizeof(big));
    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), XENSTORE_RING_SIZE);
}

static void producer_more_than_a_ring_ahead_breaks(void **state)
{
    char buf[16];

    page.req_prod = XENSTORE_RING_SIZE + 1;
    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), -XEN_EIO);
    assert_true(ring.broken);
    assert_int_equal(page.error, XENSTORE_ERROR_RINGIDX);
    assert_int_equal(page.req_cons, 0);
    /* Broken for good: putting the index back changes nothing. */
    page.req_prod = 1;
    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), -XEN_EIO);
    assert_int_equal(xs_ring_write(&ring, "x", 1), -XEN_EIO);
    assert_int_equal(xs_ring_pending(&ring), 0);
}

static void producer_behind_consumer_breaks(void **state)
{
    char buf[16];

    guest_put("abcd", 4);
    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), 4);
    page.req_prod = 2;       /* moves backwards: prod - cons wraps to ~2^32 */
    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), -XEN_EIO);
}

static void guest_rewriting_our_consumer_is_ignored(void **state)
{
    char buf[16];

    guest_put("abcd", 4);
    page.req_cons = 0x12345678;   /* the server's index: never read back */
    assert_int_equal(xs_ring_read(&ring, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "abcd", 4);
    assert_int_equal(page.req_cons, 4);
}

static void write_and_guest_reads(void **state)
{
    assert_int_equal(xs_ring_write(&ring, "hello", 5), 5);
    assert_int_equal(page.rsp_prod, 5);
    assert_memory_equal(page.rsp, "hello", 5);
}

static void write_stops_when_guest_never_reads(void **state)
{
    char big[XENSTORE_RING_SIZE];

    memset(big, 'y', sizeof(big));
    assert_int_equal(xs_ring_write(&ring, big, 1000), 1000);
    assert_int_equal(xs_ring_write(&ring, big, 1000), XENSTORE_RING_SIZE - 1000);
    assert_int_equal(xs_ring_write(&ring, big, 1000), 0);
    assert_false(ring.broken);
    page.rsp_cons = 10;           /* the guest read 10 bytes: 10 bytes of room */
    assert_int_equal(xs_ring_write(&ring, "0123456789abc", 13), 10);
    assert_int_equal(page.rsp_prod, XENSTORE_RING_SIZE + 10);
    assert_memory_equal(page.rsp, "0123456789", 10);   /* wrapped to the start */
}

static void consumer_ahead_of_our_producer_breaks(void **state)
{
    assert_int_equal(xs_ring_write(&ring, "abc", 3), 3);
    page.rsp_cons = 4;            /* read a byte we never wrote */
    assert_int_equal(xs_ring_write(&ring, "d", 1), -XEN_EIO);
    assert_true(ring.broken);
    assert_int_equal(page.error, XENSTORE_ERROR_RINGIDX);
}

static void guest_rewriting_our_producer_is_ignored(void **state)
{
    assert_int_equal(xs_ring_write(&ring, "abc", 3), 3);
    page.rsp_prod = 999;
    assert_int_equal(xs_ring_write(&ring, "d", 1), 1);
    assert_int_equal(page.rsp_prod, 4);
    assert_int_equal(page.rsp[3], 'd');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(attach_advertises_error_feature, setup),
        cmocka_unit_test_setup(read_nothing_waiting, setup),
        cmocka_unit_test_setup(read_partial_then_rest, setup),
        cmocka_unit_test_setup(read_across_wrap, setup),
        cmocka_unit_test_setup(read_full_ring, setup),
        cmocka_unit_test_setup(producer_more_than_a_ring_ahead_breaks, setup),
        cmocka_unit_test_setup(producer_behind_consumer_breaks, setup),
        cmocka_unit_test_setup(guest_rewriting_our_consumer_is_ignored, setup),
        cmocka_unit_test_setup(write_and_guest_reads, setup),
        cmocka_unit_test_setup(write_stops_when_guest_never_reads, setup),
        cmocka_unit_test_setup(consumer_ahead_of_our_producer_breaks, setup),
        cmocka_unit_test_setup(guest_rewriting_our_producer_is_ignored, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
