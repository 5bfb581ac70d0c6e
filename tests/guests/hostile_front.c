/* hostile_front.c (guest, hostile_front64): a malicious frontend of the service domain's blkback and netback; sends garbage on its rings and keys, then crashes (docs/test-guests.md). */
#include "check.h"
#include "xenev.h"
#include "xs_client.h"
#include "xen/blkif.h"
#include "xen/grant_table.h"
#include "xen/memory.h"
#include "xen/netif.h"
#include "xen/sched.h"

/*
 * The boot configuration gives this domain a disk (vbd 51712) and a vif
 * (handle 0); the agent writes their nodes and unpauses us. We then play every
 * part a hostile Xen guest could: rings full of random requests (bad
 * operations, nr_segments past 11, grant refs never granted or revoked,
 * sectors past the end), producer indexes far ahead of the consumer, bogus
 * frontend keys (ungranted ring-ref, huge event channel, protocol garbage),
 * a state that flaps, and a tight loop of notifications. Every step prints a
 * "# " note; CHECK lines only say that our own calls worked (the backends'
 * survival is judged from the other domains). Then we crash, mid-connection.
 * It starts once the key "attack" appears in its home (the test's service
 * domain writes it when the other guest is busy), or after 600 s.
 */

/* XenbusState (xen/io/xenbus.h): the values both ends write as "state". */
enum { ST_INITIALISING = 1, ST_INITWAIT, ST_INITIALISED, ST_CONNECTED, ST_CLOSING, ST_CLOSED,
       ST_RECONFIGURING };

#define VBD "device/vbd/51712/"
#define VIF "device/vif/0/"
#define REF_BLK_RING 8
#define REF_TX_RING  9
#define REF_RX_RING  10
#define REF_REVOKED  11         /* granted to the backend once, then revoked */
#define GT_GPA 0x40000000UL     /* our grant table frame, above RAM */
#define NS_PER_MS 1000000ull
#define CONNECT_WAIT_NS (90000 * NS_PER_MS)
#define FLOOD_NS (8000 * NS_PER_MS)
#define GO_WAIT_NS (600000 * NS_PER_MS)
#define ROUNDS 24
#define BLK_RING_ENTRIES 32     /* a one-page blkif ring */
#define TX_RING_ENTRIES 256     /* a one-page netif tx ring */

static uint8_t blk_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t tx_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t rx_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t spare_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static volatile struct grant_entry_v1 *table;
static domid_t backend;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static char text[128];

static uint64_t random64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void sleep_ns(uint64_t ns)
{
    uint64_t end = xenev_now() + ns;

    while (xenev_now() < end)
        (void)hv_sched_op(SCHEDOP_yield, 0);
}

static const char *u32_text(uint32_t v)
{
    static char num[12];
    int i = (int)sizeof(num) - 1;

    num[i] = '\0';
    do {
        num[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return &num[i];
}

static void grant(grant_ref_t ref, const void *page)
{
    table[ref].domid = backend;
    table[ref].frame = (uint32_t)((uintptr_t)page / PAGE_SIZE);
    __asm__ volatile("" : : : "memory");    /* flags last: the entry is complete first */
    table[ref].flags = GTF_permit_access;
}

/* A frontend key; failures are noted, not fatal: the store may refuse garbage. */
static void put(const char *dir, const char *key, const char *value)
{
    size_t n = strlen(dir);

    memcpy(text, dir, n);
    memcpy(text + n, key, strlen(key) + 1);
    long rc = xs_write(0, text, value);
    if (rc)
        note("write %s = '%s': %ld\n", text, value, rc);
}

/* The backend's state (the number in "<backend>/state"), or -1. */
static long backend_state(const char *dir)
{
    char where[96];
    size_t n = strlen(dir);

    memcpy(text, dir, n);
    memcpy(text + n, "backend", 8);
    if (xs_read(0, text, where, sizeof(where) - 8) <= 0)
        return -1;
    memcpy(where + strlen(where), "/state", 7);
    if (xs_read(0, where, text, sizeof(text)) <= 0)
        return -1;
    return text[0] - '0';
}

static long wait_backend_connected(const char *dir)
{
    uint64_t end = xenev_now() + CONNECT_WAIT_NS;
    long state;

    while ((state = backend_state(dir)) != ST_CONNECTED && xenev_now() < end)
        sleep_ns(200 * NS_PER_MS);
    return state;
}

static void notify(evtchn_port_t port, unsigned times)
{
    for (unsigned i = 0; i < times; i++)
        (void)evtchn_send(port);
}

/* A request of every kind of wrong: grant refs, segment counts, sectors, operations. */
static void garbage_blk_request(struct blkif_request *r, unsigned i)
{
    static const grant_ref_t bad_refs[] = { REF_REVOKED, 0, 1, 4095, 0xFFFFFFFFu, REF_BLK_RING };

    uint8_t *raw = (uint8_t *)r;
    for (unsigned b = 0; b < sizeof(*r); b++)
        raw[b] = (uint8_t)random64();
    switch (i % 4) {
    case 0:     /* a plausible write, but through refs we never gave (or took back) */
        r->operation = BLKIF_OP_WRITE;
        r->nr_segments = 1 + (uint8_t)(random64() % BLKIF_MAX_SEGMENTS_PER_REQUEST);
        r->sector_number = random64() % 8192;
        for (unsigned s = 0; s < r->nr_segments; s++)
            r->seg[s].gref = bad_refs[(i + s) % 6];
        break;
    case 1:     /* past the end of any disk */
        r->operation = BLKIF_OP_READ;
        r->nr_segments = 1;
        r->sector_number = ~0ull - (random64() % 16);
        break;
    case 2:     /* too many segments, or an indirect request with garbage pages */
        r->operation = (i & 4) ? BLKIF_OP_INDIRECT : BLKIF_OP_WRITE;
        r->nr_segments = (uint8_t)(BLKIF_MAX_SEGMENTS_PER_REQUEST + 1 + random64() % 200);
        break;
    default:    /* an operation that does not exist; everything else random */
        r->operation = (uint8_t)(7 + random64() % 249);
        break;
    }
}

/* One round: a ring's worth of garbage, published, then the backend is told. */
static void blk_round(struct blkif_sring *s, evtchn_port_t port, unsigned round)
{
    RING_IDX prod = s->rsp_prod;

    for (unsigned i = 0; i < BLK_RING_ENTRIES; i++)
        garbage_blk_request(&s->ring[(prod + i) % BLK_RING_ENTRIES].req, round * 64 + i);
    if (round == ROUNDS - 1)
        prod += 0x7ffffff0u;            /* far ahead of anything the backend consumed */
    else if (round % 3 == 2)
        prod += BLK_RING_ENTRIES + 1 + (RING_IDX)(random64() % 1000);  /* past the ring */
    else
        prod += BLK_RING_ENTRIES;
    __asm__ volatile("" : : : "memory");
    s->req_prod = prod;
    s->rsp_event = (RING_IDX)random64();
    notify(port, 50);
}

static void attack_blk(evtchn_port_t port)
{
    struct blkif_sring *s = (struct blkif_sring *)blk_page;

    SHARED_RING_INIT(s);
    grant(REF_BLK_RING, blk_page);
    put(VBD, "ring-ref", u32_text(REF_BLK_RING));
    put(VBD, "event-channel", u32_text(port));
    put(VBD, "protocol", "x86_64-abi");
    put(VBD, "state", u32_text(ST_INITIALISED));
    long state = wait_backend_connected(VBD);
    note("blk: backend state %ld\n", state);
    put(VBD, "state", u32_text(ST_CONNECTED));
    for (unsigned round = 0; round < ROUNDS; round++) {
        blk_round(s, port, round);
        sleep_ns(50 * NS_PER_MS);
    }
    note("blk: %u rounds of garbage sent, rsp_prod %u\n", ROUNDS, s->rsp_prod);
}

static void attack_net(evtchn_port_t port)
{
    struct netif_tx_sring *tx = (struct netif_tx_sring *)tx_page;
    struct netif_rx_sring *rx = (struct netif_rx_sring *)rx_page;

    SHARED_RING_INIT(tx);
    SHARED_RING_INIT(rx);
    grant(REF_TX_RING, tx_page);
    grant(REF_RX_RING, rx_page);
    put(VIF, "tx-ring-ref", u32_text(REF_TX_RING));
    put(VIF, "rx-ring-ref", u32_text(REF_RX_RING));
    put(VIF, "event-channel", u32_text(port));
    put(VIF, "request-rx-copy", "1");
    put(VIF, "feature-rx-notify", "1");
    put(VIF, "state", u32_text(ST_CONNECTED));
    long state = wait_backend_connected(VIF);
    note("net: backend state %ld\n", state);
    for (unsigned round = 0; round < ROUNDS; round++) {
        RING_IDX prod = tx->rsp_prod;
        for (unsigned i = 0; i < TX_RING_ENTRIES; i++) {
            struct netif_tx_request *r = &tx->ring[(prod + i) % TX_RING_ENTRIES].req;
            uint8_t *raw = (uint8_t *)r;
            for (unsigned b = 0; b < sizeof(*r); b++)
                raw[b] = (uint8_t)random64();
            if (i % 2)
                r->gref = REF_REVOKED;          /* a chain through a revoked grant */
        }
        prod += round == ROUNDS - 1 ? 0x7ffffff0u : TX_RING_ENTRIES / 2 + (RING_IDX)(round * 37);
        __asm__ volatile("" : : : "memory");
        tx->req_prod = prod;
        rx->req_prod = (RING_IDX)random64();    /* rx slots we never posted */
        notify(port, 50);
        sleep_ns(50 * NS_PER_MS);
    }
    note("net: %u rounds of garbage sent, tx rsp_prod %u\n", ROUNDS, tx->rsp_prod);
}

/* Keys no frontend should write, and a state that will not settle. */
static void bogus_keys(void)
{
    static const uint8_t flaps[] = {
        ST_INITIALISING, ST_INITIALISED, ST_CONNECTED,
        ST_CLOSING, ST_CLOSED, ST_INITIALISED, ST_CLOSING,
        ST_CONNECTED, ST_INITIALISING, ST_RECONFIGURING,
    };

    put(VBD, "ring-ref", "4094");                   /* a ref we never granted */
    put(VBD, "event-channel", "4294967295");
    put(VBD, "protocol", "\x7f garbage-abi \x01");
    put(VBD, "ring-page-order", "31");
    put(VBD, "ring-ref0", "-1");
    put(VIF, "tx-ring-ref", "zzz");
    put(VIF, "rx-ring-ref", u32_text(REF_REVOKED));
    put(VIF, "event-channel", "99999999");
    put(VIF, "multi-queue-num-queues", "65535");
    for (unsigned i = 0; i < 4 * sizeof(flaps) / sizeof(flaps[0]); i++) {
        const char *state = u32_text(flaps[i % (sizeof(flaps) / sizeof(flaps[0]))]);
        put(VBD, "state", state);
        put(VIF, "state", state);
        if (i % 5 == 4)
            put(VBD, "state", "not-a-state");
        sleep_ns(100 * NS_PER_MS);
    }
    note("keys: bogus keys written, state flapped\n");
}

static void flood(evtchn_port_t blk_port, evtchn_port_t net_port)
{
    uint64_t end = xenev_now() + FLOOD_NS;
    unsigned long sent = 0;

    while (xenev_now() < end) {
        notify(blk_port, 64);
        notify(net_port, 64);
        sent += 128;
    }
    note("flood: %lu notifications\n", sent);
}

static bool alloc_port(const char *name, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = backend };
    long rc = hv_event_channel_op(EVTCHNOP_alloc_unbound, HV_PTR(&a));

    *port = a.port;
    return check(name, rc == 0, "rc %ld", rc);
}

static bool map_grant_table(void)
{
    struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
                                    .idx = 0, .gpfn = GT_GPA / PAGE_SIZE };
    long rc = hv_memory_op(XENMEM_add_to_physmap, HV_PTR(&a));

    table = (volatile struct grant_entry_v1 *)GT_GPA;
    return check("hostile_grant_table", rc == 0, "rc %ld", rc);
}

static domid_t read_backend_id(void)
{
    long n = xs_read(0, VBD "backend-id", text, sizeof(text));
    domid_t id = 0;

    for (long i = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++)
        id = (domid_t)(id * 10 + (text[i] - '0'));
    check("hostile_backend_id", n > 0 && id > 0, "rc %ld id %u", n, id);
    return id;
}

/* The test says when to start (its "attack" key, once the other guest is busy), else 600 s pass. */
static void wait_for_go(void)
{
    uint64_t end = xenev_now() + GO_WAIT_NS;

    while (xs_read(0, "attack", text, sizeof(text)) <= 0 && xenev_now() < end)
        sleep_ns(500 * NS_PER_MS);
    note("go: %s\n", xenev_now() < end ? "attack key seen" : "no attack key; attacking anyway");
}

int main(const struct hvm_start_info *si)
{
    evtchn_port_t blk_port = 0, net_port = 0;

    (void)si;
    if (xenev_init())
        guest_panic("shared_info");
    if (!check("hostile_xs_open", xs_open() == 0, "no store"))
        guest_shutdown(SHUTDOWN_crash);
    backend = read_backend_id();
    if (!backend || !map_grant_table() || !alloc_port("hostile_blk_port", &blk_port) ||
        !alloc_port("hostile_net_port", &net_port))
        guest_shutdown(SHUTDOWN_crash);
    wait_for_go();
    grant(REF_REVOKED, spare_page);
    table[REF_REVOKED].flags = 0;
    attack_blk(blk_port);
    attack_net(net_port);
    flood(blk_port, net_port);
    table[REF_BLK_RING].flags = 0;      /* revoked while the backend may still map it */
    bogus_keys();
    flood(blk_port, net_port);
    checks_done();
    con_printf("HOSTILE attack done; crashing\n");
    guest_shutdown(SHUTDOWN_crash);
}
