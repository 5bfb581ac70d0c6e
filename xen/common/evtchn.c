/* evtchn.c (hypervisor, pure): event channel bookkeeping, port storage, and the 2-level and FIFO raise. */
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
_Static_assert(EVTCHN_MAX_VCPUS <= 256, "notify_vcpu is a uint8_t");
_Static_assert(EVTCHN_PORTS_PER_BUCKET * sizeof(struct evtchn_port) <= 4096, "a bucket is a page");
_Static_assert(sizeof(struct evtchn_fifo) <= 4096, "the FIFO state is a page");
_Static_assert(sizeof(struct evtchn_fifo_control_block) == 72, "control block");
#define PAGE_BYTES 4096u

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

static bool word_test_and_set(uint32_t *word, unsigned bit)
{
    return __atomic_fetch_or(word, 1u << bit, __ATOMIC_SEQ_CST) & (1u << bit);
}

static void word_clear(uint32_t *word, unsigned bit)
{
    __atomic_fetch_and(word, ~(1u << bit), __ATOMIC_SEQ_CST);
}

static bool word_test(const uint32_t *word, unsigned bit)
{
    return __atomic_load_n(word, __ATOMIC_SEQ_CST) & (1u << bit);
}

static uint8_t *pending_bitmap(const struct evtchn_table *t)
{
    return (uint8_t *)t->shared_info + SHINFO_PENDING_OFFSET;
}

static uint8_t *mask_bitmap(const struct evtchn_table *t)
{
    return (uint8_t *)t->shared_info + (t->compat ? SHINFO_MASK_OFFSET_32 : SHINFO_MASK_OFFSET_64);
}

/* ---- Port storage: page-sized buckets, allocated as ports are bound ---- */

/*
 * Where the pointer to port's bucket lives, or NULL when that is in a
 * directory page not allocated (allocated here when alloc says so).
 */
static struct evtchn_port **bucket_slot(struct evtchn_table *t, unsigned port, bool alloc)
{
    unsigned b = port / EVTCHN_PORTS_PER_BUCKET;
    struct evtchn_port ***dir;

    if (b < EVTCHN_TABLE_BUCKETS)
        return &t->buckets[b];
    b -= EVTCHN_TABLE_BUCKETS;
    dir = &t->dirs[b / EVTCHN_BUCKETS_PER_DIR];
    if (!*dir && (!alloc || !(*dir = evtchn_page_alloc())))
        return NULL;
    return &(*dir)[b % EVTCHN_BUCKETS_PER_DIR];
}

/* The entry of port, or NULL when its bucket was never allocated (the port is closed). */
static struct evtchn_port *port_entry(const struct evtchn_table *t, unsigned port)
{
    struct evtchn_port **slot;

    if (port >= EVTCHN_MAX_PORTS)
        return NULL;
    slot = bucket_slot((struct evtchn_table *)t, port, false);  /* reads only */
    return slot && *slot ? &(*slot)[port % EVTCHN_PORTS_PER_BUCKET] : NULL;
}

/* The last port of the never-allocated block (bucket or directory) holding port, whose entry is NULL. */
static unsigned unallocated_end(const struct evtchn_table *t, unsigned port)
{
    unsigned b = port / EVTCHN_PORTS_PER_BUCKET;

    if (b >= EVTCHN_TABLE_BUCKETS && !t->dirs[(b - EVTCHN_TABLE_BUCKETS) / EVTCHN_BUCKETS_PER_DIR])
        return port | (EVTCHN_PORTS_PER_BUCKET * EVTCHN_BUCKETS_PER_DIR - 1);
    return port | (EVTCHN_PORTS_PER_BUCKET - 1);
}

unsigned evtchn_port_limit(const struct evtchn_table *t)
{
    if (t->fifo)
        return EVTCHN_MAX_PORTS;
    return t->compat ? PORTS_2L_32 : PORTS_2L_64;
}

/* NULL when port is out of range for the ABI or its bucket was never allocated: -EINVAL everywhere. */
static struct evtchn_port *port_get(const struct evtchn_table *t, unsigned port)
{
    return port < evtchn_port_limit(t) ? port_entry(t, port) : NULL;
}

/* ---- FIFO event words ---- */

/* Port's event word in the guest's event array, or NULL when its page was not added yet. */
static uint32_t *fifo_word(const struct evtchn_table *t, unsigned port)
{
    unsigned page = port / EVTCHN_FIFO_WORDS_PER_PAGE;

    if (!t->fifo || page >= t->fifo->nr_pages)
        return NULL;
    return &t->fifo->array[page][port % EVTCHN_FIFO_WORDS_PER_PAGE];
}

/* A closed port still on a guest queue (LINKED) is not handed out again (Xen: evtchn_is_busy). */
static bool fifo_busy(const struct evtchn_table *t, unsigned port)
{
    uint32_t *word = fifo_word(t, port);

    return word && word_test(word, EVTCHN_FIFO_LINKED);
}

/* ---- Raising: one place that dispatches on the ABI ---- */

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

static void raise_2l(struct evtchn_table *t, unsigned port, unsigned vcpu)
{
    if (port >= evtchn_port_limit(t))   /* bound under another ABI or layout: no bit to set */
        return;
    if (bitmap_test_and_set(pending_bitmap(t), t->compat, port))
        return;                         /* already pending: the guest has yet to see it */
    if (!bitmap_test(mask_bitmap(t), t->compat, port))
        mark_word_pending(t, vcpu, port);
    t->kick(t->ctx, vcpu, port);        /* also for masked ports: SCHEDOP_poll waits on those */
}

/* One cmpxchg of LINK in a word that must stay LINKED: 1 done, 0 not linked, -1 the guest raced us. */
static int fifo_try_link(uint32_t *word, uint32_t *seen, unsigned link)
{
    uint32_t updated;

    if (!(*seen & (1u << EVTCHN_FIFO_LINKED)))
        return 0;
    updated = (*seen & ~((1u << EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | link;
    return __atomic_compare_exchange_n(word, seen, updated, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST) ? 1 : -1;
}

/*
 * Points the tail's LINK at port if the tail is still LINKED; false when the
 * guest already unlinked it (the queue is empty). An honest guest may only
 * change MASKED, clear PENDING, or clear LINKED while we try, and BUSY stops
 * it unmasking, so a few attempts suffice; a guest that keeps changing the
 * word gets its event dropped from the queue (it stays PENDING), never a hang.
 */
static bool fifo_set_link(uint32_t *word, unsigned port)
{
    uint32_t seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    int rc = fifo_try_link(word, &seen, port);

    if (rc >= 0)
        return rc;
    word_test_and_set(word, EVTCHN_FIFO_BUSY);
    seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    for (unsigned attempt = 0; attempt < 4; attempt++) {
        rc = fifo_try_link(word, &seen, port);
        if (rc == 1)
            return true;                /* the new value has BUSY clear */
        if (rc == 0)
            break;
    }
    word_clear(word, EVTCHN_FIFO_BUSY);
    return rc != 0;
}

/* Puts port, just marked LINKED, at the tail of queue (vcpu, priority); true when
 * it went after another port, false when it is the queue's new head. */
static bool fifo_link(struct evtchn_table *t, struct evtchn_port *p, unsigned port, unsigned vcpu)
{
    struct evtchn_fifo_vcpu *fv = &t->fifo->vcpu[vcpu];
    uint32_t *last_tail = &t->fifo->vcpu[p->last_vcpu].tail[p->last_priority];
    uint32_t *tail = &fv->tail[p->priority];
    uint32_t *tail_word;
    bool linked;

    /* Its old queue is empty if it was the tail there: never link port after itself. */
    if (*last_tail == port)
        *last_tail = 0;
    p->last_vcpu = (uint8_t)vcpu;
    p->last_priority = p->priority;
    tail_word = *tail ? fifo_word(t, *tail) : NULL;
    linked = tail_word && fifo_set_link(tail_word, port);
    if (!linked)
        __atomic_store_n(&fv->control->head[p->priority], port, __ATOMIC_SEQ_CST);
    *tail = port;
    return linked;
}

static void raise_fifo(struct evtchn_table *t, struct evtchn_port *p, unsigned port)
{
    unsigned vcpu = p->notify_vcpu;
    struct evtchn_fifo_control_block *cb = t->fifo->vcpu[vcpu].control;
    uint32_t *word = fifo_word(t, port);
    bool was_pending, ready = false;

    if (!word) {
        p->fifo_pending = true;         /* raised again when expand_array adds its page */
        return;
    }
    was_pending = word_test_and_set(word, EVTCHN_FIFO_PENDING);
    /* Without a control block the guest cannot have unmasked anything: just PENDING. */
    if (cb && !word_test(word, EVTCHN_FIFO_MASKED) &&
        !word_test_and_set(word, EVTCHN_FIFO_LINKED) && !fifo_link(t, p, port, vcpu) &&
        !word_test_and_set(&cb->ready, p->priority)) {
        uint8_t *vi = t->vcpu_info(t->ctx, vcpu);

        if (vi)
            __atomic_store_n(vi + VCPU_INFO_UPCALL_PENDING, 1, __ATOMIC_SEQ_CST);
        ready = true;
    }
    if (!was_pending || ready)
        t->kick(t->ctx, vcpu, port);
}

static void raise_port(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = port_entry(t, port);

    if (t->fifo)
        raise_fifo(t, p, port);
    else
        raise_2l(t, port, p->notify_vcpu);
}

/* ---- Ports ---- */

/*
 * The lowest port that is free (and, in FIFO, off every guest queue), its
 * bucket allocated on the way; reset to closed with the default priority.
 * Port 0 is never handed out (Xen reserves it), so 0 also means "no port".
 */
static int alloc_port(struct evtchn_table *t)
{
    unsigned limit = evtchn_port_limit(t), first_free = 0;

    for (unsigned port = t->first_free > 1 ? t->first_free : 1; port < limit; port++) {
        struct evtchn_port **bucket = bucket_slot(t, port, true);
        struct evtchn_port *p;

        if (!bucket || (!*bucket && !(*bucket = evtchn_page_alloc())))
            return -ENOMEM;
        p = &(*bucket)[port % EVTCHN_PORTS_PER_BUCKET];
        if (p->state != EVTCHN_FREE)
            continue;
        if (!first_free)
            first_free = port;
        if (fifo_busy(t, port))
            continue;
        t->first_free = first_free == port ? port + 1 : first_free;
        p->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
        p->fifo_pending = false;
        return (int)port;
    }
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
static uint32_t *virq_slot(struct evtchn_table *t, unsigned virq, unsigned vcpu)
{
    return &t->virq_port[virq_is_global(virq) ? 0 : vcpu][virq];
}

/* The port's pending state cleared in the table's ABI (the mask is the guest's). */
static void clear_pending(struct evtchn_table *t, unsigned port)
{
    if (t->fifo) {
        uint32_t *word = fifo_word(t, port);

        /* Not unlinked: the guest skips a linked word that is not pending (as Xen). */
        if (word)
            word_clear(word, EVTCHN_FIFO_PENDING);
    } else if (port < evtchn_port_limit(t)) {
        bitmap_test_and_clear(pending_bitmap(t), t->compat, port);
    }
}

/* Back to free, as Xen's evtchn_free: pending cleared so a rebind starts clean; mask kept. */
static void free_port(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = port_entry(t, port);
    uint8_t last_vcpu = p->last_vcpu, last_priority = p->last_priority;

    switch (p->state) {
    case EVTCHN_VIRQ:
        *virq_slot(t, p->u.virq, p->notify_vcpu) = 0;
        break;
    case EVTCHN_INTERDOMAIN: {
        struct evtchn_port *peer = port_entry(p->u.interdomain.peer, p->u.interdomain.peer_port);

        peer->state = EVTCHN_UNBOUND;
        peer->u.remote_domid = t->domid;
        break;
    }
    default:
        break;
    }
    clear_pending(t, port);
    memset(p, 0, sizeof(*p));
    p->last_vcpu = last_vcpu;
    p->last_priority = last_priority;
    if (port < t->first_free)
        t->first_free = port;
}

/*
 * Closes the ports from *next on (0: from the first), visiting at most max
 * allocated ones: every bound port, or every one but the hypervisor
 * backends' (EVTCHN_XEN). Guest-reachable (reset, death): unallocated blocks
 * are skipped whole, so the work follows the pages allocated, not the port
 * limit. *next becomes where to go on; true when no port is left.
 */
static bool close_ports(struct evtchn_table *t, bool keep_backends, unsigned *next, uint32_t max)
{
    unsigned port;

    for (port = *next ? *next : 1; port < EVTCHN_MAX_PORTS && max; port++) {
        struct evtchn_port *p = port_entry(t, port);

        if (!p) {
            port = unallocated_end(t, port);
            continue;
        }
        max--;
        if (p->state != EVTCHN_FREE && !(keep_backends && p->state == EVTCHN_XEN))
            free_port(t, port);
    }
    *next = port;
    return port >= EVTCHN_MAX_PORTS;
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

/* Back to the 2-level ABI: the FIFO state goes; the guest's pages stay its own. */
static void fifo_stop(struct evtchn_table *t)
{
    evtchn_page_free(t->fifo);
    t->fifo = NULL;
}

void evtchn_table_destroy(struct evtchn_table *t)
{
    evtchn_close_all(t);
    fifo_stop(t);
    for (unsigned port = 0; port < EVTCHN_MAX_PORTS; port += EVTCHN_PORTS_PER_BUCKET) {
        struct evtchn_port **slot = bucket_slot(t, port, false);

        if (slot) {
            evtchn_page_free(*slot);
            *slot = NULL;
        }
    }
    for (unsigned d = 0; d < EVTCHN_MAX_DIRS; d++) {
        evtchn_page_free(t->dirs[d]);
        t->dirs[d] = NULL;
    }
}

/* ---- Guest operations ---- */

int evtchn_alloc_unbound(struct evtchn_table *t, domid_t remote_dom)
{
    int port = alloc_port(t);

    if (port < 0)
        return port;
    port_entry(t, (unsigned)port)->state = EVTCHN_UNBOUND;
    /* Xen does not check that remote_dom exists: it may be created later. */
    port_entry(t, (unsigned)port)->u.remote_domid = remote_dom == DOMID_SELF ? t->domid : remote_dom;
    return port;
}

int evtchn_bind_interdomain(struct evtchn_table *t, struct evtchn_table *remote,
                            unsigned remote_port)
{
    struct evtchn_port *r = port_get(remote, remote_port), *l;
    int port;

    if (!r || r->state != EVTCHN_UNBOUND || r->u.remote_domid != t->domid)
        return -EINVAL;
    port = alloc_port(t);
    if (port < 0)
        return port;
    l = port_entry(t, (unsigned)port);
    l->state = EVTCHN_INTERDOMAIN;
    l->u.interdomain.peer = remote;
    l->u.interdomain.peer_port = remote_port;
    r->state = EVTCHN_INTERDOMAIN;
    r->u.interdomain.peer = t;
    r->u.interdomain.peer_port = (unsigned)port;
    /* Sends to the unbound end were dropped; raise once so none is lost (as Xen). */
    raise_port(t, (unsigned)port);
    return port;
}

int evtchn_bind_virq(struct evtchn_table *t, unsigned virq, unsigned vcpu)
{
    struct evtchn_port *p;
    uint32_t *slot;
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
    p = port_entry(t, (unsigned)port);
    p->state = EVTCHN_VIRQ;
    p->notify_vcpu = (uint8_t)vcpu;
    p->u.virq = (uint16_t)virq;
    *slot = (unsigned)port;
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
    port_entry(t, (unsigned)port)->state = EVTCHN_IPI;
    port_entry(t, (unsigned)port)->notify_vcpu = (uint8_t)vcpu;
    return port;
}

int evtchn_close(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = port_get(t, port);

    /* A backend's port stays: the guest cannot detach the hypervisor (Xen: consumer_is_xen). */
    if (!p || p->state == EVTCHN_FREE || p->state == EVTCHN_XEN)
        return -EINVAL;
    free_port(t, port);
    return 0;
}

int evtchn_send(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = port_get(t, port);

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
    const struct evtchn_port *p = port_get(t, port);

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
    p = port_get(t, port);
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

/* FIFO unmask, as Xen: clear MASKED; if PENDING, raise again (links it now). */
static void unmask_fifo(struct evtchn_table *t, unsigned port)
{
    uint32_t *word = fifo_word(t, port);
    struct evtchn_port *p = port_entry(t, port);

    if (!word)
        return;
    word_clear(word, EVTCHN_FIFO_MASKED);
    if (p && word_test(word, EVTCHN_FIFO_PENDING))
        raise_fifo(t, p, port);
}

int evtchn_unmask(struct evtchn_table *t, unsigned port)
{
    const struct evtchn_port *p = port_get(t, port);

    if (!p)
        return -EINVAL;
    if (t->fifo) {
        unmask_fifo(t, port);
        return 0;
    }
    /* Xen's 2-level unmask: an event that arrived while masked is delivered now. */
    if (bitmap_test_and_clear(mask_bitmap(t), t->compat, port) &&
        bitmap_test(pending_bitmap(t), t->compat, port) &&
        mark_word_pending(t, p->notify_vcpu, port))
        t->kick(t->ctx, p->notify_vcpu, port);
    return 0;
}

int evtchn_reset(struct evtchn_table *t, bool resuming, uint32_t max)
{
    if (resuming != (t->reset_next != 0))
        return -EBUSY;          /* as Xen: a second reset, or a continuation of none */
    if (!close_ports(t, true, &t->reset_next, max))
        return 1;
    t->reset_next = 0;
    fifo_stop(t);
    return 0;
}

bool evtchn_close_some(struct evtchn_table *t, uint32_t max)
{
    return close_ports(t, false, &t->close_next, max);
}

bool evtchn_all_closed(const struct evtchn_table *t)
{
    return t->close_next >= EVTCHN_MAX_PORTS;
}

void evtchn_close_all(struct evtchn_table *t)
{
    (void)evtchn_close_some(t, UINT32_MAX);
}

/* ---- FIFO ABI ---- */

/* The switch from 2-level: bound ports keep their pending state (Xen: setup_ports). */
static void fifo_carry_pending(struct evtchn_table *t)
{
    for (unsigned port = 1; port < evtchn_port_limit(t); port++) {
        struct evtchn_port *p = port_entry(t, port);

        if (!p)
            port = unallocated_end(t, port);
        else if (p->state != EVTCHN_FREE)
            p->fifo_pending = bitmap_test(pending_bitmap(t), t->compat, port);
    }
}

int evtchn_fifo_init_control(struct evtchn_table *t, unsigned vcpu, uint32_t offset, void *page)
{
    struct evtchn_fifo *fifo;

    if (vcpu >= t->nr_vcpus)
        return -ENOENT;
    if (offset > PAGE_BYTES - sizeof(struct evtchn_fifo_control_block) || (offset & 7))
        return -EINVAL;
    if ((t->fifo && t->fifo->vcpu[vcpu].control) || !page)
        return -EINVAL;
    if (!t->fifo) {
        /* Every check is done: from here on the switch cannot fail half way (XSA-188). */
        fifo = evtchn_page_alloc();
        if (!fifo)
            return -ENOMEM;
        fifo_carry_pending(t);
        t->fifo = fifo;
    }
    t->fifo->vcpu[vcpu].control =
        (struct evtchn_fifo_control_block *)((uint8_t *)page + offset);
    return 0;
}

int evtchn_fifo_expand_array(struct evtchn_table *t, void *page)
{
    unsigned first;

    if (!t->fifo)
        return -EOPNOTSUPP;
    if (t->fifo->nr_pages >= EVTCHN_FIFO_MAX_PAGES)
        return -ENOSPC;
    if (!page)
        return -EINVAL;
    first = t->fifo->nr_pages * EVTCHN_FIFO_WORDS_PER_PAGE;
    t->fifo->array[t->fifo->nr_pages++] = page;
    /* Events raised while this page was missing are raised now (Xen: add_page_to_event_array). */
    for (unsigned port = first; port < first + EVTCHN_FIFO_WORDS_PER_PAGE; port++) {
        struct evtchn_port *p = port_entry(t, port);

        if (p && p->fifo_pending && p->state != EVTCHN_FREE) {
            p->fifo_pending = false;
            raise_fifo(t, p, port);
        }
    }
    return 0;
}

int evtchn_set_priority(struct evtchn_table *t, unsigned port, unsigned priority)
{
    struct evtchn_port *p = port_get(t, port);

    if (!p)
        return -EINVAL;
    if (!t->fifo)
        return -ENOSYS;             /* Xen: the 2-level ABI has no set_priority */
    if (priority > EVTCHN_FIFO_PRIORITY_MIN)
        return -EINVAL;
    /* Events already queued stay where they are; the next link uses the new queue. */
    p->priority = (uint8_t)priority;
    return 0;
}

/* ---- Hypervisor side ---- */

int evtchn_set_pending(struct evtchn_table *t, unsigned port)
{
    struct evtchn_port *p = port_get(t, port);

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
    const uint32_t *word;

    if (port >= evtchn_port_limit(t))
        return false;
    if (!t->fifo)
        return bitmap_test(pending_bitmap(t), t->compat, port);
    word = fifo_word(t, port);
    return word && word_test(word, EVTCHN_FIFO_PENDING);
}

bool evtchn_is_masked(const struct evtchn_table *t, unsigned port)
{
    const uint32_t *word;

    if (port >= evtchn_port_limit(t))
        return false;
    if (!t->fifo)
        return bitmap_test(mask_bitmap(t), t->compat, port);
    word = fifo_word(t, port);
    return !word || word_test(word, EVTCHN_FIFO_MASKED);
}

int evtchn_alloc_xen_port(struct evtchn_table *t, unsigned vcpu,
                          void (*on_send)(void *ctx, unsigned port), void *ctx)
{
    struct evtchn_port *p;
    int port;

    if (!on_send)
        return -EINVAL;
    if (vcpu >= t->nr_vcpus)
        return -ENOENT;
    port = alloc_port(t);
    if (port < 0)
        return port;
    p = port_entry(t, (unsigned)port);
    p->state = EVTCHN_XEN;
    p->notify_vcpu = (uint8_t)vcpu;
    p->u.xen.on_send = on_send;
    p->u.xen.ctx = ctx;
    return port;
}

int evtchn_notify_vcpu(const struct evtchn_table *t, unsigned port)
{
    const struct evtchn_port *p = port_get(t, port);

    return p ? p->notify_vcpu : -EINVAL;
}
