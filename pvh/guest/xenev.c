/* xenev.c (guest): shared_info, event-channel ports, waiting and pvclock time for runtime programs that use rings (xenstored, the xenstore client). */
#include "xenev.h"
#include "xen/hvm_op.h"
#include "xen/memory.h"
#include "xen/sched.h"

/* This page of RAM is replaced by the shared_info frame (identity-mapped: VA = PA). */
static uint8_t shared_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static volatile struct shared_info *shared;

#define BITS_PER_WORD (sizeof(xen_ulong_t) * 8)

long xenev_init(void)
{
    struct xen_add_to_physmap a = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (uintptr_t)shared_page / PAGE_SIZE,
    };
    long rc = hv_memory_op(XENMEM_add_to_physmap, HV_PTR(&a));

    if (rc == 0)
        shared = (volatile struct shared_info *)shared_page;
    return rc;
}

/* (delta << shift) * mul >> 32, the pvclock scaling (Xen's vcpu_time_info). */
static uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    delta = shift >= 0 ? delta << shift : delta >> -shift;
    return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t xenev_now(void)
{
    const volatile struct vcpu_time_info *t = &shared->vcpu_info[0].time;
    uint32_t version;
    uint64_t ns;

    do {    /* odd version: the hypervisor is mid-update */
        version = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        ns = t->system_time + pvclock_scale(rdtsc() - t->tsc_timestamp, t->tsc_to_system_mul,
                                            t->tsc_shift);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != t->version);
    return ns;
}

long hvm_param_get(uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    long rc = hv_hvm_op(HVMOP_get_param, HV_PTR(&p));

    *value = rc ? 0 : p.value;
    return rc;
}

long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain b = { .remote_dom = remote, .remote_port = remote_port };
    long rc = hv_event_channel_op(EVTCHNOP_bind_interdomain, HV_PTR(&b));

    *port = rc ? 0 : b.local_port;
    return rc;
}

long evtchn_bind_virq(uint32_t virq, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = 0 };
    long rc = hv_event_channel_op(EVTCHNOP_bind_virq, HV_PTR(&b));

    *port = rc ? 0 : b.port;
    return rc;
}

long evtchn_close(evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };

    return hv_event_channel_op(EVTCHNOP_close, HV_PTR(&c));
}

long evtchn_send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };

    return hv_event_channel_op(EVTCHNOP_send, HV_PTR(&s));
}

bool evtchn_take(evtchn_port_t port)
{
    volatile xen_ulong_t *word = &shared->evtchn_pending[port / BITS_PER_WORD];
    xen_ulong_t bit = (xen_ulong_t)1 << (port % BITS_PER_WORD);

    if (port >= sizeof(shared->evtchn_pending) * 8)
        return false;
    return __atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST) & bit;
}

void evtchn_wait_any(void)
{
    volatile struct vcpu_info *vi = &shared->vcpu_info[0];

    /* Block first if nothing came since the last look, then re-arm the wake-up. */
    if (!__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE))
        (void)hv_sched_op(SCHEDOP_block, 0);
    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
}

long evtchn_poll(evtchn_port_t port, uint64_t deadline_ns)
{
    struct sched_poll p = { .nr_ports = 1, .timeout = deadline_ns };

    set_xen_guest_handle(p.ports, &port);
    return hv_sched_op(SCHEDOP_poll, HV_PTR(&p));
}
