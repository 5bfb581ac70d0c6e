/* sched_op.c (hypervisor): the sched_op hypercall: yield, block, poll and shutdown. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "irq.h"
#include "sched.h"
#include "time.h"
#include "xen/sched.h"

struct compat_sched_poll { uint32_t ports; uint32_t nr_ports; uint64_t timeout; } __attribute__((packed));
_Static_assert(sizeof(struct compat_sched_poll) == 16, "compat sched_poll");

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

static int read_poll(struct hcall_ctx *c, uint64_t gva, uint64_t *ports, uint32_t *nr,
                     uint64_t *timeout)
{
    if (c->compat) {
        struct compat_sched_poll p;

        if (hc_copy_from(c, &p, gva, sizeof(p)))
            return -EFAULT;
        *ports = p.ports, *nr = p.nr_ports, *timeout = p.timeout;
    } else {
        struct sched_poll p;

        if (hc_copy_from(c, &p, gva, sizeof(p)))
            return -EFAULT;
        *ports = (uintptr_t)p.ports.p, *nr = p.nr_ports, *timeout = p.timeout;
    }
    return 0;
}

/* Blocks until one of the ports is pending (masked or not) or the absolute timeout passes. */
static long poll(struct hcall_ctx *c, uint64_t gva)
{
    struct vcpu *v = c->v;
    uint64_t ports, timeout;
    uint32_t nr;

    if (read_poll(c, gva, &ports, &nr, &timeout))
        return -EFAULT;
    if (nr > POLL_PORTS_MAX)
        return -EINVAL;
    for (uint32_t i = 0; i < nr; i++) {
        uint32_t port;

        if (hc_copy_from(c, &port, ports + i * 4, 4))
            return -EFAULT;
        if (port >= evtchn_port_limit(&c->d->evtchn))
            return -EINVAL;
        v->poll_ports[i] = port;
        if (evtchn_is_pending(&c->d->evtchn, port))
            return 0;
    }
    if (timeout && timeout <= now_ns())
        return 0;
    v->nr_poll_ports = nr;
    v->timers.poll_timeout = timeout;
    v->poll_timed_out = false;
    vcpu_block(v, WAIT_POLL);
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
        if (!vcpu_upcall_pending(c->v)) {
            vcpu_block(c->v, WAIT_EVENT);
            c->action = EXIT_ACTION_RESCHEDULE;
        }
        return 0;
    case SCHEDOP_poll:
        return poll(c, arg[1]);
    case SCHEDOP_shutdown:
        return shutdown(c, arg[1]);
    case SCHEDOP_remote_shutdown:   /* privileged */
        return -EPERM;
    default:
        return -ENOSYS;
    }
}
