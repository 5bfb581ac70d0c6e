/* hypercall.c (hypervisor): decoding a hypercall and dispatching it through the table. */
#include "env.h"
#include "errno.h"
#include "hypercall.h"
#include "hypercall_abi.h"
#include "printk.h"
#include "xen/xen.h"

#define NR_HYPERCALLS 64

static const hcall_fn hypercall_table[NR_HYPERCALLS] = {
#define X(name, nr, fn) [nr] = fn,
    HYPERCALLS(X)
#undef X
};

struct domain *hc_target_domain(struct hcall_ctx *c, uint64_t domid, long *err)
{
    if (domid == DOMID_SELF || domid == c->d->id)
        return c->d;
    *err = domain_by_id((unsigned)domid) && domid < DOMID_FIRST_RESERVED ? -EPERM : -ESRCH;
    return NULL;
}

void hc_continue(struct hcall_ctx *c, unsigned index, uint64_t value)
{
    hcall_set_arg(&c->v->regs, !c->compat, index, value);
    c->continued = true;
}

enum exit_action hypercall_dispatch(struct vcpu *v)
{
    struct vcpu_ctrl_regs cr;
    struct hcall h;
    long ret;

    hvm->get_ctrl_regs(v, &cr);
    bool long_mode = cr.mode_bits == 64;
    struct hcall_ctx c = {
        .v = v, .d = v->dom, .compat = !long_mode, .action = EXIT_ACTION_RESUME,
        .pg = guest_paging_from_regs(cr.cr0, cr.cr3, cr.cr4, cr.efer),
    };

    hcall_decode(&v->regs, long_mode, &h);
    if (cr.cpl != 0)                    /* only the guest kernel may call (as Xen does) */
        ret = -EPERM;
    else if (h.nr < NR_HYPERCALLS && hypercall_table[h.nr])
        ret = hypercall_table[h.nr](&c, h.arg);
    else
        ret = -ENOSYS;
    gprintk(v->dom, LOG_DEBUG, "d%u v%u: hypercall %lu(0x%lx, 0x%lx, 0x%lx) = %ld", v->dom->id,
            v->id, h.nr, h.arg[0], h.arg[1], h.arg[2], ret);
    if (c.continued)
        v->regs.rip -= HCALL_INSN_LEN;  /* back onto the call; RAX still holds its number */
    else
        hcall_set_result(&v->regs, long_mode, ret);
    return c.action;
}
