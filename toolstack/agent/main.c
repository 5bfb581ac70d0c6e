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
#include "devices.h"
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

#define STORE_REPLY_MS   30000   /* one xenstore reply (xenstored is a guest under an emulator) */
#define STORE_READY_MS   60000   /* the store answering at all after boot */
#define PMEM_WAIT_MS     10000
#define NETDEV_WAIT_MS   20000
#define RELEASE_POLL_MS  5000    /* domains are checked this often even without @releaseDomain */

static struct store store;
static int privcmd = -1;

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
            fprintf(stderr, "wisp-agent: '%s': %s\n", argv[i], store_strerror(err));
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

/* ---- waiting for the store ---- */

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
    say("xenstore did not answer in %d s: %s", STORE_READY_MS / 1000, store_strerror(err));
    return false;
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
        say("cannot watch @releaseDomain (%s); checking every %d s", store_strerror(err),
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
                say("the xenstore connection broke: %s", store_strerror(got));
                give_up();
            }
            devices_check();
            serve_domains_changed();
        }
    }
}

static void __attribute__((noreturn)) run(void)
{
    int err;

    /* Often init: children (udhcpd) and orphans are reaped by the kernel, never waited for. */
    signal(SIGCHLD, SIG_IGN);
    struct devices_env devs = { .store = &store, .pmem_wait_ms = PMEM_WAIT_MS,
                                .netdev_wait_ms = NETDEV_WAIT_MS };

    devs.paths.sysfs = env_or("WISP_AGENT_SYSFS", "/sys");
    devs.paths.run = env_or("WISP_AGENT_RUN", "/run");
    if (getenv("WISP_AGENT_DEVICE_WAIT_MS")) {
        int ms = atoi(getenv("WISP_AGENT_DEVICE_WAIT_MS"));
        devs.pmem_wait_ms = devs.netdev_wait_ms = ms > 0 ? ms : 0;
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
    devs.privcmd = privcmd;
    devices_init(&devs);
    if (!wait_for_store() || !devices_read_boot())
        give_up();
    devices_start_boot();
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
