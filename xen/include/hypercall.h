/* hypercall.h (hypervisor): the hypercall table and what handlers share. */
#ifndef WISP_HYPERCALL_H
#define WISP_HYPERCALL_H

#include "domain.h"
#include "exit.h"
#include "guest_access.h"

/* One call in progress: who made it, in which mode, and how to reach its memory. */
struct hcall_ctx {
    struct vcpu *v;
    struct domain *d;
    struct guest_paging pg;     /* pointer arguments are guest virtual addresses */
    bool compat;                /* 32-bit caller: 32-bit layouts of xen_ulong_t and handles */
    enum exit_action action;    /* handlers that block, yield or end the domain change it */
    bool continued;             /* hc_continue was called: no result, the call runs again */
};

typedef long (*hcall_fn)(struct hcall_ctx *c, const uint64_t *arg);

/* The table: number, handler. Numbers are Xen's __HYPERVISOR_* (and Wisp's own
 * wisp_control, abi/wisp/control.h); all others are -ENOSYS. */
#define HYPERCALLS(X)                       \
    X(memory_op,   12, do_memory_op)        \
    X(set_timer_op, 15, do_set_timer_op)    \
    X(xen_version, 17, do_xen_version)      \
    X(console_io,  18, do_console_io)       \
    X(grant_table_op, 20, do_grant_table_op) \
    X(vcpu_op,     24, do_vcpu_op)          \
    X(sched_op,    29, do_sched_op)         \
    X(event_channel_op, 32, do_event_channel_op) \
    X(hvm_op,      34, do_hvm_op)           \
    X(wisp_control, __HYPERVISOR_wisp_control, do_wisp_control)

#define X(name, nr, fn) long fn(struct hcall_ctx *c, const uint64_t *arg);
HYPERCALLS(X)
#undef X

static inline int __must_check hc_copy_from(struct hcall_ctx *c, void *dst, uint64_t gva, size_t len)
{
    return copy_from_guest(&c->d->mem, &c->pg, dst, gva, len);
}

static inline int __must_check hc_copy_to(struct hcall_ctx *c, uint64_t gva, const void *src, size_t len)
{
    return copy_to_guest(&c->d->mem, &c->pg, gva, src, len);
}

/*
 * A long call stops part-way so that other vCPUs can run: the guest will
 * execute the call again with argument index set to value (Xen's
 * continuations). Call once per changed argument, then return.
 */
void hc_continue(struct hcall_ctx *c, unsigned index, uint64_t value);

/*
 * The domain a call names: DOMID_SELF or the caller's own id. Another
 * existing domain gives -EPERM (guests hold no privilege yet), none -ESRCH.
 */
struct domain *hc_target_domain(struct hcall_ctx *c, uint64_t domid, long *err);

#endif
