/* fuzz_evtchn.c (host fuzzer): the event-channel state machine driven by operations decoded from the input. */
#include "fuzz.h"
#include "../../xen/common/evtchn.c"        /* one translation unit: see tests/fuzz/meson.build */

/*
 * Two domains (A with 3 vCPUs, B with 1) whose guest and hypervisor
 * operations come from the input, one operation per 4-byte record. After
 * every operation the tables must stay consistent: interdomain ports point at
 * each other, the virq map and the virq ports agree, notify vCPUs exist, FIFO
 * tails are ports; and every page the tables took comes back at the end. The
 * guest's FIFO pages (control blocks, event arrays) come from a pool of four,
 * so the guest may hand one page for several uses and scribbles on them.
 */
#define VI_SIZE 64
#define GUEST_PAGES 4

struct fake_dom {
    _Alignas(4096) uint8_t shinfo[4096];
    _Alignas(64) uint8_t vinfo[EVTCHN_MAX_VCPUS][VI_SIZE];
    _Alignas(4096) uint8_t gpages[GUEST_PAGES][4096];
    bool no_vcpu_info;
    unsigned nr_vcpus;
    struct evtchn_table t;
};

static struct fake_dom doms[2];
static unsigned sends;
static unsigned pages_live;
static bool page_alloc_fails;

void *evtchn_page_alloc(void)
{
    void *page;

    if (page_alloc_fails)
        return NULL;
    page = aligned_alloc(4096, 4096);
    FUZZ_CHECK(page);
    memset(page, 0, 4096);
    pages_live++;
    return page;
}

void evtchn_page_free(void *page)
{
    if (!page)
        return;
    FUZZ_CHECK(pages_live > 0);
    pages_live--;
    free(page);
}

static uint8_t *fake_vcpu_info(void *ctx, unsigned vcpu)
{
    struct fake_dom *d = ctx;

    FUZZ_CHECK(vcpu < d->nr_vcpus);
    if (d->no_vcpu_info)
        return NULL;
    return vcpu == 0 ? d->shinfo : d->vinfo[vcpu];
}

static void fake_kick(void *ctx, unsigned vcpu, unsigned port)
{
    struct fake_dom *d = ctx;

    FUZZ_CHECK(vcpu < d->nr_vcpus);
    FUZZ_CHECK(port > 0 && port < EVTCHN_MAX_PORTS);
}

static void fake_on_send(void *ctx, unsigned port)
{
    FUZZ_CHECK(ctx == &sends);
    FUZZ_CHECK(port > 0 && port < EVTCHN_MAX_PORTS);
    sends++;
}

static void dom_init(unsigned i)
{
    struct fake_dom *d = &doms[i];

    evtchn_table_destroy(&d->t);
    memset(d, 0, sizeof(*d));
    d->nr_vcpus = i == 0 ? 3 : 1;
    FUZZ_CHECK(evtchn_table_init(&d->t, (domid_t)(i + 1), d->nr_vcpus, d->shinfo,
                                 fake_vcpu_info, fake_kick, d) == 0);
}

static bool is_ours(const struct evtchn_table *t)
{
    return t == &doms[0].t || t == &doms[1].t;
}

static void check_fifo(const struct evtchn_table *t)
{
    if (!t->fifo)
        return;
    FUZZ_CHECK(t->fifo->nr_pages <= EVTCHN_FIFO_MAX_PAGES);
    for (unsigned v = 0; v < EVTCHN_MAX_VCPUS; v++)
        for (unsigned q = 0; q < EVTCHN_FIFO_MAX_QUEUES; q++) {
            unsigned tail = t->fifo->vcpu[v].tail[q];

            FUZZ_CHECK(!tail || (v < t->nr_vcpus && t->fifo->vcpu[v].control &&
                                 fifo_word(t, tail)));
        }
}

static void check_table(struct evtchn_table *t)
{
    FUZZ_CHECK(!port_entry(t, 0) || port_entry(t, 0)->state == EVTCHN_FREE);
    for (unsigned port = 0; port < EVTCHN_MAX_PORTS; port++) {
        const struct evtchn_port *p = port_entry(t, port);

        if (!p) {
            port = unallocated_end(t, port);
            continue;
        }
        FUZZ_CHECK(p->state <= EVTCHN_XEN);
        FUZZ_CHECK(p->notify_vcpu < t->nr_vcpus);
        FUZZ_CHECK(p->priority <= EVTCHN_FIFO_PRIORITY_MIN);
        FUZZ_CHECK(p->last_vcpu < t->nr_vcpus && p->last_priority <= EVTCHN_FIFO_PRIORITY_MIN);
        if (p->state == EVTCHN_INTERDOMAIN) {
            const struct evtchn_table *peer = p->u.interdomain.peer;
            const struct evtchn_port *q;

            FUZZ_CHECK(is_ours(peer) && p->u.interdomain.peer_port < EVTCHN_MAX_PORTS);
            q = port_entry(peer, p->u.interdomain.peer_port);
            FUZZ_CHECK(q && q->state == EVTCHN_INTERDOMAIN);
            FUZZ_CHECK(q->u.interdomain.peer == t && q->u.interdomain.peer_port == port);
        } else if (p->state == EVTCHN_VIRQ) {
            FUZZ_CHECK(p->u.virq < NR_VIRQS);
            FUZZ_CHECK(*virq_slot(t, p->u.virq, p->notify_vcpu) == port);
        } else if (p->state == EVTCHN_XEN) {
            FUZZ_CHECK(p->u.xen.on_send == fake_on_send);
        }
    }
    for (unsigned v = 0; v < EVTCHN_MAX_VCPUS; v++)
        for (unsigned q = 0; q < NR_VIRQS; q++) {
            unsigned port = t->virq_port[v][q];

            if (!port)
                continue;
            FUZZ_CHECK(v < t->nr_vcpus && port < EVTCHN_MAX_PORTS);
            FUZZ_CHECK(port_entry(t, port) && port_entry(t, port)->state == EVTCHN_VIRQ &&
                       port_entry(t, port)->u.virq == q);
        }
    check_fifo(t);
}

/* Mostly ports that exist, sometimes any up to past the FIFO end (2^17). */
static unsigned take_port(uint8_t a, uint8_t b)
{
    unsigned v = (unsigned)a | (unsigned)b << 8;

    return (b & 0x80) ? v * 3 : v % 16;
}

static int expect_errno(int rc)
{
    FUZZ_CHECK(rc >= 0 || rc == -EINVAL || rc == -ENOENT || rc == -EEXIST || rc == -ENOSPC ||
               rc == -ENOMEM || rc == -ENOSYS || rc == -EOPNOTSUPP);
    return rc;
}

static void do_op(const uint8_t r[4])
{
    struct fake_dom *d = &doms[r[0] & 1], *other = &doms[(r[0] >> 1) & 1];
    struct evtchn_table *t = &d->t;
    unsigned port = take_port(r[2], r[3]);
    unsigned vcpu = r[2] % 4, virq = r[3] % (NR_VIRQS + 2);
    struct evtchn_status st;
    int rc = 0;

    /* A guest page of the pool, or (1 in 8) none: a gfn that is not its RAM. */
    void *gpage = (r[1] & 7) ? d->gpages[(r[1] >> 3) % GUEST_PAGES] : NULL;

    switch ((r[0] >> 2) % 21) {
    case 0:  rc = evtchn_alloc_unbound(t, r[1] & 1 ? other->t.domid : (domid_t)(r[2] | r[3] << 8)); break;
    case 1:  rc = evtchn_bind_interdomain(t, &other->t, port); break;
    case 2:  rc = evtchn_bind_virq(t, virq, vcpu); break;
    case 3:  rc = evtchn_bind_ipi(t, vcpu); break;
    case 4:  rc = evtchn_close(t, port); break;
    case 5:  rc = evtchn_send(t, port); break;
    case 6:
        rc = evtchn_status(t, port, &st);
        if (rc == 0)
            FUZZ_CHECK(st.status <= EVTCHNSTAT_ipi && st.vcpu < t->nr_vcpus);
        break;
    case 7:  rc = evtchn_bind_vcpu(t, port, vcpu); break;
    case 8:  rc = evtchn_unmask(t, port); break;
    case 9:     /* a reset a batch at a time, or a continuation out of turn */
        rc = evtchn_reset(t, r[1] & 1, r[2] % 64 + 1);
        FUZZ_CHECK(rc <= 1 && (rc != -EBUSY || (r[1] & 1) == !t->reset_next));
        rc = rc == -EBUSY ? 0 : rc;
        break;
    case 10: rc = evtchn_set_pending(t, port); break;
    case 11: rc = evtchn_send_virq(t, vcpu, virq); break;
    case 12: rc = evtchn_alloc_xen_port(t, vcpu, fake_on_send, &sends); break;
    case 13: evtchn_set_compat(t, r[1] & 1); break;
    case 14:    /* the guest writes its shared_info or vcpu_info as it likes */
        if (r[1] & 1)
            d->shinfo[(r[2] | r[3] << 8) % sizeof(d->shinfo)] ^= r[1];
        else
            d->vinfo[r[2] % EVTCHN_MAX_VCPUS][r[3] % VI_SIZE] ^= r[1];
        d->no_vcpu_info = (r[1] & 0x6) == 0x6;
        break;
    case 15: {  /* a domain dies and is rebuilt: nobody may keep pointing at it */
        unsigned i = (unsigned)(d - doms);

        while (!evtchn_close_some(t, r[1] % 64 + 1))   /* the reaper's batches */
            check_table(&other->t);
        FUZZ_CHECK(evtchn_all_closed(t));
        check_table(&other->t);
        for (unsigned p = 0; p < EVTCHN_MAX_PORTS; p++)
            if (port_entry(&other->t, p) && port_entry(&other->t, p)->state == EVTCHN_INTERDOMAIN)
                FUZZ_CHECK(port_entry(&other->t, p)->u.interdomain.peer != t);
        dom_init(i);
        break;
    }
    case 16: {  /* offsets: mostly inside the page, 8- or 4-aligned; sometimes huge */
        uint32_t offset = (r[3] & 0x80) ? 0xfffffff8u - r[3] : (uint32_t)r[3] << 5 | (r[0] >> 7) << 2;

        rc = evtchn_fifo_init_control(t, vcpu, offset, gpage);
        break;
    }
    case 17: rc = evtchn_fifo_expand_array(t, gpage); break;
    case 18: rc = evtchn_set_priority(t, port, r[1] % 18); break;
    case 19:    /* the guest writes its FIFO pages as it likes */
        d->gpages[r[1] % GUEST_PAGES][(r[2] | r[3] << 8) % 4096] ^= (uint8_t)(r[1] | 1);
        break;
    case 20:    /* a bound port raised on many ports at once: the whole bucket */
        for (unsigned p = port & ~15u; p < (port & ~15u) + 16; p++)
            (void)evtchn_set_pending(t, p);
        page_alloc_fails = r[1] & 1;
        break;
    }
    expect_errno(rc);
    FUZZ_CHECK(evtchn_notify_vcpu(t, port) == -EINVAL || evtchn_notify_vcpu(t, port) < (int)t->nr_vcpus);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    page_alloc_fails = false;
    evtchn_table_destroy(&doms[0].t);
    evtchn_table_destroy(&doms[1].t);
    FUZZ_CHECK(pages_live == 0);
    dom_init(0);
    dom_init(1);
    for (size_t i = 0; i + 4 <= size; i += 4) {
        do_op(data + i);
        if (i % 64 == 0 || i + 8 > size) {     /* every 16th operation and the last: full checks cost */
            check_table(&doms[0].t);
            check_table(&doms[1].t);
        }
    }
    return 0;
}
