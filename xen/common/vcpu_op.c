/* vcpu_op.c (hypervisor): the vcpu_op hypercall: vCPU state queries and the vcpu_info location. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "xen/vcpu.h"
#include "xen/xen.h"

#define VCPU_INFO_SIZE 64

static long register_vcpu_info(struct hcall_ctx *c, struct vcpu *target, uint64_t gva)
{
    struct vcpu_register_vcpu_info r;
    uint8_t current[VCPU_INFO_SIZE] = { 0 };
    uint64_t gpa;

    if (hc_copy_from(c, &r, gva, sizeof(r)))
        return -EFAULT;
    if (target->vcpu_info_gpa)          /* once per vCPU, as in Xen */
        return -EINVAL;
    if (r.offset > PAGE_SIZE - VCPU_INFO_SIZE || r.mfn >= (1ull << 36))
        return -EINVAL;
    gpa = (r.mfn << PAGE_SHIFT) + r.offset;
    if (target->id < XEN_LEGACY_MAX_VCPUS)
        memcpy(current, (uint8_t *)c->d->shared_info + target->id * VCPU_INFO_SIZE,
               VCPU_INFO_SIZE);
    /* The new home must be writable guest RAM; it takes over the current contents. */
    if (copy_to_guest_phys(&c->d->mem, gpa, current, sizeof(current)))
        return -EINVAL;
    target->vcpu_info_gpa = gpa;
    return 0;
}

long do_vcpu_op(struct hcall_ctx *c, const uint64_t *arg)
{
    uint64_t vcpuid = c->compat ? (uint32_t)arg[1] : arg[1];
    struct vcpu *target;

    if (vcpuid >= c->d->nr_vcpus)
        return -ENOENT;
    target = &c->d->vcpus[vcpuid];
    switch (arg[0]) {
    case VCPUOP_is_up:
        return target->state != VCPU_DOWN;
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(c, target, arg[2]);
    default:
        return -ENOSYS;
    }
}
