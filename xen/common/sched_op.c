/* sched_op.c (hypervisor): the sched_op hypercall: yield, block and shutdown. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "xen/sched.h"

static long shutdown(struct hcall_ctx *c, uint64_t gva)
{
    struct sched_shutdown s;

    if (hc_copy_from(c, &s, gva, sizeof(s)))
        return -EFAULT;
    /* Suspend needs a tool stack to save the domain; soft reset needs kexec support. */
    if (s.reason != SHUTDOWN_poweroff && s.reason != SHUTDOWN_reboot &&
        s.reason != SHUTDOWN_crash && s.reason != SHUTDOWN_watchdog)
        return -EINVAL;
    domain_shutdown(c->d, (enum shutdown_reason)s.reason);
    c->action = EXIT_ACTION_RESCHEDULE;
    return 0;
}

long do_sched_op(struct hcall_ctx *c, const uint64_t *arg)
{
    switch (arg[0]) {
    case SCHEDOP_yield:
        c->action = EXIT_ACTION_RESCHEDULE;
        return 0;
    case SCHEDOP_block:
        c->v->state = VCPU_BLOCKED;
        c->action = EXIT_ACTION_RESCHEDULE;
        return 0;
    case SCHEDOP_shutdown:
        return shutdown(c, arg[1]);
    case SCHEDOP_remote_shutdown:   /* privileged */
        return -EPERM;
    default:
        return -ENOSYS;
    }
}
