/* lapic.c (hypervisor): connects each vCPU's virtual LAPIC (vlapic.c) to MSR exits, IPIs and timers. */
#include "env.h"
#include "domain.h"
#include "lapic.h"
#include "printk.h"
#include "sched.h"
#include "time.h"
#include "vcpu_context.h"

static void deliver_ipi(struct vcpu *t, const struct vlapic_ipi *ipi)
{
    struct vlapic_effects fx;
    struct vcpu_context start;

    if (ipi->kind != VLAPIC_IPI_FIXED)
        gprintk(t->dom, LOG_DEBUG, "d%u: IPI kind %d vector 0x%x to vCPU %u", t->dom->id,
                ipi->kind, ipi->vector, t->id);
    switch (ipi->kind) {
    case VLAPIC_IPI_FIXED:
        vlapic_accept_irq(&t->lapic, ipi->vector);
        break;
    case VLAPIC_IPI_NMI:
        t->nmi_pending = true;
        break;
    case VLAPIC_IPI_INIT:
        /* INIT parks the vCPU until a STARTUP IPI (SDM vol 3, 9.4.4); the BSP ignores it. */
        if (t->id == 0)
            return;
        vlapic_reset_on_init(&t->lapic, &fx);
        lapic_apply(t, &fx);
        t->state = VCPU_DOWN;
        t->initialised = false;         /* as in Xen: INIT resets the vCPU */
        t->waiting_for_sipi = true;
        break;
    case VLAPIC_IPI_STARTUP:
        if (!t->waiting_for_sipi)
            return;             /* STARTUP is ignored unless the vCPU waits for one */
        t->waiting_for_sipi = false;
        vcpu_context_startup_ipi(&start, ipi->vector);
        if (!vcpu_set_start(t, &start, "this CPU cannot hold the STARTUP IPI state")) {
            domain_crash(t, "this CPU cannot hold the STARTUP IPI state");
            return;
        }
        t->initialised = true;
        t->state = VCPU_RUNNABLE;
        break;
    }
    vcpu_kick(t);
}

void lapic_apply(struct vcpu *v, const struct vlapic_effects *fx)
{
    if (fx->timer == VLAPIC_TIMER_ARM)
        v->timers.lapic = fx->timer_deadline_ns ? fx->timer_deadline_ns : 1;
    else if (fx->timer == VLAPIC_TIMER_CANCEL)
        v->timers.lapic = 0;
    if (!fx->ipi_valid)
        return;
    struct domain *d = v->dom;

    for (unsigned i = 0; i < d->nr_vcpus; i++)
        if (vlapic_ipi_targets(&fx->ipi, &d->vcpus[i].lapic))
            deliver_ipi(&d->vcpus[i], &fx->ipi);
}

void lapic_vcpu_init(struct vcpu *v)
{
    vlapic_init(&v->lapic, v->id, v->id == 0);
}

bool lapic_msr_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
    if (index == VLAPIC_MSR_APIC_BASE) {
        *value = vlapic_get_base(&v->lapic);
        return true;
    }
    return vlapic_msr_read(&v->lapic, index, now_ns(), value) == 0;
}

bool lapic_msr_write(struct vcpu *v, uint32_t index, uint64_t value)
{
    struct vlapic_effects fx;
    int rc;

    if (index == VLAPIC_MSR_APIC_BASE)
        rc = vlapic_set_base(&v->lapic, value, &fx);
    else
        rc = vlapic_msr_write(&v->lapic, index, value, now_ns(), &fx);
    if (rc)
        return false;
    lapic_apply(v, &fx);
    return true;
}

bool lapic_msr_in_range(uint32_t index)
{
    return index == VLAPIC_MSR_APIC_BASE ||
           (index >= VLAPIC_MSR_X2APIC_FIRST && index <= VLAPIC_MSR_X2APIC_LAST);
}

void lapic_timer_fire(struct vcpu *v, uint64_t now)
{
    struct vlapic_effects fx;

    v->timers.lapic = 0;
    vlapic_timer_expired(&v->lapic, now, &fx);
    lapic_apply(v, &fx);
}

bool lapic_timer_wakes(const struct vcpu *v)
{
    return vlapic_timer_expiry_raises(&v->lapic);
}

/*
 * The xAPIC page: one page per domain at 0xFEE00000, so one vCPU at a time
 * may be in its guest in xAPIC mode (domain.xapic_holder): its registers are
 * published into the page before entry and its writes collected after the
 * exit. Another vCPU in xAPIC mode, on another pCPU, waits: it marks itself in
 * xapic_waiters and kicks the holder. The holder keeps the page for a turn of
 * XAPIC_TURN_NS, so that each of them gets whole runs rather than one exit
 * each, then hands it over at an exit (or when it stops running) and kicks
 * the waiter's pCPU. x2APIC-mode vCPUs never wait.
 */
#define XAPIC_TURN_NS 1000000ull
static bool uses_xapic_page(struct vcpu *v)
{
    return v->dom->xapic_page && vlapic_mode(&v->lapic) == VLAPIC_XAPIC;
}

bool lapic_page_may_enter(struct vcpu *v)
{
    struct domain *d = v->dom;
    const struct vcpu *h = d->xapic_holder;

    if (!uses_xapic_page(v) || !h || h == v || h->state != VCPU_RUNNABLE)
        return true;
    if (!(d->xapic_waiters >> v->id & 1))
        vcpu_kick(h);                   /* its next exit hands the page over */
    d->xapic_waiters |= 1u << v->id;
    return false;
}

void lapic_page_before_entry(struct vcpu *v)
{
    if (!uses_xapic_page(v))
        return;
    if (v->dom->xapic_holder != v)
        v->dom->xapic_turn_start = now_ns();
    v->dom->xapic_holder = v;
    v->dom->xapic_waiters &= ~(1u << v->id);
    vlapic_page_publish(&v->lapic, v->dom->xapic_page, now_ns());
}

/* The next waiting vCPU after v (wrapping around) gets the page, reserved for it. */
static void xapic_page_hand_over(struct vcpu *v)
{
    struct domain *d = v->dom;

    d->xapic_holder = NULL;
    for (unsigned step = 1; d->xapic_waiters && step <= d->nr_vcpus; step++) {
        struct vcpu *w = &d->vcpus[(v->id + step) % d->nr_vcpus];

        if (d->xapic_waiters >> w->id & 1) {
            d->xapic_waiters &= ~(1u << w->id);
            d->xapic_holder = w;
            vcpu_kick(w);
            return;
        }
    }
}

/* v stops running for now (it blocked, yielded or was preempted): its turn ends. */
void lapic_page_release(struct vcpu *v)
{
    if (v->dom->xapic_holder == v)
        xapic_page_hand_over(v);
}

void lapic_page_after_exit(struct vcpu *v)
{
    struct vlapic_effects fx;
    struct domain *d = v->dom;

    if (d->xapic_holder == v && d->xapic_waiters &&
        now_ns() - d->xapic_turn_start >= XAPIC_TURN_NS)
        xapic_page_hand_over(v);
    if (!uses_xapic_page(v))
        return;
    vlapic_page_collect(&v->lapic, v->dom->xapic_page, now_ns(), &fx);
    lapic_apply(v, &fx);
}
