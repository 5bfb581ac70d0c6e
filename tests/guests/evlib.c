/* evlib.c (guest): shared_info, event-channel ops, the upcall scan, pvclock and x2APIC helpers for the event test guests. */
#include "evlib.h"
#include "xen/memory.h"
#include "xen/sched.h"

volatile struct shared_info *shinfo;
volatile unsigned int ev_count[EV_MAX_PORTS];
volatile uint64_t ev_time[EV_MAX_PORTS];

/* Where the shared_info frame goes: this page of RAM is replaced by it. */
static uint8_t shinfo_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

long ev_map_shared_info(void)
{
    struct xen_add_to_physmap a = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (uintptr_t)shinfo_page / PAGE_SIZE,   /* identity-mapped: VA = PA */
    };
    long rc = hv_memory_op(XENMEM_add_to_physmap, HV_PTR(&a));

    if (rc == 0)
        shinfo = (volatile struct shared_info *)shinfo_page;
    return rc;
}

/* ---- EVTCHNOP_* ---- */

long ev_op(int cmd, unsigned long arg)
{
    return hypercall(__HYPERVISOR_event_channel_op, (unsigned long)cmd, arg, 0, 0, 0);
}

long ev_alloc_unbound(domid_t dom, domid_t remote, uint32_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote };
    long rc = ev_op(EVTCHNOP_alloc_unbound, HV_PTR(&a));

    *port = rc ? 0 : a.port;
    return rc;
}

long ev_bind_interdomain(domid_t remote, uint32_t remote_port, uint32_t *port)
{
    struct evtchn_bind_interdomain b = { .remote_dom = remote, .remote_port = remote_port };
    long rc = ev_op(EVTCHNOP_bind_interdomain, HV_PTR(&b));

    *port = rc ? 0 : b.local_port;
    return rc;
}

long ev_bind_virq(uint32_t virq, uint32_t vcpu, uint32_t *port)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };
    long rc = ev_op(EVTCHNOP_bind_virq, HV_PTR(&b));

    *port = rc ? 0 : b.port;
    return rc;
}

long ev_bind_ipi(uint32_t vcpu, uint32_t *port)
{
    struct evtchn_bind_ipi b = { .vcpu = vcpu };
    long rc = ev_op(EVTCHNOP_bind_ipi, HV_PTR(&b));

    *port = rc ? 0 : b.port;
    return rc;
}

long ev_bind_vcpu(uint32_t port, uint32_t vcpu)
{
    struct evtchn_bind_vcpu b = { .port = port, .vcpu = vcpu };

    return ev_op(EVTCHNOP_bind_vcpu, HV_PTR(&b));
}

long ev_close(uint32_t port)
{
    struct evtchn_close c = { .port = port };

    return ev_op(EVTCHNOP_close, HV_PTR(&c));
}

long ev_send(uint32_t port)
{
    struct evtchn_send s = { .port = port };

    return ev_op(EVTCHNOP_send, HV_PTR(&s));
}

long ev_unmask(uint32_t port)
{
    struct evtchn_unmask u = { .port = port };

    return ev_op(EVTCHNOP_unmask, HV_PTR(&u));
}

long ev_status(uint32_t port, struct evtchn_status *out)
{
    memset(out, 0xa5, sizeof(*out));    /* fields the hypervisor forgets show up */
    out->dom = DOMID_SELF;
    out->port = port;
    return ev_op(EVTCHNOP_status, HV_PTR(out));
}

long ev_reset(domid_t dom)
{
    struct evtchn_reset r = { .dom = dom };

    return ev_op(EVTCHNOP_reset, HV_PTR(&r));
}

/* ---- Bitmaps (atomic: the hypervisor may set bits at any exit) ---- */

static volatile xen_ulong_t *word_of(volatile xen_ulong_t *bitmap, uint32_t port)
{
    return &bitmap[port / EV_BITS_PER_WORD];
}

static xen_ulong_t bit_of(uint32_t port)
{
    return (xen_ulong_t)1 << (port % EV_BITS_PER_WORD);
}

bool ev_pending(uint32_t port)
{
    return *word_of(shinfo->evtchn_pending, port) & bit_of(port);
}

bool ev_masked(uint32_t port)
{
    return *word_of(shinfo->evtchn_mask, port) & bit_of(port);
}

void ev_set_pending(uint32_t port)
{
    __atomic_fetch_or(word_of(shinfo->evtchn_pending, port), bit_of(port), __ATOMIC_SEQ_CST);
}

void ev_clear_pending(uint32_t port)
{
    __atomic_fetch_and(word_of(shinfo->evtchn_pending, port), ~bit_of(port), __ATOMIC_SEQ_CST);
}

void ev_set_mask(uint32_t port)
{
    __atomic_fetch_or(word_of(shinfo->evtchn_mask, port), bit_of(port), __ATOMIC_SEQ_CST);
}

void ev_clear_mask(uint32_t port)
{
    __atomic_fetch_and(word_of(shinfo->evtchn_mask, port), ~bit_of(port), __ATOMIC_SEQ_CST);
}

xen_ulong_t ev_selector(unsigned int vcpu)
{
    return shinfo->vcpu_info[vcpu].evtchn_pending_sel;
}

bool ev_selector_has(unsigned int vcpu, uint32_t port)
{
    return ev_selector(vcpu) & ((xen_ulong_t)1 << (port / EV_BITS_PER_WORD));
}

uint8_t ev_upcall_pending(unsigned int vcpu)
{
    return shinfo->vcpu_info[vcpu].evtchn_upcall_pending;
}

void ev_clear_vcpu(unsigned int vcpu)
{
    __atomic_store_n(&shinfo->vcpu_info[vcpu].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&shinfo->vcpu_info[vcpu].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
}

void ev_clear_all(unsigned int vcpu)
{
    for (unsigned int w = 0; w < EV_MAX_PORTS / EV_BITS_PER_WORD; w++)
        __atomic_store_n(&shinfo->evtchn_pending[w], 0, __ATOMIC_SEQ_CST);
    ev_clear_vcpu(vcpu);
}

/* The 2-level upcall as a guest kernel does it (Xen public xen.h, "event channels"). */
void ev_upcall_scan(unsigned int vcpu)
{
    volatile struct vcpu_info *vi = &shinfo->vcpu_info[vcpu];
    xen_ulong_t sel;

    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned int w = (unsigned int)__builtin_ctzl(sel);
        xen_ulong_t bits = shinfo->evtchn_pending[w] & ~shinfo->evtchn_mask[w];

        sel &= sel - 1;
        while (bits) {
            unsigned int b = (unsigned int)__builtin_ctzl(bits);
            uint32_t port = w * EV_BITS_PER_WORD + b;

            bits &= bits - 1;
            ev_clear_pending(port);
            if (port < EV_MAX_PORTS) {
                ev_time[port] = pv_now();
                ev_count[port]++;
            }
        }
    }
}

/* ---- Time ---- */

/* (delta << shift or >> -shift) * mul >> 32, in 32x32 pieces so i386 needs no libgcc. */
static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
    uint64_t lo, hi;

    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    lo = ((delta & 0xffffffffULL) * mul) >> 32;
    hi = (delta >> 32) * mul;
    return hi + lo;
}

uint64_t pv_time_of(const volatile struct vcpu_time_info *t)
{
    uint32_t version;
    uint64_t ns;

    /* The version protocol: odd while the hypervisor writes; re-read if it changed. */
    do {
        version = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        ns = t->system_time + scale_delta(rdtsc() - t->tsc_timestamp, t->tsc_to_system_mul,
                                          t->tsc_shift);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != t->version);
    return ns;
}

uint64_t pv_now(void)
{
    return pv_time_of(&shinfo->vcpu_info[0].time);
}

bool yield_until_count(volatile unsigned int *counter, unsigned int want, uint64_t timeout_ns)
{
    uint64_t deadline = pv_now() + timeout_ns;

    while (*counter < want) {
        if (pv_now() > deadline)
            return false;
        (void)hv_sched_op(SCHEDOP_yield, 0);
    }
    return true;
}

void yield_for(uint64_t ns)
{
    uint64_t end = pv_now() + ns;

    while (pv_now() < end)
        (void)hv_sched_op(SCHEDOP_yield, 0);
}

bool wait_count_change(volatile unsigned int *counter, unsigned int start, uint64_t deadline_ns)
{
    while (*counter == start) {
        if (pv_now() >= deadline_ns)
            return *counter != start;
        cpu_relax();
    }
    return true;
}

void spin_until(uint64_t deadline_ns)
{
    while (pv_now() < deadline_ns)
        cpu_relax();
}

/* ---- x2APIC ---- */

bool x2apic_vector_bit(uint32_t first_msr, unsigned int vector)
{
    return (rdmsr(first_msr + vector / 32) >> (vector % 32)) & 1;
}

void x2apic_enable(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    if (!(base & APIC_BASE_EXTD))
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    wrmsr(X2APIC_SVR, APIC_SVR_ENABLE | 0xff);
}
