/* vcpu_op.c (hypervisor): the vcpu_op hypercall: starting and stopping vCPUs, vcpu_info and time areas, timers, NMIs. */
#include "env.h"
#include "errno.h"
#include "exit.h"
#include "hypercall.h"
#include "sched.h"
#include "time.h"
#include "vcpu_context.h"
#include "vcpu_time.h"
#include "vtimer.h"
#include "xen/vcpu.h"
#include "xen/xen.h"

static long register_vcpu_info(struct hcall_ctx *c, struct vcpu *target, uint64_t gva)
{
    struct vcpu_register_vcpu_info r;
    uint8_t current[VCPU_INFO_SIZE] = { 0 };
    const uint8_t *old;
    uint64_t gpa;

    if (hc_copy_from(c, &r, gva, sizeof(r)))
        return -EFAULT;
    if (target->vcpu_info_gpa)          /* once per vCPU, as in Xen */
        return -EINVAL;
    /* Aligned, so the 64-bit selector word can be updated atomically. */
    if (r.offset > PAGE_SIZE - VCPU_INFO_SIZE || (r.offset & 7) || r.mfn >= (1ull << 36))
        return -EINVAL;
    gpa = (r.mfn << PAGE_SHIFT) + r.offset;
    if ((old = vcpu_info_of(target)))      /* its shared_info slot, if it has one */
        memcpy(current, old, VCPU_INFO_SIZE);
    /* The new home must be writable guest RAM; it takes over the current contents. */
    if (copy_to_guest_phys(&c->d->mem, gpa, current, sizeof(current)))
        return -EINVAL;
    target->vcpu_info_gpa = gpa;
    vcpu_publish_time(target);
    return 0;
}

/* VCPUOP_initialise: a start state for a vCPU without one; VCPUOP_up then runs it. */
static long initialise(struct hcall_ctx *c, struct vcpu *target, uint64_t gva)
{
    struct vcpu_hvm_context in;
    struct vcpu_context start;
    int rc;

    if (hc_copy_from(c, &in, gva, sizeof(in)))
        return -EFAULT;
    if (target->initialised)
        return -EEXIST;
    rc = vcpu_context_from_hvm(&start, &in, cpuid_cr4_valid(target));
    if (rc)
        return rc;
    /* Page tables in the guest's RAM; the same bound keeps CR3 under the address width. */
    if (!domain_ram_ptr(c->d, start.cr3 & ~(PAGE_SIZE - 1), PAGE_SIZE))
        return -EINVAL;
    if (!vcpu_set_start(target, &start, "this CPU cannot hold the VCPUOP_initialise state"))
        return -EINVAL;
    target->initialised = true;
    return 0;
}

/* Starts a stopped vCPU where its state says; a running one stays as it is. */
static long up(struct vcpu *target)
{
    if (!target->initialised)
        return -EINVAL;
    if (target->state == VCPU_DOWN) {
        target->waiting_for_sipi = false;
        target->state = VCPU_RUNNABLE;
        vcpu_runstate_enter(target, RUNSTATE_runnable);
        vcpu_kick(target);
    }
    return 0;
}

static long down(struct vcpu *target)
{
    if (target->state != VCPU_DOWN)
        vcpu_stop(target, "went down (VCPUOP_down)");
    return 0;
}

static long set_singleshot(struct hcall_ctx *c, struct vcpu *target, uint64_t gva)
{
    struct vcpu_set_singleshot_timer t;

    if (hc_copy_from(c, &t, gva, sizeof(t)))
        return -EFAULT;
    if ((t.flags & VCPU_SSHOTTMR_future) && t.timeout_abs_ns < now_ns())
        return -ETIME;
    /* A deadline already past fires at once: Linux relies on it. */
    target->timers.singleshot = t.timeout_abs_ns ? t.timeout_abs_ns : 1;
    vcpu_kick(target);
    return 0;
}

static long set_periodic(struct hcall_ctx *c, struct vcpu *target, uint64_t gva)
{
    struct vcpu_set_periodic_timer t;

    if (hc_copy_from(c, &t, gva, sizeof(t)))
        return -EFAULT;
    /* Xen's bounds (vtimer.h): UINT64_MAX would wrap now + period into the past. */
    if (!vtimer_periodic_ok(t.period_ns))
        return -EINVAL;
    target->timers.periodic_period = t.period_ns;
    target->timers.periodic_next = vtimer_add(now_ns(), t.period_ns);
    vcpu_kick(target);
    return 0;
}

static long get_runstate(struct hcall_ctx *c, struct vcpu *target, uint64_t gva)
{
    uint8_t buf[RUNSTATE_SIZE_64];
    size_t len = vcpu_runstate_pack(target, c->compat, buf);

    return hc_copy_to(c, gva, buf, len) ? -EFAULT : 0;
}

/*
 * set_timer_op: the one-shot timer in its older form; 0 stops it, and a
 * wrapped or far timeout fires in 100 ms, as in Xen (vtimer.h). 32-bit
 * callers pass lo, hi.
 */
long do_set_timer_op(struct hcall_ctx *c, const uint64_t *arg)
{
    uint64_t timeout = c->compat ? (arg[0] & 0xffffffffu) | (arg[1] << 32) : arg[0];

    c->v->timers.singleshot = vtimer_set_timer_op_deadline(timeout, now_ns());
    vcpu_kick(c->v);
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
    case VCPUOP_initialise:
        return initialise(c, target, arg[2]);
    case VCPUOP_up:
        return up(target);
    case VCPUOP_down:
        return down(target);
    case VCPUOP_is_up:
        return target->state != VCPU_DOWN;
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(c, target, arg[2]);
    case VCPUOP_set_singleshot_timer:
        return set_singleshot(c, target, arg[2]);
    case VCPUOP_stop_singleshot_timer:
        target->timers.singleshot = 0;
        return 0;
    case VCPUOP_set_periodic_timer:
        return set_periodic(c, target, arg[2]);
    case VCPUOP_stop_periodic_timer:
        target->timers.periodic_next = 0;
        target->timers.periodic_period = 0;
        return 0;
    case VCPUOP_register_runstate_memory_area:
        return vcpu_register_runstate_area(c, target, arg[2]);
    case VCPUOP_register_vcpu_time_memory_area:
        return vcpu_register_time_area(c, target, arg[2]);
    case VCPUOP_get_runstate_info:
        return get_runstate(c, target, arg[2]);
    case VCPUOP_send_nmi:
        target->nmi_pending = true;
        vcpu_kick(target);
        return 0;
    default:
        return -ENOSYS;
    }
}
