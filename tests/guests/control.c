/* control.c (guest, ctl64): Wisp's control hypercall and the store ring, seen from a domain with a role or none; act=<name> picks the part (docs/control.md, tests/integration/test_control.py). */
#include "guest.h"
#include "evlib.h"
#include "xen/errno.h"
#include "xen/hvm_op.h"
#include "xen/hvm_params.h"
#include "xen/sched.h"
#include "xen/start_info.h"
#include "xen/vcpu.h"
#include "wisp/control.h"

#define STORE_GPA       0xfeffe000UL
#define PAGE_SIZE       4096UL
#define UNMAPPED_GVA    0x00007f0000000000UL    /* not mapped by the runtime's page tables */
#define WRAPPING_GVA    0xffffffffffffffc0UL
#define MS              NS_PER_MS
#define MAX_LIST        8

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
    for (;;)
        poll_port(0, 1000 * MS);
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
    l = (struct wisp_ctl_domain_list){ .first_domid = 1, .max_entries = 1, .buffer = HV_PTR(list),
                                       .pad = 1 };
    check("ctl_list_pad", ctl(WISP_CTL_domain_list, &l) == -XEN_EINVAL, "not EINVAL");

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
    check("ctl_unknown_command", ctl(7, list) == -XEN_ENOSYS && ctl(1ul << 40, list) == -XEN_ENOSYS,
          "not ENOSYS");
}

/* ---- act=control: the whole control sequence of test_control.py ---- */

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
    rc = ctl_domain(WISP_CTL_unpause, canary);
    if (victim)
        rc |= ctl_domain(WISP_CTL_unpause, victim);
    con_printf("CTL unpaused %u after %llu ms\n", canary,
               (unsigned long long)((pv_now() - start) / MS));
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
          ctl_alloc_unbound(1, 1, &port) == -XEN_EPERM, "a control command did not give EPERM");
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
    con_printf("ACT unknown: act=control|noperm|xs-role|store|steal\n");
    return 1;
}
