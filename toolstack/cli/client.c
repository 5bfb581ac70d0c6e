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

#define REPLY_WAIT_MS 60000     /* the agent is a Linux guest under an emulator */
#define MAX_LISTED    64

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

struct listed {
    unsigned n;
    struct {
        unsigned domid;
        char name[40], state[16];
        unsigned long long mem_kib, cpu_ns;
        unsigned vcpus, roles;
    } d[MAX_LISTED];
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
    l->d[l->n].vcpus = (unsigned)field_u64(m, "vcpus");
    l->d[l->n].roles = (unsigned)field_u64(m, "roles");
    l->n++;
}

static int fetch_list(struct listed *l)
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
    return rc ? rc : client_judge("list", &reply);
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

/* NAME or ID to a domain id through the list; 0, or an exit status after saying why. */
static int resolve(const char *which, unsigned *domid)
{
    static struct listed l;
    char *end;
    unsigned long id = strtoul(which, &end, 10);
    int rc;

    if (*which && !*end && id < 0x7ff0) {
        *domid = (unsigned)id;
        return 0;
    }
    if ((rc = fetch_list(&l)))
        return rc;
    for (unsigned i = 0; i < l.n; i++) {
        if (!strcmp(l.d[i].name, which)) {
            *domid = l.d[i].domid;
            return 0;
        }
    }
    fprintf(stderr, "wisp: no domain is called '%s' (`wisp list` shows them)\n", which);
    return 1;
}

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

static int domain_op(const char *op, const char *which, const char *weight, const char *cap)
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
    if (weight)
        wire_add(&req, "weight", weight);
    if (cap)
        wire_add(&req, "cap", cap);
    if ((rc = client_request(&req, NULL, NULL, &reply, buf, sizeof(buf))))
        return rc;
    snprintf(what, sizeof(what), "%s %s", op, which);
    if ((rc = client_judge(what, &reply)))
        return rc;
    if (!strcmp(op, "sched"))
        printf("%s: weight %s, cap %s\n", which, wire_get(&reply, "weight"),
               wire_get(&reply, "cap"));
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
    return domain_op("sched", argv[optind], weight, cap);
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
    if (!strcmp(cmd, "sched"))
        return cmd_sched(argc, argv);
    if (argc != 2) {
        fprintf(stderr, "usage: wisp %s NAME|ID\n", cmd);
        return WISP_EXIT_USAGE;
    }
    return domain_op(cmd, argv[1], NULL, NULL);
}

bool client_knows(const char *cmd)
{
    static const char *const cmds[] = { "list", "pause", "unpause", "destroy", "shutdown",
                                        "reboot", "sched" };

    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(cmd, cmds[i]))
            return true;
    return false;
}
