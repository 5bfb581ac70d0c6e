/* test_evtchn.c (host test): unit.evtchn: event channel ops, port storage, and the exact 2-level and FIFO bits they write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "evtchn.h"

#define NR_VCPUS 3
#define DOM_A 1
#define DOM_B 2
#define VI_SIZE 64

/* Byte offsets of the 2-level fields (Xen xen.h; the compat ones verified with gcc -m32). */
#define PENDING      0x800
#define MASK64       0xA00
#define MASK32       0x880
#define SEL64        8
#define SEL32        4
#define CTL_STRIDE   128

#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)
#define W_BUSY    (1u << EVTCHN_FIFO_BUSY)

/*
 * A fake domain: its shared_info page, and vcpu_info areas. vCPU 0 uses
 * its legacy slot in shared_info; the others a "registered" area elsewhere,
 * so a raise that writes the wrong place shows up in the image compares.
 */
struct fake {
    _Alignas(4096) uint8_t shinfo[4096];
    _Alignas(64) uint8_t vinfo[NR_VCPUS][VI_SIZE];
    /* FIFO: one page holding every vCPU's control block (vCPU v at v * CTL_STRIDE),
     * and the event array pages. */
    _Alignas(4096) uint8_t ctl[4096];
    _Alignas(4096) uint32_t words[EVTCHN_FIFO_MAX_PAGES][EVTCHN_FIFO_WORDS_PER_PAGE];
    uint32_t guest_head[NR_VCPUS][EVTCHN_FIFO_MAX_QUEUES];  /* the guest's own queue heads */
    bool no_vcpu_info;
    unsigned nr_kicks;
    unsigned kick_vcpu[64], kick_port[64];
    unsigned nr_sends, send_port;
    void *send_ctx;
    struct evtchn_table t;
};

static struct fake A, B;
/* What the pages should hold: built up by each test, compared whole. */
static uint8_t want_shinfo[4096];
static uint8_t want_vinfo[NR_VCPUS][VI_SIZE];

/* evtchn_page_alloc for the host: malloc, counted, and made to fail on request. */
static unsigned pages_live;
static int pages_until_failure = -1;    /* -1: never fail */

void *evtchn_page_alloc(void)
{
    void *page;

    if (pages_until_failure == 0)
        return NULL;
    if (pages_until_failure > 0)
        pages_until_failure--;
    page = aligned_alloc(4096, 4096);
    assert_non_null(page);
    memset(page, 0, 4096);
    pages_live++;
    return page;
}

void evtchn_page_free(void *page)
{
    if (!page)
        return;
    assert_true(pages_live > 0);
    pages_live--;
    free(page);
}

static uint8_t *fake_vcpu_info(void *ctx, unsigned vcpu)
{
    struct fake *f = ctx;

    assert_true(vcpu < NR_VCPUS);
    if (f->no_vcpu_info)
        return NULL;
    return vcpu == 0 ? f->shinfo : f->vinfo[vcpu];
}

static void fake_kick(void *ctx, unsigned vcpu, unsigned port)
{
    struct fake *f = ctx;

    assert_true(f->nr_kicks < 64);
    f->kick_vcpu[f->nr_kicks] = vcpu;
    f->kick_port[f->nr_kicks] = port;
    f->nr_kicks++;
}

static void fake_on_send(void *ctx, unsigned port)
{
    struct fake *f = &A;

    f->nr_sends++;
    f->send_port = port;
    f->send_ctx = ctx;
}

static void fake_init(struct fake *f, domid_t domid)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(evtchn_table_init(&f->t, domid, NR_VCPUS, f->shinfo, fake_vcpu_info,
                                       fake_kick, f), 0);
}

static int setup(void **state)
{
    pages_until_failure = -1;
    fake_init(&A, DOM_A);
    fake_init(&B, DOM_B);
    memset(want_shinfo, 0, sizeof(want_shinfo));
    memset(want_vinfo, 0, sizeof(want_vinfo));
    return 0;
}

/* Every page the tables took is given back. */
static int teardown(void **state)
{
    evtchn_table_destroy(&A.t);
    evtchn_table_destroy(&B.t);
    assert_int_equal(pages_live, 0);
    return 0;
}

static int setup_compat(void **state)
{
    setup(state);
    evtchn_set_compat(&A.t, true);
    evtchn_set_compat(&B.t, true);
    return 0;
}

static void want_bit(unsigned offset, unsigned bit)
{
    want_shinfo[offset + bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* The selector bit and upcall flag of vcpu, in whichever area it uses. */
static void want_sel(unsigned vcpu, bool compat, unsigned port)
{
    uint8_t *vi = vcpu == 0 ? want_shinfo : want_vinfo[vcpu];
    unsigned word = port / (compat ? 32 : 64);

    vi[(compat ? SEL32 : SEL64) + word / 8] |= (uint8_t)(1u << (word % 8));
    vi[0] = 1;
}

static void check_pages(const struct fake *f)
{
    assert_memory_equal(f->shinfo, want_shinfo, sizeof(want_shinfo));
    assert_memory_equal(f->vinfo, want_vinfo, sizeof(want_vinfo));
}

static void check_kick(const struct fake *f, unsigned i, unsigned vcpu, unsigned port)
{
    assert_true(i < f->nr_kicks);
    assert_int_equal(f->kick_vcpu[i], vcpu);
    assert_int_equal(f->kick_port[i], port);
}

static struct evtchn_status status_of(struct evtchn_table *t, unsigned port)
{
    struct evtchn_status s;

    memset(&s, 0xAA, sizeof(s));
    assert_int_equal(evtchn_status(t, port, &s), 0);
    return s;
}

/* What every port operation answers for a port beyond the limit or in a bucket never
 * allocated (Xen's port_is_valid); nothing changes. */
static void expect_invalid_port(struct evtchn_table *t, unsigned port)
{
    struct evtchn_status s;

    assert_int_equal(evtchn_status(t, port, &s), -EINVAL);
    assert_int_equal(evtchn_unmask(t, port), -EINVAL);
    assert_int_equal(evtchn_set_priority(t, port, 1), -EINVAL);
    assert_int_equal(evtchn_close(t, port), -EINVAL);
    assert_int_equal(evtchn_send(t, port), -EINVAL);
    assert_int_equal(evtchn_bind_vcpu(t, port, 0), -EINVAL);
    assert_int_equal(evtchn_set_pending(t, port), -EINVAL);
    assert_int_equal(evtchn_notify_vcpu(t, port), -EINVAL);
}

/* ---- Table ---- */

/* EVTCHNOP_reset in one call (the batch is larger than any table here). */
static void reset_whole(struct evtchn_table *t)
{
    assert_int_equal(evtchn_reset(t, false, UINT32_MAX), 0);
}

static void test_init_rejects_bad_arguments(void **state)
{
    static struct evtchn_table t;
    uint8_t page[4096];

    assert_int_equal(evtchn_table_init(&t, 1, 0, page, fake_vcpu_info, fake_kick, NULL), -EINVAL);
    assert_int_equal(evtchn_table_init(&t, 1, EVTCHN_MAX_VCPUS + 1, page, fake_vcpu_info,
                                       fake_kick, NULL), -EINVAL);
    assert_int_equal(evtchn_table_init(&t, 1, 1, NULL, fake_vcpu_info, fake_kick, NULL), -EINVAL);
    assert_int_equal(evtchn_table_init(&t, 1, 1, page, NULL, fake_kick, NULL), -EINVAL);
    assert_int_equal(evtchn_table_init(&t, 1, 1, page, fake_vcpu_info, NULL, NULL), -EINVAL);
    assert_int_equal(evtchn_table_init(&t, 1, EVTCHN_MAX_VCPUS, page, fake_vcpu_info,
                                       fake_kick, NULL), 0);
    evtchn_table_destroy(&t);
}

/* 64-bit 2-level: 4096 ports (64 x 64 bits); the 32-bit layout: 1024 (32 x 32). */
static void test_port_limit_both_layouts(void **state)
{
    assert_int_equal(evtchn_port_limit(&A.t), 4096);
    evtchn_set_compat(&A.t, true);
    assert_int_equal(evtchn_port_limit(&A.t), 1024);
}

/* An ordinary domain's port state is one page; it grows a page per 128 ports bound. */
static void test_storage_grows_on_demand(void **state)
{
    assert_int_equal(pages_live, 0);
    assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), 1);
    assert_int_equal(pages_live, 1);
    for (unsigned i = 2; i < EVTCHN_PORTS_PER_BUCKET; i++)
        assert_int_equal(evtchn_bind_ipi(&A.t, 0), (int)i);
    assert_int_equal(pages_live, 1);
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), EVTCHN_PORTS_PER_BUCKET);
    assert_int_equal(pages_live, 2);
    /* No page for the next bucket: -ENOMEM, nothing half done, and it works again later. */
    for (unsigned i = EVTCHN_PORTS_PER_BUCKET + 1; i < 2 * EVTCHN_PORTS_PER_BUCKET; i++)
        assert_int_equal(evtchn_bind_ipi(&A.t, 0), (int)i);
    pages_until_failure = 0;
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), -ENOMEM);
    expect_invalid_port(&A.t, 2 * EVTCHN_PORTS_PER_BUCKET);     /* its bucket never came */
    pages_until_failure = -1;
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), 2 * EVTCHN_PORTS_PER_BUCKET);
    assert_int_equal(pages_live, 3);
}

/* Port 4000 of a 64-bit guest: bound, raised, its bits at word 62 of the bitmap. */
static void test_port_4000_64(void **state)
{
    unsigned port = 4000;

    for (unsigned i = 1; i < port; i++)
        assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), (int)i);
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), (int)port);
    assert_int_equal(evtchn_send(&A.t, port), 0);
    want_bit(PENDING, port);
    want_sel(0, false, port);
    check_pages(&A);
    check_kick(&A, 0, 0, port);
}

/* ---- alloc_unbound and port allocation ---- */

static void test_alloc_unbound(void **state)
{
    struct evtchn_status s;

    assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), 1);
    assert_int_equal(evtchn_alloc_unbound(&A.t, DOMID_SELF), 2);
    s = status_of(&A.t, 1);
    assert_int_equal(s.status, EVTCHNSTAT_unbound);
    assert_int_equal(s.u.unbound.dom, DOM_B);
    assert_int_equal(s.vcpu, 0);
    s = status_of(&A.t, 2);
    assert_int_equal(s.u.unbound.dom, DOM_A);       /* DOMID_SELF resolved */
    /* A domain that does not exist (yet) is fine, as in Xen. */
    assert_int_equal(evtchn_alloc_unbound(&A.t, 7), 3);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 0);
}

static void test_ports_run_out_and_are_reused(void **state)
{
    for (unsigned i = 1; i < evtchn_port_limit(&A.t); i++)
        assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), (int)i);
    assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), -ENOSPC);
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), -ENOSPC);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 0), -ENOSPC);
    assert_int_equal(evtchn_alloc_xen_port(&A.t, 0, fake_on_send, NULL), -ENOSPC);
    assert_int_equal(evtchn_close(&A.t, 500), 0);
    assert_int_equal(evtchn_bind_ipi(&A.t, 1), 500);
    /* No free port to bind with either: the remote offer stays unbound. */
    assert_int_equal(evtchn_alloc_unbound(&B.t, DOM_A), 1);
    assert_int_equal(evtchn_bind_interdomain(&A.t, &B.t, 1), -ENOSPC);
    assert_int_equal(status_of(&B.t, 1).status, EVTCHNSTAT_unbound);
}

/* ---- Hostile port numbers ---- */

static void test_hostile_ports(void **state)
{
    static const unsigned bad[] = { 1024, 1025, 4095, 4096, 4097, 16383, 16384, 65535,
                                    0x80000000u, 0xffffffffu };
    struct evtchn_status s;

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bad[i] < evtchn_port_limit(&A.t))
            continue;
        assert_int_equal(evtchn_close(&A.t, bad[i]), -EINVAL);
        assert_int_equal(evtchn_send(&A.t, bad[i]), -EINVAL);
        assert_int_equal(evtchn_unmask(&A.t, bad[i]), -EINVAL);
        assert_int_equal(evtchn_status(&A.t, bad[i], &s), -EINVAL);
        assert_int_equal(evtchn_bind_vcpu(&A.t, bad[i], 0), -EINVAL);
        assert_int_equal(evtchn_set_pending(&A.t, bad[i]), -EINVAL);
        assert_int_equal(evtchn_set_priority(&A.t, bad[i], 1), -EINVAL);
        assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, bad[i]), -EINVAL);
        assert_int_equal(evtchn_notify_vcpu(&A.t, bad[i]), -EINVAL);
        assert_false(evtchn_is_pending(&A.t, bad[i]));
        assert_false(evtchn_is_masked(&A.t, bad[i]));
    }
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 0);
}

static void test_port_zero_and_free_ports(void **state)
{
    struct evtchn_status s;

    /* No bucket yet: even port 0 is invalid (Xen allocates bucket 0 at domain creation). */
    expect_invalid_port(&A.t, 0);
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), 1);
    assert_int_equal(evtchn_close(&A.t, 1), 0);
    for (unsigned port = 0; port < 3; port++) {     /* 0 is reserved; 1, 2 are free */
        assert_int_equal(evtchn_close(&A.t, port), -EINVAL);
        assert_int_equal(evtchn_send(&A.t, port), -EINVAL);
        assert_int_equal(evtchn_bind_vcpu(&A.t, port, 0), -EINVAL);
        assert_int_equal(evtchn_set_pending(&A.t, port), -EINVAL);
        assert_int_equal(evtchn_unmask(&A.t, port), 0);     /* as Xen: in range is enough */
        s = status_of(&A.t, port);
        assert_int_equal(s.status, EVTCHNSTAT_closed);
        assert_int_equal(s.vcpu, 0);
    }
    check_pages(&A);
}

/* ---- virq ---- */

static void test_bind_virq(void **state)
{
    struct evtchn_status s;

    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 0), 1);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 1), 2);   /* per-vCPU: each its own */
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 1), -EEXIST);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_DEBUG, 2), 3);
    s = status_of(&A.t, 2);
    assert_int_equal(s.status, EVTCHNSTAT_virq);
    assert_int_equal(s.u.virq, VIRQ_TIMER);
    assert_int_equal(s.vcpu, 1);
    /* Closing frees the virq for binding again. */
    assert_int_equal(evtchn_close(&A.t, 2), 0);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 1), 2);
}

static void test_bind_virq_hostile(void **state)
{
    assert_int_equal(evtchn_bind_virq(&A.t, NR_VIRQS, 0), -EINVAL);
    assert_int_equal(evtchn_bind_virq(&A.t, 0xffffffffu, 0), -EINVAL);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, NR_VCPUS), -ENOENT);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 0xffffffffu), -ENOENT);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, EVTCHN_MAX_VCPUS), -ENOENT);
    /* Global virqs are bound on vCPU 0 only (then moved with bind_vcpu). */
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_CONSOLE, 1), -EINVAL);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_CONSOLE, 0), 1);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_CONSOLE, 0), -EEXIST);
    /* Nothing was allocated by the failures. */
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), 2);
}

static void test_send_virq(void **state)
{
    assert_int_equal(evtchn_send_virq(&A.t, 0, VIRQ_TIMER), -ENOENT);    /* not bound */
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 0), 1);
    assert_int_equal(evtchn_send_virq(&A.t, 1, VIRQ_TIMER), -ENOENT);    /* other vCPU's */
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 1), 2);
    assert_int_equal(evtchn_send_virq(&A.t, 0, NR_VIRQS), -EINVAL);
    assert_int_equal(evtchn_send_virq(&A.t, NR_VCPUS, VIRQ_TIMER), -ENOENT);
    check_pages(&A);

    assert_int_equal(evtchn_send_virq(&A.t, 1, VIRQ_TIMER), 0);
    want_bit(PENDING, 2);
    want_sel(1, false, 2);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 1);
    check_kick(&A, 0, 1, 2);
    /* Guests cannot send on a virq port. */
    assert_int_equal(evtchn_send(&A.t, 1), -EINVAL);
}

static void test_global_virq_follows_bind_vcpu(void **state)
{
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_CONSOLE, 0), 1);
    assert_int_equal(evtchn_bind_vcpu(&A.t, 1, 2), 0);
    assert_int_equal(status_of(&A.t, 1).vcpu, 2);
    /* A global virq is raised wherever its port points, whatever vCPU is named. */
    assert_int_equal(evtchn_send_virq(&A.t, 0, VIRQ_CONSOLE), 0);
    want_bit(PENDING, 1);
    want_sel(2, false, 1);
    check_pages(&A);
    check_kick(&A, 0, 2, 1);
    /* Still bound once: close clears the map entry though the port moved. */
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_CONSOLE, 0), -EEXIST);
    assert_int_equal(evtchn_close(&A.t, 1), 0);
    assert_int_equal(evtchn_send_virq(&A.t, 0, VIRQ_CONSOLE), -ENOENT);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_CONSOLE, 0), 1);
}

/* ---- ipi ---- */

static void test_bind_ipi_and_send(void **state)
{
    assert_int_equal(evtchn_bind_ipi(&A.t, NR_VCPUS), -ENOENT);
    assert_int_equal(evtchn_bind_ipi(&A.t, 0xffffffffu), -ENOENT);
    assert_int_equal(evtchn_bind_ipi(&A.t, 2), 1);
    assert_int_equal(status_of(&A.t, 1).status, EVTCHNSTAT_ipi);
    assert_int_equal(status_of(&A.t, 1).vcpu, 2);
    assert_int_equal(evtchn_send(&A.t, 1), 0);
    want_bit(PENDING, 1);
    want_sel(2, false, 1);
    check_pages(&A);
    check_kick(&A, 0, 2, 1);
    /* An IPI port stays on its vCPU. */
    assert_int_equal(evtchn_bind_vcpu(&A.t, 1, 0), -EINVAL);
}

/* ---- The 2-level raise, exact bits ---- */

static void raise_transitions(bool compat)
{
    const unsigned port = 70;           /* word 1 of 64 bits, word 2 of 32 bits */
    unsigned mask = compat ? MASK32 : MASK64;

    for (unsigned i = 1; i < port; i++)
        assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), (int)i);
    assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), port);
    assert_int_equal(evtchn_bind_vcpu(&A.t, port, 1), 0);

    assert_int_equal(evtchn_set_pending(&A.t, port), 0);
    want_bit(PENDING, port);
    want_sel(1, compat, port);
    check_pages(&A);
    assert_true(evtchn_is_pending(&A.t, port));
    assert_int_equal(A.nr_kicks, 1);
    check_kick(&A, 0, 1, port);

    /* Already pending: nothing changes, no kick, even with upcall_pending cleared. */
    A.vinfo[1][0] = 0;
    want_vinfo[1][0] = 0;
    assert_int_equal(evtchn_set_pending(&A.t, port), 0);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 1);

    /* Port bit cleared by the guest, selector still set: the port is
     * pending again and kicked, but upcall_pending is left alone (Xen). */
    A.shinfo[PENDING + port / 8] = 0;
    assert_int_equal(evtchn_set_pending(&A.t, port), 0);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 2);

    /* Guest clears everything; the next raise sets all three again. */
    A.shinfo[PENDING + port / 8] = 0;
    memset(A.vinfo[1], 0, VI_SIZE);
    memset(want_vinfo[1], 0, VI_SIZE);
    assert_int_equal(evtchn_set_pending(&A.t, port), 0);
    want_sel(1, compat, port);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 3);

    /* The mask bit is where this layout keeps it. */
    A.shinfo[mask + port / 8] |= 1u << (port % 8);
    want_bit(mask, port);
    assert_true(evtchn_is_masked(&A.t, port));
}

static void test_raise_64(void **state)
{
    raise_transitions(false);
}

static void test_raise_compat(void **state)
{
    raise_transitions(true);
}

static void masked_raise_then_unmask(bool compat)
{
    const unsigned port = 1000;         /* the last word of the 32-bit bitmap */
    unsigned mask = compat ? MASK32 : MASK64;

    for (unsigned i = 1; i < port; i++)
        assert_int_equal(evtchn_bind_ipi(&A.t, 2), (int)i);
    assert_int_equal(evtchn_bind_ipi(&A.t, 2), port);
    A.shinfo[mask + port / 8] |= 1u << (port % 8);
    want_bit(mask, port);

    /* Masked: pending bit only, and a kick (SCHEDOP_poll waits on masked ports). */
    assert_int_equal(evtchn_send(&A.t, port), 0);
    want_bit(PENDING, port);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 1);
    check_kick(&A, 0, 2, port);

    /* Unmask re-raises: mask cleared, selector and upcall set, kicked. */
    assert_int_equal(evtchn_unmask(&A.t, port), 0);
    want_shinfo[mask + port / 8] = 0;
    want_sel(2, compat, port);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 2);
    check_kick(&A, 1, 2, port);

    /* Unmasking an unmasked port does nothing. */
    assert_int_equal(evtchn_unmask(&A.t, port), 0);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 2);

    /* Masked again with the selector still set: unmask only clears the mask. */
    A.shinfo[mask + port / 8] |= 1u << (port % 8);
    A.vinfo[2][0] = 0;
    want_vinfo[2][0] = 0;
    assert_int_equal(evtchn_unmask(&A.t, port), 0);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 2);

    /* Masked and not pending: unmask clears the mask, raises nothing. */
    memset(A.vinfo[2], 0, VI_SIZE);
    memset(want_vinfo[2], 0, VI_SIZE);
    A.shinfo[PENDING + port / 8] = 0;
    want_shinfo[PENDING + port / 8] = 0;
    A.shinfo[mask + port / 8] |= 1u << (port % 8);
    assert_int_equal(evtchn_unmask(&A.t, port), 0);
    check_pages(&A);
    assert_false(evtchn_is_masked(&A.t, port));
    assert_int_equal(A.nr_kicks, 2);
}

static void test_masked_unmask_64(void **state)
{
    masked_raise_then_unmask(false);
}

static void test_masked_unmask_compat(void **state)
{
    masked_raise_then_unmask(true);
}

static void test_raise_keeps_guest_bits(void **state)
{
    /* Bits the guest (or earlier raises) set in the same words survive. */
    memset(A.shinfo + PENDING, 0x5A, 8);
    memset(A.shinfo + SEL64, 0x80, 1);
    memcpy(want_shinfo, A.shinfo, sizeof(want_shinfo));
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), 1);
    assert_int_equal(evtchn_send(&A.t, 1), 0);       /* bit 1 of 0x5A is set already */
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 0);
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), 2);
    assert_int_equal(evtchn_send(&A.t, 2), 0);       /* bit 2 was clear */
    want_bit(PENDING, 2);
    want_sel(0, false, 2);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 1);
}

static void test_raise_without_vcpu_info(void **state)
{
    A.no_vcpu_info = true;
    assert_int_equal(evtchn_bind_ipi(&A.t, 1), 1);
    assert_int_equal(evtchn_send(&A.t, 1), 0);
    want_bit(PENDING, 1);
    check_pages(&A);
    check_kick(&A, 0, 1, 1);
    A.shinfo[MASK64] = 2;
    want_shinfo[MASK64] = 0;
    assert_int_equal(evtchn_unmask(&A.t, 1), 0);
    check_pages(&A);
}

/* ---- Interdomain ---- */

static void test_interdomain_pair(void **state)
{
    int pa, pb;
    struct evtchn_status s;
    uint8_t want_b[4096] = { 0 };

    pa = evtchn_alloc_unbound(&A.t, DOM_B);
    assert_int_equal(pa, 1);
    assert_int_equal(evtchn_bind_ipi(&B.t, 0), 1);      /* so the port numbers differ */
    pb = evtchn_bind_interdomain(&B.t, &A.t, (unsigned)pa);
    assert_int_equal(pb, 2);

    s = status_of(&A.t, pa);
    assert_int_equal(s.status, EVTCHNSTAT_interdomain);
    assert_int_equal(s.u.interdomain.dom, DOM_B);
    assert_int_equal(s.u.interdomain.port, pb);
    s = status_of(&B.t, pb);
    assert_int_equal(s.u.interdomain.dom, DOM_A);
    assert_int_equal(s.u.interdomain.port, pa);

    /* The binder's new port is raised once (notifications to the unbound end were dropped). */
    want_b[PENDING] = 1u << pb;
    want_b[SEL64] = 1;
    want_b[0] = 1;
    assert_memory_equal(B.shinfo, want_b, sizeof(want_b));
    check_kick(&B, 0, 0, pb);
    memset(B.shinfo, 0, sizeof(B.shinfo));

    /* Each end's send raises the other end only. */
    assert_int_equal(evtchn_send(&A.t, pa), 0);
    assert_true(evtchn_is_pending(&B.t, pb));
    assert_false(evtchn_is_pending(&A.t, pa));
    assert_int_equal(evtchn_send(&B.t, pb), 0);
    assert_true(evtchn_is_pending(&A.t, pa));
    check_kick(&A, 0, 0, pa);

    /* Closing one end leaves the other unbound, offered to the closer. */
    assert_int_equal(evtchn_close(&A.t, pa), 0);
    assert_false(evtchn_is_pending(&A.t, pa));          /* close clears pending */
    assert_int_equal(status_of(&A.t, pa).status, EVTCHNSTAT_closed);
    s = status_of(&B.t, pb);
    assert_int_equal(s.status, EVTCHNSTAT_unbound);
    assert_int_equal(s.u.unbound.dom, DOM_A);
    assert_int_equal(evtchn_close(&A.t, pa), -EINVAL);  /* twice */
    /* Sending on it now is dropped silently. */
    B.shinfo[PENDING] = 0;
    unsigned kicks = A.nr_kicks;
    assert_int_equal(evtchn_send(&B.t, pb), 0);
    assert_int_equal(A.nr_kicks, kicks);
    assert_false(evtchn_is_pending(&A.t, pa));
    /* And A may connect to it again. */
    assert_int_equal(evtchn_bind_interdomain(&A.t, &B.t, pb), 1);
    assert_int_equal(status_of(&B.t, pb).u.interdomain.port, 1);
}

static void test_interdomain_hostile(void **state)
{
    int offer_c = evtchn_alloc_unbound(&A.t, 3);        /* offered to someone else */
    int ipi = evtchn_bind_ipi(&A.t, 0);
    int virq = evtchn_bind_virq(&A.t, VIRQ_TIMER, 0);
    int xen = evtchn_alloc_xen_port(&A.t, 0, fake_on_send, NULL);

    assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, (unsigned)offer_c), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, (unsigned)ipi), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, (unsigned)virq), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, (unsigned)xen), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, 0), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, 100), -EINVAL);     /* free */
    /* Connected ports cannot be taken over by a third party. */
    int pa = evtchn_alloc_unbound(&A.t, DOM_B);
    assert_true(evtchn_bind_interdomain(&B.t, &A.t, (unsigned)pa) > 0);
    assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, (unsigned)pa), -EINVAL);
    /* B allocated only the one successful port. */
    assert_int_equal(evtchn_bind_ipi(&B.t, 0), 2);
}

static void test_interdomain_loopback(void **state)
{
    int p1 = evtchn_alloc_unbound(&A.t, DOMID_SELF);
    int p2 = evtchn_bind_interdomain(&A.t, &A.t, (unsigned)p1);
    struct evtchn_status s;

    assert_int_equal(p1, 1);
    assert_int_equal(p2, 2);
    s = status_of(&A.t, 1);
    assert_int_equal(s.status, EVTCHNSTAT_interdomain);
    assert_int_equal(s.u.interdomain.dom, DOM_A);
    assert_int_equal(s.u.interdomain.port, 2);
    A.shinfo[PENDING] = 0;                              /* drop the bind-time raise */
    assert_int_equal(evtchn_send(&A.t, 1), 0);
    assert_true(evtchn_is_pending(&A.t, 2));
    assert_false(evtchn_is_pending(&A.t, 1));
    assert_int_equal(evtchn_send(&A.t, 2), 0);
    assert_true(evtchn_is_pending(&A.t, 1));
    assert_int_equal(evtchn_close(&A.t, 2), 0);
    s = status_of(&A.t, 1);
    assert_int_equal(s.status, EVTCHNSTAT_unbound);
    assert_int_equal(s.u.unbound.dom, DOM_A);
}

/* ---- bind_vcpu ---- */

static void test_bind_vcpu(void **state)
{
    int unbound = evtchn_alloc_unbound(&A.t, DOM_B);
    int timer = evtchn_bind_virq(&A.t, VIRQ_TIMER, 1);

    assert_int_equal(evtchn_bind_vcpu(&A.t, (unsigned)unbound, NR_VCPUS), -ENOENT);
    assert_int_equal(evtchn_bind_vcpu(&A.t, (unsigned)unbound, 0xffffffffu), -ENOENT);
    assert_int_equal(evtchn_bind_vcpu(&A.t, (unsigned)timer, 0), -EINVAL);
    assert_int_equal(evtchn_notify_vcpu(&A.t, (unsigned)timer), 1);
    assert_int_equal(evtchn_bind_vcpu(&A.t, (unsigned)unbound, 2), 0);
    assert_int_equal(evtchn_notify_vcpu(&A.t, (unsigned)unbound), 2);
    /* The raise follows: selector and upcall go to vCPU 2's vcpu_info. */
    assert_int_equal(evtchn_set_pending(&A.t, (unsigned)unbound), 0);
    want_bit(PENDING, (unsigned)unbound);
    want_sel(2, false, (unsigned)unbound);
    check_pages(&A);
    /* It survives the peer binding. */
    assert_true(evtchn_bind_interdomain(&B.t, &A.t, (unsigned)unbound) > 0);
    assert_int_equal(evtchn_notify_vcpu(&A.t, (unsigned)unbound), 2);
    assert_int_equal(evtchn_bind_vcpu(&A.t, (unsigned)unbound, 1), 0);
    /* Close resets it. */
    assert_int_equal(evtchn_close(&A.t, (unsigned)unbound), 0);
    assert_int_equal(evtchn_notify_vcpu(&A.t, (unsigned)unbound), 0);
}

/* ---- Hypervisor backends ---- */

static void test_xen_port(void **state)
{
    int cons;
    struct evtchn_status s;

    assert_int_equal(evtchn_alloc_xen_port(&A.t, 0, NULL, NULL), -EINVAL);
    assert_int_equal(evtchn_alloc_xen_port(&A.t, NR_VCPUS, fake_on_send, NULL), -ENOENT);
    cons = evtchn_alloc_xen_port(&A.t, 0, fake_on_send, &B);
    assert_int_equal(cons, 1);

    /* A guest send calls the backend and raises nothing in the guest. */
    assert_int_equal(evtchn_send(&A.t, 1), 0);
    assert_int_equal(A.nr_sends, 1);
    assert_int_equal(A.send_port, 1);
    assert_ptr_equal(A.send_ctx, &B);
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 0);

    /* The backend raises it like any port. */
    assert_int_equal(evtchn_set_pending(&A.t, 1), 0);
    want_bit(PENDING, 1);
    want_sel(0, false, 1);
    check_pages(&A);

    s = status_of(&A.t, 1);
    assert_int_equal(s.status, EVTCHNSTAT_interdomain);
    assert_int_equal(s.u.interdomain.dom, DOMID_XEN);
    /* The guest may move it, not close it; reset keeps it. */
    assert_int_equal(evtchn_bind_vcpu(&A.t, 1, 1), 0);
    assert_int_equal(evtchn_close(&A.t, 1), -EINVAL);
    reset_whole(&A.t);
    assert_int_equal(status_of(&A.t, 1).status, EVTCHNSTAT_interdomain);
    assert_int_equal(evtchn_send(&A.t, 1), 0);
    assert_int_equal(A.nr_sends, 2);
    /* Teardown closes it. */
    evtchn_close_all(&A.t);
    assert_int_equal(status_of(&A.t, 1).status, EVTCHNSTAT_closed);
    assert_int_equal(evtchn_send(&A.t, 1), -EINVAL);
    assert_int_equal(A.nr_sends, 2);
}

/* ---- send, reset, teardown ---- */

static void test_send_by_state(void **state)
{
    int unbound = evtchn_alloc_unbound(&A.t, DOM_B);

    assert_int_equal(evtchn_send(&A.t, (unsigned)unbound), 0);     /* dropped */
    check_pages(&A);
    assert_int_equal(A.nr_kicks, 0);
    assert_int_equal(evtchn_send(&A.t, 5), -EINVAL);                /* free */
}

static void test_close_clears_pending_keeps_mask(void **state)
{
    int p = evtchn_bind_ipi(&A.t, 0);

    A.shinfo[MASK64] = 1u << p;
    want_shinfo[MASK64] = 1u << p;
    assert_int_equal(evtchn_send(&A.t, (unsigned)p), 0);
    assert_true(evtchn_is_pending(&A.t, (unsigned)p));
    assert_int_equal(evtchn_close(&A.t, (unsigned)p), 0);
    check_pages(&A);
}

static void test_reset(void **state)
{
    int pa = evtchn_alloc_unbound(&A.t, DOM_B);
    int pb = evtchn_bind_interdomain(&B.t, &A.t, (unsigned)pa);
    int timer = evtchn_bind_virq(&A.t, VIRQ_TIMER, 2);
    int xen = evtchn_alloc_xen_port(&A.t, 0, fake_on_send, NULL);

    assert_int_equal(evtchn_bind_ipi(&A.t, 1), 4);
    reset_whole(&A.t);
    assert_int_equal(status_of(&A.t, (unsigned)pa).status, EVTCHNSTAT_closed);
    assert_int_equal(status_of(&A.t, (unsigned)timer).status, EVTCHNSTAT_closed);
    assert_int_equal(status_of(&A.t, 4).status, EVTCHNSTAT_closed);
    assert_int_equal(status_of(&A.t, (unsigned)xen).status, EVTCHNSTAT_interdomain);
    assert_int_equal(status_of(&B.t, (unsigned)pb).status, EVTCHNSTAT_unbound);
    assert_int_equal(evtchn_send_virq(&A.t, 2, VIRQ_TIMER), -ENOENT);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 2), 1);
}

/* Binds IPI ports 1..n of A (n < 128: one bucket). */
static void bind_ipis(unsigned n)
{
    for (unsigned i = 1; i <= n; i++)
        assert_int_equal(evtchn_bind_ipi(&A.t, 0), (int)i);
}

/* Death: each call closes at most max ports, in order; B's end is unbound once A's goes. */
static void test_close_some_is_bounded(void **state)
{
    int pb = evtchn_alloc_unbound(&B.t, DOM_A);
    unsigned calls = 0;

    bind_ipis(40);
    assert_int_equal(evtchn_bind_interdomain(&A.t, &B.t, (unsigned)pb), 41);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 0), 42);
    assert_false(evtchn_all_closed(&A.t));
    assert_false(evtchn_close_some(&A.t, 16));
    assert_int_equal(status_of(&A.t, 16).status, EVTCHNSTAT_closed);
    assert_int_equal(status_of(&A.t, 17).status, EVTCHNSTAT_ipi);  /* not this call's */
    assert_false(evtchn_close_some(&A.t, 16));
    assert_int_equal(status_of(&A.t, 33).status, EVTCHNSTAT_ipi);
    assert_int_equal(status_of(&B.t, (unsigned)pb).status, EVTCHNSTAT_interdomain);
    assert_false(evtchn_all_closed(&A.t));
    while (!evtchn_close_some(&A.t, 16))
        calls++;
    assert_int_equal(calls, 128 / 16 - 3);  /* a bucket of 128 visited, 16 a call */
    assert_true(evtchn_all_closed(&A.t));
    assert_int_equal(status_of(&B.t, (unsigned)pb).status, EVTCHNSTAT_unbound);
    assert_int_equal(status_of(&B.t, (unsigned)pb).u.unbound.dom, DOM_A);
    assert_int_equal(evtchn_send_virq(&A.t, 0, VIRQ_TIMER), -ENOENT);
    assert_true(evtchn_close_some(&A.t, 16));       /* done stays done */
}

static void test_close_all_unbinds_peers(void **state)
{
    int pb = evtchn_alloc_unbound(&B.t, DOM_A);
    int pa = evtchn_bind_interdomain(&A.t, &B.t, (unsigned)pb);

    assert_true(pa > 0);
    evtchn_close_all(&A.t);
    assert_int_equal(status_of(&B.t, (unsigned)pb).status, EVTCHNSTAT_unbound);
    assert_int_equal(status_of(&B.t, (unsigned)pb).u.unbound.dom, DOM_A);
    assert_int_equal(evtchn_send(&B.t, (unsigned)pb), 0);
    assert_false(evtchn_is_pending(&A.t, (unsigned)pa));
}


/* ---- FIFO ABI ---- */

static struct evtchn_fifo_control_block *ctl_of(struct fake *f, unsigned vcpu)
{
    return (struct evtchn_fifo_control_block *)(f->ctl + vcpu * CTL_STRIDE);
}

static uint32_t *word_of(struct fake *f, unsigned port)
{
    return &f->words[port / EVTCHN_FIFO_WORDS_PER_PAGE][port % EVTCHN_FIFO_WORDS_PER_PAGE];
}

/* Switches f to FIFO with a control block on every vCPU and `pages` event array pages. */
static void fifo_on(struct fake *f, unsigned pages)
{
    for (unsigned v = 0; v < NR_VCPUS; v++)
        assert_int_equal(evtchn_fifo_init_control(&f->t, v, v * CTL_STRIDE, f->ctl), 0);
    for (unsigned i = 0; i < pages; i++)
        assert_int_equal(evtchn_fifo_expand_array(&f->t, f->words[i]), 0);
}

/* EVTCHNOP_reset a batch a call, as Xen's reset/reset_cont: -EBUSY out of turn. */
static void test_reset_continues(void **state)
{
    int xen;

    fifo_on(&A, 2);
    bind_ipis(40);
    xen = evtchn_alloc_xen_port(&A.t, 0, fake_on_send, NULL);
    assert_int_equal(evtchn_reset(&A.t, true, 16), -EBUSY);        /* none under way */
    assert_int_equal(evtchn_reset(&A.t, false, 16), 1);
    assert_int_equal(status_of(&A.t, 17).status, EVTCHNSTAT_ipi);
    assert_non_null(A.t.fifo);                                      /* FIFO until the end */
    assert_int_equal(evtchn_reset(&A.t, false, 16), -EBUSY);       /* a second reset */
    assert_int_equal(status_of(&A.t, 17).status, EVTCHNSTAT_ipi);
    assert_int_equal(evtchn_reset(&A.t, true, 16), 1);
    assert_int_equal(status_of(&A.t, 32).status, EVTCHNSTAT_closed);
    assert_int_equal(status_of(&A.t, 33).status, EVTCHNSTAT_ipi);
    while (evtchn_reset(&A.t, true, 16) == 1)
        ;
    assert_null(A.t.fifo);
    assert_int_equal(status_of(&A.t, 40).status, EVTCHNSTAT_closed);
    assert_int_equal(status_of(&A.t, (unsigned)xen).status, EVTCHNSTAT_interdomain);
    assert_int_equal(evtchn_reset(&A.t, true, 16), -EBUSY);        /* over */
    reset_whole(&A.t);                                              /* a new one may start */
}

/*
 * The guest's side, as Linux's consume_one_event: the highest-priority ready
 * queue, its head (the control block's when the guest has none), unlink it
 * (clear LINKED and take LINK), forget the ready bit when the queue ran dry.
 * Returns the next pending unmasked port (PENDING cleared), 0 when none.
 */
static unsigned guest_consume(struct fake *f, unsigned vcpu)
{
    struct evtchn_fifo_control_block *cb = ctl_of(f, vcpu);

    for (unsigned budget = 0; budget < 64; budget++) {
        unsigned prio = 0, port;
        uint32_t w;

        while (prio < EVTCHN_FIFO_MAX_QUEUES && !(cb->ready & (1u << prio)))
            prio++;
        if (prio == EVTCHN_FIFO_MAX_QUEUES)
            return 0;
        port = f->guest_head[vcpu][prio] ? f->guest_head[vcpu][prio] : cb->head[prio];
        w = *word_of(f, port);
        *word_of(f, port) = w & ~(W_LINKED | EVTCHN_FIFO_LINK_MASK);
        f->guest_head[vcpu][prio] = w & EVTCHN_FIFO_LINK_MASK;
        if (!f->guest_head[vcpu][prio])
            cb->ready &= ~(1u << prio);
        if ((w & W_PENDING) && !(w & W_MASKED)) {
            *word_of(f, port) &= ~W_PENDING;
            return port;
        }
    }
    fail_msg("queue does not end");
    return 0;
}

static void test_fifo_init_control_checks(void **state)
{
    uint8_t *vi0 = A.shinfo;

    assert_int_equal(evtchn_fifo_expand_array(&A.t, A.words[0]), -EOPNOTSUPP);
    assert_int_equal(evtchn_set_priority(&A.t, 4096, 3), -EINVAL);
    assert_int_equal(evtchn_set_priority(&A.t, 0, 3), -EINVAL);     /* no bucket: before -ENOSYS */
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), 1);
    assert_int_equal(evtchn_set_priority(&A.t, 0, 3), -ENOSYS);
    assert_int_equal(evtchn_set_priority(&A.t, 1, 3), -ENOSYS);     /* 2-level */
    assert_int_equal(evtchn_fifo_init_control(&A.t, NR_VCPUS, 0, A.ctl), -ENOENT);
    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 4, A.ctl), -EINVAL);
    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 4096 - 72 + 8, A.ctl), -EINVAL);
    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 0xfffffff8u, A.ctl), -EINVAL);
    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 0, NULL), -EINVAL);
    pages_until_failure = 0;
    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 0, A.ctl), -ENOMEM);
    pages_until_failure = -1;
    /* XSA-188: failed calls leave the 2-level ABI whole; expand_array still refuses. */
    assert_int_equal(evtchn_port_limit(&A.t), 4096);
    assert_int_equal(evtchn_fifo_expand_array(&A.t, A.words[0]), -EOPNOTSUPP);
    assert_int_equal(pages_live, 1);
    /* The last offset where the 72-byte block fits, then the same vCPU again. */
    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 4096 - 72, A.ctl), 0);
    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 0, A.ctl), -EINVAL);
    assert_int_equal(evtchn_port_limit(&A.t), EVTCHN_MAX_PORTS);
    assert_int_equal(evtchn_set_priority(&A.t, 1, 16), -EINVAL);
    assert_int_equal(evtchn_set_priority(&A.t, 1, 15), 0);
    assert_int_equal(evtchn_set_priority(&A.t, EVTCHN_MAX_PORTS, 1), -EINVAL);
    assert_int_equal(evtchn_set_priority(&A.t, 4000, 1), -EINVAL);   /* never bound */
    /* Raised without its array page: no word to write, nothing for the guest yet. */
    assert_int_equal(evtchn_send(&A.t, 1), 0);
    assert_false(evtchn_is_pending(&A.t, 1));
    assert_true(evtchn_is_masked(&A.t, 1));
    assert_int_equal(vi0[0], 0);
}

static void test_fifo_links_in_order(void **state)
{
    int p[3];

    fifo_on(&A, 1);
    for (unsigned i = 0; i < 3; i++)
        p[i] = evtchn_bind_ipi(&A.t, 0);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(evtchn_send(&A.t, (unsigned)p[i]), 0);
    /* head -> p0 -> p1 -> p2, all PENDING and LINKED, queue 7 ready, upcall flagged. */
    assert_int_equal(ctl_of(&A, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p[0]);
    assert_int_equal(ctl_of(&A, 0)->ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
    assert_int_equal(*word_of(&A, p[0]), W_PENDING | W_LINKED | p[1]);
    assert_int_equal(*word_of(&A, p[1]), W_PENDING | W_LINKED | p[2]);
    assert_int_equal(*word_of(&A, p[2]), W_PENDING | W_LINKED);
    assert_int_equal(A.shinfo[0], 1);
    assert_int_equal(A.nr_kicks, 3);
    /* Already pending: no second link, no kick. */
    assert_int_equal(evtchn_send(&A.t, (unsigned)p[1]), 0);
    assert_int_equal(A.nr_kicks, 3);
    assert_true(evtchn_is_pending(&A.t, (unsigned)p[1]));
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(guest_consume(&A, 0), p[i]);
    assert_int_equal(guest_consume(&A, 0), 0);
    /* The queue is empty now (the guest unlinked the tail): the next event is the head. */
    assert_int_equal(evtchn_send(&A.t, (unsigned)p[1]), 0);
    assert_int_equal(ctl_of(&A, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p[1]);
    assert_int_equal(guest_consume(&A, 0), p[1]);
    /* Nothing written outside the words and block: the 2-level bitmaps stay clear. */
    assert_int_equal(A.shinfo[PENDING], 0);
}

static void test_fifo_priorities(void **state)
{
    static const unsigned prio[] = { 15, 7, 0, 3, 0 };
    static const unsigned order[] = { 3, 5, 4, 2, 1 };     /* by priority, FIFO within one */
    int p[5];

    fifo_on(&A, 1);
    for (unsigned i = 0; i < 5; i++) {
        p[i] = evtchn_bind_ipi(&A.t, 1);
        assert_int_equal(evtchn_set_priority(&A.t, (unsigned)p[i], prio[i]), 0);
    }
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(evtchn_send(&A.t, (unsigned)p[i]), 0);
    assert_int_equal(ctl_of(&A, 1)->ready, (1u << 15) | (1u << 7) | (1u << 3) | 1u);
    assert_int_equal(ctl_of(&A, 0)->ready, 0);
    assert_int_equal(A.vinfo[1][0], 1);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(guest_consume(&A, 1), order[i]);
    assert_int_equal(guest_consume(&A, 1), 0);
    /* A new priority applies to the next link; an event already queued stays put. */
    assert_int_equal(evtchn_send(&A.t, (unsigned)p[0]), 0);
    assert_int_equal(evtchn_set_priority(&A.t, (unsigned)p[0], 2), 0);
    assert_int_equal(ctl_of(&A, 1)->head[15], p[0]);
    assert_int_equal(guest_consume(&A, 1), p[0]);
    assert_int_equal(evtchn_send(&A.t, (unsigned)p[0]), 0);
    assert_int_equal(ctl_of(&A, 1)->head[2], p[0]);
    assert_int_equal(guest_consume(&A, 1), p[0]);
}

static void test_fifo_mask_and_unmask(void **state)
{
    int p;

    fifo_on(&A, 1);
    p = evtchn_bind_ipi(&A.t, 0);
    *word_of(&A, p) = W_MASKED;
    assert_int_equal(evtchn_send(&A.t, (unsigned)p), 0);
    assert_int_equal(*word_of(&A, p), W_MASKED | W_PENDING);
    assert_int_equal(ctl_of(&A, 0)->ready, 0);
    assert_int_equal(A.nr_kicks, 1);            /* pollers of a masked port still wake */
    assert_true(evtchn_is_masked(&A.t, (unsigned)p));
    assert_int_equal(evtchn_unmask(&A.t, (unsigned)p), 0);
    assert_int_equal(*word_of(&A, p), W_PENDING | W_LINKED);
    assert_int_equal(ctl_of(&A, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p);
    assert_int_equal(ctl_of(&A, 0)->ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
    assert_int_equal(A.nr_kicks, 2);
    /* Unmasking a port that is not pending only clears the bit. */
    assert_int_equal(guest_consume(&A, 0), p);
    *word_of(&A, p) = W_MASKED;
    assert_int_equal(evtchn_unmask(&A.t, (unsigned)p), 0);
    assert_int_equal(*word_of(&A, p), 0);
    assert_int_equal(ctl_of(&A, 0)->ready, 0);
    /* Closing clears PENDING only; the guest unlinks a word that is not pending. */
    assert_int_equal(evtchn_send(&A.t, (unsigned)p), 0);
    assert_int_equal(evtchn_close(&A.t, (unsigned)p), 0);
    assert_int_equal(*word_of(&A, p), W_LINKED);
    assert_false(evtchn_is_pending(&A.t, (unsigned)p));
}

/* The notify vCPU picks the queue; a vCPU without a control block only gets PENDING. */
static void test_fifo_notify_vcpu(void **state)
{
    int p;

    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 0, A.ctl), 0);
    assert_int_equal(evtchn_fifo_expand_array(&A.t, A.words[0]), 0);
    p = evtchn_alloc_unbound(&A.t, DOMID_SELF);
    assert_int_equal(evtchn_bind_vcpu(&A.t, (unsigned)p, 2), 0);
    assert_int_equal(evtchn_set_pending(&A.t, (unsigned)p), 0);
    assert_int_equal(*word_of(&A, p), W_PENDING);
    assert_int_equal(A.vinfo[2][0], 0);
    check_kick(&A, 0, 2, (unsigned)p);
    /* vCPU 2 registers its block later; unmask (as Linux does) delivers the event. */
    assert_int_equal(evtchn_fifo_init_control(&A.t, 2, 2 * CTL_STRIDE, A.ctl), 0);
    assert_int_equal(evtchn_unmask(&A.t, (unsigned)p), 0);
    assert_int_equal(ctl_of(&A, 2)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p);
    assert_int_equal(A.vinfo[2][0], 1);
    /* Moved to vCPU 0 while still its tail on vCPU 2: the old queue forgets it. */
    assert_int_equal(guest_consume(&A, 2), p);
    assert_int_equal(evtchn_bind_vcpu(&A.t, (unsigned)p, 0), 0);
    assert_int_equal(evtchn_set_pending(&A.t, (unsigned)p), 0);
    assert_int_equal(ctl_of(&A, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p);
    assert_int_equal(*word_of(&A, p), W_PENDING | W_LINKED);
    assert_int_equal(A.t.fifo->vcpu[2].tail[EVTCHN_FIFO_PRIORITY_DEFAULT], 0);
}

static void test_fifo_expand_array_bounds(void **state)
{
    unsigned port = 5000;

    assert_int_equal(evtchn_fifo_init_control(&A.t, 0, 0, A.ctl), 0);
    assert_int_equal(evtchn_fifo_init_control(&A.t, 1, CTL_STRIDE, A.ctl), 0);
    assert_int_equal(evtchn_fifo_expand_array(&A.t, NULL), -EINVAL);
    for (unsigned i = 1; i < port; i++)
        assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), (int)i);
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), (int)port);
    /* Raised before its page exists: kept, and raised when the page comes. */
    assert_int_equal(evtchn_send(&A.t, port), 0);
    for (unsigned i = 0; i < port / EVTCHN_FIFO_WORDS_PER_PAGE; i++)
        assert_int_equal(evtchn_fifo_expand_array(&A.t, A.words[i]), 0);
    assert_int_equal(ctl_of(&A, 0)->ready, 0);
    assert_int_equal(evtchn_fifo_expand_array(&A.t, A.words[port / EVTCHN_FIFO_WORDS_PER_PAGE]),
                     0);
    assert_int_equal(*word_of(&A, port), W_PENDING | W_LINKED);
    assert_int_equal(ctl_of(&A, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], port);
    for (unsigned i = port / EVTCHN_FIFO_WORDS_PER_PAGE + 1; i < EVTCHN_FIFO_MAX_PAGES; i++)
        assert_int_equal(evtchn_fifo_expand_array(&A.t, A.words[i]), 0);
    assert_int_equal(evtchn_fifo_expand_array(&A.t, A.words[0]), -ENOSPC);
    /* Every port number up to the cap, and no more. */
    for (unsigned i = port + 1; i < EVTCHN_MAX_PORTS; i++)
        assert_int_equal(evtchn_bind_ipi(&A.t, 1), (int)i);
    assert_int_equal(evtchn_bind_ipi(&A.t, 1), -ENOSPC);
    assert_int_equal(evtchn_send(&A.t, EVTCHN_MAX_PORTS - 1), 0);
    assert_int_equal(ctl_of(&A, 1)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], EVTCHN_MAX_PORTS - 1);
    assert_int_equal(pages_live, EVTCHN_MAX_BUCKETS + EVTCHN_MAX_DIRS + 1);
}

/*
 * Ports above 65535: a peer port, a virq and the queues hold them whole; the
 * ports past 16384 take a directory page the first time; the never-bound
 * ones are invalid; reset closes them all.
 */
static void test_fifo_high_ports(void **state)
{
    unsigned high = 70000;
    struct evtchn_status s;

    fifo_on(&A, high / EVTCHN_FIFO_WORDS_PER_PAGE + 2);
    for (unsigned i = 1; i < EVTCHN_TABLE_BUCKETS * EVTCHN_PORTS_PER_BUCKET; i++)
        assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), (int)i);
    assert_int_equal(pages_live, 1 + EVTCHN_TABLE_BUCKETS);
    expect_invalid_port(&A.t, EVTCHN_TABLE_BUCKETS * EVTCHN_PORTS_PER_BUCKET);
    expect_invalid_port(&A.t, high);
    expect_invalid_port(&A.t, EVTCHN_MAX_PORTS - 1);
    for (unsigned i = EVTCHN_TABLE_BUCKETS * EVTCHN_PORTS_PER_BUCKET; i <= high; i++)
        assert_int_equal(evtchn_alloc_unbound(&A.t, DOM_B), (int)i);
    assert_int_equal(pages_live, 1 + high / EVTCHN_PORTS_PER_BUCKET + 1 + 1);   /* + a directory */
    expect_invalid_port(&A.t, EVTCHN_MAX_PORTS - 1);
    /* B's port 1 connects to A's port 70000; B sends, A's guest sees 70000. */
    assert_int_equal(evtchn_bind_interdomain(&B.t, &A.t, high), 1);
    s = status_of(&B.t, 1);
    assert_int_equal(s.u.interdomain.port, high);
    assert_int_equal(status_of(&A.t, high).u.interdomain.port, 1);
    assert_int_equal(evtchn_send(&B.t, 1), 0);
    assert_int_equal(ctl_of(&A, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], high);
    assert_int_equal(guest_consume(&A, 0), high);
    assert_int_equal(evtchn_bind_virq(&A.t, VIRQ_TIMER, 1), (int)high + 1);
    assert_int_equal(evtchn_send_virq(&A.t, 1, VIRQ_TIMER), 0);
    assert_int_equal(A.t.fifo->vcpu[1].tail[EVTCHN_FIFO_PRIORITY_DEFAULT], high + 1);
    assert_int_equal(guest_consume(&A, 1), high + 1);
    assert_int_equal(evtchn_set_priority(&A.t, high + 1, 2), 0);
    /* reset closes the high ports too (B's end is offered to A again) and is back to 2-level. */
    reset_whole(&A.t);
    assert_int_equal(status_of(&B.t, 1).status, EVTCHNSTAT_unbound);
    expect_invalid_port(&A.t, high);
    assert_int_equal(status_of(&A.t, 4095).status, EVTCHNSTAT_closed);
    assert_int_equal(evtchn_send_virq(&A.t, 1, VIRQ_TIMER), -ENOENT);
}

/* Ports bound under 2-level keep their pending state across the switch (Xen: setup_ports). */
static void test_fifo_switch_carries_pending(void **state)
{
    int quiet = evtchn_bind_ipi(&A.t, 0), loud = evtchn_bind_ipi(&A.t, 0);

    assert_int_equal(evtchn_send(&A.t, (unsigned)loud), 0);
    fifo_on(&A, 1);
    assert_int_equal(*word_of(&A, quiet), 0);
    assert_int_equal(*word_of(&A, loud), W_PENDING | W_LINKED);
    assert_int_equal(guest_consume(&A, 0), loud);
    assert_int_equal(guest_consume(&A, 0), 0);
}

/* A guest that scribbles over event words and control blocks hurts only itself. */
static void test_fifo_hostile_words(void **state)
{
    int p[4];

    fifo_on(&A, 1);
    for (unsigned i = 0; i < 4; i++)
        p[i] = evtchn_bind_ipi(&A.t, 0);
    assert_int_equal(evtchn_send(&A.t, (unsigned)p[0]), 0);
    /* The tail keeps LINKED but gets BUSY and a LINK pointing at itself: we set LINK, clear BUSY. */
    *word_of(&A, p[0]) = W_PENDING | W_LINKED | W_BUSY | (uint32_t)p[0];
    assert_int_equal(evtchn_send(&A.t, (unsigned)p[1]), 0);
    assert_int_equal(*word_of(&A, p[0]), W_PENDING | W_LINKED | p[1]);
    /* Every bit set (LINK = 2^17 - 1, far past the array) on a port not yet raised:
     * it counts as linked and pending already, so nothing is done with it. */
    *word_of(&A, p[2]) = 0xffffffffu;
    assert_int_equal(evtchn_send(&A.t, (unsigned)p[2]), 0);
    assert_int_equal(*word_of(&A, p[2]), 0xffffffffu);
    assert_int_equal(A.t.fifo->vcpu[0].tail[EVTCHN_FIFO_PRIORITY_DEFAULT], p[1]);
    /* A closed port still LINKED (the guest never unlinked it) is not handed out again. */
    assert_int_equal(evtchn_close(&A.t, (unsigned)p[2]), 0);
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), p[3] + 1);
    *word_of(&A, p[2]) = 0;
    assert_int_equal(evtchn_bind_ipi(&A.t, 0), p[2]);
    /* Garbage heads and ready bits: we only ever write them, never follow them. */
    memset(ctl_of(&A, 0), 0xff, sizeof(struct evtchn_fifo_control_block));
    *word_of(&A, p[1]) = 0;                     /* the guest unlinked the tail */
    assert_int_equal(evtchn_send(&A.t, (unsigned)p[3]), 0);
    assert_int_equal(ctl_of(&A, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p[3]);
    assert_int_equal(*word_of(&A, p[3]), W_PENDING | W_LINKED);
    /* A hypervisor raise into a fully scribbled array terminates. */
    memset(A.words[0], 0x5a, sizeof(A.words[0]));
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(evtchn_send(&A.t, (unsigned)p[i]), 0);
}

static void test_fifo_reset_back_to_2l(void **state)
{
    int p;

    fifo_on(&A, 2);
    p = evtchn_bind_ipi(&A.t, 0);
    assert_int_equal(pages_live, 2);
    reset_whole(&A.t);
    assert_int_equal(pages_live, 1);
    assert_null(A.t.fifo);
    assert_int_equal(evtchn_port_limit(&A.t), 4096);
    assert_int_equal(evtchn_fifo_expand_array(&A.t, A.words[0]), -EOPNOTSUPP);
    p = evtchn_bind_ipi(&A.t, 0);
    assert_int_equal(evtchn_set_priority(&A.t, (unsigned)p, 1), -ENOSYS);
    assert_int_equal(evtchn_send(&A.t, (unsigned)p), 0);
    want_bit(PENDING, (unsigned)p);
    want_sel(0, false, (unsigned)p);
    check_pages(&A);
    /* And FIFO again, from scratch. */
    memset(A.ctl, 0, sizeof(A.ctl));
    memset(A.words, 0, sizeof(A.words));
    fifo_on(&A, 1);
    assert_int_equal(guest_consume(&A, 0), p);
}

/* Interdomain sends into a FIFO domain from a 2-level one, and back. */
static void test_fifo_interdomain(void **state)
{
    int pb = evtchn_alloc_unbound(&B.t, DOM_A);
    int pa = evtchn_bind_interdomain(&A.t, &B.t, (unsigned)pb);

    fifo_on(&A, 1);
    assert_int_equal(guest_consume(&A, 0), pa);     /* the raise at bind, carried over */
    assert_int_equal(evtchn_send(&B.t, (unsigned)pb), 0);
    assert_int_equal(guest_consume(&A, 0), pa);
    assert_int_equal(evtchn_send(&A.t, (unsigned)pa), 0);
    assert_true(evtchn_is_pending(&B.t, (unsigned)pb));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TC(fn) cmocka_unit_test_setup_teardown(fn, setup_compat, teardown)
    const struct CMUnitTest tests[] = {
        T(test_init_rejects_bad_arguments),
        T(test_port_limit_both_layouts),
        T(test_storage_grows_on_demand),
        T(test_port_4000_64),
        T(test_alloc_unbound),
        T(test_ports_run_out_and_are_reused),
        TC(test_ports_run_out_and_are_reused),
        T(test_hostile_ports),
        TC(test_hostile_ports),
        T(test_port_zero_and_free_ports),
        T(test_bind_virq),
        T(test_bind_virq_hostile),
        T(test_send_virq),
        T(test_global_virq_follows_bind_vcpu),
        T(test_bind_ipi_and_send),
        T(test_raise_64),
        TC(test_raise_compat),
        T(test_masked_unmask_64),
        TC(test_masked_unmask_compat),
        T(test_raise_keeps_guest_bits),
        T(test_raise_without_vcpu_info),
        T(test_interdomain_pair),
        T(test_interdomain_hostile),
        T(test_interdomain_loopback),
        T(test_bind_vcpu),
        T(test_xen_port),
        T(test_send_by_state),
        T(test_close_clears_pending_keeps_mask),
        T(test_reset),
        T(test_close_all_unbinds_peers),
        T(test_close_some_is_bounded),
        T(test_reset_continues),
        T(test_fifo_init_control_checks),
        T(test_fifo_links_in_order),
        T(test_fifo_priorities),
        T(test_fifo_mask_and_unmask),
        T(test_fifo_notify_vcpu),
        T(test_fifo_expand_array_bounds),
        T(test_fifo_high_ports),
        T(test_fifo_switch_carries_pending),
        TC(test_fifo_switch_carries_pending),
        T(test_fifo_hostile_words),
        T(test_fifo_reset_back_to_2l),
        T(test_fifo_interdomain),
    };
#undef T
#undef TC
    return cmocka_run_group_tests(tests, NULL, NULL);
}
