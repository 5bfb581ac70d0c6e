/* evtchn.c (hypervisor, pure): event channel bookkeeping and the 2-level pending/mask/selector raise. */
#include "env.h"
#include "errno.h"
#include "evtchn.h"

/*
 * Where the 2-level state lives (Xen public xen.h, struct shared_info and
 * struct vcpu_info). 64-bit layout: 64 words of 64 bits each for pending
 * and mask, selector a u64 at vcpu_info+8. 32-bit ("compat") layout: 32
 * words of 32 bits, selector a u32 at vcpu_info+4. Selector bit n says word
 * n of evtchn_pending may have bits set.
 */
#define SHINFO_PENDING_OFFSET       0x800
#define SHINFO_MASK_OFFSET_64       0xA00
#define SHINFO_MASK_OFFSET_32       0x880
#define VCPU_INFO_UPCALL_PENDING    0
#define VCPU_INFO_SEL_OFFSET_64     8
#define VCPU_INFO_SEL_OFFSET_32     4
#define PORTS_2L_64                 4096
#define PORTS_2L_32                 1024

#ifdef __x86_64__
_Static_assert(SHINFO_PENDING_OFFSET == offsetof(struct shared_info, evtchn_pending), "pending");
_Static_assert(SHINFO_MASK_OFFSET_64 == offsetof(struct shared_info, evtchn_mask), "mask");
_Static_assert(VCPU_INFO_SEL_OFFSET_64 == offsetof(struct vcpu_info, evtchn_pending_sel), "sel");
_Static_assert(PORTS_2L_64 == EVTCHN_2L_NR_CHANNELS, "2-level ports");
#endif
_Static_assert(EVTCHN_MAX_PORTS <= PORTS_2L_32, "ports must fit the 32-bit bitmap");
_Static_assert(EVTCHN_MAX_VCPUS <= 256, "notify_vcpu is a uint8_t");

/* ---- Bitmaps made of 32- or 64-bit words; the guest updates them concurrently. ---- */

static bool bitmap_test_and_set(uint8_t *base, bool words32, unsigned bit)
{
    if (words32) {
        uint32_t m = 1u << (bit % 32);
        return __atomic_fetch_or((uint32_t *)base + bit / 32, m, __ATOMIC_SEQ_CST) & m;
    }
    uint64_t m = 1ull << (bit % 64);
    return __atomic_fetch_or((uint64_t *)base + bit / 64, m, __ATOMIC_SEQ_CST) & m;
}

static bool bitmap_test_and_clear(uint8_t *base, bool words32, unsigned bit)
{
    if (words32) {
        uint32_t m = 1u << (bit % 32);
        return __atomic_fetch_and((uint32_t *)base + bit / 32, ~m, __ATOMIC_SEQ_CST) & m;
    }
    uint64_t m = 1ull << (bit % 64);
    return __atomic_fetch_and((uint64_t *)base + bit / 64, ~m, __ATOMIC_SEQ_CST) & m;
}

static bool bitmap_test(const uint8_t *base, bool words32, unsigned bit)
{
    if (words32)
        return __atomic_load_n((const uint32_t *)base + bit / 32, __ATOMIC_SEQ_CST) &
               (1u << (bit % 32));
    return __atomic_load_n((const uint64_t *)base + bit / 64, __ATOMIC_SEQ_CST) &
           (1ull << (bit % 64));
}

static uint8_t *pending_bitmap(const struct evtchn_table *t)
{
    return (uint8_t *)t->shared_info + SHINFO_PENDING_OFFSET;
}

static uint8_t *mask_bitmap(const struct evtchn_table *t)
{
    return (uint8_t *)t->shared_info + (t->compat ? SHINFO_MASK_OFFSET_32 : SHINFO_MASK_OFFSET_64);
}

/* ---- Raising ---- */

/*
 * Sets the selector bit of port's word in vcpu's vcpu_info and, when that
 * bit was clear, evtchn_upcall_pending. Returns whether the selector bit
 * was newly set. A vCPU without a vcpu_info (>= 32, none registered) only
 * gets the kick.
 */
static bool mark_word_pending(struct evtchn_table *t, unsigned vcpu, unsigned port)
{
    uint8_t *vi = t->vcpu_info(t->ctx, vcpu);
    unsigned word = port / (t->compat ? 32 : 64);

    if (!vi)
        return false;
    if (bitmap_test_and_set(vi + (t->compat ? VCPU_INFO_SEL_OFFSET_32 : VCPU_INFO_SEL_OFFSET_64),
                            t->compat, word))
        return false;
    __atomic_store_n(vi + VCPU_INFO_UPCALL_PENDING, 1, __ATOMIC_SEQ_CST);
    return true;
}

static void raise_port(struct evtchn_table *t, unsigned port)
{
    unsigned vcpu = t->ports[port].notify_vcpu;

    if (bitmap_test_and_set(pending_bitmap(t), t->compat, port))
        return;                         /* already pending: the guest has yet to see it */
    if (!bitmap_test(mask_bitmap(t), t->compat, port))
        mark_word_pending(t, vcpu, port);
    t->kick(t->ctx, vcpu, port);        /* also for masked ports: SCHEDOP_poll waits on those */
}

/* ---- Ports ---- */

unsigned evtchn_port_limit(const struct evtchn_table *t)
{
    unsigned layout = t->compat ? PORTS_2L_32 : PORTS_2L_64;

    return layout < EVTCHN_MAX_PORTS ? layout : EVTCHN_MAX_PORTS;
}

static struct evtchn_port *port_in_range(const struct evtchn_table *t, unsigned port)
{
    if (port >= evtchn_port_limit(t))
        return NULL;
    return (struct evtchn_port *)&t->ports[port];
}

/* Port 0 is never handed out (Xen reserves it), so 0 also means "no port". */
static int alloc_port(struct evtchn_table *t)
{
    unsigned limit = evtchn_port_limit(t);

    for (unsigned port = 1; port < limit; port++)
        if (t->ports[port].state == EVTCHN_FREE)
            return (int)port;
    return -ENOSPC;
}

static bool virq_is_global(unsigned virq)
{
    /* Xen's per-vCPU virqs; every other one (VIRQ_CONSOLE, dom0 ones) is global. */
    switch (virq) {
    case VIRQ_TIMER:
    case VIRQ_DEBUG:
    case VIRQ_XENOPROF:
    case VIRQ_XENPMU:
        return false;
    default:
        return true;
    }
}

/* The virq map row of a virq port: its vCPU, or row 0 for global virqs. */
static uint16_t *virq_slot(struct evtchn_table *t, unsigned virq, unsigned vcpu)
{
    return &t->virq_port[virq_is_global(virq) ? 0 : vcpu][virq];
}

/* Back to free, as Xen's evtchn_free: pending cleared so a rebind starts clean; mask kept. */
static void free_port(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = &t->ports[port];

    switch (p->state) {
    case EVTCHN_VIRQ:
        *virq_slot(t, p->u.virq, p->notify_vcpu) = 0;
        break;
    case EVTCHN_INTERDOMAIN: {
        struct evtchn_port *peer = &p->u.interdomain.peer->ports[p->u.interdomain.peer_port];

        peer->state = EVTCHN_UNBOUND;
        peer->u.remote_domid = t->domid;
        break;
    }
    default:
        break;
    }
    bitmap_test_and_clear(pending_bitmap(t), t->compat, port);
    memset(p, 0, sizeof(*p));
}

/* ---- Table ---- */

int evtchn_table_init(struct evtchn_table *t, domid_t domid, unsigned nr_vcpus,
                      void *shared_info, evtchn_vcpu_info_fn vcpu_info,
                      evtchn_kick_fn kick, void *ctx)
{
    if (nr_vcpus == 0 || nr_vcpus > EVTCHN_MAX_VCPUS || !shared_info || !vcpu_info || !kick)
        return -EINVAL;
    memset(t, 0, sizeof(*t));
    t->domid = domid;
    t->nr_vcpus = nr_vcpus;
    t->shared_info = shared_info;
    t->vcpu_info = vcpu_info;
    t->kick = kick;
    t->ctx = ctx;
    return 0;
}

void evtchn_set_compat(struct evtchn_table *t, bool compat)
{
    /* Xen moves no bits either when the guest's mode changes the layout. */
    t->compat = compat;
}

/* ---- Guest operations ---- */

int evtchn_alloc_unbound(struct evtchn_table *t, domid_t remote_dom)
{
    int port = alloc_port(t);

    if (port < 0)
        return port;
    t->ports[port].state = EVTCHN_UNBOUND;
    /* Xen does not check that remote_dom exists: it may be created later. */
    t->ports[port].u.remote_domid = remote_dom == DOMID_SELF ? t->domid : remote_dom;
    return port;
}

int evtchn_bind_interdomain(struct evtchn_table *t, struct evtchn_table *remote,
                            unsigned remote_port)
{
    struct evtchn_port *r = port_in_range(remote, remote_port);
    int port;

    if (!r || r->state != EVTCHN_UNBOUND || r->u.remote_domid != t->domid)
        return -EINVAL;
    port = alloc_port(t);
    if (port < 0)
        return port;
    t->ports[port].state = EVTCHN_INTERDOMAIN;
    t->ports[port].u.interdomain.peer = remote;
    t->ports[port].u.interdomain.peer_port = (uint16_t)remote_port;
    r->state = EVTCHN_INTERDOMAIN;
    r->u.interdomain.peer = t;
    r->u.interdomain.peer_port = (uint16_t)port;
    /* Sends to the unbound end were dropped; raise once so none is lost (as Xen). */
    raise_port(t, (unsigned)port);
    return port;
}

int evtchn_bind_virq(struct evtchn_table *t, unsigned virq, unsigned vcpu)
{
    uint16_t *slot;
    int port;

    if (virq >= NR_VIRQS || (virq_is_global(virq) && vcpu != 0))
        return -EINVAL;
    if (vcpu >= t->nr_vcpus)
        return -ENOENT;
    slot = virq_slot(t, virq, vcpu);
    if (*slot)
        return -EEXIST;
    port = alloc_port(t);
    if (port < 0)
        return port;
    t->ports[port].state = EVTCHN_VIRQ;
    t->ports[port].notify_vcpu = (uint8_t)vcpu;
    t->ports[port].u.virq = (uint16_t)virq;
    *slot = (uint16_t)port;
    return port;
}

int evtchn_bind_ipi(struct evtchn_table *t, unsigned vcpu)
{
    int port;

    if (vcpu >= t->nr_vcpus)
        return -ENOENT;
    port = alloc_port(t);
    if (port < 0)
        return port;
    t->ports[port].state = EVTCHN_IPI;
    t->ports[port].notify_vcpu = (uint8_t)vcpu;
    return port;
}

int evtchn_close(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = port_in_range(t, port);

    /* A backend's port stays: the guest cannot detach the hypervisor (Xen: consumer_is_xen). */
    if (!p || p->state == EVTCHN_FREE || p->state == EVTCHN_XEN)
        return -EINVAL;
    free_port(t, port);
    return 0;
}

int evtchn_send(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = port_in_range(t, port);

    if (!p)
        return -EINVAL;
    switch (p->state) {
    case EVTCHN_INTERDOMAIN:
        raise_port(p->u.interdomain.peer, p->u.interdomain.peer_port);
        return 0;
    case EVTCHN_IPI:
        raise_port(t, port);
        return 0;
    case EVTCHN_XEN:
        p->u.xen.on_send(p->u.xen.ctx, port);
        return 0;
    case EVTCHN_UNBOUND:            /* nobody listens yet: dropped, as in Xen */
        return 0;
    default:                        /* free, virq */
        return -EINVAL;
    }
}

int evtchn_status(const struct evtchn_table *t, unsigned port, struct evtchn_status *out)
{
    const struct evtchn_port *p = port_in_range(t, port);

    if (!p)
        return -EINVAL;
    memset(&out->u, 0, sizeof(out->u));
    out->vcpu = p->notify_vcpu;
    switch (p->state) {
    case EVTCHN_UNBOUND:
        out->status = EVTCHNSTAT_unbound;
        out->u.unbound.dom = p->u.remote_domid;
        break;
    case EVTCHN_INTERDOMAIN:
        out->status = EVTCHNSTAT_interdomain;
        out->u.interdomain.dom = p->u.interdomain.peer->domid;
        out->u.interdomain.port = p->u.interdomain.peer_port;
        break;
    case EVTCHN_XEN:                /* to the guest, a channel connected to the hypervisor */
        out->status = EVTCHNSTAT_interdomain;
        out->u.interdomain.dom = DOMID_XEN;
        break;
    case EVTCHN_VIRQ:
        out->status = EVTCHNSTAT_virq;
        out->u.virq = p->u.virq;
        break;
    case EVTCHN_IPI:
        out->status = EVTCHNSTAT_ipi;
        break;
    default:
        out->status = EVTCHNSTAT_closed;
        break;
    }
    return 0;
}

int evtchn_bind_vcpu(struct evtchn_table *t, unsigned port, unsigned vcpu)
{
    struct evtchn_port *p;

    if (vcpu >= t->nr_vcpus)
        return -ENOENT;
    p = port_in_range(t, port);
    if (!p)
        return -EINVAL;
    switch (p->state) {
    case EVTCHN_VIRQ:
        if (!virq_is_global(p->u.virq))     /* a per-vCPU virq belongs to its vCPU */
            return -EINVAL;
        /* The map keeps global virqs in row 0 whatever vCPU they notify. */
        break;
    case EVTCHN_UNBOUND:
    case EVTCHN_INTERDOMAIN:
    case EVTCHN_XEN:                        /* looks interdomain to the guest */
        break;
    default:                                /* free, ipi */
        return -EINVAL;
    }
    p->notify_vcpu = (uint8_t)vcpu;
    return 0;
}

int evtchn_unmask(struct evtchn_table *t, unsigned port)
{
    unsigned vcpu;

    if (port >= evtchn_port_limit(t))
        return -EINVAL;
    vcpu = t->ports[port].notify_vcpu;
    /* Xen's 2-level unmask: an event that arrived while masked is delivered now. */
    if (bitmap_test_and_clear(mask_bitmap(t), t->compat, port) &&
        bitmap_test(pending_bitmap(t), t->compat, port) &&
        mark_word_pending(t, vcpu, port))
        t->kick(t->ctx, vcpu, port);
    return 0;
}

void evtchn_reset(struct evtchn_table *t)
{
    for (unsigned port = 1; port < EVTCHN_MAX_PORTS; port++)
        if (t->ports[port].state != EVTCHN_FREE && t->ports[port].state != EVTCHN_XEN)
            free_port(t, port);
}

void evtchn_close_all(struct evtchn_table *t)
{
    for (unsigned port = 1; port < EVTCHN_MAX_PORTS; port++)
        if (t->ports[port].state != EVTCHN_FREE)
            free_port(t, port);
}

/* ---- Hypervisor side ---- */

int evtchn_set_pending(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = port_in_range(t, port);

    if (!p || p->state == EVTCHN_FREE)
        return -EINVAL;
    raise_port(t, port);
    return 0;
}

int evtchn_send_virq(struct evtchn_table *t, unsigned vcpu, unsigned virq)
{
    unsigned port;

    if (virq >= NR_VIRQS)
        return -EINVAL;
    if (vcpu >= t->nr_vcpus)
        return -ENOENT;
    port = *virq_slot(t, virq, vcpu);
    if (!port)
        return -ENOENT;
    raise_port(t, port);
    return 0;
}

bool evtchn_is_pending(const struct evtchn_table *t, unsigned port)
{
    return port < evtchn_port_limit(t) && bitmap_test(pending_bitmap(t), t->compat, port);
}

bool evtchn_is_masked(const struct evtchn_table *t, unsigned port)
{
    return port < evtchn_port_limit(t) && bitmap_test(mask_bitmap(t), t->compat, port);
}

int evtchn_alloc_xen_port(struct evtchn_table *t, unsigned vcpu,
                          void (*on_send)(void *ctx, unsigned port), void *ctx)
{
    int port;

    if (!on_send)
        return -EINVAL;
    if (vcpu >= t->nr_vcpus)
        return -ENOENT;
    port = alloc_port(t);
    if (port < 0)
        return port;
    t->ports[port].state = EVTCHN_XEN;
    t->ports[port].notify_vcpu = (uint8_t)vcpu;
    t->ports[port].u.xen.on_send = on_send;
    t->ports[port].u.xen.ctx = ctx;
    return port;
}

int evtchn_notify_vcpu(const struct evtchn_table *t, unsigned port)
{
    const struct evtchn_port *p = port_in_range(t, port);

    return p ? p->notify_vcpu : -EINVAL;
}
