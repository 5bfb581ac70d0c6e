/* fifo.c (guest; built as fifo64 and fifo32): the FIFO event channel ABI (init_control, expand_array, set_priority, queues), one verdict line per check. */
#include "evlib.h"
#include "xen/errno.h"
#include "xen/hvm_params.h"
#include "xen/hvm_op.h"
#include "xen/sched.h"

#if defined(__x86_64__)
#define VARIANT "fifo64"
#else
#define VARIANT "fifo32"
#endif

#define CALLBACK_VECTOR 0xf3
#define WORDS_PER_PAGE (PAGE_SIZE / sizeof(event_word_t))
/* What Wisp gives a domain, as Xen (docs/architecture.md): 2^17 ports, 128 event array pages. */
#define MAX_PORTS EVTCHN_FIFO_NR_CHANNELS
#define MAX_ARRAY_PAGES (MAX_PORTS / WORDS_PER_PAGE)
#define MANY_PORTS 5000
#define HIGH_PORT 70000         /* above 65535: port fields are wider than 16 bits */
#define CTL_OFFSET 64           /* the control block need not start the page */

#define W_PENDING (1U << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1U << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1U << EVTCHN_FIFO_LINKED)

static uint8_t control_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static volatile event_word_t event_array[MAX_ARRAY_PAGES][PAGE_SIZE / sizeof(event_word_t)]
    __attribute__((aligned(PAGE_SIZE)));
static unsigned int array_pages;
/* The guest's own head of each queue (Linux keeps one too): 0 means "read the control block's". */
static uint32_t local_head[EVTCHN_FIFO_MAX_QUEUES];

/* Ports the upcall handler took off the queues, in order. */
static volatile uint32_t received[16];
static volatile unsigned int nr_received, upcalls;

static volatile struct evtchn_fifo_control_block *control(void)
{
    return (volatile struct evtchn_fifo_control_block *)(control_page + CTL_OFFSET);
}

static volatile event_word_t *word(uint32_t port)
{
    return &event_array[port / WORDS_PER_PAGE][port % WORDS_PER_PAGE];
}

static uint64_t gfn_of(const volatile void *p)
{
    return (uintptr_t)p / PAGE_SIZE;       /* identity-mapped: VA = PA */
}

static long init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu, uint8_t *link_bits)
{
    struct evtchn_init_control ic = { .control_gfn = gfn, .offset = offset, .vcpu = vcpu };
    long rc = ev_op(EVTCHNOP_init_control, HV_PTR(&ic));

    if (link_bits)
        *link_bits = ic.link_bits;
    return rc;
}

static long expand_array(uint64_t gfn)
{
    struct evtchn_expand_array ea = { .array_gfn = gfn };

    return ev_op(EVTCHNOP_expand_array, HV_PTR(&ea));
}

/* Adds the next page of event_array. */
static long expand_next(void)
{
    long rc = expand_array(gfn_of(event_array[array_pages]));

    if (rc == 0)
        array_pages++;
    return rc;
}

static long set_priority(uint32_t port, uint32_t priority)
{
    struct evtchn_set_priority sp = { .port = port, .priority = priority };

    return ev_op(EVTCHNOP_set_priority, HV_PTR(&sp));
}

static long sched_poll(uint32_t port, uint64_t timeout)
{
    struct sched_poll p = { .nr_ports = 1, .timeout = timeout };

    set_xen_guest_handle(p.ports, &port);
    return hv_sched_op(SCHEDOP_poll, HV_PTR(&p));
}

static long set_timer_op(uint64_t deadline)
{
#ifdef __x86_64__
    return hypercall(__HYPERVISOR_set_timer_op, deadline, 0, 0, 0, 0);
#else
    return hypercall(__HYPERVISOR_set_timer_op, (uint32_t)deadline, (uint32_t)(deadline >> 32),
                     0, 0, 0);
#endif
}

static long set_param(uint32_t index, uint64_t value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index, .value = value };

    return hv_hvm_op(HVMOP_set_param, HV_PTR(&p));
}

/*
 * Takes the next event off the highest-priority ready queue, as Linux's
 * consume_one_event: unlink the head (clear LINKED and LINK in one cmpxchg,
 * so a LINK the hypervisor writes meanwhile is not lost), forget the ready
 * bit when the queue ran dry. Returns the port if it was pending and
 * unmasked (PENDING cleared), 0 when the queues are empty.
 */
static uint32_t consume(void)
{
    volatile struct evtchn_fifo_control_block *cb = control();

    for (unsigned int budget = 0; budget < 64; budget++) {
        uint32_t ready = __atomic_load_n(&cb->ready, __ATOMIC_SEQ_CST), port;
        event_word_t w, unlinked;
        unsigned int prio = 0;

        while (prio < EVTCHN_FIFO_MAX_QUEUES && !(ready & (1U << prio)))
            prio++;
        if (prio == EVTCHN_FIFO_MAX_QUEUES)
            return 0;
        port = local_head[prio] ? local_head[prio] : cb->head[prio];
        if (port == 0 || port / WORDS_PER_PAGE >= array_pages)
            return 0;                       /* the hypervisor broke the queue */
        w = *word(port);
        do
            unlinked = w & ~(W_LINKED | EVTCHN_FIFO_LINK_MASK);
        while (!__atomic_compare_exchange_n(word(port), &w, unlinked, false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST));
        local_head[prio] = w & EVTCHN_FIFO_LINK_MASK;
        if (!local_head[prio])
            __atomic_fetch_and(&cb->ready, ~(1U << prio), __ATOMIC_SEQ_CST);
        if ((w & W_PENDING) && !(w & W_MASKED)) {
            __atomic_fetch_and(word(port), ~W_PENDING, __ATOMIC_SEQ_CST);
            return port;
        }
    }
    return 0;
}

static void on_upcall(unsigned int vector)
{
    uint32_t port;

    (void)vector;
    upcalls++;
    shinfo->vcpu_info[0].evtchn_upcall_pending = 0;
    while ((port = consume()) != 0)
        if (nr_received < ARRAY_SIZE(received))
            received[nr_received++] = port;
}

static void drain(void)
{
    irq_disable();
    while (consume() != 0)
        ;
    shinfo->vcpu_info[0].evtchn_upcall_pending = 0;
}

/* ---------- checks ---------- */

/* XTF's test-xsa-188: a failed init_control, then expand_array, must not touch freed state. */
static void check_xsa188(void)
{
    long bad_gfn = init_control((uint64_t)-2, 0, 0, NULL);
    long expand = expand_array(gfn_of(event_array[0]));

    check("fifo_xsa188_bad_gfn_then_expand",
          bad_gfn == -XEN_EINVAL && (expand == -XEN_EOPNOTSUPP || expand == -XEN_ENOSYS),
          "init_control(gfn -2) %ld (want %d), expand_array %ld (want %d)", bad_gfn,
          -XEN_EINVAL, expand, -XEN_EOPNOTSUPP);

    long unaligned = init_control(gfn_of(control_page), 4, 0, NULL);
    long crosses = init_control(gfn_of(control_page), PAGE_SIZE - 64, 0, NULL);
    long huge = init_control(gfn_of(control_page), 0xfffffff8U, 0, NULL);
    long no_vcpu = init_control(gfn_of(control_page), 0, 64, NULL);
    long expand2 = expand_array(gfn_of(event_array[0]));
    uint8_t link_bits = 0;
    long good = init_control(gfn_of(control_page), CTL_OFFSET, 0, &link_bits);

    check("fifo_xsa188_bad_offset_then_good",
          unaligned == -XEN_EINVAL && crosses == -XEN_EINVAL && huge == -XEN_EINVAL &&
              no_vcpu == -XEN_ENOENT && expand2 == -XEN_EOPNOTSUPP && good == 0 &&
              link_bits == EVTCHN_FIFO_LINK_BITS,
          "offset 4 %ld, 4032 %ld, 0xfffffff8 %ld, vcpu 64 %ld, expand %ld, good %ld "
          "link_bits %u", unaligned, crosses, huge, no_vcpu, expand2, good, link_bits);
}

static void check_init_and_expand(uint32_t carried)
{
    long twice = init_control(gfn_of(control_page), CTL_OFFSET, 0, NULL);
    long bad = expand_array((uint64_t)-2), beyond = expand_array(0xfffffULL);
    long rc = expand_next();

    check("fifo_init_control_twice", twice == -XEN_EINVAL, "rc %ld (want %d)", twice,
          -XEN_EINVAL);
    check("fifo_expand_array_bad_gfn", bad == -XEN_EINVAL && beyond == -XEN_EINVAL,
          "gfn -2: %ld, gfn 0xfffff: %ld (want %d)", bad, beyond, -XEN_EINVAL);
    check("fifo_expand_array", rc == 0 && array_pages == 1, "rc %ld", rc);
    /* Sent under 2-level before the switch: linked now that its word exists. */
    check("fifo_pending_carried_over",
          *word(carried) == (W_PENDING | W_LINKED) &&
              control()->head[EVTCHN_FIFO_PRIORITY_DEFAULT] == carried &&
              (control()->ready & (1U << EVTCHN_FIFO_PRIORITY_DEFAULT)) && consume() == carried,
          "port %u word %x head %u ready %x", carried, *word(carried),
          control()->head[EVTCHN_FIFO_PRIORITY_DEFAULT], control()->ready);
    drain();
}

static void check_linking(void)
{
    uint32_t a = 0, b = 0;
    long rca = ev_bind_ipi(0, &a), rcb = ev_bind_ipi(0, &b);

    (void)ev_send(a);
    (void)ev_send(b);
    check("fifo_send_links_queue",
          rca == 0 && rcb == 0 && *word(a) == (W_PENDING | W_LINKED | b) &&
              *word(b) == (W_PENDING | W_LINKED) &&
              control()->head[EVTCHN_FIFO_PRIORITY_DEFAULT] == a &&
              control()->ready == (1U << EVTCHN_FIFO_PRIORITY_DEFAULT) &&
              shinfo->vcpu_info[0].evtchn_upcall_pending == 1 && !ev_pending(a) && !ev_pending(b),
          "ports %u %u: words %x %x head %u ready %x upcall %u", a, b, *word(a), *word(b),
          control()->head[EVTCHN_FIFO_PRIORITY_DEFAULT], control()->ready,
          shinfo->vcpu_info[0].evtchn_upcall_pending);
    uint32_t first = consume(), second = consume(), none = consume();

    check("fifo_consume_in_order", first == a && second == b && none == 0 && control()->ready == 0,
          "got %u %u %u, want %u %u 0", first, second, none, a, b);
    drain();

    *word(a) = W_MASKED;
    (void)ev_send(a);
    bool quiet = *word(a) == (W_MASKED | W_PENDING) && control()->ready == 0 &&
                 !shinfo->vcpu_info[0].evtchn_upcall_pending;
    long rc = ev_unmask(a);

    check("fifo_unmask_links_pending",
          quiet && rc == 0 && *word(a) == (W_PENDING | W_LINKED) &&
              control()->head[EVTCHN_FIFO_PRIORITY_DEFAULT] == a &&
              shinfo->vcpu_info[0].evtchn_upcall_pending,
          "masked quiet %d, unmask %ld, word %x", quiet, rc, *word(a));
    drain();

    (void)ev_send(b);
    *word(b) &= ~W_LINKED;          /* as if consumed, but still pending: then closed */
    rc = ev_close(b);
    check("fifo_close_clears_pending", rc == 0 && !(*word(b) & W_PENDING), "close %ld word %x",
          rc, *word(b));
    (void)ev_close(a);
    drain();
}

static void check_priorities(void)
{
    static const uint32_t prio[] = { 15, 7, 0, 3 };
    static const unsigned int order[] = { 2, 3, 1, 0 };    /* indexes of ports by priority */
    uint32_t port[4];
    long bad_prio, bad_port, rc = 0;
    uint64_t via = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | CALLBACK_VECTOR;
    bool ordered = true;

    for (unsigned int i = 0; i < 4; i++) {
        rc |= ev_bind_ipi(0, &port[i]);
        rc |= set_priority(port[i], prio[i]);
    }
    bad_prio = set_priority(port[0], EVTCHN_FIFO_PRIORITY_MIN + 1);
    bad_port = set_priority(MAX_PORTS, 1);
    check("fifo_set_priority", rc == 0 && bad_prio == -XEN_EINVAL && bad_port == -XEN_EINVAL,
          "rc %ld, priority 16 %ld, port %u %ld", rc, bad_prio, MAX_PORTS, bad_port);

    irq_set_handler(CALLBACK_VECTOR, on_upcall);
    rc = set_param(HVM_PARAM_CALLBACK_IRQ, via);
    nr_received = 0;
    upcalls = 0;
    for (unsigned int i = 0; i < 4; i++)
        (void)ev_send(port[i]);
    irq_enable_and_halt();          /* the upcall takes the four events off the queues */
    irq_disable();
    for (unsigned int i = 0; i < 4 && i < nr_received; i++)
        ordered = ordered && received[i] == port[order[i]];
    check("fifo_upcall_priority_order", rc == 0 && upcalls >= 1 && nr_received == 4 && ordered,
          "callback param %ld, %u upcalls, %u events: %u %u %u %u (want %u %u %u %u)", rc,
          upcalls, nr_received, received[0], received[1], received[2], received[3],
          port[order[0]], port[order[1]], port[order[2]], port[order[3]]);
    (void)set_param(HVM_PARAM_CALLBACK_IRQ, 0);
    for (unsigned int i = 0; i < 4; i++)
        (void)ev_close(port[i]);
    drain();
}

/* Every operation on a port no port that high was ever bound answers -EINVAL (Xen's port_is_valid). */
static void check_unallocated_port(uint32_t port)
{
    struct evtchn_status st;
    long status = ev_status(port, &st), unmask = ev_unmask(port), prio = set_priority(port, 1);
    long close = ev_close(port), send = ev_send(port), vcpu = ev_bind_vcpu(port, 0);

    check("fifo_unallocated_port_invalid",
          status == -XEN_EINVAL && unmask == -XEN_EINVAL && prio == -XEN_EINVAL &&
              close == -XEN_EINVAL && send == -XEN_EINVAL && vcpu == -XEN_EINVAL,
          "port %u: status %ld unmask %ld set_priority %ld close %ld send %ld bind_vcpu %ld "
          "(want %d)", port, status, unmask, prio, close, send, vcpu, -XEN_EINVAL);
}

/* Binds IPI ports until one is `upto` (or they run out); returns the last port bound. */
static uint32_t bind_ports_upto(uint32_t upto, long *rc)
{
    uint32_t port = 0, last = 0;

    while (last < upto && (*rc = ev_bind_ipi(0, &port)) == 0)
        last = port;
    return last;
}

/*
 * A loopback pair above 65535: alloc_unbound gives HIGH_PORT, bind_interdomain
 * the next; each end's status names the other whole; a send reaches the
 * guest's queue as HIGH_PORT; SCHEDOP_poll takes it; set_priority works.
 */
static void check_high_port(void)
{
    uint32_t unbound = 0, bound = 0;
    struct evtchn_status su, sb;
    long rc = ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &unbound);
    long rb = ev_bind_interdomain(DOMID_SELF, unbound, &bound);
    long rs = ev_status(unbound, &su) | ev_status(bound, &sb);

    while (array_pages * WORDS_PER_PAGE <= bound && expand_next() == 0)
        ;
    uint32_t own = consume();               /* bind_interdomain raises the new end once */
    long sent = ev_send(bound);
    bool queued = *word(unbound) == (W_PENDING | W_LINKED);
    uint64_t t0 = pv_now();
    long polled = sched_poll(unbound, t0 + 2000000000ULL);     /* pending: returns at once */
    uint64_t waited = pv_now() - t0;
    uint32_t got = consume();
    long prio = set_priority(bound, 2);

    check("fifo_port_above_65535",
          rc == 0 && unbound == HIGH_PORT && rb == 0 && bound == HIGH_PORT + 1 && rs == 0 &&
              su.status == EVTCHNSTAT_interdomain && su.u.interdomain.port == bound &&
              sb.u.interdomain.port == unbound && own == bound && sent == 0 && queued && polled == 0 &&
              waited < 1000000000ULL &&
              got == unbound && prio == 0,
          "alloc %ld port %u, bind %ld port %u, status %ld peers %u %u, bind raised %u, "
          "send %ld queued %d, poll %ld after %llu ns, consumed %u, set_priority %ld", rc, unbound,
          rb, bound, rs, su.u.interdomain.port, sb.u.interdomain.port, own, sent, queued, polled,
          (unsigned long long)waited, got, prio);
    drain();
}

/*
 * VIRQ_TIMER bound above 65535 (after the loopback pair): SCHEDOP_poll on it
 * blocks until the timer fires 20 ms later, so the virq map and the poll list
 * must both hold the port whole.
 */
static void check_poll_wakes_on_high_port(void)
{
    uint32_t tp = 0;
    long rc = ev_bind_virq(VIRQ_TIMER, 0, &tp);

    while (array_pages * WORDS_PER_PAGE <= tp && expand_next() == 0)
        ;
    uint64_t t0 = pv_now();
    long timer = set_timer_op(t0 + 20000000ULL);
    long polled = sched_poll(tp, t0 + 2000000000ULL);
    uint64_t waited = pv_now() - t0;
    bool pending = (*word(tp) & W_PENDING) != 0;
    uint32_t got = consume();

    check("fifo_poll_wakes_on_high_port",
          rc == 0 && tp == HIGH_PORT + 2 && timer == 0 && polled == 0 && pending &&
              waited >= 20000000ULL && waited < 1000000000ULL && got == tp,
          "bind_virq %ld port %u, timer %ld, poll %ld after %llu ns, pending %d, consumed %u",
          rc, tp, timer, polled, (unsigned long long)waited, pending, got);
    drain();
}

/* Thousands of ports: bound first, the array expanded after (as Linux does). */
static void check_many_ports(void)
{
    long rc = 0;
    uint32_t last = bind_ports_upto(MANY_PORTS, &rc);
    long sent = ev_send(last);
    bool waits = !(control()->ready);       /* no word for it yet: nothing queued */

    while (array_pages * WORDS_PER_PAGE <= last && expand_next() == 0)
        ;
    check("fifo_many_ports",
          rc == 0 && last == MANY_PORTS && sent == 0 && waits &&
              *word(last) == (W_PENDING | W_LINKED) && consume() == last,
          "last %u (rc %ld), send %ld, waited %d, %u pages, word %x", last, rc,
          sent, waits, array_pages, last / WORDS_PER_PAGE < array_pages ? *word(last) : 0);
    drain();

    check_unallocated_port(HIGH_PORT);
    last = bind_ports_upto(HIGH_PORT - 1, &rc);
    check("fifo_ports_up_to_high", rc == 0 && last == HIGH_PORT - 1, "last %u rc %ld", last, rc);
    check_high_port();
    check_poll_wakes_on_high_port();

    last = bind_ports_upto(MAX_PORTS, &rc);
    check("fifo_ports_run_out", rc == -XEN_ENOSPC && last == MAX_PORTS - 1,
          "rc %ld (want %d), last port %u (want %u)", rc, -XEN_ENOSPC, last, MAX_PORTS - 1);
    while (array_pages < MAX_ARRAY_PAGES && expand_next() == 0)
        ;
    rc = expand_array(gfn_of(event_array[0]));
    (void)ev_send(last);
    check("fifo_expand_array_full",
          array_pages == MAX_ARRAY_PAGES && rc == -XEN_ENOSPC && consume() == last,
          "%u pages, one more: %ld (want %d)", array_pages, rc, -XEN_ENOSPC);
    drain();
}

/* EVTCHNOP_reset: every port closed, back to 2-level; FIFO can be chosen again. */
static void check_reset(void)
{
    uint32_t port = 0;
    long rc = ev_reset(DOMID_SELF);
    long expand = expand_array(gfn_of(event_array[0]));
    long bind = ev_bind_ipi(0, &port);
    long prio = set_priority(port, 1);

    ev_clear_all(0);
    (void)ev_send(port);
    check("fifo_reset_to_2level",
          rc == 0 && expand == -XEN_EOPNOTSUPP && bind == 0 && prio == -XEN_ENOSYS &&
              ev_pending(port) && port < 8,
          "reset %ld, expand %ld, bind %ld port %u, set_priority %ld, 2-level pending %d", rc,
          expand, bind, port, prio, ev_pending(port));

    for (unsigned int i = 0; i < array_pages; i++)
        for (unsigned int w = 0; w < WORDS_PER_PAGE; w++)
            event_array[i][w] = 0;
    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        control_page[i] = 0;
    for (unsigned int i = 0; i < EVTCHN_FIFO_MAX_QUEUES; i++)
        local_head[i] = 0;
    array_pages = 0;
    rc = init_control(gfn_of(control_page), CTL_OFFSET, 0, NULL);
    long added = expand_next();

    check("fifo_init_again", rc == 0 && added == 0 && consume() == port,
          "init_control %ld, expand %ld", rc, added);
    (void)ev_reset(DOMID_SELF);
}

/* ns to ms in 32-bit arithmetic (fifo32 has no 64-bit division): ns / 2^10 / 977 */
static uint32_t ms_of(uint64_t ns)
{
    return (uint32_t)(ns >> 10) / 977;
}

/*
 * cmdline flood=N [reset=1]: binds N IPI ports under FIFO, then (with reset)
 * closes them all by EVTCHNOP_reset, then crashes. Beside act=latency
 * (test_events.py): the reset and the death must close them a bounded batch
 * at a time, not hold the pCPU for all of them.
 */
static void port_flood(const struct hvm_start_info *si, const char *text)
{
    char flag[4];
    uint32_t want = 0, last = 0;
    long rc = ev_map_shared_info();     /* the clock */
    uint64_t start = pv_now();

    for (const char *p = text; *p >= '0' && *p <= '9'; p++)
        want = want * 10 + (uint32_t)(*p - '0');
    if (rc == 0)
        rc = init_control(gfn_of(control_page), CTL_OFFSET, 0, NULL);
    if (rc == 0)
        last = bind_ports_upto(want, &rc);
    con_printf("PORTS bound %u of %u in %u ms (rc %ld)\n", last, want, ms_of(pv_now() - start),
               rc);
    if (cmdline_get(si, "reset", flag, sizeof(flag))) {
        uint64_t at = pv_now();

        rc = ev_reset(DOMID_SELF);
        con_printf("PORTS reset at %u ms: %ld in %u ms\n", ms_of(at), rc,
                   ms_of(pv_now() - at));
    }
    con_printf("PORTS crashing at %u ms\n", ms_of(pv_now()));
    guest_shutdown(SHUTDOWN_crash);
}

int main(const struct hvm_start_info *si)
{
    uint32_t carried = 0;
    char flood[16];
    long rc;

    note(VARIANT ": the FIFO event channel ABI\n");
    if (!xen_cpuid_base())
        guest_panic("no Xen CPUID leaves: these checks need Wisp or Xen");
    if (cmdline_get(si, "flood", flood, sizeof(flood)))
        port_flood(si, flood);
    rc = ev_map_shared_info();
    if (!check("fifo_map_shared_info", rc == 0, "rc %ld", rc)) {
        checks_done();
        return 1;
    }
    irq_disable();
    /* Bound and raised under 2-level: FIFO must keep it pending. */
    rc = ev_bind_ipi(0, &carried);
    if (rc == 0)
        rc = ev_send(carried);
    check("fifo_2level_port_pending", rc == 0 && ev_pending(carried), "rc %ld port %u", rc,
          carried);
    check_xsa188();
    check_init_and_expand(carried);
    check_linking();
    check_priorities();
    check_many_ports();
    check_reset();
    checks_done();
    return 0;
}
