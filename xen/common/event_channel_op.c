/* event_channel_op.c (hypervisor): the event_channel_op hypercall: guest copies and domain ids around evtchn.c. */
#include "env.h"
#include "errno.h"
#include "evtchn.h"
#include "hypercall.h"
#include "mm.h"
#include "xen/event_channel.h"

/*
 * Every argument struct has only fixed-width fields, so 32-bit and 64-bit
 * guests share one layout (checked with gcc -m32 against Xen's headers).
 * As in Xen, a bind whose result cannot be copied out returns -EFAULT and
 * keeps its port: the guest broke its own buffer.
 */

/* evtchn.c's port buckets and FIFO state come from the frame allocator. */
void *evtchn_page_alloc(void)
{
    return page_alloc();
}

void evtchn_page_free(void *page)
{
    page_free(page);
}

/*
 * Host view of the guest RAM page at gfn, for FIFO control blocks and event
 * arrays, or NULL (-EINVAL to the guest). The pointer stays valid until the
 * domain is destroyed: guest RAM is one block that is freed only then, even
 * when the guest unmaps the gfn, so the guest can only hurt itself with it.
 */
static void *guest_ram_page(struct domain *d, uint64_t gfn)
{
    if (gfn > (~0ull >> PAGE_SHIFT))
        return NULL;
    return domain_ram_ptr(d, gfn << PAGE_SHIFT, PAGE_SIZE);
}

/* bind_interdomain may name any existing domain: the offer (an unbound port for us) is the permission. */
static struct domain *remote_domain(struct hcall_ctx *c, domid_t id)
{
    if (id == DOMID_SELF || id == c->d->id)
        return c->d;
    if (id >= DOMID_FIRST_RESERVED)
        return NULL;
    return domain_by_id(id);
}

/* A new port's number into its field of the caller's struct b, written back; or port's error. */
static long give_port(struct hcall_ctx *c, uint64_t gva, void *b, size_t size,
                      evtchn_port_t *field, int port)
{
    if (port < 0)
        return port;
    *field = (evtchn_port_t)port;
    return hc_copy_to(c, gva, b, size) ? -EFAULT : 0;
}

static long op_alloc_unbound(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_alloc_unbound a;
    long err = 0;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (!hc_target_domain(c, a.dom, &err))
        return err;
    return give_port(c, gva, &a, sizeof(a), &a.port,
                     evtchn_alloc_unbound(&c->d->evtchn, a.remote_dom));
}

static long op_bind_interdomain(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_bind_interdomain b;
    struct domain *rd;

    if (hc_copy_from(c, &b, gva, sizeof(b)))
        return -EFAULT;
    if (!(rd = remote_domain(c, b.remote_dom)))
        return -ESRCH;
    return give_port(c, gva, &b, sizeof(b), &b.local_port,
                     evtchn_bind_interdomain(&c->d->evtchn, &rd->evtchn, b.remote_port));
}

static long op_bind_virq(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_bind_virq b;

    if (hc_copy_from(c, &b, gva, sizeof(b)))
        return -EFAULT;
    return give_port(c, gva, &b, sizeof(b), &b.port, evtchn_bind_virq(&c->d->evtchn, b.virq, b.vcpu));
}

static long op_bind_ipi(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_bind_ipi b;

    if (hc_copy_from(c, &b, gva, sizeof(b)))
        return -EFAULT;
    return give_port(c, gva, &b, sizeof(b), &b.port, evtchn_bind_ipi(&c->d->evtchn, b.vcpu));
}

/* close, send and unmask take only { port }. */
static long op_port(struct hcall_ctx *c, uint64_t gva, int (*op)(struct evtchn_table *, unsigned))
{
    evtchn_port_t port;

    if (hc_copy_from(c, &port, gva, sizeof(port)))
        return -EFAULT;
    return op(&c->d->evtchn, port);
}

static long op_status(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_status s;
    struct domain *d;
    long err = 0;
    int rc;

    if (hc_copy_from(c, &s, gva, sizeof(s)))
        return -EFAULT;
    d = hc_target_domain(c, s.dom, &err);
    if (!d)
        return err;
    rc = evtchn_status(&d->evtchn, s.port, &s);
    if (rc)
        return rc;
    return hc_copy_to(c, gva, &s, sizeof(s)) ? -EFAULT : 0;
}

static long op_bind_vcpu(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_bind_vcpu b;

    if (hc_copy_from(c, &b, gva, sizeof(b)))
        return -EFAULT;
    return evtchn_bind_vcpu(&c->d->evtchn, b.port, b.vcpu);
}

/* A batch a call; the rest as EVTCHNOP_reset_cont (as Xen), so the guest's call is preempted. */
static long op_reset(struct hcall_ctx *c, uint64_t gva, bool resuming)
{
    struct evtchn_reset r;
    long err = 0;
    int rc;

    if (hc_copy_from(c, &r, gva, sizeof(r)))
        return -EFAULT;
    if (!hc_target_domain(c, r.dom, &err))
        return err;
    rc = evtchn_reset(&c->d->evtchn, resuming, EVTCHN_CLOSE_BATCH);
    if (rc > 0) {
        hc_continue(c, 0, EVTCHNOP_reset_cont);
        return 0;
    }
    return rc;
}

/* As Xen, link_bits is written back only when the call succeeds. */
static long op_init_control(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_init_control ic;
    int rc;

    if (hc_copy_from(c, &ic, gva, sizeof(ic)))
        return -EFAULT;
    rc = evtchn_fifo_init_control(&c->d->evtchn, ic.vcpu, ic.offset,
                                  guest_ram_page(c->d, ic.control_gfn));
    if (rc)
        return rc;
    ic.link_bits = EVTCHN_FIFO_LINK_BITS;
    return hc_copy_to(c, gva, &ic, sizeof(ic)) ? -EFAULT : 0;
}

static long op_expand_array(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_expand_array ea;

    if (hc_copy_from(c, &ea, gva, sizeof(ea)))
        return -EFAULT;
    return evtchn_fifo_expand_array(&c->d->evtchn, guest_ram_page(c->d, ea.array_gfn));
}

static long op_set_priority(struct hcall_ctx *c, uint64_t gva)
{
    struct evtchn_set_priority sp;

    if (hc_copy_from(c, &sp, gva, sizeof(sp)))
        return -EFAULT;
    return evtchn_set_priority(&c->d->evtchn, sp.port, sp.priority);
}

long do_event_channel_op(struct hcall_ctx *c, const uint64_t *arg)
{
    uint64_t gva = arg[1];

    switch (arg[0]) {
    case EVTCHNOP_bind_interdomain:
        return op_bind_interdomain(c, gva);
    case EVTCHNOP_bind_virq:
        return op_bind_virq(c, gva);
    case EVTCHNOP_close:
        return op_port(c, gva, evtchn_close);
    case EVTCHNOP_send: {
        long rc = op_port(c, gva, evtchn_send);

        c->d->events_sent += rc == 0;
        return rc;
    }
    case EVTCHNOP_status:
        return op_status(c, gva);
    case EVTCHNOP_alloc_unbound:
        return op_alloc_unbound(c, gva);
    case EVTCHNOP_bind_ipi:
        return op_bind_ipi(c, gva);
    case EVTCHNOP_bind_vcpu:
        return op_bind_vcpu(c, gva);
    case EVTCHNOP_unmask:
        return op_port(c, gva, evtchn_unmask);
    case EVTCHNOP_reset:
        return op_reset(c, gva, false);
    case EVTCHNOP_reset_cont:
        return op_reset(c, gva, true);
    case EVTCHNOP_init_control:
        return op_init_control(c, gva);
    case EVTCHNOP_expand_array:
        return op_expand_array(c, gva);
    case EVTCHNOP_set_priority:
        return op_set_priority(c, gva);
    /* bind_pirq: no physical IRQs for PVH guests (XENFEAT_hvm_pirqs is 0). */
    default:
        return -ENOSYS;
    }
}
