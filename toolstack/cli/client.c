/* client.c (host tool): `wisp list`, `pause`, `unpause`, `destroy`, `shutdown`, `reboot`, `sched` and `down`: requests to the broker `wisp up` left running (docs/control-protocol.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"
#include "client.h"
#include "exit_codes.h"
#include "proc.h"
#include "wire.h"

#define REPLY_WAIT_MS 180000     /* the agent is a Linux guest under an emulator */
#define MAX_LISTED    64
#define DESTROY_WAIT_MS 60000    /* a Linux guest's backends let go within seconds, even under Bochs */
#define DESTROY_POLL_US 2000

struct client_conn {
    int fd;
    char buf[2 * WIRE_LINE_MAX];    /* read, not yet taken */
    size_t len;
    char line[WIRE_LINE_MAX];       /* the last line taken; a parsed message points into it */
    char raw[WIRE_LINE_MAX];        /* the same line as it came */
};

/* The control socket's path, or an errno (-ENOENT: no run directory or no socket). */
static int control_path(char *dir, size_t dir_size, char *path, size_t size)
{
    int err = run_dir_path(dir, dir_size, false);

    if (!err && !run_file(dir, RUN_CONTROL_SOCKET, path, size))
        err = -ENAMETOOLONG;
    if (!err && access(path, F_OK))
        err = -ENOENT;
    return err;
}

static int connect_to(const char *path, int *fd)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    strcpy(addr.sun_path, path);
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd >= 0 && connect(*fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
        return 0;
    if (*fd >= 0)
        close(*fd);
    return -1;
}

int client_connect_quietly(int *fd)
{
    char dir[PATH_MAX], path[PATH_MAX];

    return control_path(dir, sizeof(dir), path, sizeof(path)) || connect_to(path, fd) ? -1 : 0;
}

int client_connect(int *fd)
{
    char dir[PATH_MAX], path[PATH_MAX];
    int err = control_path(dir, sizeof(dir), path, sizeof(path));

    if (err == -ENOENT) {
        fprintf(stderr, "wisp: Wisp is not up (no %s/%s); start it with `wisp up`\n", dir,
                RUN_CONTROL_SOCKET);
        return WISP_EXIT_INFRA;
    }
    if (err) {
        fprintf(stderr, "wisp: run directory %s: %s\n", dir,
                err == -EACCES ? "not ours alone (it must be mode 0700 and owned by us)"
                               : strerror(-err));
        return WISP_EXIT_INFRA;
    }
    if (connect_to(path, fd)) {
        fprintf(stderr, "wisp: %s: %s (is Wisp still up?)\n", path, strerror(errno));
        return WISP_EXIT_INFRA;
    }
    return 0;
}

/* The next message from the broker into m (its strings live in c->line); false on EOF, timeout or garbage. */
static bool next_message(struct client_conn *c, struct wire_msg *m, long long deadline)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);

        if (nl) {
            size_t n = (size_t)(nl - c->buf);

            if (n >= sizeof(c->line))
                return false;
            memcpy(c->line, c->buf, n);
            c->line[n] = '\0';
            memcpy(c->raw, c->line, n + 1);
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return wire_parse(c->line, m) == 0;
        }
        if (c->len == sizeof(c->buf))
            return false;       /* no newline where one must be: not the broker talking */
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        long long left = deadline - monotonic_ms();

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return false;
        ssize_t got = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (got <= 0)
            return false;
        c->len += (size_t)got;
    }
}

static bool send_request(int fd, struct wire_out *o)
{
    int len = wire_end(o);

    return len > 0 && write(fd, o->buf, (size_t)len) == len;
}

int client_open(struct client_conn **out)
{
    static struct client_conn c;
    int rc;

    c.len = 0;
    if ((rc = client_connect(&c.fd)))
        return rc;
    *out = &c;
    return 0;
}

void client_close(struct client_conn *c)
{
    close(c->fd);
}

int client_fd(const struct client_conn *c)
{
    return c->fd;
}

int client_exchange(struct client_conn *c, struct wire_out *req, client_item_fn on_item,
                    void *ctx, struct wire_msg *reply, char *reply_buf, size_t reply_size)
{
    struct wire_msg m;
    long long deadline = monotonic_ms() + REPLY_WAIT_MS;

    if (!send_request(c->fd, req)) {
        fprintf(stderr, "wisp: the request did not go out\n");
        return WISP_EXIT_INFRA;
    }
    while (next_message(c, &m, deadline)) {
        if (!strcmp(m.kind, "item") && on_item) {
            on_item(ctx, &m);
        } else if (!strcmp(m.kind, "reply")) {
            /* Copied out: m's strings point into c->line, which the next message reuses. */
            snprintf(reply_buf, reply_size, "%s", c->raw);
            return wire_parse(reply_buf, reply) ? WISP_EXIT_INFRA : 0;
        } else if (!strcmp(m.kind, "error")) {
            const char *msg = wire_get(&m, "message");

            fprintf(stderr, "wisp: the broker refused the request: %s\n", msg ? msg : "?");
            return WISP_EXIT_INFRA;
        }
    }
    fprintf(stderr, "wisp: no answer within %d s (see the logs in the run directory)\n",
            REPLY_WAIT_MS / 1000);
    return WISP_EXIT_INFRA;
}

int client_request(struct wire_out *req, client_item_fn on_item, void *ctx, struct wire_msg *reply,
                   char *reply_buf, size_t reply_size)
{
    struct client_conn *c;
    int rc = client_open(&c);

    if (rc)
        return rc;
    rc = client_exchange(c, req, on_item, ctx, reply, reply_buf, reply_size);
    client_close(c);
    return rc;
}

int client_judge(const char *what, const struct wire_msg *reply)
{
    const char *status = wire_get(reply, "status"), *error = wire_get(reply, "error");
    const char *message = wire_get(reply, "message");

    if (status && !strcmp(status, "0"))
        return 0;
    fprintf(stderr, "wisp: %s: %s%s%s%s\n", what, message ? message : "failed",
            error ? " (" : "", error ? error : "", error ? ")" : "");
    return 1;
}

/* ---- list ---- */

struct listed_domain {
    unsigned domid;
    char name[40], state[16];
    unsigned long long mem_kib, cpu_ns, exits, events;
    unsigned vcpus, roles;
};

struct listed {
    unsigned n;
    struct listed_domain d[MAX_LISTED];
};

static unsigned long long field_u64(const struct wire_msg *m, const char *key)
{
    uint64_t v = 0;

    return wire_get_uint(m, key, UINT64_MAX, &v) ? 0 : v;
}

static void keep_item(void *ctx, const struct wire_msg *m)
{
    struct listed *l = ctx;
    const char *name = wire_get(m, "name"), *state = wire_get(m, "state");

    if (l->n == MAX_LISTED)
        return;
    l->d[l->n].domid = (unsigned)field_u64(m, "domid");
    snprintf(l->d[l->n].name, sizeof(l->d[l->n].name), "%s", name ? name : "?");
    snprintf(l->d[l->n].state, sizeof(l->d[l->n].state), "%s", state ? state : "?");
    l->d[l->n].mem_kib = field_u64(m, "mem_kib");
    l->d[l->n].cpu_ns = field_u64(m, "cpu_ns");
    l->d[l->n].exits = field_u64(m, "exits");
    l->d[l->n].events = field_u64(m, "events");
    l->d[l->n].vcpus = (unsigned)field_u64(m, "vcpus");
    l->d[l->n].roles = (unsigned)field_u64(m, "roles");
    l->n++;
}

/* Every domain into l; and, if free_kib is not NULL, the memory the hypervisor has free. */
static int fetch_list_free(struct listed *l, uint64_t *free_kib)
{
    char buf[WIRE_LINE_MAX];
    struct wire_out req;
    struct wire_msg reply;
    int rc;

    l->n = 0;
    wire_begin(&req, "req");
    wire_add(&req, "id", "1");
    wire_add(&req, "op", "list");
    rc = client_request(&req, keep_item, l, &reply, buf, sizeof(buf));
    if (!rc)
        rc = client_judge("list", &reply);
    if (!rc && free_kib && wire_get_uint(&reply, "free_kib", UINT64_MAX, free_kib)) {
        fputs("wisp: the agent's list reply has no free_kib\n", stderr);
        rc = 1;
    }
    return rc;
}

static int fetch_list(struct listed *l)
{
    return fetch_list_free(l, NULL);
}

/* xl info's few lines that Wisp has: the domains and the memory left for more. */
static int cmd_info(void)
{
    static struct listed l;
    uint64_t free_kib;
    int rc = fetch_list_free(&l, &free_kib);

    if (rc)
        return rc;
    printf("nr_domains  : %u\n", l.n);
    printf("free_memory : %llu\n", (unsigned long long)free_kib / 1024);
    printf("free_frames : %llu\n", (unsigned long long)free_kib / 4);
    return 0;
}

static int cmd_list(void)
{
    static struct listed l;
    int rc = fetch_list(&l);

    if (rc)
        return rc;
    printf("%-4s %-20s %-9s %9s %5s %10s\n", "ID", "NAME", "STATE", "MEM(MiB)", "VCPUS",
           "CPU(s)");
    for (unsigned i = 0; i < l.n; i++)
        printf("%-4u %-20s %-9s %9llu %5u %10.1f\n", l.d[i].domid, l.d[i].name, l.d[i].state,
               (l.d[i].mem_kib + 512) / 1024, l.d[i].vcpus, (double)l.d[i].cpu_ns / 1e9);
    return 0;
}

/* ---- one domain's commands ---- */

int client_domain(const char *which, unsigned *domid, char *name, size_t size)
{
    static struct listed l;
    char *end;
    unsigned long id = strtoul(which, &end, 10);
    bool by_id = *which && !*end;
    int rc = fetch_list(&l);

    if (rc)
        return rc;
    for (unsigned i = 0; i < l.n; i++) {
        if (by_id ? l.d[i].domid == id : !strcmp(l.d[i].name, which)) {
            *domid = l.d[i].domid;
            snprintf(name, size, "%s", l.d[i].name);
            return 0;
        }
    }
    fprintf(stderr, "wisp: no domain is %s '%s' (`wisp list` shows them)\n",
            by_id ? "numbered" : "called", which);
    return 1;
}

/* NAME or ID to a domain id: an id as it is (no list asked for), a name through the list. */
static int resolve(const char *which, unsigned *domid)
{
    char *end, name[sizeof(((struct listed_domain *)0)->name)];
    unsigned long id = strtoul(which, &end, 10);

    if (*which && !*end && id < 0x7ff0) {
        *domid = (unsigned)id;
        return 0;
    }
    return client_domain(which, domid, name, sizeof(name));
}

/*
 * As xl destroy, wisp destroy returns once the domain has gone (its pages are
 * freed when the last other domain mapping them lets go, usually at once). A
 * new domain may take the id once it has gone, so it is known by its name too.
 */
static int wait_gone(unsigned domid, const char *which)
{
    static struct listed l;
    char name[sizeof(l.d[0].name)] = "";
    long long deadline = monotonic_ms() + DESTROY_WAIT_MS;

    for (;;) {
        const struct listed_domain *d = NULL;
        int rc = fetch_list(&l);

        if (rc)
            return rc;
        for (unsigned i = 0; i < l.n; i++)
            if (l.d[i].domid == domid && (!name[0] || !strcmp(l.d[i].name, name)))
                d = &l.d[i];
        if (!d)
            return 0;
        if (!name[0])
            snprintf(name, sizeof(name), "%s", d->name);
        if (monotonic_ms() > deadline) {
            fprintf(stderr, "wisp: destroy %s: still %s after %d s (another domain still maps "
                    "its pages); it goes when they are let go\n", which, d->state,
                    DESTROY_WAIT_MS / 1000);
            return 0;
        }
        usleep(DESTROY_POLL_US);
    }
}

/* op on one domain, with extra fields (key, value pairs; a NULL value is left out). */
static int domain_op(const char *op, const char *which, const char *const *fields)
{
    char buf[WIRE_LINE_MAX], what[96];
    struct wire_out req;
    struct wire_msg reply;
    unsigned domid;
    int rc = resolve(which, &domid);

    if (rc)
        return rc;
    wire_begin(&req, "req");
    wire_add(&req, "id", "1");
    wire_add(&req, "op", op);
    wire_addf(&req, "domid", "%u", domid);
    for (; fields && fields[0]; fields += 2)
        if (fields[1])
            wire_add(&req, fields[0], fields[1]);
    if ((rc = client_request(&req, NULL, NULL, &reply, buf, sizeof(buf))))
        return rc;
    snprintf(what, sizeof(what), "%s %s", strcmp(op, "mem_set") ? op : "mem-set", which);
    if ((rc = client_judge(what, &reply)))
        return rc;
    if (!strcmp(op, "sched"))
        printf("%s: weight %s, cap %s\n", which, wire_get(&reply, "weight"),
               wire_get(&reply, "cap"));
    if (!strcmp(op, "mem_set"))
        printf("%s: memory target %s KiB\n", which, wire_get(&reply, "target_kib"));
    if (!strcmp(op, "destroy"))
        return wait_gone(domid, which);
    return 0;
}

static int cmd_sched(int argc, char **argv)
{
    static const struct option opts[] = {
        { "weight", required_argument, NULL, 'w' },
        { "cap", required_argument, NULL, 'c' },
        { NULL, 0, NULL, 0 },
    };
    const char *weight = NULL, *cap = NULL;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'w')
            weight = optarg;
        else if (c == 'c')
            cap = optarg;
        else
            return WISP_EXIT_USAGE;
    }
    if (optind != argc - 1) {
        fputs("usage: wisp sched NAME|ID [--weight W] [--cap C]\n", stderr);
        return WISP_EXIT_USAGE;
    }
    const char *fields[] = { "weight", weight, "cap", cap, NULL };

    return domain_op("sched", argv[optind], fields);
}

/* ---- top ---- */

static const struct listed_domain *same_domain(const struct listed *l, const struct listed_domain *d)
{
    for (unsigned i = 0; i < l->n; i++)
        if (l->d[i].domid == d->domid && !strcmp(l->d[i].name, d->name))
            return &l->d[i];
    return NULL;
}

static void print_frame(const struct listed *now, const struct listed *before, double secs,
                        bool tty)
{
    if (tty)
        fputs("\033[H\033[2J", stdout);
    printf("%-4s %-20s %-9s %6s %9s %9s %9s %5s\n", "ID", "NAME", "STATE", "CPU%", "EXITS/s",
           "EVENTS/s", "MEM(MiB)", "VCPUS");
    for (unsigned i = 0; i < now->n; i++) {
        const struct listed_domain *d = &now->d[i], *p = same_domain(before, d);
        double cpu = p && d->cpu_ns >= p->cpu_ns ? (double)(d->cpu_ns - p->cpu_ns) / 1e9 / secs : 0;
        double exits = p && d->exits >= p->exits ? (double)(d->exits - p->exits) / secs : 0;
        double events = p && d->events >= p->events ? (double)(d->events - p->events) / secs : 0;

        printf("%-4u %-20s %-9s %6.1f %9.0f %9.0f %9llu %5u\n", d->domid, d->name, d->state,
               cpu * 100, exits, events, (d->mem_kib + 512) / 1024, d->vcpus);
    }
    fflush(stdout);
}

/* Live CPU, exit and event rates per domain: a frame every interval (--count frames, 0: until stopped). */
static int cmd_top(int argc, char **argv)
{
    static const struct option opts[] = {
        { "interval", required_argument, NULL, 'i' },
        { "count", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    static struct listed a, b;
    struct listed *before = &a, *now = &b;
    double interval = 1.0;
    long count = 0;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'i')
            interval = atof(optarg);
        else if (c == 'n')
            count = atol(optarg);
        else
            return WISP_EXIT_USAGE;
    }
    if (optind != argc || interval < 0.1 || interval > 3600 || count < 0) {
        fputs("usage: wisp top [--interval SEC (0.1..3600, default 1)] [--count FRAMES]\n",
              stderr);
        return WISP_EXIT_USAGE;
    }
    install_stop_handlers();
    if ((rc = fetch_list(before)))
        return rc;
    for (long frame = 0; !count || frame < count; frame++) {
        long long t0 = monotonic_ms();
        struct listed *t;

        usleep((useconds_t)(interval * 1e6));
        if (stop_signal)
            break;
        if ((rc = fetch_list(now)))
            return rc;
        print_frame(now, before, (double)(monotonic_ms() - t0) / 1000.0, isatty(1));
        t = before;
        before = now;
        now = t;
    }
    return 0;
}

int client_command(const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "list")) {
        if (argc != 1) {
            fputs("usage: wisp list\n", stderr);
            return WISP_EXIT_USAGE;
        }
        return cmd_list();
    }
    if (!strcmp(cmd, "info")) {
        if (argc != 1) {
            fputs("usage: wisp info\n", stderr);
            return WISP_EXIT_USAGE;
        }
        return cmd_info();
    }
    if (!strcmp(cmd, "sched"))
        return cmd_sched(argc, argv);
    if (!strcmp(cmd, "top"))
        return cmd_top(argc, argv);
    if (!strcmp(cmd, "mem-set")) {
        const char *fields[] = { "mib", argc == 3 ? argv[2] : NULL, NULL };

        if (argc != 3) {
            fputs("usage: wisp mem-set NAME|ID MIB\n", stderr);
            return WISP_EXIT_USAGE;
        }
        return domain_op("mem_set", argv[1], fields);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: wisp %s NAME|ID\n", cmd);
        return WISP_EXIT_USAGE;
    }
    return domain_op(cmd, argv[1], NULL);
}

bool client_knows(const char *cmd)
{
    static const char *const cmds[] = { "list", "info", "pause", "unpause", "destroy",
                                        "shutdown", "reboot", "sched", "top", "mem-set" };

    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(cmd, cmds[i]))
            return true;
    return false;
}
