/* control.c (hypervisor): Wisp's control hypercall (abi/wisp/control.h, docs/control.md): list, pause, unpause and destroy domains, allocate event channels in another domain, list the configured devices, get or set a domain's CPU share and read its statistics, for domains with the control or xenstore role. */
#include "env.h"
#include "errno.h"
#include "bootconfig.h"
#include "console_ring.h"
#include "devices.h"
#include "domain_build.h"
#include "host_channel.h"
#include "hvm.h"
#include "hypercall.h"
#include "mm.h"
#include "printk.h"
#include "start_info.h"
#include "sched.h"
#include "time.h"
#include "wisp/control.h"
#include "xen/vcpu.h"

/* domain_stats numbers exits as the ABI does: each of hvm.h's reasons has its WISP_EXIT_. */
#define X(name, text) _Static_assert(EXIT_##name == WISP_EXIT_##name, "exit reason " #name);
EXIT_REASONS(X)
#undef X
_Static_assert(NR_EXIT_REASONS <= WISP_STATS_EXITS, "room for every exit reason");

#define ANY_ROLE (WISP_ROLE_XENSTORE | WISP_ROLE_CONTROL | WISP_ROLE_BACKEND)

static void fill_info(const struct domain *d, struct wisp_domain_info *info)
{
    memset(info, 0, sizeof(*info));
    info->domid = d->id;
    info->state = domain_state(d);
    info->shutdown_reason = d->running ? 0 : (uint32_t)d->shutdown_reason;
    info->roles = d->roles;
    info->nr_vcpus = d->nr_vcpus;
    info->store_evtchn = (uint32_t)d->hvm_params[HVM_PARAM_STORE_EVTCHN];
    info->store_gfn = d->hvm_params[HVM_PARAM_STORE_PFN];
    info->tot_pages = d->tot_pages;
    info->max_pages = d->max_pages;
    memcpy(info->name, d->name, sizeof(info->name) - 1);
}

/*
 * Entry n of an array of SIZE-byte entries at guest-virtual BUFFER gets SRC:
 * 0, or -EFAULT when the entry wraps around the address space or cannot be written.
 */
static long copy_entry_to(struct hcall_ctx *c, uint64_t buffer, uint32_t n, const void *src,
                          size_t size)
{
    uint64_t dst = buffer + (uint64_t)n * size;

    if (dst < buffer || dst + size < dst)
        return -EFAULT;
    return hc_copy_to(c, dst, src, size) ? -EFAULT : 0;
}

/* The domain an id names, DOMID_SELF the caller; NULL for none (reserved ids included). */
static struct domain *named_domain(struct hcall_ctx *c, uint32_t domid)
{
    if (domid == DOMID_SELF)
        return c->d;
    return domid < DOMID_FIRST_RESERVED ? domain_by_id(domid) : NULL;
}

/* At most MAX_DOMAINS entries are written, whatever max_entries asks for. */
static long domain_list(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_domain_list l;
    struct wisp_domain_info info;
    uint32_t n = 0;

    if (hc_copy_from(c, &l, gva, sizeof(l)))
        return -EFAULT;
    for (struct domain *d = domain_next(NULL); d && n < l.max_entries; d = domain_next(d)) {
        if (d->id < l.first_domid)
            continue;
        fill_info(d, &info);
        if (copy_entry_to(c, l.buffer, n, &info, sizeof(info)))
            return -EFAULT;
        n++;
    }
    l.nr_entries = n;
    l.free_frames = (uint32_t)(frames_free_bytes() >> PAGE_SHIFT);
    return hc_copy_to(c, gva, &l, sizeof(l)) ? -EFAULT : 0;
}

/* The configured devices from index first; at most devices_count() entries are written. */
static long device_list(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_device_list l;
    const struct wisp_ctl_device *dev;
    uint32_t n = 0;

    if (hc_copy_from(c, &l, gva, sizeof(l)))
        return -EFAULT;
    for (uint32_t i = l.first; n < l.max_entries && (dev = device_at(i)); i++, n++)
        if (copy_entry_to(c, l.buffer, n, dev, sizeof(*dev)))
            return -EFAULT;
    l.nr_entries = n;
    l.nr_devices = devices_count();
    return hc_copy_to(c, gva, &l, sizeof(l)) ? -EFAULT : 0;
}

/* The domain a command names: another existing one (naming oneself is -EINVAL). */
static struct domain *other_domain(struct hcall_ctx *c, uint32_t domid, long *err)
{
    struct domain *d = domid < DOMID_FIRST_RESERVED ? domain_by_id(domid) : NULL;

    if (domid == DOMID_SELF || d == c->d)
        *err = -EINVAL;
    else if (!d)
        *err = -ESRCH;
    return d == c->d ? NULL : d;
}

/* pause and unpause keep vCPU state, timer deadlines and pending events (domain_set_paused). */
static long domain_command(struct hcall_ctx *c, unsigned cmd, uint64_t gva)
{
    struct wisp_ctl_domain a;
    struct domain *d;
    long err = 0;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (a.pad)
        return -EINVAL;
    if (!(d = other_domain(c, a.domid, &err)))
        return err;
    if (cmd == WISP_CTL_destroy) {
        domain_kill(d);         /* may end the machine: no return then */
        return 0;
    }
    if (!d->running)
        return -EINVAL;         /* shut down or dying: nothing to pause or run */
    if (d->paused != (cmd == WISP_CTL_pause))
        domain_set_paused(d, cmd == WISP_CTL_pause);
    return 0;
}

/* EVTCHNOP_alloc_unbound in domain dom; DOMID_SELF means the caller, as in Xen. */
static long evtchn_alloc_unbound_in(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_evtchn_alloc_unbound a;
    struct domain *d, *remote;
    int port;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (a.pad)
        return -EINVAL;
    d = named_domain(c, a.dom);
    remote = named_domain(c, a.remote_dom);
    if (!d || !remote)
        return -ESRCH;
    if (!d->running)
        return -EINVAL;         /* a dead domain's table must not gain ports a peer could bind */
    port = evtchn_alloc_unbound(&d->evtchn, (domid_t)remote->id);
    if (port < 0)
        return port;
    a.port = (uint32_t)port;
    return hc_copy_to(c, gva, &a, sizeof(a)) ? -EFAULT : 0;
}

/* A domain's weight and cap (sched.c): read, or set and in effect at once. */
static long sched_command(struct hcall_ctx *c, unsigned cmd, uint64_t gva)
{
    struct wisp_ctl_sched a;
    struct domain *d;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (a.pad)
        return -EINVAL;
    d = named_domain(c, a.domid);
    if (!d)
        return -ESRCH;
    if (cmd == WISP_CTL_sched_get) {
        a.weight = d->weight;
        a.cap = d->cap;
        return hc_copy_to(c, gva, &a, sizeof(a)) ? -EFAULT : 0;
    }
    if (!d->running || a.weight < 1 || a.weight > WISP_SCHED_MAX_WEIGHT || a.cap > WISP_SCHED_MAX_CAP)
        return -EINVAL;
    sched_set_share(d, a.weight, a.cap);
    return 0;
}

/* v's runstate times up to NOW, the state it is in counted to now. */
static void fill_vcpu_stats(const struct vcpu *v, uint64_t now, struct wisp_vcpu_stats *out)
{
    uint64_t t[4];

    memcpy(t, v->runstate_time, sizeof(t));
    if (v->runstate < 4 && now > v->runstate_entry_ns)
        t[v->runstate] += now - v->runstate_entry_ns;
    *out = (struct wisp_vcpu_stats){ .running_ns = t[RUNSTATE_running],
                                     .runnable_ns = t[RUNSTATE_runnable],
                                     .blocked_ns = t[RUNSTATE_blocked],
                                     .offline_ns = t[RUNSTATE_offline],
                                     .pcpu = v->pcpu, .runstate = (uint32_t)v->runstate };
}

/* A domain's counters and its vCPUs' times: at most MAX_VCPUS_PER_DOMAIN entries. */
static long domain_stats(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_domain_stats s;
    struct wisp_vcpu_stats vs;
    struct domain *d;
    uint64_t now = now_ns();

    if (hc_copy_from(c, &s, gva, sizeof(s)))
        return -EFAULT;
    if (s.pad)
        return -EINVAL;
    d = named_domain(c, s.domid);
    if (!d)
        return -ESRCH;
    for (uint32_t i = 0; i < s.max_vcpus && i < d->nr_vcpus; i++) {
        fill_vcpu_stats(&d->vcpus[i], now, &vs);
        if (copy_entry_to(c, s.vcpus, i, &vs, sizeof(vs)))
            return -EFAULT;
    }
    s.nr_vcpus = d->nr_vcpus;
    s.state = domain_state(d);
    s.tot_pages = d->tot_pages;
    s.max_pages = d->max_pages;
    s.events_sent = d->events_sent;
    s.events_received = d->events_received;
    s.vcpu_moves = d->migrations;
    s.nr_exit_reasons = NR_EXIT_REASONS;
    memset(s.exits, 0, sizeof(s.exits));
    memcpy(s.exits, d->exit_counts, sizeof(d->exit_counts));
    return hc_copy_to(c, gva, &s, sizeof(s)) ? -EFAULT : 0;
}

/* ---- Building a domain at run time (domain_build.c does the work) ---- */

static bool name_in_use(const char *name)
{
    for (struct domain *d = domain_next(NULL); d; d = domain_next(d))
        if (!d->dying && !strcmp(d->name, name))
            return true;
    return false;
}

/* The create's arguments as a boot-configuration entry; false if one is out of range. */
static bool create_config(const struct wisp_ctl_domain_create *a, struct domain_config *cfg)
{
    size_t len = strnlen(a->name, sizeof(a->name));

    if (len == sizeof(a->name) || !bootcfg_name_valid(a->name, len) ||
        a->memory_mib < BOOTCFG_MIN_MEMORY_MIB || a->memory_mib > BOOTCFG_MAX_MEMORY_MIB ||
        a->vcpus < 1 || a->vcpus > BOOTCFG_MAX_VCPUS || a->weight > BOOTCFG_MAX_WEIGHT ||
        a->cap > BOOTCFG_MAX_CAP)
        return false;
    memset(cfg, 0, sizeof(*cfg));
    memcpy(cfg->name, a->name, len);
    cfg->memory_mib = a->memory_mib;
    cfg->vcpus = a->vcpus;
    cfg->weight = a->weight ? a->weight : BOOTCFG_DEFAULT_WEIGHT;
    cfg->cap = a->cap;
    cfg->cpus = a->cpus ? a->cpus : BOOTCFG_ALL_PCPUS;
    cfg->max_grant_frames = BOOTCFG_DEFAULT_GRANT_FRAMES;
    cfg->max_maptrack_frames = BOOTCFG_DEFAULT_MAPTRACK_FRAMES;
    return true;
}

/* What its builder needs for the memory map it writes (pvh_boot_config): as d->memmap has it. */
static void describe_memory(const struct domain *d, struct wisp_ctl_domain_create *a)
{
    struct pvh_reserved_range r[WISP_CREATE_MAX_RESERVED];

    a->ram_bytes = d->ram_bytes;
    a->rsdp_paddr = d->rsdp_paddr;
    a->nr_reserved = domain_reserved_ranges(d, r, WISP_CREATE_MAX_RESERVED);
    memset(a->reserved, 0, sizeof(a->reserved));
    for (unsigned i = 0; i < a->nr_reserved; i++)
        a->reserved[i] = (struct wisp_ctl_range){ r[i].start, r[i].size, r[i].type, 0 };
}

static long create_domain(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_domain_create a;
    static struct domain_config cfg;    /* 20 KiB: not on the stack; under hv_lock */
    struct domain *d;
    char by[16];
    int rc;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (!create_config(&a, &cfg))
        return -EINVAL;
    if (name_in_use(cfg.name))
        return -EEXIST;
    snprintf(by, sizeof(by), "d%u", c->d->id);
    rc = domain_create(&cfg, by, &d);
    if (rc)
        return rc;
    a.domid = d->id;
    describe_memory(d, &a);
    if (hc_copy_to(c, gva, &a, sizeof(a))) {
        domain_kill(d);         /* the caller cannot learn its id: nothing must stay */
        return -EFAULT;
    }
    return 0;
}

/*
 * A building domain other than the caller, by id; with `scrubbed`, one whose RAM is
 * all zero already (writes and the start must not reach a previous owner's data).
 */
static struct domain *building_domain(struct hcall_ctx *c, uint32_t domid, bool scrubbed,
                                      long *err)
{
    struct domain *d = other_domain(c, domid, err);

    if (d && !d->building)
        *err = -EINVAL;
    else if (d && scrubbed && d->scrub_next < d->ram_bytes)
        *err = -EBUSY;
    else
        return d;
    return NULL;
}

static long scrub_domain(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_domain a;
    struct domain *d;
    long err = 0;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (a.pad)
        return -EINVAL;
    if (!(d = building_domain(c, a.domid, false, &err)))
        return err;
    return domain_scrub_step(d) ? 1 : 0;
}

static long write_domain(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_domain_write a;
    struct domain *d;
    void *dst;
    long err = 0;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (a.pad || a.bytes > WISP_WRITE_MAX)
        return -EINVAL;
    if (!(d = building_domain(c, a.domid, true, &err)))
        return err;
    if (!(dst = domain_build_window(d, a.gpa, a.bytes)))
        return -EINVAL;
    return hc_copy_from(c, dst, a.buffer, a.bytes) ? -EFAULT : 0;
}

static long start_domain(struct hcall_ctx *c, uint64_t gva)
{
    struct wisp_ctl_domain_start a;
    struct domain *d;
    long err = 0;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (a.pad)
        return -EINVAL;
    if (!(d = building_domain(c, a.domid, true, &err)))
        return err;
    if (a.entry >= (4ull << 30) || !domain_build_window(d, a.entry, 1) ||
        a.start_info >= (4ull << 30) ||
        !domain_build_window(d, a.start_info, sizeof(struct hvm_start_info)))
        return -EINVAL;
    return domain_start(d, a.entry, a.start_info);
}

/* Typed into another domain's console: read from the caller once, into its ring as room allows. */
static long console_input(struct hcall_ctx *c, uint64_t gva)
{
    static char buf[WISP_CONSOLE_INPUT_MAX];    /* guarded by hv_lock */
    struct wisp_ctl_console_input a;
    struct domain *d;
    long err = 0;

    if (hc_copy_from(c, &a, gva, sizeof(a)))
        return -EFAULT;
    if (!a.bytes || a.bytes > WISP_CONSOLE_INPUT_MAX)
        return -EINVAL;
    if (!(d = other_domain(c, a.domid, &err)))
        return err;
    if (!d->running || !d->console_ring)
        return -EINVAL;
    if (hc_copy_from(c, buf, a.buffer, a.bytes))
        return -EFAULT;
    return (long)console_ring_input(d, buf, a.bytes);
}

/*
 * Which roles may issue each command (any one of them is enough), and the
 * handler of those that need only their argument; the others are dispatched
 * by number in do_wisp_control.
 */
static const struct {
    uint32_t roles;
    long (*run)(struct hcall_ctx *c, uint64_t gva);
} commands[] = {
    [WISP_CTL_version] = { ANY_ROLE, NULL },
    [WISP_CTL_domain_list] = { WISP_ROLE_XENSTORE | WISP_ROLE_CONTROL, domain_list },
    [WISP_CTL_pause] = { WISP_ROLE_CONTROL, NULL },
    [WISP_CTL_unpause] = { WISP_ROLE_CONTROL, NULL },
    [WISP_CTL_destroy] = { WISP_ROLE_CONTROL, NULL },
    [WISP_CTL_evtchn_alloc_unbound] = { WISP_ROLE_CONTROL, evtchn_alloc_unbound_in },
    [WISP_CTL_device_list] = { WISP_ROLE_CONTROL, device_list },
    [WISP_CTL_sched_get] = { WISP_ROLE_CONTROL, NULL },
    [WISP_CTL_sched_set] = { WISP_ROLE_CONTROL, NULL },
    [WISP_CTL_domain_stats] = { WISP_ROLE_CONTROL, domain_stats },
    [WISP_CTL_domain_create] = { WISP_ROLE_CONTROL, create_domain },
    [WISP_CTL_domain_scrub] = { WISP_ROLE_CONTROL, scrub_domain },
    [WISP_CTL_domain_write] = { WISP_ROLE_CONTROL, write_domain },
    [WISP_CTL_domain_start] = { WISP_ROLE_CONTROL, start_domain },
    [WISP_CTL_host_read] = { WISP_ROLE_CONTROL, host_channel_read },
    [WISP_CTL_host_write] = { WISP_ROLE_CONTROL, host_channel_write },
    [WISP_CTL_console_input] = { WISP_ROLE_CONTROL, console_input },
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static bool may_issue(const struct domain *d, unsigned cmd)
{
    for (uint32_t role = 1; role & ANY_ROLE; role <<= 1)
        if ((commands[cmd].roles & role) && domain_has_role(d, role))
            return true;
    return false;
}

long do_wisp_control(struct hcall_ctx *c, const uint64_t *arg)
{
    unsigned cmd = arg[0] < NR_COMMANDS ? (unsigned)arg[0] : NR_COMMANDS;

    if (cmd == NR_COMMANDS)
        return -ENOSYS;
    if (!may_issue(c->d, cmd))
        return -EPERM;
    if (commands[cmd].run)
        return commands[cmd].run(c, arg[1]);
    if (cmd == WISP_CTL_version)
        return WISP_CONTROL_VERSION;
    if (cmd == WISP_CTL_sched_get || cmd == WISP_CTL_sched_set)
        return sched_command(c, cmd, arg[1]);
    return domain_command(c, cmd, arg[1]);      /* pause, unpause, destroy */
}
