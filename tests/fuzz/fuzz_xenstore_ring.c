/* fuzz_xenstore_ring.c (host fuzzer): the xenstore domain's ring transport against a guest that rewrites its page between every server step. */
#include "fuzz.h"
#include "../../toolstack/xenstored/ring.c"   /* one translation unit: see tests/fuzz/meson.build */

/*
 * Each 9-byte record is one step: a selector, then a 32-bit value and a
 * 32-bit length. The guest may set any index or byte of the page; the server
 * reads or writes up to the given length. Invariants: a call moves no more
 * than it was asked to nor more than a ring; once broken, a ring stays
 * broken and moves nothing; the server's indices on the page only move
 * forward by what the calls returned (whatever the guest wrote there).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct xenstore_domain_interface page;
    static char buf[2 * XENSTORE_RING_SIZE];
    struct fuzz_in in = { data, size, 0 };
    struct xs_ring r;
    XENSTORE_RING_IDX cons, prod;

    memset(&page, 0, sizeof(page));
    page.req_cons = fuzz_u32(&in);
    page.rsp_prod = fuzz_u32(&in);
    xs_ring_attach(&r, &page);
    cons = r.req_cons;
    prod = r.rsp_prod;
    while (fuzz_left(&in) > 0) {
        uint8_t sel = fuzz_u8(&in);
        uint32_t val = fuzz_u32(&in);
        size_t len = fuzz_u32(&in) % sizeof(buf);
        bool was_broken = r.broken;
        int n;

        switch (sel % 6) {
        case 0: page.req_prod = val; break;
        case 1: page.rsp_cons = val; break;
        case 2: page.req_cons = val; page.rsp_prod = ~val; break;   /* scribble on ours */
        case 3: page.req[val % XENSTORE_RING_SIZE] = (char)len; break;
        case 4:
            n = xs_ring_read(&r, buf, len);
            FUZZ_CHECK(n == -XEN_EIO || (n >= 0 && (size_t)n <= len && n <= XENSTORE_RING_SIZE));
            FUZZ_CHECK(!was_broken || n == -XEN_EIO);
            if (n > 0) {
                cons += (XENSTORE_RING_IDX)n;
                FUZZ_CHECK(page.req_cons == cons && r.req_cons == cons);
            }
            break;
        case 5:
            n = xs_ring_write(&r, buf, len);
            FUZZ_CHECK(n == -XEN_EIO || (n >= 0 && (size_t)n <= len && n <= XENSTORE_RING_SIZE));
            FUZZ_CHECK(!was_broken || n == -XEN_EIO);
            if (n > 0) {
                prod += (XENSTORE_RING_IDX)n;
                FUZZ_CHECK(page.rsp_prod == prod && r.rsp_prod == prod);
            }
            break;
        }
        FUZZ_CHECK(!was_broken || r.broken);
        FUZZ_CHECK(r.req_cons == cons && r.rsp_prod == prod);
        FUZZ_CHECK(xs_ring_pending(&r) <= XENSTORE_RING_SIZE);
    }
    return 0;
}
