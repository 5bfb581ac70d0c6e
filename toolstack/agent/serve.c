/* serve.c (service-domain tool): wisp-agent answers the host's requests over the host channel
 * (docs/control-protocol.md): list, pause, unpause, destroy, shutdown, reboot and sched. */
#define _GNU_SOURCE     /* strerrorname_np */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "create.h"
#include "ctl.h"
#include "log.h"
#include "serve.h"
#include "wire.h"
#include "wisp/control.h"
#include "xen/sched.h"

#define MAX_DOMAINS_LISTED 64

static struct {
    struct channel *chan;
    int privcmd;
    struct store *store;
    struct wire_lines lines;
    /* What the last look saw, to tell the host what changed. */
    struct wisp_domain_info known[MAX_DOMAINS_LISTED];
    unsigned long known_build[MAX_DOMAINS_LISTED];     /* create_build_of each, then */
    unsigned int nr_known;
} srv;

/* Kept in locked memory: the hypervisor writes the list by virtual address. */
static struct wisp_domain_info listed[MAX_DOMAINS_LISTED];

const char *domain_state_name(uint32_t state)
{
    static const char *const names[] = {
        [WISP_DOMSTATE_RUNNING] = "running", [WISP_DOMSTATE_PAUSED] = "paused",
        [WISP_DOMSTATE_SHUTDOWN] = "shutdown", [WISP_DOMSTATE_DYING] = "dying",
        [WISP_DOMSTATE_BUILDING] = "building",
    };

    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

static const char *shutdown_reason_name(uint32_t reason)
{
    static const char *const names[] = {
        [SHUTDOWN_poweroff] = "poweroff", [SHUTDOWN_reboot] = "reboot",
        [SHUTDOWN_suspend] = "suspend", [SHUTDOWN_crash] = "crash",
        [SHUTDOWN_watchdog] = "watchdog",
    };

    return reason < sizeof(names) / sizeof(names[0]) && names[reason] ? names[reason] : "unknown";
}

static void send(struct wire_out *o)
{
    int len = wire_end(o), err;

    if (len < 0) {
        say("a reply did not fit in one message; dropped");
        return;
    }
    err = channel_write(srv.chan, o->buf, (size_t)len);
    if (err)
        say("host channel write: %s", strerror(-err));
}

/* A successful reply's start: the op's own fields follow. */
static void begin_ok(struct wire_out *o, const char *id)
{
    wire_begin(o, "reply");
    wire_add(o, "id", id);
    wire_add(o, "status", "0");
}

static void reply_status(const char *id, int status)
{
    struct wire_out o;

    wire_begin(&o, "reply");
    wire_add(&o, "id", id);
    wire_addf(&o, "status", "%d", status);
    if (status < 0) {
        const char *name = strerrorname_np(-status);

        wire_add(&o, "error", name ? name : "EIO");
        wire_add(&o, "message", strerror(-status));
    }
    send(&o);
}

/* Every domain, ids ascending; the count, or a negative errno. */
static int list_all(void)
{
    unsigned int n = 0, got;
    int err;

    do {
        uint16_t first = n ? (uint16_t)(listed[n - 1].domid + 1) : 0;

        err = ctl_domain_list(srv.privcmd, first, listed + n, MAX_DOMAINS_LISTED - n, &got);
        if (err)
            return err;
        n += got;
    } while (got && n < MAX_DOMAINS_LISTED && listed[n - 1].domid + 1 < DOMID_FIRST_RESERVED);
    return (int)n;
}

static void add_domain_fields(struct wire_out *o, const struct wisp_domain_info *d)
{
    char name[sizeof(d->name) + 1];
    struct domain_usage u;

    memcpy(name, d->name, sizeof(d->name));
    name[sizeof(d->name)] = '\0';
    wire_addf(o, "domid", "%u", d->domid);
    wire_add(o, "name", name);
    wire_add(o, "state", domain_state_name(d->state));
    if (d->state == WISP_DOMSTATE_SHUTDOWN)
        wire_add(o, "reason", shutdown_reason_name(d->shutdown_reason));
    wire_addf(o, "roles", "%u", d->roles);
    wire_addf(o, "vcpus", "%u", d->nr_vcpus);
    wire_addf(o, "mem_kib", "%llu", (unsigned long long)d->tot_pages * 4);
    wire_addf(o, "max_kib", "%llu", (unsigned long long)d->max_pages * 4);
    if (!ctl_domain_usage(srv.privcmd, (uint16_t)d->domid, &u)) {
        wire_addf(o, "cpu_ns", "%llu", (unsigned long long)u.running_ns);
        wire_addf(o, "exits", "%llu", (unsigned long long)u.exits);
        wire_addf(o, "events", "%llu", (unsigned long long)u.events);
    }
}

/* An item per domain; the reply says how much memory the hypervisor has free. */
static void op_list(const char *id)
{
    int n = list_all();
    uint32_t free_frames;
    struct wire_out o;

    for (int i = 0; i < n; i++) {
        wire_begin(&o, "item");
        wire_add(&o, "id", id);
        add_domain_fields(&o, &listed[i]);
        send(&o);
    }
    if (n < 0 || (n = ctl_free_frames(srv.privcmd, &free_frames)) < 0) {
        reply_status(id, n);
        return;
    }
    begin_ok(&o, id);
    wire_addf(&o, "free_kib", "%llu", (unsigned long long)free_frames * 4);
    send(&o);
}

/*
 * The domain a request names: one that exists and has no role (the tool stack's
 * own are off limits). *d is its entry of the list just read.
 */
static int target(const struct wire_msg *m, uint16_t *domid,
                  const struct wisp_domain_info **d)
{
    uint64_t id;
    int n;

    if (wire_get_uint(m, "domid", DOMID_FIRST_RESERVED - 1, &id))
        return -EINVAL;
    n = list_all();
    for (int i = 0; i < n; i++) {
        if (listed[i].domid != id)
            continue;
        if (listed[i].roles)
            return -EPERM;
        *domid = (uint16_t)id;
        if (d)
            *d = &listed[i];
        return 0;
    }
    return n < 0 ? n : -ESRCH;
}

/* As xl shutdown/reboot: the guest is asked through its control/shutdown node. */
static int ask_shutdown(uint16_t domid, const char *how)
{
    char path[64];
    int err;

    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
    err = store_write(srv.store, STORE_NO_TX, path, how);
    return err;                         /* a XEN errno: the same numbers as Linux's */
}

static int op_sched(const struct wire_msg *m, const char *id)
{
    uint64_t domid, weight, cap;
    uint32_t now_weight, now_cap;
    struct wire_out o;
    int err, has_w, has_c;

    if (wire_get_uint(m, "domid", DOMID_FIRST_RESERVED - 1, &domid))
        return -EINVAL;
    err = ctl_sched_get(srv.privcmd, (uint16_t)domid, &now_weight, &now_cap);
    if (err)
        return err;
    has_w = wire_get_uint(m, "weight", WISP_SCHED_MAX_WEIGHT, &weight);
    has_c = wire_get_uint(m, "cap", WISP_SCHED_MAX_CAP, &cap);
    if (has_w == -2 || has_c == -2)
        return -EINVAL;
    if (!has_w || !has_c) {
        err = ctl_sched_set(srv.privcmd, (uint16_t)domid, !has_w ? (uint32_t)weight : now_weight,
                            !has_c ? (uint32_t)cap : now_cap);
        if (err || (err = ctl_sched_get(srv.privcmd, (uint16_t)domid, &now_weight, &now_cap)))
            return err;
    }
    begin_ok(&o, id);
    wire_addf(&o, "weight", "%u", now_weight);
    wire_addf(&o, "cap", "%u", now_cap);
    send(&o);
    return 1;   /* answered */
}

static int op_create(const struct wire_msg *m, const char *id)
{
    const char *why = "";
    long domid = create_domain(srv.privcmd, m, &why);
    struct wire_out o;

    if (domid < 0) {
        say("create %s: %s: %s", wire_get(m, "name") ? wire_get(m, "name") : "?", why,
            strerror((int)-domid));
        wire_begin(&o, "reply");
        wire_add(&o, "id", id);
        wire_addf(&o, "status", "%ld", domid);
        wire_add(&o, "error", strerrorname_np((int)-domid) ? strerrorname_np((int)-domid) : "EIO");
        wire_addf(&o, "message", "%s: %s", why, strerror((int)-domid));
        send(&o);
        return 1;
    }
    begin_ok(&o, id);
    wire_addf(&o, "domid", "%ld", domid);
    send(&o);
    return 1;
}

/*
 * xl mem-set: the guest's balloon target, memory/target in KiB in its xenstore
 * directory (a balloon driver moves toward it). At most what it was built with:
 * no ballooning above it yet.
 */
static int op_mem_set(const struct wire_msg *m, const char *id)
{
    char path[64], value[24];
    uint64_t mib;
    uint16_t domid;
    const struct wisp_domain_info *d;
    struct wire_out o;
    int err = target(m, &domid, &d);

    if (err)
        return err;
    /* 256 pages a MiB; max_pages leaves out the legacy hole, so the built size rounds up. */
    if (wire_get_uint(m, "mib", 65536, &mib) || !mib || mib > (d->max_pages + 255) / 256)
        return -EINVAL;
    snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
    snprintf(value, sizeof(value), "%llu", (unsigned long long)mib * 1024);
    if ((err = store_write(srv.store, STORE_NO_TX, path, value)))
        return err;
    begin_ok(&o, id);
    wire_add(&o, "target_kib", value);
    send(&o);
    return 1;
}

/* Keys for a domain's console (`wisp console`): as many as its ring takes, said in `taken`. */
static int op_console_input(const struct wire_msg *m, const char *id)
{
    static char keys[WISP_CONSOLE_INPUT_MAX];
    const char *data = wire_get(m, "data");
    uint64_t domid;
    long n = data ? wire_b64_decode(data, keys, sizeof(keys)) : -1, taken;
    struct wire_out o;

    if (n <= 0 || wire_get_uint(m, "domid", DOMID_FIRST_RESERVED - 1, &domid))
        return -EINVAL;
    taken = ctl_console_input(srv.privcmd, (uint16_t)domid, keys, (uint32_t)n);
    if (taken < 0)
        return (int)taken;
    begin_ok(&o, id);
    wire_addf(&o, "taken", "%ld", taken);
    send(&o);
    return 1;
}

/* Runs one request; a negative errno, 0 (reply ok) or 1 (already answered). */
static int run_request(const struct wire_msg *m, const char *op, const char *id)
{
    uint16_t domid;
    int err;

    if (!strcmp(op, "list")) {
        op_list(id);
        return 1;
    }
    if (!strcmp(op, "sched"))
        return op_sched(m, id);
    if (!strcmp(op, "put"))
        return create_put(m);
    if (!strcmp(op, "take"))
        return create_take(m);
    if (!strcmp(op, "have"))
        return create_have(m);
    if (!strcmp(op, "console_input"))
        return op_console_input(m, id);
    if (!strcmp(op, "mem_set"))
        return op_mem_set(m, id);
    if (!strcmp(op, "create"))
        return op_create(m, id);
    if (strcmp(op, "pause") && strcmp(op, "unpause") && strcmp(op, "destroy") &&
        strcmp(op, "shutdown") && strcmp(op, "reboot"))
        return -ENOSYS;
    if ((err = target(m, &domid, NULL)))
        return err;
    if (!strcmp(op, "pause"))
        return ctl_pause(srv.privcmd, domid);
    if (!strcmp(op, "unpause"))
        return ctl_unpause(srv.privcmd, domid);
    if (!strcmp(op, "destroy"))
        return ctl_destroy(srv.privcmd, domid);
    return ask_shutdown(domid, !strcmp(op, "reboot") ? "reboot" : "poweroff");
}

static void say_hello(void)
{
    struct wire_out o;

    wire_begin(&o, "hello");
    wire_addf(&o, "version", "%d", WIRE_VERSION);
    wire_add(&o, "agent", "wisp-agent");
    send(&o);
}

static void on_line(void *ctx, char *line)
{
    struct wire_msg m;
    const char *id, *op;
    int rc;

    (void)ctx;
    if (!line || wire_parse(line, &m)) {
        struct wire_out o;

        wire_begin(&o, "error");
        wire_add(&o, "message", line ? "malformed message" : "message longer than 4096 bytes");
        send(&o);
        return;
    }
    if (!strcmp(m.kind, "hello")) {
        say_hello();
        return;
    }
    id = wire_get(&m, "id");
    op = wire_get(&m, "op");
    if (strcmp(m.kind, "req") || !id || !op) {
        struct wire_out o;

        wire_begin(&o, "error");
        wire_add(&o, "message", "want: req id=ID op=OP ...");
        send(&o);
        return;
    }
    rc = run_request(&m, op, id);
    if (rc != 1)
        reply_status(id, rc);
    if (rc < 0)
        say("request %s (%s): %s", id, op, strerror(-rc));
}

void serve_start(struct channel *chan, int privcmd, struct store *store)
{
    int n;

    srv.chan = chan;
    srv.privcmd = privcmd;
    srv.store = store;
    n = list_all();
    srv.nr_known = n > 0 ? (unsigned int)n : 0;
    memcpy(srv.known, listed, sizeof(listed[0]) * srv.nr_known);
    say_hello();
    say("serving the host's requests on the host channel");
}

void serve_pump(void)
{
    static char buf[WISP_HOST_IO_MAX];
    long n;

    if (!srv.chan)
        return;
    channel_ack(srv.chan);
    while ((n = channel_read(srv.chan, buf, sizeof(buf))) > 0)
        wire_feed(&srv.lines, buf, (size_t)n, on_line, NULL);
    if (n < 0)
        say("host channel read: %s", strerror((int)-n));
}

static const struct wisp_domain_info *find(const struct wisp_domain_info *in, unsigned int n,
                                           uint32_t domid)
{
    for (unsigned int i = 0; i < n; i++)
        if (in[i].domid == domid)
            return &in[i];
    return NULL;
}

/* Whether known[i], what the last look saw, is d: the same id, name and build (ids are reused). */
static bool is_known(unsigned int i, const struct wisp_domain_info *d)
{
    return srv.known[i].domid == d->domid && !memcmp(srv.known[i].name, d->name, sizeof(d->name)) &&
           srv.known_build[i] == create_build_of(d->domid);
}

/* One event per domain whose state changed, that appeared, or that is gone (state "gone"). */
void serve_domains_changed(void)
{
    int n;

    if (!srv.chan || (n = list_all()) < 0)
        return;
    for (unsigned int i = 0; i < srv.nr_known; i++) {
        const struct wisp_domain_info *was = &srv.known[i];
        const struct wisp_domain_info *now = find(listed, (unsigned int)n, was->domid);
        struct wire_out o;

        if (now && !is_known(i, now))
            now = NULL;                 /* another domain took its id */
        if (now && now->state == was->state)
            continue;
        if (now && now->state == WISP_DOMSTATE_SHUTDOWN)
            create_on_shutdown(srv.privcmd, now);
        if (!now && !find(listed, (unsigned int)n, was->domid))
            create_forget(srv.privcmd, was->domid);  /* unless a new domain has its id already */
        wire_begin(&o, "event");
        if (now) {
            add_domain_fields(&o, now);
        } else {
            char name[sizeof(was->name) + 1];

            memcpy(name, was->name, sizeof(was->name));
            name[sizeof(was->name)] = '\0';
            wire_addf(&o, "domid", "%u", was->domid);
            wire_add(&o, "name", name);
            wire_add(&o, "state", "gone");
        }
        send(&o);
    }
    for (int i = 0; i < n; i++) {
        const struct wisp_domain_info *was = find(srv.known, srv.nr_known, listed[i].domid);
        struct wire_out o;

        if (was && is_known((unsigned int)(was - srv.known), &listed[i]))
            continue;
        if (listed[i].state == WISP_DOMSTATE_SHUTDOWN)    /* it ended before we first saw it */
            create_on_shutdown(srv.privcmd, &listed[i]);
        wire_begin(&o, "event");
        add_domain_fields(&o, &listed[i]);
        send(&o);
    }
    srv.nr_known = (unsigned int)n;
    memcpy(srv.known, listed, sizeof(listed[0]) * srv.nr_known);
    for (unsigned int i = 0; i < srv.nr_known; i++)
        srv.known_build[i] = create_build_of(srv.known[i].domid);
}
