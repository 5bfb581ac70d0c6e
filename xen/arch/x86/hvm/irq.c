/* irq.c (hypervisor): what interrupt a vCPU gets next: event-channel upcalls, its LAPIC, NMIs. */
#include "env.h"
#include "domain.h"
#include "irq.h"
#include "time.h"
#include "xen/hvm_params.h"

#define VCPU_INFO_UPCALL_PENDING 0      /* byte offset in vcpu_info */

/*
 * HVM_PARAM_CALLBACK_IRQ of type "vector" (bits 63:56 = 2, vector in 7:0,
 * Xen's hvm/params.h): one vector for every vCPU, raised while the vCPU's
 * evtchn_upcall_pending is set, outside the LAPIC (no EOI).
 */
#define CALLBACK_VIA_TYPE_SHIFT 56
#define CALLBACK_VIA_TYPE_VECTOR 2ull

static int callback_vector(const struct domain *d)
{
    uint64_t via = d->hvm_params[HVM_PARAM_CALLBACK_IRQ];

    if (via >> CALLBACK_VIA_TYPE_SHIFT != CALLBACK_VIA_TYPE_VECTOR)
        return -1;
    return (uint8_t)via;
}

bool vcpu_upcall_pending(struct vcpu *v)
{
    const uint8_t *info = vcpu_info_of(v);

    return info && __atomic_load_n(&info[VCPU_INFO_UPCALL_PENDING], __ATOMIC_ACQUIRE);
}

void vcpu_event_kick(struct vcpu *v)
{
    /* Per-vCPU upcall vectors go through the LAPIC like any edge interrupt. */
    if (v->upcall_vector && vcpu_upcall_pending(v))
        vlapic_accept_irq(&v->lapic, v->upcall_vector);
}

/* The interrupt vCPU v should take next, or -1; *via_lapic says whether to ack it there. */
static int next_vector(struct vcpu *v, bool *via_lapic)
{
    int vec = callback_vector(v->dom);

    *via_lapic = false;
    if (vec >= 0 && !v->upcall_vector && vcpu_upcall_pending(v))
        return vec;
    *via_lapic = true;
    return vlapic_pending_vector(&v->lapic);
}

bool vcpu_interrupt_pending(struct vcpu *v)
{
    bool via_lapic;

    return v->nmi_pending || next_vector(v, &via_lapic) >= 0;
}

void vcpu_deliver_interrupts(struct vcpu *v)
{
    bool via_lapic;
    int vec;

    if (v->nmi_pending && hvm->can_inject(v, true)) {
        v->nmi_pending = false;
        hvm->inject_nmi(v);
    }
    vec = next_vector(v, &via_lapic);
    if (vec < 0) {
        hvm->interrupt_window(v, false);
        return;
    }
    if (!hvm->can_inject(v, false)) {
        hvm->interrupt_window(v, true);     /* exit as soon as the guest can take it */
        return;
    }
    hvm->inject_interrupt(v, (uint8_t)vec);
    if (via_lapic)
        vlapic_ack(&v->lapic, (uint8_t)vec);
    /*
     * A LAPIC vector still due after the upcall (or above the one just acked) goes
     * in as soon as the guest can take it, not at whatever exit comes next.
     */
    hvm->interrupt_window(v, vlapic_pending_vector(&v->lapic) >= 0);
}
