/* main.c (service-domain tool, static Linux binary in the service initramfs): wisp-agent, the hotplug half of a Xen toolstack. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "create.h"
#include "ctl.h"
#include "host.h"
#include "log.h"
#include "serve.h"
#include "store.h"

#define USAGE \
    "usage: wisp-agent                  set up the boot configuration's disks and vifs, then\n" \
    "                                   tear a guest's down when it dies (docs/agent.md)\n" \
    "       wisp-agent --print-nodes DEVICE...\n" \
    "                                   print the xenstore nodes written for each DEVICE as JSON:\n" \
    "                                   disk:FRONTEND:BACKEND:VDEV:rw|ro:TARGET\n" \
    "                                   vif:FRONTEND:BACKEND:HANDLE[:MAC]\n" \
    "       wisp-agent --list             print every domain: id, name, state, pages (like xl list)\n" \
    "       wisp-agent --destroy DOMID    end domain DOMID at once (like xl destroy); this agent\n" \
    "                                   then removes its devices\n" \
    "Environment: WISP_AGENT_XENBUS (/dev/xen/xenbus), WISP_AGENT_PRIVCMD (/dev/xen/privcmd),\n" \
    "WISP_AGENT_EVTCHN (/dev/xen/evtchn), WISP_AGENT_SYSFS (/sys), WISP_AGENT_RUN (/run),\n" \
    "WISP_AGENT_PRELOAD (/preload: files for the create cache, named by SHA-256),\n" \
    "WISP_AGENT_DEVICE_WAIT_MS (how long to wait for a pmem disk (10000) and for a vif's\n" \
    "interface (20000)).\n"

#define MAX_DEVICES      64
#define STORE_REPLY_MS   30000   /* one xenstore reply (xenstored is a guest under an emulator) */
#define STORE_READY_MS   60000   /* the store answering at all after boot */
#define PMEM_WAIT_MS     10000
#define NETDEV_WAIT_MS   20000
#define RELEASE_POLL_MS  5000    /* domains are checked this often even without @releaseDomain */
#define TX_ATTEMPTS      8

/* What the agent knows of one device; its whole state lives here (single-threaded). */
struct device {
    struct wisp_ctl_device d;
    bool valid;          /* devnodes_check passed */
    bool written;        /* its nodes are in the store */
    bool check_failed;   /* a failed liveness check was logged (once, not every pass) */
};

/* Kept in locked memory: the hypervisor reads and writes the device list by virtual address. */
static struct wisp_ctl_device listed[MAX_DEVICES];
static struct device devices[MAX_DEVICES];
static unsigned int nr_devices;
static struct store store;
static struct host_paths paths;
static int privcmd = -1;
static int pmem_wait_ms = PMEM_WAIT_MS, netdev_wait_ms = NETDEV_WAIT_MS;

static const char *xen_strerror(int err)
{
    const char *name = xs_error_name(err < 0 ? -err : err);

    return name ? name : strerror(err < 0 ? -err : err);
}

/* The agent is often the service domain's init: it must never exit, so a fatal error parks it. */
static void __attribute__((noreturn)) give_up(void)
{
    if (getpid() != 1)
        exit(1);
    say("stopped; backends already set up keep working");
    for (;;)
        pause();
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v && *v ? v : fallback;
}

/* ---- --print-nodes: the table the integration test compares the live store with ---- */

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_nodes(const struct devnode_list *l, bool *first)
{
    for (unsigned int i = 0; i < l->n; i++) {
        const struct devnode *n = &l->node[i];
        printf("%s\n  {\"path\": ", *first ? "" : ",");
        print_json_string(n->path);
        printf(", \"value\": ");
        if (n->value_known)
            print_json_string(n->value);
        else
            printf("null");
        printf(", \"perms\": [\"n%u\", \"r%u\"], \"dir\": %s, \"changes\": %s, \"phase\": \"%s\"}",
               n->owner, n->reader, n->dir ? "true" : "false", n->changes ? "true" : "false",
               n->phase == DEVNODE_SETUP ? "setup" : "hotplug");
        *first = false;
    }
}

static int print_nodes_main(int argc, char **argv)
{
    static struct devnode_list l;
    bool first = true;

    if (argc == 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        struct wisp_ctl_device d;
        if (devnodes_parse_spec(argv[i], &d)) {
            fprintf(stderr, "wisp-agent: bad device '%s'\n%s", argv[i], USAGE);
            return 2;
        }
    }
    printf("[");
    for (int i = 0; i < argc; i++) {
        struct wisp_ctl_device d;
        int err = devnodes_parse_spec(argv[i], &d);

        l.n = 0;
        if (!err)
            err = devnodes_setup(&d, &l);
        if (!err)
            err = d.kind == WISP_DEV_DISK ? devnodes_vbd_hotplug(&d, 0, 0, NULL, &l)
                                          : devnodes_vif_hotplug(&d, &l);
        if (err) {
            fprintf(stderr, "wisp-agent: '%s': %s\n", argv[i], xen_strerror(err));
            return 1;
        }
        print_nodes(&l, &first);
    }
    printf("\n]\n");
    return 0;
}

/* ---- --list and --destroy: xl's two verbs the service domain's users and tests need ---- */

static int open_privcmd_for_verb(void)
{
    const char *path = env_or("WISP_AGENT_PRIVCMD", "/dev/xen/privcmd");
    int fd;

    (void)mlockall(MCL_CURRENT | MCL_FUTURE);   /* the hypervisor reads our buffers */
    fd = ctl_open(path);
    if (fd < 0)
        fprintf(stderr, "wisp-agent: cannot open %s: %s\n", path, strerror(-fd));
    return fd;
}

static int list_main(void)
{
    static struct wisp_domain_info infos[16];
    unsigned int first = 0, n;
    int fd = open_privcmd_for_verb();

    if (fd < 0)
        return 1;
    do {
        int err = ctl_domain_list(fd, (uint16_t)first, infos, 16, &n);
        if (err) {
            fprintf(stderr, "wisp-agent: WISP_CTL_domain_list: %s\n", strerror(-err));
            return 1;
        }
        if (first == 0)
            printf("%-5s %-31s %-8s %s\n", "ID", "NAME", "STATE", "PAGES");
        for (unsigned int i = 0; i < n; i++) {
            infos[i].name[sizeof(infos[i].name) - 1] = '\0';
            printf("%-5u %-31s %-8s %llu\n", infos[i].domid, infos[i].name,
                   domain_state_name(infos[i].state), (unsigned long long)infos[i].tot_pages);
        }
        if (n)
            first = infos[n - 1].domid + 1;
    } while (n == 16 && first < DOMID_FIRST_RESERVED);
    return 0;
}

static int destroy_main(const char *arg)
{
    char *end;
    unsigned long domid = strtoul(arg, &end, 10);
    int fd, err;

    if (arg[0] < '0' || arg[0] > '9' || *end || domid >= DOMID_FIRST_RESERVED) {
        fprintf(stderr, "wisp-agent: bad domain id '%s'\n%s", arg, USAGE);
        return 2;
    }
    fd = open_privcmd_for_verb();
    if (fd < 0)
        return 1;
    err = ctl_destroy(fd, (uint16_t)domid);
    if (err) {
        fprintf(stderr, "wisp-agent: destroying d%lu: %s\n", domid,
                err == -ESRCH ? "no such domain" : err == -EINVAL ? "not allowed (itself?)"
                                                                  : strerror(-err));
        return 1;
    }
    printf("d%lu destroyed\n", domid);
    return 0;
}

/* ---- setting devices up ---- */

static void describe(const struct wisp_ctl_device *d, char *buf, size_t cap)
{
    if (d->kind == WISP_DEV_DISK)
        snprintf(buf, cap, "d%u %s (%s, %s)", d->frontend, d->vdev, d->target,
                 d->readonly ? "ro" : "rw");
    else
        snprintf(buf, cap, "d%u vif%u.%u (%02x:%02x:%02x:%02x:%02x:%02x)", d->frontend,
                 d->frontend, d->handle, d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4],
                 d->mac[5]);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads our own domid until the store answers, for STORE_READY_MS in all. */
static bool wait_for_store(void)
{
    char domid[16];
    int err = -XEN_EIO;
    int64_t deadline = now_ms() + STORE_READY_MS;

    store.reply_timeout_ms = 5000;   /* short tries; a late reply is skipped by req_id */
    while (now_ms() < deadline) {
        int64_t tried = now_ms();

        err = store_read(&store, STORE_NO_TX, "domid", domid, sizeof(domid));
        if (err == 0) {
            store.reply_timeout_ms = STORE_REPLY_MS;
            say("xenstore answers; this is domain %s", domid);
            return true;
        }
        if (now_ms() - tried < 1000)
            sleep(1);   /* it failed at once: try again a little later */
    }
    say("xenstore did not answer in %d s: %s", STORE_READY_MS / 1000, xen_strerror(err));
    return false;
}

static bool read_devices(void)
{
    unsigned int n = 0;
    int err = ctl_device_list(privcmd, listed, MAX_DEVICES, &n);

    if (err) {
        say("WISP_CTL_device_list failed: %s", strerror(-err));
        return false;
    }
    if (n == MAX_DEVICES)
        say("only the first %d devices are served", MAX_DEVICES);
    nr_devices = n;
    for (unsigned int i = 0; i < n; i++) {
        char what[96];

        devices[i] = (struct device){ .d = listed[i], .valid = devnodes_check(&listed[i]) == 0 };
        if (devices[i].valid) {
            describe(&devices[i].d, what, sizeof(what));
            say("device %u: %s", i, what);
        } else {
            say("device %u: malformed (kind %u, frontend %u, backend %u, devid %u), skipped", i,
                listed[i].kind, listed[i].frontend, listed[i].backend, listed[i].devid);
        }
    }
    say("%u device%s", n, n == 1 ? "" : "s");
    return true;
}

/* Ignores ENOENT: removing what is not there is done. */
static int remove_node(uint32_t tx, const char *path)
{
    int err = store_rm(&store, tx, path);

    return err == -XEN_ENOENT ? 0 : err;
}

/*
 * libxl__device_generic_add's sequence: a directory is removed, made again
 * and given its permissions; a key is written and given the permissions the
 * table says (libxl sets them on frontend keys and lets backend keys inherit
 * the same list; setting them always keeps the store equal to the table).
 */
static int write_nodes(uint32_t tx, const struct devnode_list *l)
{
    for (unsigned int i = 0; i < l->n; i++) {
        const struct devnode *n = &l->node[i];
        int err;

        if (n->dir) {
            err = remove_node(tx, n->path);
            if (!err)
                err = store_mkdir(&store, tx, n->path);
        } else {
            err = store_write(&store, tx, n->path, n->value);
        }
        if (!err)
            err = store_set_perms(&store, tx, n->path, n->owner, n->reader);
        if (err) {
            say("writing %s: %s", n->path, xen_strerror(err));
            return err;
        }
    }
    return 0;
}

/* Writes the nodes of every valid device of one frontend in transaction tx. */
static int write_frontend(uint32_t tx, uint16_t frontend, unsigned int *count)
{
    static struct devnode_list l;

    *count = 0;
    for (unsigned int i = 0; i < nr_devices; i++) {
        struct device *dev = &devices[i];
        int err;

        if (dev->d.frontend != frontend || !dev->valid)
            continue;
        l.n = 0;
        err = devnodes_setup(&dev->d, &l);
        if (!err)
            err = write_nodes(tx, &l);
        if (err)
            return err;
        (*count)++;
    }
    return 0;
}

static bool has_valid_device(uint16_t frontend)
{
    for (unsigned int i = 0; i < nr_devices; i++) {
        if (devices[i].d.frontend == frontend && devices[i].valid)
            return true;
    }
    return false;
}

/* One transaction per frontend, retried while a conflicting change wins (libxl does the same). */
static void setup_frontend(uint16_t frontend)
{
    if (!has_valid_device(frontend))
        return;
    for (int attempt = 1; attempt <= TX_ATTEMPTS; attempt++) {
        uint32_t tx;
        unsigned int count;
        int err = store_tx_start(&store, &tx);

        if (err) {
            say("d%u: cannot start a transaction: %s", frontend, xen_strerror(err));
            return;
        }
        err = write_frontend(tx, frontend, &count);
        if (err) {
            (void)store_tx_end(&store, tx, false);
            say("d%u: device nodes not written (%s)", frontend, xen_strerror(err));
            return;
        }
        err = store_tx_end(&store, tx, true);
        if (err == -XEN_EAGAIN)
            continue;
        if (err) {
            say("d%u: committing its device nodes: %s", frontend, xen_strerror(err));
            return;
        }
        for (unsigned int i = 0; i < nr_devices; i++) {
            if (devices[i].d.frontend == frontend && devices[i].valid)
                devices[i].written = true;
        }
        say("d%u: wrote the nodes of %u device%s in one transaction", frontend, count,
            count == 1 ? "" : "s");
        return;
    }
    say("d%u: transaction kept conflicting, %d attempts", frontend, TX_ATTEMPTS);
}

/* Hotplug writes go one at a time, as the scripts' xenstore-write calls do. */
static int write_hotplug(const struct devnode_list *l)
{
    for (unsigned int i = 0; i < l->n; i++) {
        int err = store_write(&store, STORE_NO_TX, l->node[i].path, l->node[i].value);
        if (err) {
            say("writing %s: %s", l->node[i].path, xen_strerror(err));
            return err;
        }
    }
    return 0;
}

/* The block script's part: the pmem device backing the disk becomes physical-device. */
static void hotplug_disk(const struct wisp_ctl_device *d)
{
    static struct devnode_list l;
    struct pmem_disk pmem;
    char dev_path[48];

    if (host_find_pmem(&paths, d->pmem_gpa, pmem_wait_ms, &pmem)) {
        say("d%u %s: no /dev/pmem* starts at %#llx after %d s; disk not connected", d->frontend,
            d->vdev, (unsigned long long)d->pmem_gpa, pmem_wait_ms / 1000);
        return;
    }
    if (pmem.bytes && pmem.bytes < d->image_bytes)
        say("d%u %s: %s holds %llu bytes, less than the image's %llu", d->frontend, d->vdev,
            pmem.name, (unsigned long long)pmem.bytes, (unsigned long long)d->image_bytes);
    snprintf(dev_path, sizeof(dev_path), "/dev/%s", pmem.name);
    l.n = 0;
    if (devnodes_vbd_hotplug(d, pmem.major, pmem.minor, dev_path, &l) || write_hotplug(&l))
        return;
    say("d%u %s: %s (%u:%u, %llu bytes) is physical-device %x:%x, %s, hotplug-status connected",
        d->frontend, d->vdev, dev_path, pmem.major, pmem.minor, (unsigned long long)pmem.bytes,
        pmem.major, pmem.minor, d->readonly ? "read-only" : "read-write");
}

/* vif-bridge's part: netback's interface joins the bridge, goes up, then hotplug-status connected. */
static void hotplug_vif(const struct wisp_ctl_device *d)
{
    static struct devnode_list l;
    char ifname[24];
    int err;

    devnodes_vif_ifname(d, ifname, sizeof(ifname));
    if (host_wait_netdev(&paths, ifname, netdev_wait_ms)) {
        say("%s did not appear in %d s; vif not connected", ifname, netdev_wait_ms / 1000);
        return;
    }
    err = host_bridge_add(DEVNODES_BRIDGE, ifname);
    if (err) {
        say("%s: adding it to %s: %s; vif not connected", ifname, DEVNODES_BRIDGE,
            strerror(-err));
        return;
    }
    l.n = 0;
    if (devnodes_vif_hotplug(d, &l) || write_hotplug(&l))
        return;
    say("%s is on %s and up, hotplug-status connected", ifname, DEVNODES_BRIDGE);
}

static void start_dhcp(void)
{
    static char conf[8192];
    unsigned int vifs = 0;
    int len, err;

    for (unsigned int i = 0; i < nr_devices; i++)
        vifs += devices[i].valid && devices[i].d.kind == WISP_DEV_VIF;
    if (vifs == 0)
        return;
    len = devnodes_dhcp_conf(listed, nr_devices, conf, sizeof(conf));
    if (len < 0) {
        say("udhcpd.conf does not fit in %zu bytes; no DHCP", sizeof(conf));
        return;
    }
    err = host_start_udhcpd(&paths, conf, (size_t)len);
    if (err) {
        say("starting udhcpd: %s; no DHCP", strerror(-err));
        return;
    }
    say("udhcpd started on %s with %u static leases (%s/udhcpd.conf)", DEVNODES_BRIDGE, vifs,
        paths.run);
}

/* Whether domid appears before index i as a frontend (so each is handled once, in list order). */
static bool seen_before(unsigned int i)
{
    for (unsigned int j = 0; j < i; j++) {
        if (devices[j].d.frontend == devices[i].d.frontend)
            return true;
    }
    return false;
}

static void unpause_frontends(void)
{
    for (unsigned int i = 0; i < nr_devices; i++) {
        /* A malformed device still names the guest waiting for it, which runs without it. */
        if (seen_before(i) || devices[i].d.frontend >= DOMID_FIRST_RESERVED)
            continue;
        int err = ctl_unpause(privcmd, devices[i].d.frontend);
        if (err)
            say("d%u: unpause failed: %s", devices[i].d.frontend, strerror(-err));
        else
            say("d%u: unpaused", devices[i].d.frontend);
    }
}

/* ---- tearing down ---- */

/*
 * A dead guest's devices go as libxl's forced removal makes them go
 * (libxl__device_destroy): the backend directories are removed, which makes
 * Linux's backends unregister, close their rings and unmap the guest's
 * grants; then the frontend directory (xenstored has usually removed the
 * whole /local/domain/F already).
 */
static int remove_frontend(uint32_t tx, uint16_t frontend, uint16_t backend)
{
    static const uint8_t kinds[] = { WISP_DEV_DISK, WISP_DEV_VIF };
    char path[DEVNODE_PATH_MAX];
    int err = 0;

    for (unsigned int k = 0; !err && k < sizeof(kinds); k++) {
        devnodes_backend_dir_of(backend, frontend, kinds[k], path, sizeof(path));
        err = remove_node(tx, path);
    }
    if (!err) {
        devnodes_frontend_dir_of(frontend, path, sizeof(path));
        err = remove_node(tx, path);
    }
    return err;
}

static void teardown(uint16_t frontend)
{
    uint16_t backend = 0;
    unsigned int count = 0;

    for (unsigned int i = 0; i < nr_devices; i++) {
        if (devices[i].d.frontend == frontend && devices[i].written) {
            backend = devices[i].d.backend;
            devices[i].written = false;
            count++;
        }
    }
    if (count == 0)
        return;
    for (int attempt = 1; attempt <= TX_ATTEMPTS; attempt++) {
        uint32_t tx = 0;
        int err = store_tx_start(&store, &tx);

        if (!err)
            err = remove_frontend(tx, frontend, backend);
        if (!err)
            err = store_tx_end(&store, tx, true);
        else if (tx)
            (void)store_tx_end(&store, tx, false);
        if (err == -XEN_EAGAIN)
            continue;
        if (err)
            say("d%u is gone; removing its devices: %s", frontend, xen_strerror(err));
        else
            say("d%u is gone: removed its %u device%s (/local/domain/%u/backend/{vbd,vif}/%u)",
                frontend, count, count == 1 ? "" : "s", backend, frontend);
        return;
    }
    say("d%u is gone; its removal kept conflicting, %d attempts", frontend, TX_ATTEMPTS);
}

static void check_frontends(void)
{
    for (unsigned int i = 0; i < nr_devices; i++) {
        if (!devices[i].written)
            continue;
        int alive = ctl_domain_alive(privcmd, devices[i].d.frontend);
        if (alive < 0) {
            if (!devices[i].check_failed)
                say("d%u: WISP_CTL_domain_list failed: %s", devices[i].d.frontend,
                    strerror(-alive));
            devices[i].check_failed = true;
            continue;
        }
        if (!alive)
            teardown(devices[i].d.frontend);
    }
}

/* The host channel, when the machine has one: the agent then also serves the host's requests. */
static struct channel *open_channel(void)
{
    static struct channel chan;
    const char *dev = env_or("WISP_AGENT_EVTCHN", "/dev/xen/evtchn");
    int err = channel_open(&chan, privcmd, dev);

    if (err == -ENODEV)
        return NULL;
    if (err) {
        say("the host channel is there, but %s: %s; no requests are served", dev, strerror(-err));
        return NULL;
    }
    return &chan;
}

/*
 * Forever: devices of dead guests are torn down (@releaseDomain, or every
 * RELEASE_POLL_MS), and with a host channel its requests are answered and
 * domain changes reported.
 */
static void __attribute__((noreturn)) watch_and_serve(void)
{
    struct channel *chan = open_channel();
    int err = store_watch(&store, "@releaseDomain");

    if (err)
        say("cannot watch @releaseDomain (%s); checking every %d s", xen_strerror(err),
            RELEASE_POLL_MS / 1000);
    else
        say("watching @releaseDomain");
    if (chan)
        serve_start(chan, privcmd, &store);
    for (int64_t last_look = now_ms();;) {
        struct pollfd fds[2] = { { .fd = store.fd, .events = POLLIN },
                                 { .fd = chan ? chan->evtchn : -1, .events = POLLIN } };
        int ready = poll(fds, 2, RELEASE_POLL_MS);

        if (ready < 0 && errno != EINTR) {
            say("poll: %s", strerror(errno));
            give_up();
        }
        if (fds[1].revents)
            serve_pump();
        /* Requests keep poll busy: the periodic look goes by the clock, not by poll's timeout. */
        if (fds[0].revents || now_ms() - last_look >= RELEASE_POLL_MS) {
            last_look = now_ms();
            int got = store_wait_event(&store, 0);

            if (got < 0) {
                say("the xenstore connection broke: %s", xen_strerror(got));
                give_up();
            }
            check_frontends();
            serve_domains_changed();
        }
    }
}

static void __attribute__((noreturn)) run(void)
{
    int err;

    /* Often init: children (udhcpd) and orphans are reaped by the kernel, never waited for. */
    signal(SIGCHLD, SIG_IGN);
    paths.sysfs = env_or("WISP_AGENT_SYSFS", "/sys");
    paths.run = env_or("WISP_AGENT_RUN", "/run");
    if (getenv("WISP_AGENT_DEVICE_WAIT_MS")) {
        int ms = atoi(getenv("WISP_AGENT_DEVICE_WAIT_MS"));
        pmem_wait_ms = netdev_wait_ms = ms > 0 ? ms : 0;
    }
    if (mlockall(MCL_CURRENT | MCL_FUTURE))
        say("mlockall: %s (hypercall buffers may fault)", strerror(errno));
    create_preload(env_or("WISP_AGENT_PRELOAD", "/preload"));
    privcmd = ctl_open(env_or("WISP_AGENT_PRIVCMD", "/dev/xen/privcmd"));
    if (privcmd < 0) {
        say("cannot open %s: %s", env_or("WISP_AGENT_PRIVCMD", "/dev/xen/privcmd"),
            strerror(-privcmd));
        give_up();
    }
    err = store_open(&store, env_or("WISP_AGENT_XENBUS", "/dev/xen/xenbus"), STORE_REPLY_MS);
    if (err) {
        say("cannot open %s: %s", env_or("WISP_AGENT_XENBUS", "/dev/xen/xenbus"),
            strerror(-err));
        give_up();
    }
    if (!wait_for_store() || !read_devices())
        give_up();
    for (unsigned int i = 0; i < nr_devices; i++) {
        if (!seen_before(i))
            setup_frontend(devices[i].d.frontend);
    }
    for (unsigned int i = 0; i < nr_devices; i++) {
        if (devices[i].written && devices[i].d.kind == WISP_DEV_DISK)
            hotplug_disk(&devices[i].d);
    }
    for (unsigned int i = 0; i < nr_devices; i++) {
        if (devices[i].written && devices[i].d.kind == WISP_DEV_VIF)
            hotplug_vif(&devices[i].d);
    }
    start_dhcp();
    unpause_frontends();
    watch_and_serve();
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--print-nodes") == 0)
        return print_nodes_main(argc - 2, argv + 2);
    if (argc == 2 && strcmp(argv[1], "--list") == 0)
        return list_main();
    if (argc == 3 && strcmp(argv[1], "--destroy") == 0)
        return destroy_main(argv[2]);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (argc != 1) {
        fputs(USAGE, stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    say("starting");
    run();
}
