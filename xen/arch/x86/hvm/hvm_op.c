/* hvm_op.c (hypervisor): the hvm_op hypercall: HVM parameters and the per-vCPU upcall vector. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "xen/hvm_op.h"
#include "xen/hvm_params.h"

/* Parameters a guest may set on itself; the rest are the builder's to set. */
static bool guest_settable(uint32_t index)
{
    return index == HVM_PARAM_CALLBACK_IRQ;
}

static long param_op(struct hcall_ctx *c, uint64_t gva, bool set)
{
    struct xen_hvm_param p;
    struct domain *d;
    long err = 0;

    if (hc_copy_from(c, &p, gva, sizeof(p)))
        return -EFAULT;
    if (!(d = hc_target_domain(c, p.domid, &err)))
        return err;
    if (p.index >= HVM_NR_PARAMS)
        return -EINVAL;
    if (set) {
        if (!guest_settable(p.index))
            return -EPERM;
        d->hvm_params[p.index] = p.value;
        /* Where Xen latches the guest's shared_info layout: its mode now. */
        if (p.index == HVM_PARAM_CALLBACK_IRQ && d == c->d)
            evtchn_set_compat(&d->evtchn, c->compat);
        return 0;
    }
    p.value = d->hvm_params[p.index];
    return hc_copy_to(c, gva, &p, sizeof(p)) ? -EFAULT : 0;
}

#define FIRST_UPCALL_VECTOR 0x10        /* 0-15 are exceptions or reserved */

static long set_upcall_vector(struct hcall_ctx *c, uint64_t gva)
{
    struct xen_hvm_evtchn_upcall_vector u;

    if (hc_copy_from(c, &u, gva, sizeof(u)))
        return -EFAULT;
    if (u.vector < FIRST_UPCALL_VECTOR)
        return -EINVAL;
    if (u.vcpu >= c->d->nr_vcpus)
        return -ENOENT;
    c->d->vcpus[u.vcpu].upcall_vector = u.vector;
    return 0;
}

long do_hvm_op(struct hcall_ctx *c, const uint64_t *arg)
{
    switch (arg[0]) {
    case HVMOP_set_evtchn_upcall_vector:
        return set_upcall_vector(c, arg[1]);
    case HVMOP_set_param:
        return param_op(c, arg[1], true);
    case HVMOP_get_param:
        return param_op(c, arg[1], false);
    case HVMOP_pagetable_dying:     /* a hint we do not need; success would make Linux send it always */
    default:
        return -ENOSYS;
    }
}
