/* control.c (guest, ctl64): Wisp's control hypercall and the store ring, seen from a domain with a role or none; act=<name> picks the part (docs/control.md, tests/integration/test_control.py). */
#include "guest.h"
#include "evlib.h"
#include "xen/errno.h"
#include "xen/grant_table.h"
#include "xen/memory.h"
#include "xen/hvm_op.h"
#include "xen/hvm_params.h"
#include "xen/sched.h"
#include "xen/start_info.h"
#include "xen/vcpu.h"
#include "wisp/control.h"
#include "elf.h"
#include "start_info.h"
#include "builder.h"

#define STORE_GPA       0xfeffe000UL
#define PAGE_SIZE       4096UL
#define UNMAPPED_GVA    0x00007f0000000000UL    /* not mapped by the runtime's page tables */
#define WRAPPING_GVA    0xffffffffffffffc0UL
#define MS              NS_PER_MS
#define MAX_LIST        8
#define LAST_CONTROL_COMMAND WISP_CTL_console_input

static const struct hvm_start_info *start_info;

static unsigned int arg_number(const char *key, unsigned int fallback)
{
    char text[16];
    unsigned int n = 0;

    if (!cmdline_get(start_info, key, text, sizeof(text)) || !text[0])
        return fallback;
    for (const char *p = text; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (unsigned int)(*p - '0');
    return n;
}

static long ctl(unsigned long cmd, const void *arg)
{
    return hypercall(__HYPERVISOR_wisp_control, cmd, HV_PTR(arg), 0, 0, 0);
}

static long ctl_domain(unsigned long cmd, uint32_t domid)
{
    struct wisp_ctl_domain a = { .domid = domid };

    return ctl(cmd, &a);
}

static long ctl_alloc_unbound(uint32_t dom, uint32_t remote, uint32_t *port)
{
    struct wisp_ctl_evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote };
    long rc = ctl(WISP_CTL_evtchn_alloc_unbound, &a);

    *port = a.port;
    return rc;
}

static struct wisp_domain_info list[MAX_LIST];

/* WISP_CTL_domain_list from domain 1; the entry count, or a negative error. */
static long list_domains(void)
{
    struct wisp_ctl_domain_list l = { .first_domid = 1, .max_entries = MAX_LIST,
                                      .buffer = HV_PTR(list) };
    long rc = ctl(WISP_CTL_domain_list, &l);

    return rc ? rc : (long)l.nr_entries;
}

/* The hypervisor's free 4 KiB frames (domain_list's OUT free_frames); 0 if the call failed. */
static uint32_t free_frames(void)
{
    struct wisp_ctl_domain_list l = { .first_domid = 1, .max_entries = MAX_LIST,
                                      .buffer = HV_PTR(list) };

    return ctl(WISP_CTL_domain_list, &l) ? 0 : l.free_frames;
}

/* The listed entry of domid, or NULL. */
static const struct wisp_domain_info *listed(uint32_t domid)
{
    long n = list_domains();

    for (long i = 0; i < n; i++)
        if (list[i].domid == domid)
            return &list[i];
    return NULL;
}

static uint64_t get_param(uint32_t index, long *rc)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };

    *rc = hv_hvm_op(HVMOP_get_param, HV_PTR(&p));
    return p.value;
}

/* Sleeps up to timeout_ns in SCHEDOP_poll on port (0: none); true if the port went pending. */
static bool poll_port(uint32_t port, uint64_t timeout_ns)
{
    struct sched_poll poll = { .nr_ports = port ? 1 : 0, .timeout = pv_now() + timeout_ns };

    set_xen_guest_handle(poll.ports, &port);
    (void)hv_sched_op(SCHEDOP_poll, HV_PTR(&poll));
    return port && ev_pending(port);
}

static void sleep_ns(uint64_t ns)
{
    uint64_t end = pv_now() + ns;

    while (pv_now() < end)
        poll_port(0, end - pv_now());
}

/* A service domain never ends by itself: the machine stops it once the ordinary domains are done. */
static __noreturn void serve_forever(void)
{
    /* No ports and no timeout: blocked for good (pv_now would need shared_info mapped). */
    struct sched_poll poll = { .nr_ports = 0, .timeout = 0 };

    for (;;)
        (void)hv_sched_op(SCHEDOP_poll, HV_PTR(&poll));
}

/* ---- act=list (control role): names, states, roles and store parameters ---- */

static void print_list(long n)
{
    for (long i = 0; i < n; i++)
        con_printf("DOMAIN %u %s state=%u roles=%u store_gfn=0x%llx store_evtchn=%u vcpus=%u "
                   "pages=%llu/%llu\n", list[i].domid, list[i].name, list[i].state, list[i].roles,
                   (unsigned long long)list[i].store_gfn, list[i].store_evtchn, list[i].nr_vcpus,
                   (unsigned long long)list[i].tot_pages, (unsigned long long)list[i].max_pages);
}

static void check_list(uint32_t self, uint32_t xs)
{
    long n = list_domains();
    bool ids_ascend = true, store_ok = true;

    check("ctl_list", n >= 2 && n <= MAX_LIST, "nr_entries %ld", n);
    print_list(n);
    for (long i = 0; i < n; i++) {
        const struct wisp_domain_info *e = &list[i];

        ids_ascend &= i == 0 || e->domid > list[i - 1].domid;
        if (e->domid == xs || !xs)
            store_ok &= e->store_gfn == 0 && e->store_evtchn == 0;
        else if (e->state != WISP_DOMSTATE_DYING && e->state != WISP_DOMSTATE_SHUTDOWN)
            store_ok &= e->store_gfn == STORE_GPA / PAGE_SIZE && e->store_evtchn != 0;
    }
    check("ctl_list_order", ids_ascend, "ids not ascending");
    check("ctl_list_store", store_ok, "a store gfn or port is wrong (see DOMAIN lines)");
    const struct wisp_domain_info *me = listed(self);
    check("ctl_list_self", me && me->roles == WISP_ROLE_CONTROL &&
          me->state == WISP_DOMSTATE_RUNNING && me->nr_vcpus == 1 && me->name[0],
          "self entry missing or wrong");

    struct wisp_ctl_domain_list l = { .first_domid = self + 1, .max_entries = 1,
                                      .buffer = HV_PTR(list) };
    long rc = ctl(WISP_CTL_domain_list, &l);
    check("ctl_list_window", rc == 0 && l.nr_entries == 1 && list[0].domid > self,
          "rc %ld nr %u first %u", rc, l.nr_entries, list[0].domid);
}

/* ---- hostile arguments (control role) ---- */

static void check_hostile(uint32_t self)
{
    struct wisp_ctl_domain_list l = { .first_domid = 0, .max_entries = 0xffffffffu,
                                      .buffer = HV_PTR(list) };
    long rc = ctl(WISP_CTL_domain_list, &l);

    check("ctl_huge_max_entries", rc == 0 && l.nr_entries <= MAX_LIST, "rc %ld nr %u", rc,
          l.nr_entries);
    l.first_domid = 0xffffffffu;
    rc = ctl(WISP_CTL_domain_list, &l);
    check("ctl_list_past_last", rc == 0 && l.nr_entries == 0, "rc %ld nr %u", rc, l.nr_entries);
    check("ctl_bad_arg_pointer", ctl(WISP_CTL_domain_list, (void *)UNMAPPED_GVA) == -XEN_EFAULT &&
          ctl(WISP_CTL_pause, (void *)UNMAPPED_GVA) == -XEN_EFAULT &&
          ctl(WISP_CTL_evtchn_alloc_unbound, (void *)UNMAPPED_GVA) == -XEN_EFAULT, "not EFAULT");
    l = (struct wisp_ctl_domain_list){ .first_domid = 1, .max_entries = 4, .buffer = UNMAPPED_GVA };
    check("ctl_bad_buffer", ctl(WISP_CTL_domain_list, &l) == -XEN_EFAULT, "not EFAULT");
    l.buffer = WRAPPING_GVA;
    check("ctl_wrapping_buffer", ctl(WISP_CTL_domain_list, &l) == -XEN_EFAULT, "not EFAULT");
    /* free_frames is OUT only: whatever comes in, the call works and says how many are free. */
    l = (struct wisp_ctl_domain_list){ .first_domid = 1, .max_entries = 1, .buffer = HV_PTR(list),
                                       .free_frames = 0xffffffffu };
    rc = ctl(WISP_CTL_domain_list, &l);
    check("ctl_list_free_frames_out", rc == 0 && l.free_frames && l.free_frames != 0xffffffffu,
          "rc %ld free_frames %u", rc, l.free_frames);

    struct wisp_ctl_domain d = { .domid = self, .pad = 7 };
    check("ctl_domain_pad", ctl(WISP_CTL_pause, &d) == -XEN_EINVAL, "not EINVAL");
    static const unsigned long cmds[] = { WISP_CTL_pause, WISP_CTL_unpause, WISP_CTL_destroy };
    bool self_einval = true, bad_esrch = true;
    for (unsigned int i = 0; i < ARRAY_SIZE(cmds); i++) {
        self_einval &= ctl_domain(cmds[i], self) == -XEN_EINVAL &&
                       ctl_domain(cmds[i], DOMID_SELF) == -XEN_EINVAL;
        bad_esrch &= ctl_domain(cmds[i], 0) == -XEN_ESRCH && ctl_domain(cmds[i], 99) == -XEN_ESRCH &&
                     ctl_domain(cmds[i], DOMID_INVALID) == -XEN_ESRCH &&
                     ctl_domain(cmds[i], 0xffffffffu) == -XEN_ESRCH;
    }
    check("ctl_self_refused", self_einval, "naming oneself is not EINVAL");
    check("ctl_bad_domid", bad_esrch, "a bad domid is not ESRCH");

    uint32_t port;
    check("ctl_alloc_bad_domid", ctl_alloc_unbound(99, self, &port) == -XEN_ESRCH &&
          ctl_alloc_unbound(self, 99, &port) == -XEN_ESRCH &&
          ctl_alloc_unbound(0xffffffffu, self, &port) == -XEN_ESRCH, "not ESRCH");
    struct wisp_ctl_evtchn_alloc_unbound a = { .dom = self, .remote_dom = self, .pad = 1 };
    check("ctl_alloc_pad", ctl(WISP_CTL_evtchn_alloc_unbound, &a) == -XEN_EINVAL, "not EINVAL");
    struct wisp_ctl_host_io io = { .buffer = HV_PTR(list), .bytes = 16 };
    check("ctl_no_host_channel", ctl(WISP_CTL_host_read, &io) == -XEN_ENODEV &&
          ctl(WISP_CTL_host_write, &io) == -XEN_ENODEV, "not ENODEV without host_channel");
    check("ctl_unknown_command", ctl(LAST_CONTROL_COMMAND + 1, list) == -XEN_ENOSYS &&
          ctl(1ul << 40, list) == -XEN_ENOSYS,
          "not ENOSYS");
}

/* ---- act=control: the whole control sequence of test_control.py ---- */

static long console_input(uint32_t domid, const void *buf, uint32_t bytes)
{
    struct wisp_ctl_console_input a = { .domid = domid, .bytes = bytes, .buffer = HV_PTR(buf) };

    return ctl(WISP_CTL_console_input, &a);
}

/* Bytes typed into the canary's console ring; every bad argument refused first. */
static void check_console_input(uint32_t self, uint32_t canary)
{
    static char keys[WISP_CONSOLE_INPUT_MAX + 1] = "typed\n";

    check("ctl_console_input_bad", console_input(canary, keys, 0) == -XEN_EINVAL &&
          console_input(canary, keys, WISP_CONSOLE_INPUT_MAX + 1) == -XEN_EINVAL &&
          console_input(self, keys, 6) == -XEN_EINVAL &&
          console_input(DOMID_SELF, keys, 6) == -XEN_EINVAL &&
          console_input(99, keys, 6) == -XEN_ESRCH &&
          console_input(canary, (void *)UNMAPPED_GVA, 6) == -XEN_EFAULT &&
          ctl(WISP_CTL_console_input, (void *)UNMAPPED_GVA) == -XEN_EFAULT, "not refused");
    long n = console_input(canary, keys, 6);
    long more = console_input(canary, keys, WISP_CONSOLE_INPUT_MAX);
    check("ctl_console_input", n == 6 && more >= 0 && more + n <= 1024,
          "took %ld, then %ld (the ring holds 1024)", n, more);
}

/* Pauses the canary (and the spinning victim) for a second: no beat in between, beats again after. */
static void check_pause(uint32_t canary, uint32_t victim)
{
    const struct wisp_domain_info *e;
    long rc = ctl_domain(WISP_CTL_pause, canary);

    if (victim)
        rc |= ctl_domain(WISP_CTL_pause, victim);

    con_printf("CTL paused %u\n", canary);
    uint64_t start = pv_now();
    e = listed(canary);
    check("ctl_pause", rc == 0 && e && e->state == WISP_DOMSTATE_PAUSED, "rc %ld state %u", rc,
          e ? e->state : 99);
    check("ctl_pause_twice", ctl_domain(WISP_CTL_pause, canary) == 0, "second pause failed");
    sleep_ns(1000 * MS);
    /* Said first: on another pCPU the canary beats as soon as it is unpaused. */
    con_printf("CTL unpausing %u after %llu ms\n", canary,
               (unsigned long long)((pv_now() - start) / MS));
    rc = ctl_domain(WISP_CTL_unpause, canary);
    if (victim)
        rc |= ctl_domain(WISP_CTL_unpause, victim);
    e = listed(canary);
    check("ctl_unpause", rc == 0 && e && e->state == WISP_DOMSTATE_RUNNING, "rc %ld state %u", rc,
          e ? e->state : 99);
    check("ctl_unpause_running", ctl_domain(WISP_CTL_unpause, canary) == 0, "failed");
    sleep_ns(600 * MS);     /* the host counts the beats that follow */
}

/* A domain built `paused` does not run until unpaused. */
static void check_start_paused(uint32_t sleeper)
{
    const struct wisp_domain_info *e = listed(sleeper);

    check("ctl_started_paused", e && e->state == WISP_DOMSTATE_PAUSED, "state %u",
          e ? e->state : 99);
    sleep_ns(300 * MS);
    con_printf("CTL unpausing %u\n", sleeper);
    check("ctl_unpause_sleeper", ctl_domain(WISP_CTL_unpause, sleeper) == 0, "failed");
}

/* VIRQ_DOM_EXC fires when another domain shuts down by itself (domain `short` ends soon). */
static void check_dom_exc(uint32_t port, uint32_t gone)
{
    uint64_t deadline = pv_now() + 20000 * MS;
    const struct wisp_domain_info *e = listed(gone);

    while (e && e->state == WISP_DOMSTATE_RUNNING && pv_now() < deadline) {
        poll_port(port, 100 * MS);
        e = listed(gone);
    }
    check("ctl_dom_exc_on_shutdown", ev_pending(port) && (!e || e->state != WISP_DOMSTATE_RUNNING),
          "pending %d state %u", ev_pending(port), e ? e->state : 99);
    ev_clear_pending(port);
}

/*
 * An interdomain channel between us and victim, made with a port allocated
 * in victim on our behalf; destroying victim leaves our end unbound.
 */
static void check_destroy(uint32_t self, uint32_t victim, uint32_t exc_port)
{
    struct evtchn_status st = { .dom = DOMID_SELF };
    uint32_t remote_port = 0, local = 0;
    long rc = ctl_alloc_unbound(victim, DOMID_SELF, &remote_port);

    check("ctl_alloc_unbound_other", rc == 0 && remote_port > 0, "rc %ld port %u", rc, remote_port);
    rc = ev_bind_interdomain((domid_t)victim, remote_port, &local);
    check("ctl_bind_offered_port", rc == 0, "bind_interdomain rc %ld", rc);
    ev_clear_pending(local);        /* a bind raises the new port once */
    rc = ev_status(local, &st);
    check("ctl_channel_up", rc == 0 && st.status == EVTCHNSTAT_interdomain &&
          st.u.interdomain.dom == victim, "rc %ld status %u", rc, st.status);

    rc = ctl_domain(WISP_CTL_destroy, victim);
    con_printf("CTL destroyed %u\n", victim);
    check("ctl_destroy", rc == 0, "rc %ld", rc);
    st = (struct evtchn_status){ .dom = DOMID_SELF };
    rc = ev_status(local, &st);
    check("ctl_peer_port_unbound", rc == 0 && st.status == EVTCHNSTAT_unbound &&
          st.u.unbound.dom == victim, "rc %ld status %u remote %u", rc, st.status,
          st.u.unbound.dom);
    const struct wisp_domain_info *e = listed(victim);
    check("ctl_destroyed_gone", !e || e->state == WISP_DOMSTATE_DYING, "state %u", e ? e->state : 0);
    check("ctl_dom_exc_on_destroy", ev_pending(exc_port), "VIRQ_DOM_EXC not pending");
    ev_clear_pending(exc_port);
    rc = ctl_domain(WISP_CTL_destroy, victim);
    check("ctl_destroy_again", rc == -XEN_ESRCH || rc == 0, "rc %ld", rc);
    check("ctl_alloc_in_dead", ctl_alloc_unbound(victim, self, &local) == -XEN_ESRCH ||
          (e && ctl_alloc_unbound(victim, self, &local) == -XEN_EINVAL), "a dead domain got a port");
}

static void act_control(void)
{
    uint32_t self = arg_number("self", 0), xs = arg_number("xs", 0);
    uint32_t canary = arg_number("canary", 0), victim = arg_number("victim", 0);
    uint32_t sleeper = arg_number("sleeper", 0), gone = arg_number("short", 0);
    uint32_t exc_port = 0;

    if (ev_map_shared_info() || ev_bind_virq(VIRQ_DOM_EXC, 0, &exc_port)) {
        check_fail("ctl_setup", "shared_info or VIRQ_DOM_EXC");
        return;
    }
    check("ctl_version", ctl(WISP_CTL_version, NULL) == WISP_CONTROL_VERSION, "wrong version");
    check_list(self, xs);
    check_hostile(self);
    if (canary)
        check_console_input(self, canary);
    if (sleeper)
        check_start_paused(sleeper);
    if (gone)
        check_dom_exc(exc_port, gone);
    if (canary)
        check_pause(canary, victim);
    if (victim)
        check_destroy(self, victim, exc_port);
    checks_done();
    if (canary) {
        con_printf("CTL destroying the canary\n");
        (void)ctl_domain(WISP_CTL_destroy, canary);   /* the last ordinary domain: the machine ends */
    }
    serve_forever();
}

/* ---- act=noperm (no role) and act=xs-role (xenstore role) ---- */

static void act_noperm(void)
{
    struct wisp_ctl_domain_list l = { .max_entries = MAX_LIST, .buffer = HV_PTR(list) };
    uint32_t port;
    bool all = ctl(WISP_CTL_version, NULL) == -XEN_EPERM &&
               ctl(WISP_CTL_domain_list, &l) == -XEN_EPERM &&
               ctl_domain(WISP_CTL_pause, 1) == -XEN_EPERM &&
               ctl_domain(WISP_CTL_unpause, 1) == -XEN_EPERM &&
               ctl_domain(WISP_CTL_destroy, 1) == -XEN_EPERM &&
               ctl_alloc_unbound(1, 1, &port) == -XEN_EPERM &&
               ctl(WISP_CTL_device_list, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_sched_get, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_sched_set, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_domain_stats, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_domain_create, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_domain_scrub, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_domain_write, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_domain_start, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_host_read, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_host_write, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_console_input, &l) == -XEN_EPERM &&
               ctl(WISP_CTL_destroy, (void *)UNMAPPED_GVA) == -XEN_EPERM;

    check("noperm_every_command", all, "a command did not give EPERM");
    checks_done();
}

static void act_xs_role(void)
{
    uint32_t port;
    long n = list_domains();

    check("xs_version", ctl(WISP_CTL_version, NULL) == WISP_CONTROL_VERSION, "wrong version");
    check("xs_may_list", n >= 1, "domain_list rc %ld", n);
    check("xs_may_not_control", ctl_domain(WISP_CTL_pause, 1) == -XEN_EPERM &&
          ctl_domain(WISP_CTL_unpause, 1) == -XEN_EPERM &&
          ctl_domain(WISP_CTL_destroy, 1) == -XEN_EPERM &&
          ctl_alloc_unbound(1, 1, &port) == -XEN_EPERM &&
          ctl(WISP_CTL_device_list, list) == -XEN_EPERM &&
          ctl(WISP_CTL_sched_get, list) == -XEN_EPERM &&
          ctl(WISP_CTL_sched_set, list) == -XEN_EPERM &&
          ctl(WISP_CTL_domain_stats, list) == -XEN_EPERM &&
          ctl(WISP_CTL_domain_create, list) == -XEN_EPERM &&
          ctl(WISP_CTL_domain_scrub, list) == -XEN_EPERM &&
          ctl(WISP_CTL_domain_write, list) == -XEN_EPERM &&
          ctl(WISP_CTL_domain_start, list) == -XEN_EPERM &&
          ctl(WISP_CTL_host_read, list) == -XEN_EPERM &&
          ctl(WISP_CTL_host_write, list) == -XEN_EPERM &&
          ctl(WISP_CTL_console_input, list) == -XEN_EPERM, "a control command did not give EPERM");
    checks_done();
    serve_forever();
}

/* ---- act=steal: a paused vCPU that could run counts as offline, as in Xen ---- */

static void act_steal(void)
{
    static volatile struct vcpu_runstate_info area;
    uint64_t addr = HV_PTR(&area), offline = 0;
    long rc = hv_vcpu_op(VCPUOP_register_runstate_memory_area, 0, HV_PTR(&addr));

    if (rc || ev_map_shared_info()) {
        check_fail("steal_setup", "runstate area rc %ld", rc);
    } else {
        uint64_t deadline = pv_now() + 60000 * MS;

        con_printf("STEAL spinning\n");     /* runnable, never blocked: pausing makes it offline */
        while ((offline = area.time[RUNSTATE_offline]) < 500 * MS && pv_now() < deadline)
            cpu_relax();
        check("steal_offline_while_paused", offline >= 500 * MS && area.state == RUNSTATE_running,
              "offline %llu ms state %d", (unsigned long long)(offline / MS), area.state);
    }
    checks_done();
    serve_forever();
}

/* ---- act=sched (control role): get and set the CPU share of domain target=N ---- */

static long sched_get(uint32_t domid, struct wisp_ctl_sched *a)
{
    *a = (struct wisp_ctl_sched){ .domid = domid };
    return ctl(WISP_CTL_sched_get, a);
}

static long sched_set(uint32_t domid, uint32_t weight, uint32_t cap)
{
    struct wisp_ctl_sched a = { .domid = domid, .weight = weight, .cap = cap };

    return ctl(WISP_CTL_sched_set, &a);
}

/* Every bad argument is refused and changes nothing. */
static void check_sched_hostile(uint32_t target)
{
    struct wisp_ctl_sched a = { .domid = target, .weight = 256, .pad = 1 };
    static const uint32_t bad_ids[] = { 0, 99, DOMID_INVALID, 0xffffffffu };
    bool esrch = true;

    check("sched_bad_range", sched_set(target, 0, 0) == -XEN_EINVAL &&
          sched_set(target, WISP_SCHED_MAX_WEIGHT + 1, 0) == -XEN_EINVAL &&
          sched_set(target, 256, WISP_SCHED_MAX_CAP + 1) == -XEN_EINVAL &&
          sched_set(target, 0xffffffffu, 0xffffffffu) == -XEN_EINVAL, "not EINVAL");
    check("sched_pad", ctl(WISP_CTL_sched_set, &a) == -XEN_EINVAL &&
          ctl(WISP_CTL_sched_get, &a) == -XEN_EINVAL, "not EINVAL");
    for (unsigned int i = 0; i < ARRAY_SIZE(bad_ids); i++)
        esrch &= sched_get(bad_ids[i], &a) == -XEN_ESRCH &&
                 sched_set(bad_ids[i], 256, 0) == -XEN_ESRCH;
    check("sched_bad_domid", esrch, "a bad domid is not ESRCH");
    check("sched_bad_pointer", ctl(WISP_CTL_sched_get, (void *)UNMAPPED_GVA) == -XEN_EFAULT &&
          ctl(WISP_CTL_sched_set, (void *)UNMAPPED_GVA) == -XEN_EFAULT, "not EFAULT");
}

/*
 * Reads target's share from the boot configuration (weight=W, default 256, no
 * cap), checks hostile arguments, sets weight 512 and cap=C, reads them back
 * and unpauses target (built paused), which then measures its share.
 */
static void act_sched(void)
{
    uint32_t target = arg_number("target", 0), cap = arg_number("cap", 50);
    struct wisp_ctl_sched a;
    long rc = sched_get(target, &a);

    check("sched_get_boot_share", rc == 0 && a.weight == arg_number("weight", 256) && a.cap == 0,
          "rc %ld weight %u cap %u", rc, a.weight, a.cap);
    rc = sched_get(DOMID_SELF, &a);
    check("sched_get_self", rc == 0 && a.weight == WISP_SCHED_DEFAULT_WEIGHT && a.cap == 0,
          "rc %ld weight %u cap %u", rc, a.weight, a.cap);
    check_sched_hostile(target);
    rc = sched_get(target, &a);
    check("sched_hostile_changed_nothing", rc == 0 && a.weight == arg_number("weight", 256) &&
          a.cap == 0, "rc %ld weight %u cap %u", rc, a.weight, a.cap);
    rc = sched_set(target, 512, cap);
    long got = sched_get(target, &a);
    check("sched_set_read_back", rc == 0 && got == 0 && a.weight == 512 && a.cap == cap,
          "set rc %ld, get rc %ld: weight %u cap %u", rc, got, a.weight, a.cap);
    check("sched_unpause", ctl_domain(WISP_CTL_unpause, target) == 0, "unpause failed");
    checks_done();
    serve_forever();
}

/* ---- act=stats (control role): domain_stats of itself and of domain target=N ---- */

static long stats_of(uint32_t domid, struct wisp_ctl_domain_stats *s, struct wisp_vcpu_stats *v,
                     uint32_t max_vcpus)
{
    *s = (struct wisp_ctl_domain_stats){ .domid = domid, .max_vcpus = max_vcpus,
                                          .vcpus = HV_PTR(v) };
    return ctl(WISP_CTL_domain_stats, s);
}

static void print_stats(const char *who, const struct wisp_ctl_domain_stats *s,
                        const struct wisp_vcpu_stats *v)
{
    /* Two lines, each shorter than the hypervisor's 96-byte console piece: a longer one is
     * sent in pieces, and another domain's line may come between them. */
    con_printf("STATS %s vcpus=%u state=%u pages=%llu/%llu sent=%llu received=%llu\n", who,
               s->nr_vcpus, s->state, (unsigned long long)s->tot_pages,
               (unsigned long long)s->max_pages, (unsigned long long)s->events_sent,
               (unsigned long long)s->events_received);
    con_printf("STATS %s hypercalls=%llu hlt=%llu running_ms=%llu blocked_ms=%llu\n", who,
               (unsigned long long)s->exits[WISP_EXIT_HYPERCALL],
               (unsigned long long)s->exits[WISP_EXIT_HLT],
               (unsigned long long)(v->running_ns / MS), (unsigned long long)(v->blocked_ns / MS));
}

/* Its own counters move with what it does: a send to itself is one sent, one received. */
static void check_stats_self(void)
{
    static struct wisp_vcpu_stats v[2];
    struct wisp_ctl_domain_stats before, after;
    uint32_t port = 0;
    long rc = stats_of(DOMID_SELF, &before, v, 2), bound = ev_bind_ipi(0, &port);
    long sent = bound ? bound : ev_send(port), rc2 = stats_of(DOMID_SELF, &after, v, 2);

    check("stats_self", rc == 0 && before.nr_vcpus == 1 && before.state == WISP_DOMSTATE_RUNNING &&
          before.nr_exit_reasons == WISP_EXIT_UNEXPECTED + 1 && before.tot_pages > 0 &&
          before.max_pages >= before.tot_pages && before.exits[WISP_EXIT_HYPERCALL] > 0 &&
          v[0].running_ns > 0 && v[0].runstate == RUNSTATE_running,
          "rc %ld vcpus %u state %u reasons %u pages %llu/%llu", rc, before.nr_vcpus,
          before.state, before.nr_exit_reasons, (unsigned long long)before.tot_pages,
          (unsigned long long)before.max_pages);
    check("stats_counts_a_send", sent == 0 && rc2 == 0 &&
          after.events_sent == before.events_sent + 1 &&
          after.events_received >= before.events_received + 1 &&
          after.exits[WISP_EXIT_HYPERCALL] >= before.exits[WISP_EXIT_HYPERCALL] + 3,
          "send rc %ld: sent %llu -> %llu, received %llu -> %llu", sent,
          (unsigned long long)before.events_sent, (unsigned long long)after.events_sent,
          (unsigned long long)before.events_received, (unsigned long long)after.events_received);
    print_stats("self", &after, v);
    if (!bound)
        ev_close(port);
}

/* Only min(max_vcpus, nr_vcpus) entries are written; max_vcpus 0 needs no buffer. */
static void check_stats_vcpu_room(uint32_t target)
{
    static struct wisp_vcpu_stats v[3];
    struct wisp_ctl_domain_stats s;
    long none = stats_of(target, &s, NULL, 0), one;

    memset(v, 0xa5, sizeof(v));
    one = stats_of(target, &s, v, 1);
    check("stats_vcpu_room", none == 0 && one == 0 && s.nr_vcpus == 2 &&
          v[0].runstate <= RUNSTATE_offline && v[1].runstate == 0xa5a5a5a5u,
          "rc %ld/%ld vcpus %u, second entry %x", none, one, s.nr_vcpus, v[1].runstate);
}

static void check_stats_hostile(uint32_t target)
{
    static struct wisp_vcpu_stats v[2];
    struct wisp_ctl_domain_stats s = { .domid = target, .pad = 1 };
    static const uint32_t bad_ids[] = { 0, 99, DOMID_INVALID, 0xffffffffu };
    bool esrch = true;

    check("stats_pad", ctl(WISP_CTL_domain_stats, &s) == -XEN_EINVAL, "not EINVAL");
    for (unsigned int i = 0; i < ARRAY_SIZE(bad_ids); i++)
        esrch &= stats_of(bad_ids[i], &s, v, 2) == -XEN_ESRCH;
    check("stats_bad_domid", esrch, "a bad domid is not ESRCH");
    s = (struct wisp_ctl_domain_stats){ .domid = target, .max_vcpus = 2, .vcpus = UNMAPPED_GVA };
    long unmapped = ctl(WISP_CTL_domain_stats, &s);
    s = (struct wisp_ctl_domain_stats){ .domid = target, .max_vcpus = 0xffffffffu,
                                        .vcpus = WRAPPING_GVA };
    long wrapping = ctl(WISP_CTL_domain_stats, &s);
    check("stats_bad_pointer", ctl(WISP_CTL_domain_stats, (void *)UNMAPPED_GVA) == -XEN_EFAULT &&
          unmapped == -XEN_EFAULT && wrapping == -XEN_EFAULT, "unmapped %ld wrapping %ld",
          unmapped, wrapping);
}

/*
 * target=N is a canary with two vCPUs (the second never started) that sleeps in
 * SCHEDOP_poll between beats: within 30 s (Bochs boots it slowly) its blocked time
 * and its exits grow, and its running time never shrinks.
 */
static bool stats_moved(const struct wisp_ctl_domain_stats *s0, const struct wisp_vcpu_stats *v0,
                        const struct wisp_ctl_domain_stats *s1, const struct wisp_vcpu_stats *v1)
{
    return s1->nr_vcpus == 2 && s1->exits[WISP_EXIT_HYPERCALL] > s0->exits[WISP_EXIT_HYPERCALL] &&
           v1[0].blocked_ns + v1[1].blocked_ns > v0[0].blocked_ns + v0[1].blocked_ns &&
           v1[0].running_ns >= v0[0].running_ns && v1[1].running_ns >= v0[1].running_ns;
}

static void act_stats(void)
{
    static struct wisp_vcpu_stats v0[2], v1[2];
    uint32_t target = arg_number("target", 0);
    struct wisp_ctl_domain_stats s0, s1;
    long rc0, rc1 = -1;
    uint64_t deadline;

    if (ev_map_shared_info()) {         /* pv_now() reads its time info */
        check_fail("stats_setup", "cannot map shared_info");
        checks_done();
        serve_forever();
    }
    check_stats_self();
    check_stats_vcpu_room(target);
    check_stats_hostile(target);
    rc0 = stats_of(target, &s0, v0, 2);
    deadline = pv_now() + 30000 * MS;
    do {
        sleep_ns(200 * MS);
        rc1 = stats_of(target, &s1, v1, 2);
    } while (rc0 == 0 && rc1 == 0 && !stats_moved(&s0, v0, &s1, v1) && pv_now() < deadline);
    check("stats_target_moves", rc0 == 0 && rc1 == 0 && stats_moved(&s0, v0, &s1, v1),
          "rc %ld/%ld hypercalls %llu -> %llu", rc0, rc1,
          (unsigned long long)s0.exits[WISP_EXIT_HYPERCALL],
          (unsigned long long)s1.exits[WISP_EXIT_HYPERCALL]);
    print_stats("target", &s1, v1);
    checks_done();
    serve_forever();
}

/* ---- act=build (control role): a tool stack's builder, building domains at run time ---- */

static long create(const char *name, uint32_t mib, uint32_t vcpus,
                   struct wisp_ctl_domain_create *a)
{
    *a = (struct wisp_ctl_domain_create){ .memory_mib = mib, .vcpus = vcpus };
    for (unsigned int i = 0; name[i] && i < sizeof(a->name) - 1; i++)
        a->name[i] = name[i];
    return ctl(WISP_CTL_domain_create, a);
}

/* Scrubs all of domid's RAM; 0, or the error. */
static long scrub_all(uint32_t domid)
{
    long rc;

    while ((rc = ctl_domain(WISP_CTL_domain_scrub, domid)) == 1)
        ;
    return rc;
}

static long write_to(uint32_t domid, uint64_t gpa, const void *src, uint64_t bytes)
{
    struct wisp_ctl_domain_write w = { .domid = domid, .gpa = gpa, .buffer = HV_PTR(src),
                                       .bytes = bytes };

    return ctl(WISP_CTL_domain_write, &w);
}

/* This domain's first module: the kernel it builds. */
static const void *kernel_module(size_t *size)
{
    const struct hvm_modlist_entry *mods = (const void *)(uintptr_t)start_info->modlist_paddr;

    if (!start_info->nr_modules)
        return NULL;
    *size = mods[0].size;
    return (const void *)(uintptr_t)mods[0].paddr;
}

static long control_call(void *ctx, unsigned cmd, void *arg)
{
    (void)ctx;
    return ctl(cmd, arg);
}

/*
 * Creates NAME with the kernel module and CMDLINE through pvh_build_domain (what
 * wisp-agent builds with too), started paused. Its id, or a negative error (the
 * half-built domain destroyed).
 */
static long build(const char *name, uint32_t mib, const char *cmdline)
{
    static const struct pvh_control control = { NULL, control_call };
    struct pvh_build_request r = { .name = name, .memory_mib = mib, .vcpus = 1,
                                   .cmdline = cmdline };
    const char *why = "";
    long rc;

    r.kernel = kernel_module(&r.kernel_size);
    rc = r.kernel ? pvh_build_domain(&control, &r, &why) : -XEN_ENOEXEC;
    if (rc < 0)
        con_printf("BUILD %s failed: %ld (%s)\n", name, rc, why);
    return rc;
}

/* The state domain_list gives domid, or -1 once it is not listed. */
static long state_of(uint32_t domid)
{
    long n = list_domains();

    for (long i = 0; i < n; i++)
        if (list[i].domid == domid)
            return list[i].state;
    return -1;
}

static bool wait_gone(uint32_t domid, uint64_t timeout_ns)
{
    uint64_t deadline = pv_now() + timeout_ns;

    while (state_of(domid) >= 0 && pv_now() < deadline)
        sleep_ns(50 * MS);
    return state_of(domid) < 0;
}

/* A domain made at run time stays shut down until destroyed (docs/control.md). */
static bool wait_shut_down(uint32_t domid, uint64_t timeout_ns)
{
    uint64_t deadline = pv_now() + timeout_ns;

    while (state_of(domid) != WISP_DOMSTATE_SHUTDOWN && pv_now() < deadline)
        sleep_ns(50 * MS);
    return state_of(domid) == WISP_DOMSTATE_SHUTDOWN;
}

/* Until domid has made a few hypercalls (it has printed its first lines), at most 30 s. */
static void running_a_while(uint32_t domid)
{
    struct wisp_ctl_domain_stats st;
    uint64_t deadline = pv_now() + 30000 * MS;

    while (stats_of(domid, &st, NULL, 0) == 0 && st.exits[WISP_EXIT_HYPERCALL] < 5 &&
           pv_now() < deadline)
        sleep_ns(20 * MS);
}

/* Every bad argument is refused and leaves nothing behind. */
static void check_build_hostile(uint32_t self)
{
    struct wisp_ctl_domain_create a;
    struct wisp_ctl_domain_start st = { .domid = self };
    static uint8_t page[4096];
    long n0 = list_domains(), dup, busy_write, busy_start;

    check("build_bad_args", create("", 16, 1, &a) == -XEN_EINVAL &&
          create("has space", 16, 1, &a) == -XEN_EINVAL &&
          create("x", 1, 1, &a) == -XEN_EINVAL && create("x", 65537, 1, &a) == -XEN_EINVAL &&
          create("x", 16, 0, &a) == -XEN_EINVAL && create("x", 16, 9, &a) == -XEN_EINVAL,
          "a bad create was not EINVAL");
    a = (struct wisp_ctl_domain_create){ .memory_mib = 16, .vcpus = 1 };
    memset(a.name, 'n', sizeof(a.name));            /* no NUL */
    check("build_name_unterminated", ctl(WISP_CTL_domain_create, &a) == -XEN_EINVAL, "not EINVAL");
    dup = create("ctl", 16, 1, &a);
    check("build_name_taken", dup == -XEN_EEXIST, "rc %ld", dup);
    check("build_huge_refused", create("huge", 65536, 1, &a) == -XEN_ENOMEM, "not ENOMEM");
    check("build_bad_pointer", ctl(WISP_CTL_domain_create, (void *)UNMAPPED_GVA) == -XEN_EFAULT &&
          ctl(WISP_CTL_domain_write, (void *)UNMAPPED_GVA) == -XEN_EFAULT &&
          ctl(WISP_CTL_domain_start, (void *)UNMAPPED_GVA) == -XEN_EFAULT, "not EFAULT");
    check("build_not_building", ctl_domain(WISP_CTL_domain_scrub, self) == -XEN_EINVAL &&
          ctl_domain(WISP_CTL_domain_scrub, 99) == -XEN_ESRCH &&
          write_to(self, 0x200000, page, 16) == -XEN_EINVAL &&
          ctl(WISP_CTL_domain_start, &st) == -XEN_EINVAL, "a non-building domain was accepted");
    check("build_nothing_left", list_domains() == n0, "%ld domains, was %ld", list_domains(), n0);

    long rc = create("probe", 4, 1, &a);
    uint32_t id = a.domid;

    busy_write = write_to(id, 0x200000, page, 16);
    st = (struct wisp_ctl_domain_start){ .domid = id, .entry = 0x100000, .start_info = 0x200000 };
    busy_start = ctl(WISP_CTL_domain_start, &st);
    check("build_unscrubbed_busy", rc == 0 && busy_write == -XEN_EBUSY && busy_start == -XEN_EBUSY,
          "create %ld write %ld start %ld", rc, busy_write, busy_start);
    check("build_state_building", state_of(id) == WISP_DOMSTATE_BUILDING, "state %ld",
          state_of(id));
    long scrubbed = scrub_all(id);
    check("build_write_bounds", scrubbed == 0 &&
          write_to(id, 0xa0000, page, 16) == -XEN_EINVAL &&         /* legacy hole */
          write_to(id, 0x9f000, page, 16) == -XEN_EINVAL &&         /* ACPI page */
          write_to(id, 0x9e000, page, 0x2000) == -XEN_EINVAL &&     /* runs into it */
          write_to(id, (4 << 20) - 8, page, 16) == -XEN_EINVAL &&   /* past RAM */
          write_to(id, 0xfffffffffffffff0ull, page, 32) == -XEN_EINVAL &&
          write_to(id, 0x200000, page, WISP_WRITE_MAX + 1) == -XEN_EINVAL &&
          write_to(id, 0x200000, (void *)UNMAPPED_GVA, 16) == -XEN_EFAULT &&
          write_to(id, 0x200000, page, sizeof(page)) == 0, "a bad write was accepted");
    st = (struct wisp_ctl_domain_start){ .domid = id, .entry = 0xa0000, .start_info = 0x200000 };
    long bad_entry = ctl(WISP_CTL_domain_start, &st);
    st = (struct wisp_ctl_domain_start){ .domid = id, .entry = 0x100000, .start_info = 4 << 20 };
    long bad_info = ctl(WISP_CTL_domain_start, &st);
    check("build_start_bounds", bad_entry == -XEN_EINVAL && bad_info == -XEN_EINVAL,
          "entry %ld start_info %ld", bad_entry, bad_info);
    check("build_destroy_while_building", ctl_domain(WISP_CTL_destroy, id) == 0 &&
          wait_gone(id, 10000 * MS), "still listed");
}

/*
 * Builds the kernel module as domain "built" (act=canary beats=5), which must run to its
 * end; then cycles=N create+scrub+destroy cycles, each taking the same id again; then a
 * domain destroyed while it runs. Ends itself, so the machine ends (docs/control.md).
 */
static void act_build(void)
{
    uint32_t self = arg_number("self", 1), cycles = arg_number("cycles", 10);
    long id, again = 0, rc = 0;
    bool reused = true;
    uint32_t free_before, free_during = 0;

    if (ev_map_shared_info()) {
        check_fail("build_setup", "cannot map shared_info");
        checks_done();
        guest_shutdown(SHUTDOWN_poweroff);
    }
    check_build_hostile(self);
    id = build("built", 16, "act=canary beats=5");
    check("build_started_paused", id > 0 && state_of((uint32_t)id) == WISP_DOMSTATE_PAUSED,
          "id %ld state %ld", id, id > 0 ? state_of((uint32_t)id) : -1);
    con_printf("BUILD built is d%ld\n", id);
    check("build_runs_to_its_end", id > 0 && ctl_domain(WISP_CTL_unpause, (uint32_t)id) == 0 &&
          wait_shut_down((uint32_t)id, 60000 * MS) && !wait_gone((uint32_t)id, 500 * MS),
          "d%ld did not end, or did not stay shut down", id);
    check("build_destroy_shut_down", id > 0 && ctl_domain(WISP_CTL_destroy, (uint32_t)id) == 0 &&
          wait_gone((uint32_t)id, 10000 * MS), "d%ld stayed", id);
    free_before = free_frames();
    for (uint32_t i = 0; i < cycles && reused; i++) {
        struct wisp_ctl_domain_create a;

        rc = create("cycle", 4, 2, &a);
        if (!i)
            free_during = free_frames();
        reused = rc == 0 && (i == 0 || a.domid == (uint32_t)again) && scrub_all(a.domid) == 0 &&
                 ctl_domain(WISP_CTL_destroy, a.domid) == 0 && wait_gone(a.domid, 10000 * MS);
        again = a.domid;
    }
    check("build_cycles_reuse_ids", reused, "cycle failed (rc %ld, id %ld)", rc, again);
    /* A 4 MiB domain takes at least its 1024 frames of RAM; gone, it gives back all it took. */
    check("build_free_frames", free_before && free_during + 1024 <= free_before &&
          free_frames() == free_before, "free frames: before %u, with one %u, after %u",
          free_before, free_during, free_frames());
    id = build("victim", 16, "act=canary beats=100000");
    rc = id > 0 ? ctl_domain(WISP_CTL_unpause, (uint32_t)id) : id;
    running_a_while((uint32_t)id);
    check("build_destroy_running", rc == 0 && ctl_domain(WISP_CTL_destroy, (uint32_t)id) == 0 &&
          wait_gone((uint32_t)id, 10000 * MS), "rc %ld", rc);
    checks_done();
    guest_shutdown(SHUTDOWN_poweroff);
}

/* ---- act=hostio (control role): the host channel, echoed back line by line ---- */

/*
 * The whole exchange, in guest time. Long: while Bochs' CPUs all wait, its clock
 * races ahead of the host's (a 250 ms pause of the relay's once passed over 120 s
 * here), and the test's own limit, in host time, is what really bounds it.
 */
#define HOSTIO_WAIT_NS  (3600000 * MS)

static long host_io(unsigned long cmd, const void *buf, uint32_t bytes)
{
    struct wisp_ctl_host_io a = { .buffer = HV_PTR(buf), .bytes = bytes };

    return ctl(cmd, &a);
}

/* All of len, waiting (polled, 1 ms) while the port is busy; false on an error or after the limit. */
static bool host_write_all(const char *s, size_t len, uint64_t deadline)
{
    while (len) {
        long n = host_io(WISP_CTL_host_write, s, len > WISP_HOST_IO_MAX ? WISP_HOST_IO_MAX
                                                                         : (uint32_t)len);
        if (n < 0 || pv_now() > deadline)
            return false;
        if (n == 0)
            sleep_ns(MS);
        s += n;
        len -= (size_t)n;
    }
    return true;
}

/* Every bad argument is refused before anything moves. */
static void check_host_io_hostile(void)
{
    static char buf[16];
    struct wisp_ctl_host_io a = { .buffer = HV_PTR(buf), .bytes = 1, .pad = 1 };

    check("hostio_pad", ctl(WISP_CTL_host_read, &a) == -XEN_EINVAL &&
          ctl(WISP_CTL_host_write, &a) == -XEN_EINVAL, "not EINVAL");
    check("hostio_sizes", host_io(WISP_CTL_host_read, buf, 0) == -XEN_EINVAL &&
          host_io(WISP_CTL_host_read, buf, WISP_HOST_IO_MAX + 1) == -XEN_EINVAL &&
          host_io(WISP_CTL_host_write, buf, 0) == -XEN_EINVAL &&
          host_io(WISP_CTL_host_write, buf, 0xffffffffu) == -XEN_EINVAL, "not EINVAL");
    check("hostio_bad_pointer", ctl(WISP_CTL_host_read, (void *)UNMAPPED_GVA) == -XEN_EFAULT &&
          ctl(WISP_CTL_host_write, (void *)UNMAPPED_GVA) == -XEN_EFAULT &&
          host_io(WISP_CTL_host_write, (void *)UNMAPPED_GVA, 16) == -XEN_EFAULT &&
          host_io(WISP_CTL_host_write, (void *)WRAPPING_GVA, 128) == -XEN_EFAULT, "not EFAULT");
}

/*
 * The first bytes to come in are read once into a buffer that is not mapped:
 * -EFAULT, and the same bytes are still there for the next read.
 */
static long first_read(char *buf, uint32_t size, uint32_t port, uint64_t deadline)
{
    long n = 0, bad = 0;

    while (!n && pv_now() < deadline) {
        if (poll_port(port, 1000 * MS))
            ev_clear_pending(port);
        bad = host_io(WISP_CTL_host_read, (void *)UNMAPPED_GVA, size);
        n = host_io(WISP_CTL_host_read, buf, size);
    }
    check("hostio_read_fault_keeps_bytes", n > 0 && bad == -XEN_EFAULT, "bad read %ld, then %ld",
          bad, n);
    return n;
}

/*
 * Says "HOSTIO ready" on the channel, then sends back every line that comes in
 * until "quit"; the test compares. Counts the VIRQs that woke it.
 */
static void act_hostio(void)
{
    static char buf[WISP_HOST_IO_MAX];
    uint64_t deadline = pv_now() + HOSTIO_WAIT_NS;
    uint32_t port = 0;
    unsigned long wakes = 0, lines = 0;
    bool quit = false, ok = true;
    char last[5] = { 0 };           /* the last five bytes seen: "quit\n" may come split */
    long n;

    if (ev_map_shared_info() || ev_bind_virq(WISP_VIRQ_HOST_CHANNEL, 0, &port)) {
        check_fail("hostio_setup", "shared_info or the host channel VIRQ");
        checks_done();
        serve_forever();
    }
    check_host_io_hostile();
    check("hostio_hello", host_write_all("HOSTIO ready\n", 13, deadline), "write failed");
    n = first_read(buf, sizeof(buf), port, deadline);
    while (ok && !quit && pv_now() < deadline) {
        for (long i = 0; i < n; i++) {
            lines += buf[i] == '\n';
            memmove(last, last + 1, sizeof(last) - 1);
            last[sizeof(last) - 1] = buf[i];
        }
        quit = !memcmp(last, "quit\n", sizeof(last));
        ok = host_write_all(buf, (size_t)n, deadline);
        while (!quit && pv_now() < deadline &&
               (n = host_io(WISP_CTL_host_read, buf, sizeof(buf))) == 0) {
            if (poll_port(port, 1000 * MS)) {
                ev_clear_pending(port);
                wakes++;
            }
        }
        ok &= n >= 0;
    }
    check("hostio_echoed_to_quit", ok && quit, "ok %d quit %d", ok, quit);
    check("hostio_virq", wakes > 0, "no VIRQ woke it");
    con_printf("HOSTIO %lu lines, %lu wakes\n", lines, wakes);
    checks_done();
    serve_forever();
}

/* ---- act=store: this domain's store ring page and port ---- */

static bool memmap_reserves(uint64_t gpa, bool *as_ram)
{
    const struct hvm_memmap_table_entry *map =
        (const void *)(uintptr_t)start_info->memmap_paddr;
    bool reserved = false;

    *as_ram = false;
    for (uint32_t i = 0; i < start_info->memmap_entries; i++) {
        if (gpa < map[i].addr || gpa - map[i].addr >= map[i].size)
            continue;
        reserved |= map[i].type == XEN_HVM_MEMMAP_TYPE_RESERVED;
        *as_ram |= map[i].type == XEN_HVM_MEMMAP_TYPE_RAM;
    }
    return reserved;
}

static void act_store(void)
{
    uint32_t xs = arg_number("xs", 0);
    long rc_pfn, rc_port;
    uint64_t pfn = get_param(HVM_PARAM_STORE_PFN, &rc_pfn);
    uint64_t port = get_param(HVM_PARAM_STORE_EVTCHN, &rc_port);
    bool as_ram, reserved = memmap_reserves(STORE_GPA, &as_ram);

    if (!xs) {
        check("store_none", rc_pfn == 0 && rc_port == 0 && pfn == 0 && port == 0 && !reserved,
              "pfn 0x%llx port %llu reserved %d", (unsigned long long)pfn,
              (unsigned long long)port, reserved);
        checks_done();
        return;
    }
    check("store_pfn", rc_pfn == 0 && pfn == STORE_GPA / PAGE_SIZE, "rc %ld pfn 0x%llx", rc_pfn,
          (unsigned long long)pfn);
    check("store_memmap_reserved", reserved && !as_ram, "reserved %d ram %d", reserved, as_ram);
    const volatile uint8_t *page = (const volatile uint8_t *)STORE_GPA;
    unsigned long nonzero = 0;
    for (unsigned long i = 0; i < PAGE_SIZE; i++)
        nonzero += page[i] != 0;
    check("store_page_zeroed", nonzero == 0, "%lu non-zero bytes", nonzero);

    struct evtchn_status st = { .dom = DOMID_SELF, .port = (uint32_t)port };
    long rc = ev_op(EVTCHNOP_status, HV_PTR(&st));
    check("store_evtchn_unbound", rc_port == 0 && port > 0 && rc == 0 &&
          st.status == EVTCHNSTAT_unbound && st.u.unbound.dom == xs,
          "port %llu rc %ld status %u remote %u", (unsigned long long)port, rc, st.status,
          st.u.unbound.dom);
    checks_done();
}

/* ---- act=service (roles control,backend): the device list and the disks as legacy pmem ---- */

#define MAX_DEVICES     16
#define PMEM_TYPE       12          /* E820 "persistent memory (legacy)" */
#define OWN_GT_GPA      0xE0000000UL    /* our grant table frame, for the hostile grant map */
#define REF_SELF        8

static struct wisp_ctl_device devs[MAX_DEVICES];

/* WISP_CTL_device_list from index first into devs; the entry count, or a negative error. */
static long list_devices(uint32_t first, uint32_t max, uint32_t *total)
{
    struct wisp_ctl_device_list l = { .first = first, .max_entries = max, .buffer = HV_PTR(devs) };
    long rc = ctl(WISP_CTL_device_list, &l);

    if (total)
        *total = l.nr_devices;
    return rc ? rc : (long)l.nr_entries;
}

/* Two lines a device: the console sends longer lines in pieces (CONSOLE_PIECE_MAX). */
static void print_device(long i, const struct wisp_ctl_device *d)
{
    con_printf("DEV %ld %u %u %u %u %u %u %s %02x:%02x:%02x:%02x:%02x:%02x\n", i, d->frontend,
               d->backend, d->kind, d->readonly, d->handle, d->devid, d->vdev[0] ? d->vdev : "-",
               d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5]);
    con_printf("DEVP %ld 0x%llx 0x%llx %llu %s\n", i, (unsigned long long)d->pmem_gpa,
               (unsigned long long)d->pmem_bytes, (unsigned long long)d->image_bytes,
               d->target[0] ? d->target : "-");
}

static long check_device_list(void)
{
    uint32_t total = 0, total2 = 0;
    long n = list_devices(0, MAX_DEVICES, &total);

    check("dev_list", n > 0 && (uint32_t)n == total, "rc %ld total %u", n, total);
    for (long i = 0; i < n; i++)
        print_device(i, &devs[i]);
    struct wisp_ctl_device first = devs[0], second = devs[1];
    long w = list_devices(1, 1, &total2);
    check("dev_list_window", n < 2 || (w == 1 && total2 == total &&
          !memcmp(&devs[0], &second, sizeof(second))), "rc %ld", w);
    check("dev_list_past_end", list_devices(total, MAX_DEVICES, NULL) == 0 &&
          list_devices(0xffffffffu, MAX_DEVICES, NULL) == 0, "entries past the end");
    check("dev_list_huge_max", list_devices(0, 0xffffffffu, NULL) == (long)total, "not bounded");
    struct wisp_ctl_device_list l = { .max_entries = 4, .buffer = UNMAPPED_GVA };
    check("dev_list_bad_buffer", ctl(WISP_CTL_device_list, &l) == -XEN_EFAULT &&
          ctl(WISP_CTL_device_list, (void *)UNMAPPED_GVA) == -XEN_EFAULT, "not EFAULT");
    l.buffer = WRAPPING_GVA;
    check("dev_list_wrapping_buffer", ctl(WISP_CTL_device_list, &l) == -XEN_EFAULT, "not EFAULT");
    n = list_devices(0, MAX_DEVICES, NULL);
    check("dev_list_stable", n == (long)total && !memcmp(&devs[0], &first, sizeof(first)),
          "the list changed");
    return n;
}

/* FNV-1a over 64-bit words of guest-physical [gpa, gpa+bytes), read page by page through the
 * alias window (the region lies above the 4 GiB identity map); also counts non-zero bytes
 * from offset zero_from on. */
static uint64_t hash_region(uint64_t gpa, uint64_t bytes, uint64_t zero_from, uint64_t *nonzero)
{
    uint64_t h = 0xcbf29ce484222325ull;

    *nonzero = 0;
    for (uint64_t off = 0; off < bytes; off += PAGE_SIZE) {
        const volatile uint64_t *p = alias_map(0, (const void *)(uintptr_t)(gpa + off));

        for (unsigned i = 0; i < PAGE_SIZE / 8; i++) {
            uint64_t w = p[i];

            h = (h ^ w) * 0x100000001b3ull;
            for (unsigned b = 0; b < 8; b++)
                *nonzero += off + i * 8 + b >= zero_from && ((w >> (8 * b)) & 0xff);
        }
    }
    return h;
}

static const struct wisp_ctl_device *device_at_gpa(long n, uint64_t gpa)
{
    for (long i = 0; i < n; i++)
        if (devs[i].kind == WISP_DEV_DISK && devs[i].pmem_gpa == gpa)
            return &devs[i];
    return NULL;
}

static long memop_one(int cmd, uint64_t gfn)
{
    xen_pfn_t list[1] = { gfn };
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };

    set_xen_guest_handle(r.extent_start, list);
    return hv_memory_op(cmd, HV_PTR(&r));
}

/*
 * Nothing may take a pmem gfn or free its frame: balloon ops, a grant frame and a grant
 * map over it (of our own grant) are refused, and a copy into it too.
 */
static void check_pmem_hostile(uint32_t self, uint64_t gpa)
{
    static uint8_t page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
    volatile grant_entry_v1_t *table = (volatile grant_entry_v1_t *)OWN_GT_GPA;
    struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
                                    .idx = 0, .gpfn = gpa / PAGE_SIZE };
    struct gnttab_map_grant_ref map = { .host_addr = gpa, .flags = GNTMAP_host_map,
                                        .ref = REF_SELF, .dom = (domid_t)self };
    struct gnttab_copy copy = { .source = { .u.gmfn = (uintptr_t)page / PAGE_SIZE,
                                            .domid = DOMID_SELF },
                                .dest = { .u.gmfn = gpa / PAGE_SIZE, .domid = DOMID_SELF },
                                .len = 8 };

    check("pmem_no_balloon", memop_one(XENMEM_decrease_reservation, gpa / PAGE_SIZE) == 0 &&
          memop_one(XENMEM_populate_physmap, gpa / PAGE_SIZE) == 0, "a balloon op took it");
    check("pmem_no_grant_frame", hv_memory_op(XENMEM_add_to_physmap, HV_PTR(&a)) == -XEN_EBUSY,
          "grant frame mapped over pmem");
    a.gpfn = OWN_GT_GPA / PAGE_SIZE;
    if (hv_memory_op(XENMEM_add_to_physmap, HV_PTR(&a))) {
        check_fail("pmem_no_grant_map", "cannot map our grant table");
        return;
    }
    memset(page, 0x5a, sizeof(page));
    table[REF_SELF].domid = (domid_t)self;
    table[REF_SELF].frame = (uint32_t)((uintptr_t)page / PAGE_SIZE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    table[REF_SELF].flags = GTF_permit_access;
    long rc = hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, HV_PTR(&map), 1, 0, 0);
    check("pmem_no_grant_map", rc == 0 && map.status == GNTST_general_error &&
          table[REF_SELF].flags == GTF_permit_access, "rc %ld status %d", rc, map.status);
    rc = hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_copy, HV_PTR(&copy), 1, 0, 0);
    check("pmem_no_grant_copy", rc == 0 && copy.status != GNTST_okay, "rc %ld status %d", rc,
          copy.status);
    table[REF_SELF].flags = 0;
}

/* Every type-12 memmap entry is a listed disk's region, with the image and zeros after it. */
static void check_pmem(uint32_t self, long n)
{
    const struct hvm_memmap_table_entry *map =
        (const void *)(uintptr_t)start_info->memmap_paddr;
    uint64_t first_gpa = 0, first_size = 0, first_hash = 0, nonzero;
    unsigned regions = 0, disks = 0;
    bool match = true, zero = true;

    for (long i = 0; i < n; i++)
        disks += devs[i].kind == WISP_DEV_DISK && devs[i].backend == self;
    for (uint32_t i = 0; i < start_info->memmap_entries; i++) {
        const struct wisp_ctl_device *d = device_at_gpa(n, map[i].addr);

        if (map[i].type != PMEM_TYPE)
            continue;
        regions++;
        match &= d && d->pmem_bytes == map[i].size && map[i].size % (2u << 20) == 0 &&
                 map[i].addr % (2u << 20) == 0 && d->image_bytes <= d->pmem_bytes;
        uint64_t h = hash_region(map[i].addr, map[i].size, d ? d->image_bytes : 0, &nonzero);
        zero &= nonzero == 0;
        con_printf("PMEM 0x%llx 0x%llx 0x%llx %llu\n", (unsigned long long)map[i].addr,
                   (unsigned long long)map[i].size, (unsigned long long)h,
                   (unsigned long long)nonzero);
        if (!first_gpa)
            first_gpa = map[i].addr, first_size = map[i].size, first_hash = h;
    }
    check("pmem_regions", regions == disks && regions > 0, "%u regions, %u disks", regions, disks);
    check("pmem_matches_list", match, "a region is not a listed disk's");
    check("pmem_padding_zero", zero, "non-zero bytes after an image");
    if (!first_gpa)
        return;
    check_pmem_hostile(self, first_gpa);
    check("pmem_intact", hash_region(first_gpa, first_size, ~0ull, &nonzero) == first_hash,
          "the region changed");
}

static void act_service(void)
{
    uint32_t self = arg_number("self", 0);
    long n = check_device_list();

    if (n > 0)
        check_pmem(self, n);
    checks_done();
    /* As the agent does once a guest's devices exist: its frontends may run now. */
    for (long i = 0; i < n; i++)
        (void)ctl_domain(WISP_CTL_unpause, devs[i].frontend);
    serve_forever();
}

struct act {
    const char *name;
    void (*run)(void);
};

static const struct act acts[] = {
    { "control", act_control },
    { "noperm", act_noperm },
    { "xs-role", act_xs_role },
    { "store", act_store },
    { "steal", act_steal },
    { "service", act_service },
    { "sched", act_sched },
    { "stats", act_stats },
    { "build", act_build },
    { "hostio", act_hostio },
};

int main(const struct hvm_start_info *si)
{
    char name[32];

    start_info = si;
    if (cmdline_get(si, "act", name, sizeof(name))) {
        for (unsigned int i = 0; i < ARRAY_SIZE(acts); i++) {
            if (!strcmp(acts[i].name, name)) {
                con_printf("ACT %s\n", name);
                acts[i].run();
                return 0;
            }
        }
    }
    con_printf("ACT unknown: act=control|noperm|xs-role|store|steal|service|sched|stats|build|hostio\n");
    return 1;
}
