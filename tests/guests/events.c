/* events.c (guest; built as events64 and events32): event channels, upcall delivery, pvclock and vCPU timers, one verdict line per check. */
#include "evlib.h"
#include "xen/errno.h"
#include "xen/hvm_op.h"
#include "xen/hvm_params.h"
#include "xen/sched.h"
#include "xen/vcpu.h"

#if defined(__x86_64__)
#define VARIANT "events64"
#else
#define VARIANT "events32"
#endif

/* HVM_PARAM_CALLBACK_IRQ of type vector (Xen hvm/params.h): one vector for every vCPU. */
#define CALLBACK_VECTOR 0xf3
/* HVMOP_set_evtchn_upcall_vector: a per-vCPU vector through the LAPIC. */
#define LAPIC_UPCALL_VECTOR 0xe5
#define ABSENT_DOMID 1000
/* 2020-01-01 and 2100-01-01 in seconds since 1970: a wall clock outside is not one. */
#define WALLCLOCK_MIN 1577836800ULL
#define WALLCLOCK_MAX 4102444800ULL
/* How late a timer may be: the emulators are slow and TCG time is coarse. */
#define LATE_OK_NS (500 * NS_PER_MS)
#define STORM_TIMERS 1000

static unsigned int nr_vcpus;
static domid_t self_domid;
static uint32_t console_port;

static volatile unsigned int callback_upcalls, lapic_upcalls;

static unsigned long hostile[8];
static unsigned int nr_hostile;

/* ---------- helpers ---------- */

static void init_hostile_pointers(void)
{
    hostile[nr_hostile++] = 0xfffff000UL;       /* no RAM behind it */
#ifdef __x86_64__
    paging_unmap_null_page();
    hostile[nr_hostile++] = 0;                  /* NULL: page 0 unmapped */
    hostile[nr_hostile++] = alias_guard_va();   /* not-present page table entry */
    hostile[nr_hostile++] = 0xfffffffffffff000UL;
    hostile[nr_hostile++] = 0x8000000000000000UL;  /* non-canonical */
#endif
}

static unsigned int count_vcpus(void)
{
    unsigned int n = 1;

    /* VCPUOP_is_up: 0 or 1 for a vCPU that exists, -ENOENT past the last one. */
    while (n < 64 && hv_vcpu_op(VCPUOP_is_up, n, 0) >= 0)
        n++;
    return n;
}

static long set_param(uint32_t index, uint64_t value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index, .value = value };

    return hv_hvm_op(HVMOP_set_param, HV_PTR(&p));
}

static uint64_t get_param(uint32_t index)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };

    return hv_hvm_op(HVMOP_get_param, HV_PTR(&p)) ? ~0ULL : p.value;
}

/* A VM exit that changes nothing: the hypervisor gets a chance to deliver. */
static void vm_exit(void)
{
    struct cpuid_regs r;

    cpuid(0, 0, &r);
}

static bool status_is(uint32_t port, uint32_t status, uint32_t vcpu)
{
    struct evtchn_status st;

    return ev_status(port, &st) == 0 && st.status == status && st.vcpu == vcpu;
}

/* ---------- shared_info layout ---------- */

/*
 * The raw offsets of Xen's public xen.h, so a layout mistake cannot hide
 * behind our own struct: 64-bit pending at 0x800 (64 x u64), mask at 0xA00,
 * selector a u64 at vcpu_info+8, wallclock at 0xC00; 32-bit ("compat")
 * pending at 0x800 (32 x u32), mask at 0x880, selector a u32 at
 * vcpu_info+4, wallclock at 0x900.
 */
#ifdef __x86_64__
#define RAW_WORD uint64_t
#define RAW_MASK_OFFSET 0xA00
#define RAW_SEL_OFFSET 8
#define RAW_WC_OFFSET 0xC00
#else
#define RAW_WORD uint32_t
#define RAW_MASK_OFFSET 0x880
#define RAW_SEL_OFFSET 4
#define RAW_WC_OFFSET 0x900
#endif
#define RAW_PENDING_OFFSET 0x800

static volatile RAW_WORD *raw_word(unsigned int offset)
{
    return (volatile RAW_WORD *)((volatile uint8_t *)shinfo + offset);
}

static void check_layout(uint32_t a, uint32_t b)
{
    unsigned int bits = sizeof(RAW_WORD) * 8;
    RAW_WORD bit = (RAW_WORD)1 << (a % bits);
    long rc;

    ev_clear_all(0);
    rc = ev_send(b);
    if (rc || !(*raw_word(RAW_PENDING_OFFSET + (a / bits) * sizeof(RAW_WORD)) & bit) ||
        *raw_word(RAW_SEL_OFFSET) != (RAW_WORD)1 << (a / bits)) {
        check_fail("evtchn_shared_info_layout", "send rc %ld; pending word %x, selector %lx",
                   rc, (unsigned int)*raw_word(RAW_PENDING_OFFSET + (a / bits) * sizeof(RAW_WORD)),
                   (unsigned long)*raw_word(RAW_SEL_OFFSET));
        return;
    }
    ev_clear_all(0);
    *raw_word(RAW_MASK_OFFSET + (a / bits) * sizeof(RAW_WORD)) |= bit;
    rc = ev_send(b);
    check("evtchn_shared_info_layout", rc == 0 && ev_pending(a) && *raw_word(RAW_SEL_OFFSET) == 0,
          "a mask bit at the layout's mask offset %x did not mask (selector %lx)",
          RAW_MASK_OFFSET, (unsigned long)*raw_word(RAW_SEL_OFFSET));
    *raw_word(RAW_MASK_OFFSET + (a / bits) * sizeof(RAW_WORD)) &= ~bit;
    ev_clear_all(0);
}

/* ---------- allocation, loopback, send, mask ---------- */

static bool check_alloc_and_bind(uint32_t *pa, uint32_t *pb)
{
    struct evtchn_status sa, sb;
    uint32_t a, b, c, d;
    long rc;

    rc = ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &a);
    if (!check("evtchn_alloc_unbound", rc == 0 && a > 0 && a < EV_MAX_PORTS, "rc %ld port %u", rc, a))
        return false;
    rc = ev_status(a, &sa);
    self_domid = sa.u.unbound.dom;
    check("evtchn_status_unbound",
          rc == 0 && sa.status == EVTCHNSTAT_unbound && sa.vcpu == 0 && self_domid > 0 &&
              self_domid < DOMID_FIRST_RESERVED,
          "rc %ld status %u vcpu %u dom %u", rc, sa.status, sa.vcpu, sa.u.unbound.dom);

    rc = ev_bind_interdomain(DOMID_SELF, a, &b);
    long ra = ev_status(a, &sa), rb = ev_status(b, &sb);

    if (!check("evtchn_bind_interdomain_loopback",
               rc == 0 && b != a && b > 0 && ra == 0 && rb == 0 &&
                   sa.status == EVTCHNSTAT_interdomain && sa.u.interdomain.port == b &&
                   sa.u.interdomain.dom == self_domid && sb.status == EVTCHNSTAT_interdomain &&
                   sb.u.interdomain.port == a && sb.u.interdomain.dom == self_domid,
               "rc %ld port %u; status a %u -> %u:%u, b %u -> %u:%u", rc, b, sa.status,
               sa.u.interdomain.dom, sa.u.interdomain.port, sb.status, sb.u.interdomain.dom,
               sb.u.interdomain.port))
        return false;
    /* Xen raises the new local port once: sends to the unbound end were dropped. */
    check("evtchn_bind_raises_local_port", ev_pending(b), "port %u not pending after the bind", b);

    /* Our own numeric domid works as well as DOMID_SELF. */
    rc = ev_alloc_unbound(DOMID_SELF, self_domid, &c);
    long rc2 = rc ? rc : ev_bind_interdomain(self_domid, c, &d);

    check("evtchn_bind_interdomain_by_domid", rc == 0 && rc2 == 0 && d != c, "rc %ld, %ld", rc, rc2);
    if (!rc2)
        (void)ev_close(d);
    (void)ev_close(c);

    /* Only an unbound port offered to us can be bound. */
    long again = ev_bind_interdomain(DOMID_SELF, a, &c);
    uint32_t other;
    long offer = ev_alloc_unbound(DOMID_SELF, 0, &other);     /* offered to domain 0, not us */
    long foreign = offer ? offer : ev_bind_interdomain(DOMID_SELF, other, &c);
    long range = ev_bind_interdomain(DOMID_SELF, EV_MAX_PORTS, &c);

    check("evtchn_bind_interdomain_bad_port",
          again == -XEN_EINVAL && foreign == -XEN_EINVAL && range == -XEN_EINVAL,
          "bound port %ld, port offered to dom0 %ld, port 1024 %ld (want %d)", again, foreign,
          range, -XEN_EINVAL);
    if (!offer)
        (void)ev_close(other);
    rc = ev_bind_interdomain(ABSENT_DOMID, a, &c);
    check("evtchn_bind_interdomain_absent_domain", rc == -XEN_ESRCH, "rc %ld, want %d", rc,
          -XEN_ESRCH);
    *pa = a;
    *pb = b;
    return true;
}

static void check_send_and_mask(uint32_t a, uint32_t b)
{
    long rc;

    ev_clear_all(0);
    rc = ev_send(b);
    check("evtchn_send_sets_pending", rc == 0 && ev_pending(a) && !ev_pending(b),
          "rc %ld; pending a %d b %d", rc, ev_pending(a), ev_pending(b));
    check("evtchn_send_sets_selector_and_upcall",
          ev_selector_has(0, a) && ev_upcall_pending(0) == 1,
          "selector %lx upcall_pending %u", (unsigned long)ev_selector(0), ev_upcall_pending(0));

    ev_clear_all(0);
    rc = ev_send(a);
    check("evtchn_send_other_direction", rc == 0 && ev_pending(b) && !ev_pending(a),
          "rc %ld; pending a %d b %d", rc, ev_pending(a), ev_pending(b));

    /* Already pending: the guest has yet to see it, so nothing more is raised. */
    ev_clear_vcpu(0);
    rc = ev_send(a);
    check("evtchn_send_already_pending", rc == 0 && ev_selector(0) == 0 && !ev_upcall_pending(0),
          "selector %lx upcall %u", (unsigned long)ev_selector(0), ev_upcall_pending(0));

    ev_clear_all(0);
    ev_set_mask(a);
    rc = ev_send(b);
    check("evtchn_masked_no_selector",
          rc == 0 && ev_pending(a) && ev_selector(0) == 0 && !ev_upcall_pending(0),
          "rc %ld pending %d selector %lx upcall %u", rc, ev_pending(a),
          (unsigned long)ev_selector(0), ev_upcall_pending(0));
    rc = ev_unmask(a);
    check("evtchn_unmask_reraises",
          rc == 0 && !ev_masked(a) && ev_selector_has(0, a) && ev_upcall_pending(0) == 1,
          "rc %ld masked %d selector %lx upcall %u", rc, ev_masked(a),
          (unsigned long)ev_selector(0), ev_upcall_pending(0));

    ev_clear_all(0);
    ev_set_mask(a);
    rc = ev_unmask(a);
    check("evtchn_unmask_not_pending_quiet",
          rc == 0 && !ev_masked(a) && ev_selector(0) == 0 && !ev_upcall_pending(0),
          "rc %ld selector %lx upcall %u", rc, (unsigned long)ev_selector(0), ev_upcall_pending(0));
    ev_clear_all(0);
}

static void check_close(uint32_t a, uint32_t b)
{
    struct evtchn_status sb;
    uint32_t c;
    long rc, rs;

    rc = ev_close(a);
    rs = ev_status(b, &sb);
    check("evtchn_close_peer_unbound",
          rc == 0 && status_is(a, EVTCHNSTAT_closed, 0) && rs == 0 &&
              sb.status == EVTCHNSTAT_unbound && sb.u.unbound.dom == self_domid,
          "close rc %ld; peer status %u dom %u", rc, sb.status, sb.u.unbound.dom);
    rc = ev_close(a);
    check("evtchn_close_twice", rc == -XEN_EINVAL, "rc %ld, want %d", rc, -XEN_EINVAL);

    ev_clear_all(0);
    rc = ev_send(b);
    check("evtchn_send_unbound_dropped", rc == 0 && !ev_pending(a) && !ev_pending(b) &&
                                             !ev_upcall_pending(0),
          "rc %ld pending a %d b %d", rc, ev_pending(a), ev_pending(b));

    /* The unbound end can be bound again; then closing clears pending and keeps the mask. */
    rc = ev_bind_interdomain(DOMID_SELF, b, &c);
    if (!check("evtchn_rebind_after_close", rc == 0, "rc %ld", rc))
        return;
    ev_clear_all(0);
    (void)ev_send(b);
    ev_set_mask(c);
    rc = ev_close(c);
    check("evtchn_close_clears_pending_keeps_mask", rc == 0 && !ev_pending(c) && ev_masked(c),
          "rc %ld pending %d masked %d", rc, ev_pending(c), ev_masked(c));
    ev_clear_mask(c);
    (void)ev_close(b);
    ev_clear_all(0);
}

/* ---------- virq, IPI, bind_vcpu ---------- */

static void check_virq(void)
{
    uint32_t t0, t1, dup, p;
    long rc, rc2, rc3;

    rc = ev_bind_virq(VIRQ_TIMER, 0, &t0);
    check("evtchn_bind_virq_timer",
          rc == 0 && t0 > 0 && status_is(t0, EVTCHNSTAT_virq, 0), "rc %ld port %u", rc, t0);
    rc = ev_bind_virq(VIRQ_TIMER, 0, &dup);
    check("evtchn_bind_virq_twice", rc == -XEN_EEXIST, "rc %ld, want %d", rc, -XEN_EEXIST);
    if (nr_vcpus > 1) {
        rc = ev_bind_virq(VIRQ_TIMER, 1, &t1);
        check("evtchn_bind_virq_per_vcpu", rc == 0 && t1 != t0 && status_is(t1, EVTCHNSTAT_virq, 1),
              "vCPU 1: rc %ld port %u", rc, t1);
        if (!rc)
            (void)ev_close(t1);
    }
    rc = ev_bind_virq(NR_VIRQS, 0, &p);
    rc2 = ev_bind_virq(0xffffffffU, 0, &p);
    rc3 = ev_bind_virq(VIRQ_DOM_EXC, 1, &p);        /* global virqs bind on vCPU 0 only */
    check("evtchn_bind_virq_bad_virq",
          rc == -XEN_EINVAL && rc2 == -XEN_EINVAL && rc3 == -XEN_EINVAL,
          "virq 24: %ld, virq ffffffff: %ld, global on vCPU 1: %ld (want %d)", rc, rc2, rc3,
          -XEN_EINVAL);
    rc = ev_bind_virq(VIRQ_TIMER, nr_vcpus, &p);
    rc2 = ev_bind_virq(VIRQ_TIMER, 0xffffffffU, &p);
    check("evtchn_bind_virq_bad_vcpu", rc == -XEN_ENOENT && rc2 == -XEN_ENOENT,
          "vcpu %u: %ld, vcpu ffffffff: %ld (want %d)", nr_vcpus, rc, rc2, -XEN_ENOENT);
    rc = ev_send(t0);
    check("evtchn_send_virq_einval", rc == -XEN_EINVAL, "rc %ld, want %d", rc, -XEN_EINVAL);
    (void)ev_close(t0);
}

static void check_ipi(void)
{
    uint32_t i, p;
    long rc;

    rc = ev_bind_ipi(0, &i);
    if (!check("evtchn_bind_ipi", rc == 0 && status_is(i, EVTCHNSTAT_ipi, 0), "rc %ld port %u", rc, i))
        return;
    ev_clear_all(0);
    rc = ev_send(i);
    check("evtchn_ipi_send", rc == 0 && ev_pending(i) && ev_selector_has(0, i) && ev_upcall_pending(0),
          "rc %ld pending %d selector %lx upcall %u", rc, ev_pending(i),
          (unsigned long)ev_selector(0), ev_upcall_pending(0));
    rc = ev_bind_ipi(nr_vcpus, &p);
    check("evtchn_bind_ipi_bad_vcpu", rc == -XEN_ENOENT, "vcpu %u: rc %ld, want %d", nr_vcpus, rc,
          -XEN_ENOENT);
    (void)ev_close(i);
    ev_clear_all(0);
}

static void check_bind_vcpu(void)
{
    uint32_t u, v, t, i, g;
    long rc, rc2;

    if (nr_vcpus < 2) {
        note("bind_vcpu checks need 2 vCPUs: skipped\n");
        return;
    }
    rc = ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &u);
    rc2 = rc ? rc : ev_bind_vcpu(u, 1);
    check("evtchn_bind_vcpu_unbound", rc2 == 0 && status_is(u, EVTCHNSTAT_unbound, 1),
          "rc %ld", rc2);
    /* Binding keeps the notify vCPU; an event on u now marks vCPU 1's vcpu_info. */
    rc = ev_bind_interdomain(DOMID_SELF, u, &v);
    ev_clear_all(0);
    ev_clear_vcpu(1);
    rc2 = rc ? rc : ev_send(v);
    check("evtchn_bind_vcpu_routes",
          rc2 == 0 && ev_pending(u) && ev_selector_has(1, u) && ev_upcall_pending(1) &&
              ev_selector(0) == 0 && !ev_upcall_pending(0),
          "rc %ld; vCPU 1 selector %lx upcall %u; vCPU 0 selector %lx upcall %u", rc2,
          (unsigned long)ev_selector(1), ev_upcall_pending(1), (unsigned long)ev_selector(0),
          ev_upcall_pending(0));
    rc = ev_bind_vcpu(u, nr_vcpus);
    check("evtchn_bind_vcpu_bad_vcpu", rc == -XEN_ENOENT, "vcpu %u: rc %ld", nr_vcpus, rc);

    /* Per-vCPU virqs and IPIs belong to their vCPU; free ports have none. */
    long rt = ev_bind_virq(VIRQ_TIMER, 0, &t), ri = ev_bind_ipi(0, &i);

    rc = rt ? rt : ev_bind_vcpu(t, 1);
    rc2 = ri ? ri : ev_bind_vcpu(i, 1);
    long rf = ev_bind_vcpu(EV_MAX_PORTS - 1, 1);

    check("evtchn_bind_vcpu_einval", rc == -XEN_EINVAL && rc2 == -XEN_EINVAL && rf == -XEN_EINVAL,
          "virq %ld, ipi %ld, free port %ld (want %d)", rc, rc2, rf, -XEN_EINVAL);
    rc = ev_bind_virq(VIRQ_DOM_EXC, 0, &g);
    rc2 = rc ? rc : ev_bind_vcpu(g, 1);
    check("evtchn_bind_vcpu_global_virq", rc2 == 0 && status_is(g, EVTCHNSTAT_virq, 1), "rc %ld", rc2);
    (void)ev_close(g);
    (void)ev_close(t);
    (void)ev_close(i);
    (void)ev_close(v);
    (void)ev_close(u);
    ev_clear_all(0);
    ev_clear_vcpu(1);
}

/* ---------- hostile input ---------- */

static void check_hostile_ports(void)
{
    static const uint32_t ports[] = { 0, EV_MAX_PORTS - 1, EV_MAX_PORTS, 4095, 0xffffffffU };

    for (unsigned int k = 0; k < ARRAY_SIZE(ports); k++) {
        uint32_t p = ports[k], out;
        /* Port 0 shares its bucket of 128 with the ports in use; no port near the limit was
         * bound yet, so those have no bucket: -EINVAL like the ports past it (Xen's
         * port_is_valid). */
        bool valid = p == 0;
        struct evtchn_status st;
        long send = ev_send(p), close = ev_close(p), unmask = ev_unmask(p);
        long status = ev_status(p, &st), bindv = ev_bind_vcpu(p, 0);
        long bindi = ev_bind_interdomain(DOMID_SELF, p, &out);
        bool ok = send == -XEN_EINVAL && close == -XEN_EINVAL && bindv == -XEN_EINVAL &&
                  bindi == -XEN_EINVAL &&
                  (valid ? unmask == 0 && status == 0 && st.status == EVTCHNSTAT_closed
                            : unmask == -XEN_EINVAL && status == -XEN_EINVAL);

        if (!ok) {
            check_fail("evtchn_hostile_ports",
                       "port %x: send %ld close %ld unmask %ld status %ld (%u) bind_vcpu %ld "
                       "bind_interdomain %ld", p, send, close, unmask, status, st.status, bindv,
                       bindi);
            return;
        }
    }
    check_pass("evtchn_hostile_ports");
}

static void check_bad_pointers(void)
{
    static const int cmds[] = { EVTCHNOP_bind_interdomain, EVTCHNOP_bind_virq, EVTCHNOP_close,
                                EVTCHNOP_send, EVTCHNOP_status, EVTCHNOP_alloc_unbound,
                                EVTCHNOP_bind_ipi, EVTCHNOP_bind_vcpu, EVTCHNOP_unmask,
                                EVTCHNOP_reset, EVTCHNOP_init_control, EVTCHNOP_expand_array,
                                EVTCHNOP_set_priority };

    for (unsigned int k = 0; k < ARRAY_SIZE(cmds); k++)
        for (unsigned int h = 0; h < nr_hostile; h++) {
            long rc = ev_op(cmds[k], hostile[h]);

            if (rc != -XEN_EFAULT) {
                check_fail("evtchn_bad_pointer", "cmd %d pointer %lx: rc %ld, want %d", cmds[k],
                           hostile[h], rc, -XEN_EFAULT);
                return;
            }
        }
    check_pass("evtchn_bad_pointer");
}

static void check_unsupported(void)
{
    uint8_t zeros[32] = { 0 };
    struct evtchn_init_control ic = { .vcpu = 64 };
    struct evtchn_set_priority sp = { .port = EV_MAX_PORTS, .priority = 3 };
    long init = ev_op(EVTCHNOP_init_control, HV_PTR(&ic));
    long expand = ev_op(EVTCHNOP_expand_array, HV_PTR(zeros));
    long prio_bad_port = ev_op(EVTCHNOP_set_priority, HV_PTR(&sp));
    long prio, bind = ev_bind_ipi(0, &sp.port);
    long pirq = ev_op(EVTCHNOP_bind_pirq, HV_PTR(zeros));
    long unknown = ev_op(99, HV_PTR(zeros));

    /* Still 2-level (the FIFO checks are in the fifo guests): the FIFO ops say so, as Xen. */
    prio = ev_op(EVTCHNOP_set_priority, HV_PTR(&sp));
    check("evtchn_fifo_ops_in_2level",
          init == -XEN_ENOENT && expand == -XEN_EOPNOTSUPP && prio_bad_port == -XEN_EINVAL &&
              bind == 0 && prio == -XEN_ENOSYS,
          "init_control(vcpu 64) %ld, expand_array %ld, set_priority past the end %ld, port %u %ld",
          init, expand, prio_bad_port, sp.port, prio);
    (void)ev_close(sp.port);
    check("evtchn_pirq_and_unknown_enosys", pirq == -XEN_ENOSYS && unknown == -XEN_ENOSYS,
          "bind_pirq %ld, cmd 99 %ld (want %d)", pirq, unknown, -XEN_ENOSYS);
}

/* ---------- reset and running out of ports ---------- */

static void check_reset(void)
{
    uint32_t a, b, t, i;
    struct evtchn_status st;
    long rc;

    (void)ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &a);
    (void)ev_bind_interdomain(DOMID_SELF, a, &b);
    (void)ev_bind_virq(VIRQ_TIMER, 0, &t);
    (void)ev_bind_ipi(0, &i);
    rc = ev_reset(DOMID_SELF);
    check("evtchn_reset",
          rc == 0 && a && b && t && i && status_is(a, EVTCHNSTAT_closed, 0) &&
              status_is(b, EVTCHNSTAT_closed, 0) && status_is(t, EVTCHNSTAT_closed, 0) &&
              status_is(i, EVTCHNSTAT_closed, 0),
          "rc %ld, ports %u %u %u %u", rc, a, b, t, i);
    /* The console's port is the hypervisor's backend: a reset leaves it. */
    if (console_port) {
        rc = ev_status(console_port, &st);
        check("evtchn_reset_keeps_console",
              rc == 0 && st.status == EVTCHNSTAT_interdomain && st.u.interdomain.dom == DOMID_XEN,
              "port %u: rc %ld status %u dom %x", console_port, rc, st.status,
              st.u.interdomain.dom);
    }
    rc = ev_reset(ABSENT_DOMID);
    long alloc = ev_alloc_unbound(ABSENT_DOMID, DOMID_SELF, &a);

    check("evtchn_foreign_domain", rc == -XEN_ESRCH && alloc == -XEN_ESRCH,
          "reset %ld, alloc_unbound %ld (want %d)", rc, alloc, -XEN_ESRCH);
}

static void check_ports_run_out(void)
{
    uint32_t port = 0, last = 0;
    unsigned int n = 0;
    long rc;

    while ((rc = ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &port)) == 0 && n < 2 * EV_MAX_PORTS) {
        last = port;
        n++;
    }
    check("evtchn_ports_run_out", rc == -XEN_ENOSPC && last == EV_MAX_PORTS - 1,
          "after %u ports (last %u): rc %ld, want %d", n, last, rc, -XEN_ENOSPC);
#ifdef __x86_64__
    /* Past what a 32-bit guest's bitmap holds: port 4000 (word 62) is bound and raised. */
    uint32_t high = 4000;
    long closed = ev_close(high), bound = ev_bind_ipi(0, &port), sent;

    ev_clear_all(0);
    sent = ev_send(port);
    check("evtchn_port_4000_raised",
          closed == 0 && bound == 0 && port == high && sent == 0 && ev_pending(high) &&
              ev_selector_has(0, high) && ev_upcall_pending(0),
          "close %ld, bind_ipi %ld port %u, send %ld: pending %d selector %lx upcall %u", closed,
          bound, port, sent, ev_pending(high), (unsigned long)ev_selector(0),
          ev_upcall_pending(0));
    ev_clear_all(0);
#endif
    rc = ev_reset(DOMID_SELF);
    long again = ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &port);

    check("evtchn_ports_reused", rc == 0 && again == 0 && port < 8, "reset %ld, alloc %ld port %u",
          rc, again, port);
    (void)ev_reset(DOMID_SELF);
}

static void check_event_channels(void)
{
    uint32_t a, b;

    if (!check_alloc_and_bind(&a, &b))
        return;
    check_layout(a, b);
    check_send_and_mask(a, b);
    check_close(a, b);
    check_virq();
    check_ipi();
    check_bind_vcpu();
    check_hostile_ports();
    check_bad_pointers();
    check_unsupported();
    check_reset();
    check_ports_run_out();
}

/* ---------- upcall delivery (HVM_PARAM_CALLBACK_IRQ) ---------- */

static void on_callback_vector(unsigned int vector)
{
    (void)vector;
    callback_upcalls++;
    ev_upcall_scan(0);
}

/* One instruction with interrupts on: a pending interrupt is taken there. */
static void interrupt_window(void)
{
    __asm__ volatile("sti; nop; cli" : : : "memory");
}

/*
 * An injected upcall arrives once: the exits that follow it, with interrupts
 * off, deliver nothing. (The hypervisor injects an event again only when the
 * exit cut its delivery short; taking a delivered one for that would hand it
 * to the guest a second time, whatever its IF.)
 */
static void check_upcall_once(uint32_t port)
{
    unsigned int before = callback_upcalls, after_send;

    irq_enable();
    (void)ev_send(port);            /* the upcall is injected on the way back */
    irq_disable();
    after_send = callback_upcalls;
    for (int k = 0; k < 3; k++)
        vm_exit();
    check("upcall_delivered_once", after_send == before + 1 && callback_upcalls == after_send,
          "upcalls: %u by the send (want 1), %u more with interrupts off (want 0)",
          after_send - before, callback_upcalls - after_send);
}

/*
 * Interrupt windows for 2 s of system time (thousands under QEMU, hundreds
 * under Bochs): an event raised with interrupts off and an exit before STI,
 * with no exit, across PUSHF/CLI/POPF, with interrupts on, an exit in the STI
 * shadow; and a timer rearmed every 20 us, so events also come from outside
 * at any point. irq_dispatch stops the guest if one
 * ever arrives with IF clear; here every send must come exactly once.
 */
static void stress_window(unsigned int k, uint32_t port)
{
    unsigned long flags, a, b, c, d;

    switch (k % 6) {
    case 0:
        irq_disable();
        (void)ev_send(port);
        vm_exit();
        irq_enable();
        break;
    case 1:
        irq_disable();
        (void)ev_send(port);
        irq_enable();
        break;
    case 2:
        __asm__ volatile("pushf; pop %0; cli" : "=r"(flags) : : "memory");
        (void)ev_send(port);
        vm_exit();
        __asm__ volatile("push %0; popf" : : "r"(flags) : "memory", "cc");
        break;
    case 3:
        (void)ev_send(port);
        break;
    case 4:
        irq_disable();
        (void)ev_send(port);
        __asm__ volatile("sti; cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0)
                         : "memory");
        break;
    default:
        irq_disable();
        vm_exit();
        irq_enable();
        break;
    }
    __asm__ volatile("nop; nop" : : : "memory");
}

static long singleshot(uint64_t deadline, uint32_t flags);

static void check_upcall_stress(uint32_t port)
{
    unsigned int seen = ev_count[port], sends = 0, iterations = 0, ticks = 0, last_tick;
    uint64_t end = pv_now() + 2000 * NS_PER_MS;
    uint32_t tp;

    if (ev_bind_virq(VIRQ_TIMER, 0, &tp)) {
        check_fail("upcall_stress_if_respected", "cannot bind VIRQ_TIMER");
        return;
    }
    last_tick = ev_count[tp];
    irq_enable();
    (void)singleshot(pv_now() + 20 * NS_PER_US, 0);
    while (pv_now() < end) {
        stress_window(iterations, port);
        sends += iterations % 6 != 5;
        if (ev_count[tp] != last_tick) {
            last_tick = ev_count[tp];
            ticks++;
            (void)singleshot(pv_now() + 20 * NS_PER_US, 0);
        }
        iterations++;
    }
    (void)hv_vcpu_op(VCPUOP_stop_singleshot_timer, 0, 0);
    interrupt_window();
    irq_disable();
    (void)ev_close(tp);
    note("upcall stress: %u windows, %u sends, %u upcalls, %u timer ticks\n", iterations, sends,
         ev_count[port] - seen, ticks);
    check("upcall_stress_if_respected", ev_count[port] - seen == sends && ticks >= 10,
          "%u windows: %u sends, %u upcalls on the port, %u timer ticks", iterations, sends,
          ev_count[port] - seen, ticks);
}

static void check_upcalls(void)
{
    uint64_t via = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | CALLBACK_VECTOR;
    unsigned int before, seen;
    uint32_t i;
    long rc;

    irq_set_handler(CALLBACK_VECTOR, on_callback_vector);
    rc = set_param(HVM_PARAM_CALLBACK_IRQ, via);
    check("upcall_callback_param", rc == 0 && get_param(HVM_PARAM_CALLBACK_IRQ) == via,
          "rc %ld", rc);
    rc = ev_bind_ipi(0, &i);
    if (rc) {
        check_fail("upcall_not_with_if0", "bind_ipi: rc %ld", rc);
        return;
    }
    ev_clear_all(0);
    before = callback_upcalls;
    seen = ev_count[i];
    (void)ev_send(i);
    for (int k = 0; k < 3; k++)
        vm_exit();
    check("upcall_not_with_if0",
          callback_upcalls == before && ev_upcall_pending(0) && ev_pending(i),
          "upcalls %u (before %u), upcall_pending %u", callback_upcalls, before,
          ev_upcall_pending(0));
    interrupt_window();
    check("upcall_delivered_after_sti",
          callback_upcalls == before + 1 && ev_count[i] == seen + 1 && !ev_upcall_pending(0) &&
              !ev_pending(i),
          "upcalls %u (want %u), port %u seen %u times", callback_upcalls, before + 1, i,
          ev_count[i] - seen);

    (void)ev_send(i);
    irq_enable_and_halt();
    irq_disable();
    check("upcall_wakes_hlt", ev_count[i] == seen + 2, "port %u seen %u times, want 2", i,
          ev_count[i] - seen);

    ev_set_mask(i);
    (void)ev_send(i);
    interrupt_window();
    bool quiet = ev_count[i] == seen + 2 && !ev_upcall_pending(0);

    rc = ev_unmask(i);
    bool raised = ev_upcall_pending(0);

    interrupt_window();
    check("upcall_after_unmask", quiet && rc == 0 && raised && ev_count[i] == seen + 3,
          "masked quiet %d, unmask rc %ld raised %d, count %u (want 3)", quiet, rc, raised,
          ev_count[i] - seen);
    check_upcall_once(i);
    check_upcall_stress(i);
    (void)ev_close(i);
}

/* ---------- time ---------- */

static long singleshot(uint64_t deadline, uint32_t flags)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline, .flags = flags };

    return hv_vcpu_op(VCPUOP_set_singleshot_timer, 0, HV_PTR(&t));
}

static long periodic(uint64_t period)
{
    struct vcpu_set_periodic_timer t = { .period_ns = period };

    return hv_vcpu_op(VCPUOP_set_periodic_timer, 0, HV_PTR(&t));
}

static long set_timer_op(uint64_t deadline)
{
#ifdef __x86_64__
    return hypercall(__HYPERVISOR_set_timer_op, deadline, 0, 0, 0, 0);
#else
    /* 32-bit callers pass the 64-bit deadline as two halves, low first. */
    return hypercall(__HYPERVISOR_set_timer_op, (uint32_t)deadline, (uint32_t)(deadline >> 32),
                     0, 0, 0);
#endif
}

static void check_pvclock(void)
{
    volatile struct vcpu_time_info *t = &shinfo->vcpu_info[0].time;
    uint64_t prev, first, tsc0, tsc1, ns0, ns1;
    bool mono = true;

    check("time_pvclock_version", t->version != 0 && !(t->version & 1) && t->tsc_to_system_mul,
          "version %u mul %u", t->version, t->tsc_to_system_mul);
    check("time_pvclock_tsc_stable", t->flags & XEN_PVCLOCK_TSC_STABLE_BIT, "flags %x", t->flags);
    first = prev = pv_now();
    for (int k = 0; k < 2000; k++) {
        uint64_t now = pv_now();

        if (now < prev)
            mono = false;
        prev = now;
    }
    check("time_pvclock_monotonic", mono && first > 0, "went backwards, or 0 at %llu",
          (unsigned long long)first);

    /*
     * The guest-side formula, applied by hand to two TSC readings, gives the
     * clock's own step. A few tries: an exit between a TSC read and the clock
     * read next to it (a loaded host) skews one pair.
     */
    uint64_t scaled = 0, step = 0, diff = ~0ULL;

    for (int attempt = 0; attempt < 5 && diff >= NS_PER_MS / 10; attempt++) {
        tsc0 = rdtsc();
        ns0 = pv_now();
        spin_until(ns0 + NS_PER_MS);
        tsc1 = rdtsc();
        ns1 = pv_now();
        uint64_t by_hand = t->tsc_shift >= 0 ? ((tsc1 - tsc0) << t->tsc_shift)
                                             : ((tsc1 - tsc0) >> -t->tsc_shift);

        scaled = ((by_hand >> 32) * t->tsc_to_system_mul) +
                 (((by_hand & 0xffffffffULL) * t->tsc_to_system_mul) >> 32);
        step = ns1 - ns0;
        diff = scaled > step ? scaled - step : step - scaled;
    }
    check("time_pvclock_advances", step >= NS_PER_MS && diff < NS_PER_MS / 10,
          "1 ms spin: clock step %llu ns, TSC math %llu ns", (unsigned long long)step,
          (unsigned long long)scaled);
    if (nr_vcpus > 1) {
        volatile struct vcpu_time_info *t1 = &shinfo->vcpu_info[1].time;

        check("time_pvclock_other_vcpu",
              !(t1->version & 1) && t1->version && t1->tsc_timestamp == t->tsc_timestamp &&
                  t1->tsc_to_system_mul == t->tsc_to_system_mul && t1->tsc_shift == t->tsc_shift,
              "vCPU 1 version %u mul %u", t1->version, t1->tsc_to_system_mul);
    }
}

static void check_wallclock(void)
{
    volatile uint32_t *wc = (volatile uint32_t *)((volatile uint8_t *)shinfo + RAW_WC_OFFSET);
    uint32_t version = wc[0];
    uint64_t sec = wc[1];
    uint32_t nsec = wc[2];

#ifdef __x86_64__
    sec |= (uint64_t)wc[3] << 32;       /* wc_sec_hi follows wc_nsec in the 64-bit layout */
#endif
    check("time_wallclock",
          !(version & 1) && version && sec > WALLCLOCK_MIN && sec < WALLCLOCK_MAX &&
              nsec < 1000000000U,
          "wc_version %u wc_sec %llu wc_nsec %u", version, (unsigned long long)sec, nsec);
}

/* Waits with interrupts on for port's next event; its time, or 0 if none came by timeout. */
static uint64_t await_event(uint32_t port, uint64_t timeout_ns)
{
    unsigned int start = ev_count[port];
    bool got;

    irq_enable();
    got = wait_count_change(&ev_count[port], start, pv_now() + timeout_ns);
    irq_disable();
    return got ? ev_time[port] : 0;
}

/* No event on port for quiet_ns (interrupts on). */
static bool stays_quiet(uint32_t port, uint64_t quiet_ns)
{
    unsigned int start = ev_count[port];

    irq_enable();
    spin_until(pv_now() + quiet_ns);
    irq_disable();
    return ev_count[port] == start && !ev_pending(port);
}

/*
 * A timer stopped before its deadline never fires. A vCPU preempted past the deadline between
 * setting and stopping (a busy host, other guests) proves nothing either way, so such a try is
 * made again; the event it may have raised drains while the next try waits with interrupts on.
 */
static void check_singleshot_stop(uint32_t tp)
{
    uint64_t deadline = 0, stopped_at = 0;
    long rc = -1, stop = -1;
    bool quiet = false;
    int tries;

    for (tries = 1; tries <= 5; tries++) {
        deadline = pv_now() + 20 * NS_PER_MS;
        rc = singleshot(deadline, 0);
        stop = hv_vcpu_op(VCPUOP_stop_singleshot_timer, 0, 0);
        stopped_at = pv_now();
        quiet = stays_quiet(tp, 40 * NS_PER_MS);
        if (stopped_at < deadline)
            break;
    }
    check("time_singleshot_stop", rc == 0 && stop == 0 && stopped_at < deadline && quiet,
          "set %ld stop %ld; stopped %lld ns before the deadline (try %d); %s", rc, stop,
          (long long)(deadline - stopped_at), tries > 5 ? 5 : tries,
          quiet ? "no event" : "an event came after the stop");
}

static void check_singleshot(uint32_t tp)
{
    uint64_t now, deadline, fired;
    long rc;

    now = pv_now();
    rc = singleshot(now > NS_PER_MS ? now - NS_PER_MS : 1, 0);
    fired = await_event(tp, 100 * NS_PER_MS);
    check("time_singleshot_past_fires", rc == 0 && fired, "rc %ld, no VIRQ_TIMER within 100 ms", rc);

    deadline = pv_now() + 5 * NS_PER_MS;
    rc = singleshot(deadline, 0);
    fired = await_event(tp, LATE_OK_NS + 5 * NS_PER_MS);
    check("time_singleshot_future", rc == 0 && fired >= deadline && fired < deadline + LATE_OK_NS,
          "rc %ld; deadline %llu, fired at %llu (0: never)", rc, (unsigned long long)deadline,
          (unsigned long long)fired);

    now = pv_now();
    rc = singleshot(now - NS_PER_MS, VCPU_SSHOTTMR_future);
    check("time_singleshot_future_flag_etime", rc == -XEN_ETIME && stays_quiet(tp, 5 * NS_PER_MS),
          "rc %ld, want %d, and no event", rc, -XEN_ETIME);
    deadline = pv_now() + 3 * NS_PER_MS;
    rc = singleshot(deadline, VCPU_SSHOTTMR_future);
    fired = await_event(tp, LATE_OK_NS);
    check("time_singleshot_future_flag_ok", rc == 0 && fired >= deadline, "rc %ld fired %llu", rc,
          (unsigned long long)fired);

    check_singleshot_stop(tp);

    /* A new deadline replaces the old one: one event, at the new time. */
    unsigned int start = ev_count[tp];
    uint64_t first = pv_now() + 200 * NS_PER_MS;

    (void)singleshot(first, 0);
    deadline = pv_now() + 3 * NS_PER_MS;
    (void)singleshot(deadline, 0);
    fired = await_event(tp, LATE_OK_NS);
    now = pv_now();
    bool quiet_after = stays_quiet(tp, now < first + 20 * NS_PER_MS ? first + 20 * NS_PER_MS - now : 0);

    check("time_singleshot_rearm_replaces",
          fired >= deadline && fired < first && quiet_after &&
              ev_count[tp] == start + 1,
          "fired %llu (deadline %llu), events %u (want 1)", (unsigned long long)fired,
          (unsigned long long)deadline, ev_count[tp] - start);

    deadline = pv_now() + 3 * NS_PER_MS;
    rc = singleshot(deadline, 0);
    start = ev_count[tp];
    for (int k = 0; k < 100 && ev_count[tp] == start; k++)
        irq_enable_and_halt();
    irq_disable();
    check("time_timer_wakes_hlt", rc == 0 && ev_count[tp] == start + 1 && ev_time[tp] >= deadline,
          "events %u, at %llu (deadline %llu)", ev_count[tp] - start,
          (unsigned long long)ev_time[tp], (unsigned long long)deadline);
}

static void check_periodic(uint32_t tp)
{
    long rc0 = periodic(0), rc1 = periodic(NS_PER_MS - 1), rc;
    unsigned int start;
    uint64_t t0;
    bool got = true;

    check("time_periodic_bad_period", rc0 == -XEN_EINVAL && rc1 == -XEN_EINVAL,
          "period 0: %ld, 999999 ns: %ld (want %d)", rc0, rc1, -XEN_EINVAL);
    /* 10 ms: Bochs spends milliseconds of emulated time on each timer exit. */
    t0 = pv_now();
    rc = periodic(10 * NS_PER_MS);
    start = ev_count[tp];
    for (int k = 0; k < 5 && got; k++)
        got = await_event(tp, LATE_OK_NS) != 0;
    check("time_periodic_fires", rc == 0 && got && ev_time[tp] >= t0 + 50 * NS_PER_MS,
          "rc %ld; %u events, 5th at +%llu ns (want >= 50 ms)", rc, ev_count[tp] - start,
          (unsigned long long)(ev_time[tp] - t0));
    rc = hv_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0);
    /* One event may already be pending when the stop arrives. */
    irq_enable();
    spin_until(pv_now() + NS_PER_MS);
    irq_disable();
    check("time_periodic_stop", rc == 0 && stays_quiet(tp, 15 * NS_PER_MS),
          "rc %ld, or events went on after the stop", rc);
}

static void check_set_timer_op(uint32_t tp)
{
    uint64_t deadline = pv_now() + 3 * NS_PER_MS, fired;
    long rc = set_timer_op(deadline), rc2;

    fired = await_event(tp, LATE_OK_NS);
    check("time_set_timer_op", rc == 0 && fired >= deadline && fired < deadline + LATE_OK_NS,
          "rc %ld; deadline %llu fired %llu", rc, (unsigned long long)deadline,
          (unsigned long long)fired);
    rc = set_timer_op(pv_now() + 20 * NS_PER_MS);
    rc2 = set_timer_op(0);
    check("time_set_timer_op_cancel", rc == 0 && rc2 == 0 && stays_quiet(tp, 40 * NS_PER_MS),
          "rc %ld, %ld, or the cancelled timer fired", rc, rc2);
}

/* Back-to-back deadlines in the past: every one must arrive, and nothing may hang. */
static void check_timer_storm(uint32_t tp)
{
    unsigned int start = ev_count[tp];
    long bad = 0;

    irq_enable();
    for (int k = 0; k < STORM_TIMERS; k++) {
        long rc = singleshot(1, 0);

        if (rc)
            bad = rc;
    }
    spin_until(pv_now() + 5 * NS_PER_MS);
    irq_disable();
    check("time_timer_storm", bad == 0 && ev_count[tp] - start == STORM_TIMERS,
          "rc %ld; %u of %u timers delivered", bad, ev_count[tp] - start, STORM_TIMERS);
}

static long poll(uint32_t *ports, unsigned int nr, uint64_t timeout)
{
    struct sched_poll p = { .nr_ports = nr, .timeout = timeout };

    set_xen_guest_handle(p.ports, ports);
    return hv_sched_op(SCHEDOP_poll, HV_PTR(&p));
}

static void check_poll(uint32_t tp)
{
    uint32_t ports[1] = { tp };
    uint64_t t0, t1;
    long rc;

    ev_set_mask(tp);
    ev_clear_pending(tp);
    t0 = pv_now();
    rc = poll(ports, 1, t0 + 5 * NS_PER_MS);
    t1 = pv_now();
    check("sched_poll_timeout", rc == 0 && t1 >= t0 + 5 * NS_PER_MS && t1 < t0 + LATE_OK_NS,
          "rc %ld after %llu ns (want 5 ms)", rc, (unsigned long long)(t1 - t0));

    (void)singleshot(1, 0);                 /* masked: only the pending bit goes up */
    vm_exit();
    t0 = pv_now();
    rc = poll(ports, 1, t0 + 2000 * NS_PER_MS);
    t1 = pv_now();
    check("sched_poll_pending_returns_at_once",
          rc == 0 && ev_pending(tp) && t1 - t0 < 100 * NS_PER_MS,
          "rc %ld pending %d after %llu ns", rc, ev_pending(tp), (unsigned long long)(t1 - t0));

    ev_clear_pending(tp);
    t0 = pv_now();
    (void)singleshot(t0 + 5 * NS_PER_MS, 0);
    rc = poll(ports, 1, t0 + 2000 * NS_PER_MS);
    t1 = pv_now();
    check("sched_poll_wakes_on_event",
          rc == 0 && ev_pending(tp) && t1 >= t0 + 5 * NS_PER_MS && t1 < t0 + LATE_OK_NS,
          "rc %ld pending %d after %llu ns (timer at 5 ms, timeout 2 s)", rc, ev_pending(tp),
          (unsigned long long)(t1 - t0));

    /* timeout 0 means none (Xen public sched.h): only the event ends the wait. */
    ev_clear_pending(tp);
    t0 = pv_now();
    (void)singleshot(t0 + 5 * NS_PER_MS, 0);
    rc = poll(ports, 1, 0);
    t1 = pv_now();
    check("sched_poll_no_timeout_waits_for_event",
          rc == 0 && ev_pending(tp) && t1 >= t0 + 5 * NS_PER_MS,
          "rc %ld pending %d after %llu ns (timer at 5 ms)", rc, ev_pending(tp),
          (unsigned long long)(t1 - t0));
    /* Whatever happened, let the timer come and go before the next check. */
    spin_until(t0 + 10 * NS_PER_MS);

    uint32_t bad_port[1] = { 4096 };
    long many = poll(ports, 1000, 0), range = poll(bad_port, 1, 0);
    long ptr = hv_sched_op(SCHEDOP_poll, hostile[0]);
    struct sched_poll hp = { .nr_ports = 1, .timeout = 1 };

    set_xen_guest_handle(hp.ports, (uint32_t *)hostile[0]);
    long ports_ptr = hv_sched_op(SCHEDOP_poll, HV_PTR(&hp));

    check("sched_poll_bad_args",
          many == -XEN_EINVAL && range == -XEN_EINVAL && ptr == -XEN_EFAULT && ports_ptr == -XEN_EFAULT,
          "1000 ports %ld, port 4096 %ld (want %d); bad struct %ld, bad ports %ld (want %d)", many,
          range, -XEN_EINVAL, ptr, ports_ptr, -XEN_EFAULT);
    ev_clear_pending(tp);
    ev_clear_mask(tp);
}

static void check_block(uint32_t tp)
{
    uint64_t t0, t1;
    long rc;

    ev_clear_all(0);
    t0 = pv_now();
    (void)singleshot(t0 + 5 * NS_PER_MS, 0);
    rc = hv_sched_op(SCHEDOP_block, 0);
    t1 = pv_now();
    bool pending = ev_upcall_pending(0);

    check("sched_block_wakes_on_event",
          rc == 0 && pending && t1 >= t0 + 5 * NS_PER_MS && t1 < t0 + LATE_OK_NS,
          "rc %ld upcall_pending %u after %llu ns (timer at 5 ms)", rc, pending,
          (unsigned long long)(t1 - t0));
    t0 = pv_now();
    rc = hv_sched_op(SCHEDOP_block, 0);     /* the upcall is still pending: returns at once */
    t1 = pv_now();
    check("sched_block_returns_if_pending", rc == 0 && t1 - t0 < 100 * NS_PER_MS,
          "rc %ld after %llu ns", rc, (unsigned long long)(t1 - t0));
    interrupt_window();
    check("sched_block_event_delivered", ev_upcall_pending(0) == 0, "upcall still pending");
}

static long register_area(int cmd, unsigned int vcpu, void *area)
{
    uint64_t addr = (uintptr_t)area;

    /* Both structs are a union whose first member is the address (a 32-bit pointer in i386). */
    return hv_vcpu_op(cmd, vcpu, HV_PTR(&addr));
}

static void check_runstate(void)
{
    static struct vcpu_runstate_info area;
    struct vcpu_runstate_info r;
    uint64_t now, total;
    long rc;

    rc = register_area(VCPUOP_register_runstate_memory_area, 0, &area);
    now = pv_now();
    check("vcpu_runstate_area",
          rc == 0 && area.state == RUNSTATE_running && area.state_entry_time <= now &&
              area.time[RUNSTATE_running] > 0,
          "rc %ld state %d entry %llu (now %llu) running %llu", rc, area.state,
          (unsigned long long)area.state_entry_time, (unsigned long long)now,
          (unsigned long long)area.time[RUNSTATE_running]);

    rc = hv_vcpu_op(VCPUOP_get_runstate_info, 0, HV_PTR(&r));
    now = pv_now();
    total = r.time[0] + r.time[1] + r.time[2] + r.time[3] + (now - r.state_entry_time);
    check("vcpu_get_runstate_info",
          rc == 0 && r.state == RUNSTATE_running && r.state_entry_time <= now && total <= now + NS_PER_MS &&
              total + 50 * NS_PER_MS >= now,
          "rc %ld state %d; times add up to %llu, system time %llu", rc, r.state,
          (unsigned long long)total, (unsigned long long)now);

    /* Blocking for a few ms shows as blocked time, in the registered area too. */
    uint64_t blocked0 = area.time[RUNSTATE_blocked];

    irq_disable();
    uint64_t t0 = pv_now();

    (void)singleshot(t0 + 20 * NS_PER_MS, 0);
    (void)hv_sched_op(SCHEDOP_block, 0);
    uint64_t t1 = pv_now();

    interrupt_window();
    /* Half the block is enough: emulators spend emulated time on the way in and out. */
    check("vcpu_runstate_blocked_time", area.time[RUNSTATE_blocked] >= blocked0 + 10 * NS_PER_MS,
          "blocked time grew by %llu ns over a %llu ns block for a 20 ms timer",
          (unsigned long long)(area.time[RUNSTATE_blocked] - blocked0),
          (unsigned long long)(t1 - t0));
    if (nr_vcpus > 1) {
        rc = hv_vcpu_op(VCPUOP_get_runstate_info, 1, HV_PTR(&r));
        check("vcpu_runstate_other_vcpu", rc == 0 && r.state == RUNSTATE_offline,
              "vCPU 1 (never started): rc %ld state %d", rc, r.state);
    }
    /* Only the argument structs: Xen takes any area address from an HVM guest (and writes it
     * when it can), so a bad area address is no error. */
    rc = hv_vcpu_op(VCPUOP_get_runstate_info, 0, hostile[0]);
    long rc2 = hv_vcpu_op(VCPUOP_register_runstate_memory_area, 0, hostile[0]);

    check("vcpu_runstate_bad_pointer", rc == -XEN_EFAULT && rc2 == -XEN_EFAULT,
          "get %ld, bad struct %ld (want %d)", rc, rc2, -XEN_EFAULT);
    (void)register_area(VCPUOP_register_runstate_memory_area, 0, NULL);
}

static void check_time_area(void)
{
    static struct vcpu_time_info ti;
    volatile struct vcpu_time_info *t = &shinfo->vcpu_info[0].time;
    long rc = register_area(VCPUOP_register_vcpu_time_memory_area, 0, &ti);
    uint64_t a = pv_now(), b = pv_time_of(&ti), c = pv_now();

    check("vcpu_time_area",
          rc == 0 && ti.version && !(ti.version & 1) && ti.tsc_timestamp == t->tsc_timestamp &&
              ti.tsc_to_system_mul == t->tsc_to_system_mul && ti.tsc_shift == t->tsc_shift &&
              (ti.flags & XEN_PVCLOCK_TSC_STABLE_BIT) && a <= b && b <= c,
          "rc %ld version %u mul %u (vcpu_info %u) flags %x", rc, ti.version,
          ti.tsc_to_system_mul, t->tsc_to_system_mul, ti.flags);
    rc = register_area(VCPUOP_register_vcpu_time_memory_area, 0, NULL);
    check("vcpu_time_area_unregister", rc == 0, "rc %ld", rc);
}

static void check_time(void)
{
    uint32_t tp;
    long rc;

    check_pvclock();
    check_wallclock();
    rc = ev_bind_virq(VIRQ_TIMER, 0, &tp);
    if (!check("time_bind_timer_virq", rc == 0, "rc %ld", rc))
        return;
    check_singleshot(tp);
    check_periodic(tp);
    check_set_timer_op(tp);
    check_timer_storm(tp);
    check_poll(tp);
    check_block(tp);
    check_runstate();
    check_time_area();
    (void)ev_close(tp);
}

/* ---------- per-vCPU upcall vector through the LAPIC ---------- */

static void on_lapic_upcall(unsigned int vector)
{
    (void)vector;
    lapic_upcalls++;
    ev_upcall_scan(0);
    wrmsr(X2APIC_EOI, 0);
}

static long set_upcall_vector(uint32_t vcpu, uint8_t vector)
{
    struct xen_hvm_evtchn_upcall_vector u = { .vcpu = vcpu, .vector = vector };

    return hv_hvm_op(HVMOP_set_evtchn_upcall_vector, HV_PTR(&u));
}

/*
 * An upcall through the callback vector and a LAPIC interrupt due at once, with
 * interrupts off: one window takes both, the LAPIC one as soon as the upcall's
 * handler returns. The upcall's handler makes no exit, so nothing but that
 * return can let the hypervisor in (SVM queues one interrupt at a time and
 * exits at the IRET that ends its handler).
 */
static void check_upcall_then_lapic(void)
{
    unsigned int cb = callback_upcalls, la = lapic_upcalls;
    uint32_t port;

    if (ev_bind_ipi(0, &port)) {
        check_fail("upcall_then_lapic_one_window", "cannot bind an IPI port");
        return;
    }
    irq_disable();
    (void)ev_send(port);
    wrmsr(X2APIC_SELF_IPI, LAPIC_UPCALL_VECTOR);
    interrupt_window();
    check("upcall_then_lapic_one_window", callback_upcalls == cb + 1 && lapic_upcalls == la + 1,
          "in one sti;nop;cli: %u upcalls (want 1), %u LAPIC interrupts (want 1)",
          callback_upcalls - cb, lapic_upcalls - la);
    interrupt_window();                 /* whatever the check left pending */
    (void)ev_close(port);
}

static void check_upcall_vector(void)
{
    unsigned int cb_before, before, seen;
    uint32_t i, tp;
    long rc, rc2;

    rc = set_upcall_vector(0, 0x0f);
    rc2 = set_upcall_vector(nr_vcpus, LAPIC_UPCALL_VECTOR);
    check("upcall_vector_bad_args", rc == -XEN_EINVAL && rc2 == -XEN_ENOENT,
          "vector 0x0f: %ld (want %d), vcpu %u: %ld (want %d)", rc, -XEN_EINVAL, nr_vcpus, rc2,
          -XEN_ENOENT);

    x2apic_enable();
    irq_set_handler(LAPIC_UPCALL_VECTOR, on_lapic_upcall);
    check_upcall_then_lapic();
    rc = set_upcall_vector(0, LAPIC_UPCALL_VECTOR);
    if (!check("upcall_vector_set", rc == 0, "rc %ld", rc))
        return;
    if (ev_bind_ipi(0, &i) || ev_bind_virq(VIRQ_TIMER, 0, &tp)) {
        check_fail("upcall_vector_delivered", "cannot bind ports");
        return;
    }
    ev_clear_all(0);
    cb_before = callback_upcalls;
    before = lapic_upcalls;
    seen = ev_count[i];
    (void)ev_send(i);
    bool in_irr = x2apic_vector_bit(X2APIC_IRR0, LAPIC_UPCALL_VECTOR);

    interrupt_window();
    check("upcall_vector_delivered",
          in_irr && lapic_upcalls == before + 1 && callback_upcalls == cb_before &&
              ev_count[i] == seen + 1 && !x2apic_vector_bit(X2APIC_ISR0, LAPIC_UPCALL_VECTOR),
          "in IRR %d; LAPIC upcalls %u (want %u), callback-vector upcalls %u (want %u), ISR %d",
          in_irr, lapic_upcalls, before + 1, callback_upcalls, cb_before,
          x2apic_vector_bit(X2APIC_ISR0, LAPIC_UPCALL_VECTOR));

    /* It is an ordinary LAPIC interrupt: a task priority above its class holds it back. */
    wrmsr(X2APIC_TPR, 0xf0);
    (void)ev_send(i);
    interrupt_window();
    bool held = ev_count[i] == seen + 1;

    wrmsr(X2APIC_TPR, 0);
    interrupt_window();
    check("upcall_vector_tpr_blocks", held && ev_count[i] == seen + 2, "held %d, count %u (want 2)",
          held, ev_count[i] - seen);

    uint64_t deadline = pv_now() + 3 * NS_PER_MS;
    unsigned int start = ev_count[tp];

    (void)singleshot(deadline, 0);
    for (int k = 0; k < 100 && ev_count[tp] == start; k++)
        irq_enable_and_halt();
    irq_disable();
    check("upcall_vector_timer", ev_count[tp] == start + 1 && ev_time[tp] >= deadline &&
                                     callback_upcalls == cb_before,
          "timer events %u, at %llu (deadline %llu)", ev_count[tp] - start,
          (unsigned long long)ev_time[tp], (unsigned long long)deadline);
    (void)ev_close(i);
    (void)ev_close(tp);
}

int main(const struct hvm_start_info *si)
{
    long rc;

    (void)si;
    note(VARIANT ": event channels, upcalls, time\n");
    if (!xen_cpuid_base())
        guest_panic("no Xen CPUID leaves: these checks need Wisp or Xen");
    init_hostile_pointers();
    nr_vcpus = count_vcpus();
    console_port = (uint32_t)get_param(HVM_PARAM_CONSOLE_EVTCHN);
    note("%u vCPUs, console port %u\n", nr_vcpus, console_port);
    rc = ev_map_shared_info();
    if (!check("evtchn_map_shared_info", rc == 0, "rc %ld", rc)) {
        checks_done();
        return 1;
    }
    check_event_channels();
    check_upcalls();
    check_time();
    check_upcall_vector();
    checks_done();
    return 0;           /* the verdict lines carry the result */
}
