/* fuzz_evtchn.c (host fuzzer): the event-channel state machine driven by operations decoded from the input. */
#include "fuzz.h"
#include "../../xen/common/evtchn.c"        /* one translation unit: see tests/fuzz/meson.build */

/*
 * Two domains (A with 3 vCPUs, B with 1) whose guest and hypervisor
 * operations come from the input, one operation per 4-byte record. After
 * every operation the tables must stay consistent: interdomain ports point at
 * each other, the virq map and the virq ports agree, notify vCPUs exist.
 */
#define VI_SIZE 64

struct fake_dom {
    _Alignas(4096) uint8_t shinfo[4096];
    _Alignas(64) uint8_t vinfo[EVTCHN_MAX_VCPUS][VI_SIZE];
    bool no_vcpu_info;
    unsigned nr_vcpus;
    struct evtchn_table t;
};

static struct fake_dom doms[2];
static unsigned sends;

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

    memset(d, 0, sizeof(*d));
    d->nr_vcpus = i == 0 ? 3 : 1;
    FUZZ_CHECK(evtchn_table_init(&d->t, (domid_t)(i + 1), d->nr_vcpus, d->shinfo,
                                 fake_vcpu_info, fake_kick, d) == 0);
}

static bool is_ours(const struct evtchn_table *t)
{
    return t == &doms[0].t || t == &doms[1].t;
}

static void check_table(struct evtchn_table *t)
{
    FUZZ_CHECK(t->ports[0].state == EVTCHN_FREE);
    for (unsigned port = 0; port < EVTCHN_MAX_PORTS; port++) {
        const struct evtchn_port *p = &t->ports[port];

        FUZZ_CHECK(p->state <= EVTCHN_XEN);
        FUZZ_CHECK(p->notify_vcpu < t->nr_vcpus);
        if (p->state == EVTCHN_INTERDOMAIN) {
            const struct evtchn_table *peer = p->u.interdomain.peer;
            const struct evtchn_port *q;

            FUZZ_CHECK(is_ours(peer) && p->u.interdomain.peer_port < EVTCHN_MAX_PORTS);
            q = &peer->ports[p->u.interdomain.peer_port];
            FUZZ_CHECK(q->state == EVTCHN_INTERDOMAIN);
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
            FUZZ_CHECK(t->ports[port].state == EVTCHN_VIRQ && t->ports[port].u.virq == q);
        }
}

/* Mostly ports that exist, sometimes past the end. */
static unsigned take_port(uint8_t a, uint8_t b)
{
    unsigned v = (unsigned)a | (unsigned)b << 8;

    return (b & 0x80) ? v : v % 16;
}

static int expect_errno(int rc)
{
    FUZZ_CHECK(rc >= 0 || rc == -EINVAL || rc == -ENOENT || rc == -EEXIST || rc == -ENOSPC);
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

    switch ((r[0] >> 2) % 16) {
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
    case 9:  evtchn_reset(t); break;
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

        evtchn_close_all(t);
        check_table(&other->t);
        for (unsigned p = 0; p < EVTCHN_MAX_PORTS; p++)
            if (other->t.ports[p].state == EVTCHN_INTERDOMAIN)
                FUZZ_CHECK(other->t.ports[p].u.interdomain.peer != t);
        dom_init(i);
        break;
    }
    }
    expect_errno(rc);
    FUZZ_CHECK(evtchn_notify_vcpu(t, port) == -EINVAL || evtchn_notify_vcpu(t, port) < (int)t->nr_vcpus);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
