/* console_ring.c (hypervisor): each guest's PV console ring (Xen's io/console.h): output to the
 * serial log as "(dN) " lines, serial input to the guest. The hypervisor is the backend. */
#include "env.h"
#include "console_ring.h"
#include "domain.h"
#include "errno.h"
#include "mm.h"
#include "printk.h"
#include "time.h"
#include "uart.h"
#include "xen/console.h"
#include "xen/hvm_params.h"

/* Bytes drained per notification or poll: a flooding guest shares the serial line.
 * A drain also ends after CONSOLE_PASS_NS of serial time (domain.h). */
#define DRAIN_BUDGET 2048

static struct xencons_interface *ring_of(struct domain *d) { return d->console_ring; }

/* The console port is the hypervisor's own and never closed while the domain runs. */
static void notify_guest(struct domain *d)
{
    int rc = evtchn_set_pending(&d->evtchn, d->console_port);

    (void)rc;
}

/* Guest -> serial. Returns true when the ring was left non-empty. */
static bool drain_output(struct domain *d)
{
    struct xencons_interface *r = ring_of(d);
    XENCONS_RING_IDX cons = r->out_cons;
    XENCONS_RING_IDX prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
    unsigned budget = DRAIN_BUDGET;
    uint64_t deadline = now_ns() + CONSOLE_PASS_NS;

    /* A hostile producer index more than a ring ahead is clamped to one ring. */
    if (prod - cons > sizeof(r->out))
        cons = prod - sizeof(r->out);
    if (prod == cons)
        return false;
    while (cons != prod && budget) {
        if (budget < DRAIN_BUDGET && domain_console_at_line_start(d) && now_ns() >= deadline)
            break;
        char c = r->out[MASK_XENCONS_IDX(cons, r->out)];

        domain_console_ring_output(d, &c, 1);
        cons++;
        budget--;
    }
    __atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
    d->console_fresh = true;
    notify_guest(d);        /* room again */
    return cons != prod;
}

static void on_guest_send(void *ctx, unsigned port)
{
    drain_output(ctx);
}

int console_ring_setup(struct domain *d)
{
    void *page = page_alloc();
    int port;

    if (!page)
        return -ENOMEM;
    memset(page, 0, PAGE_SIZE);
    if (p2m_map(&d->p2m, CONSOLE_RING_GPA, virt_to_phys(page), PAGE_SIZE, P2M_READ | P2M_WRITE)) {
        page_free(page);
        return -ENOMEM;
    }
    port = evtchn_alloc_xen_port(&d->evtchn, 0, on_guest_send, d);
    if (port < 0) {
        page_free(page);
        return port;
    }
    d->console_ring = page;
    d->console_port = (unsigned)port;
    d->hvm_params[HVM_PARAM_CONSOLE_PFN] = CONSOLE_RING_GPA >> PAGE_SHIFT;
    d->hvm_params[HVM_PARAM_CONSOLE_EVTCHN] = (unsigned)port;
    return 0;
}

void console_ring_flush(struct domain *d)
{
    if (!d->console_ring)
        return;
    /* Each round takes at least one byte; the ring holds at most sizeof(out). */
    for (unsigned rounds = 0; rounds <= sizeof(ring_of(d)->out) && drain_output(d); rounds++)
        ;
}

void console_ring_teardown(struct domain *d)
{
    page_free(d->console_ring);
    d->console_ring = NULL;
}

/* Serial -> guest. Input goes to the first running guest with a console: a domain
 * without roles if there is one (the user talks to the guest, not to the xenstore or
 * service domain listed before it), else the first with any. */
static struct domain *input_focus(void)
{
    struct domain *any = NULL;

    for (struct domain *d = domain_next(NULL); d; d = domain_next(d)) {
        if (!d->running || !d->console_ring)
            continue;
        if (!d->roles)
            return d;
        any = any ? any : d;
    }
    return any;
}

/* Moves bytes into d's input ring while it has room: buf[0, len), or COM1's when buf is NULL. */
static size_t fill_input(struct domain *d, const char *buf, size_t len)
{
    struct xencons_interface *r = ring_of(d);
    XENCONS_RING_IDX prod = r->in_prod;
    XENCONS_RING_IDX cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
    size_t moved = 0;

    /* What does not fit stays with the caller (or in the UART's FIFO) while the ring is full. */
    while (prod - cons < sizeof(r->in)) {
        int c = !buf ? uart_read(COM1_BASE) : moved < len ? (unsigned char)buf[moved] : -1;

        if (c < 0)
            break;
        r->in[MASK_XENCONS_IDX(prod, r->in)] = (char)c;
        prod++;
        moved++;
    }
    if (!moved)
        return 0;
    __atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
    notify_guest(d);
    return moved;
}

size_t console_ring_input(struct domain *d, const char *buf, size_t len)
{
    return d->console_ring ? fill_input(d, buf, len) : 0;
}

/*
 * A partial line (a shell prompt) goes out once the guest has written
 * nothing new for one poll, so prompts show promptly while ordinary output,
 * which the guest writes in small pieces, still goes out in whole lines.
 */
static void flush_quiet_partial_line(struct domain *d)
{
    if (!d->console_fresh)
        domain_console_flush_partial(d);
    d->console_fresh = false;
}

void console_ring_poll_input(void)
{
    struct domain *focus = input_focus();

    if (focus)
        (void)fill_input(focus, NULL, 0);
    for (struct domain *d = domain_next(NULL); d; d = domain_next(d)) {
        if (!d->running || !d->console_ring)
            continue;
        (void)drain_output(d);
        flush_quiet_partial_line(d);
    }
}
