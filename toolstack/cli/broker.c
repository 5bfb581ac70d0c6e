/* broker.c (host tool): `wisp up`'s background process: the machine, the agent on its host channel, and the clients (docs/toolstack.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "inbox.h"
#include "labels.h"
#include "proc.h"
#include "wire.h"

#define MAX_CLIENTS     16
#define CLIENT_OUT_MAX  (64 * 1024)     /* a client that lets more pile up is dropped */
#define POLL_MS         500
#define CONSOLE_POLL_MS 20              /* console.log is a file: looked at this often when followed */
#define CHANNEL_WAIT_MS 30000           /* for `wisp run` to make the channel's socket */
#define AGENT_WRITE_S   10              /* a request the channel has not taken by then fails */

struct client {
    int fd;                     /* -1: free slot */
    unsigned generation;        /* bumped when the slot is reused: late replies go nowhere */
    bool watching;              /* gets the agent's events */
    bool busy;                  /* a request of its own is with the agent */
    char console[40];           /* `console`: the domain whose output it gets; "" for none */
    struct wire_lines in;
    char out[CLIENT_OUT_MAX];
    size_t out_len;
};

/* A request the agent has not answered yet: whose it is and what that client called it. */
struct pending {
    uint64_t id;                /* 0: free */
    unsigned slot, generation;
    char client_id[64];
};

static struct {
    const char *dir;
    pid_t machine;
    int listen_fd, agent_fd;
    bool agent_ready;
    uint64_t next_id;
    struct wire_lines agent_in;
    struct client clients[MAX_CLIENTS];
    struct pending pending[MAX_CLIENTS];
    /* console.log as it grows, cut into each line's label and text (for `console` clients). */
    int console_fd;
    struct label_splitter split;
} b;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    char when[32];
    time_t now = time(NULL);
    va_list ap;

    strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
    fprintf(stderr, "%s broker: ", when);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- the run directory ---- */

/* ---- sending ---- */

static void to_client(struct client *c, const char *line, size_t len)
{
    if (c->fd < 0)
        return;
    if (c->out_len + len > sizeof(c->out)) {
        note("a client does not read its replies; dropped");
        close(c->fd);
        c->fd = -1;
        return;
    }
    memcpy(c->out + c->out_len, line, len);
    c->out_len += len;
}

static void to_client_msg(struct client *c, struct wire_out *o)
{
    int len = wire_end(o);

    if (len > 0)
        to_client(c, o->buf, (size_t)len);
}

static void client_error(struct client *c, const char *id, int status, const char *message)
{
    struct wire_out o;

    wire_begin(&o, id ? "reply" : "error");
    if (id) {
        wire_add(&o, "id", id);
        wire_addf(&o, "status", "%d", status);
    }
    wire_add(&o, "message", message);
    to_client_msg(c, &o);
}

/* Whole messages to the agent; the channel's socket is a local stream, so a blocking write. */
static bool to_agent(struct wire_out *o)
{
    int len = wire_end(o);
    const char *p = o->buf;

    if (len < 0)
        return false;
    while (len > 0) {
        ssize_t put = write(b.agent_fd, p, (size_t)len);

        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return false;
        p += put;
        len -= (int)put;
    }
    return true;
}

/* ---- the agent's lines ---- */

static struct pending *pending_of(uint64_t id)
{
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (b.pending[i].id == id)
            return &b.pending[i];
    return NULL;
}

static void mark_ready(void)
{
    char path[PATH_MAX];
    int fd;

    b.agent_ready = true;
    if (run_file(b.dir, RUN_READY, path, sizeof(path)) &&
        (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0)
        close(fd);
    note("the agent is there: ready");
}

/* An answer goes back to its client under the client's own id; other fields unchanged. */
static void forward_answer(const struct wire_msg *m)
{
    uint64_t id;
    struct pending *p;
    struct client *c;
    struct wire_out o;

    if (wire_get_uint(m, "id", UINT64_MAX, &id) || !(p = pending_of(id)))
        return;                 /* for a client that has gone */
    c = &b.clients[p->slot];
    wire_begin(&o, m->kind);
    wire_add(&o, "id", p->client_id);
    for (unsigned i = 0; i < m->nr; i++)
        if (strcmp(m->f[i].key, "id"))
            wire_add(&o, m->f[i].key, m->f[i].value);
    if (c->generation == p->generation)
        to_client_msg(c, &o);
    if (!strcmp(m->kind, "reply")) {
        if (c->generation == p->generation)
            c->busy = false;
        p->id = 0;
    }
}

static void on_agent_line(void *ctx, char *line)
{
    char copy[WIRE_LINE_MAX];
    struct wire_msg m;

    (void)ctx;
    if (!line) {
        note("the agent sent a line longer than %d bytes; dropped", WIRE_LINE_MAX);
        return;
    }
    snprintf(copy, sizeof(copy), "%s\n", line);
    if (wire_parse(line, &m)) {
        note("the agent sent a malformed line; dropped");
        return;
    }
    if (!strcmp(m.kind, "hello")) {
        uint64_t version = 0;

        if (wire_get_uint(&m, "version", UINT32_MAX, &version) || version != WIRE_VERSION)
            note("the agent speaks protocol version %llu, we speak %d: not served",
                 (unsigned long long)version, WIRE_VERSION);
        else if (!b.agent_ready)
            mark_ready();
    } else if (!strcmp(m.kind, "item") || !strcmp(m.kind, "reply")) {
        forward_answer(&m);
    } else if (!strcmp(m.kind, "event")) {
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
            if (b.clients[i].fd >= 0 && b.clients[i].watching)
                to_client(&b.clients[i], copy, strlen(copy));
    } else {
        note("the agent said: %s", copy);
    }
}

/* ---- console output: console.log's lines of one domain, to its `console` clients ---- */

#define CONSOLE_CHUNK 2880      /* bytes a `cons` message carries (3840 of base64) */

static void send_console(const char *owner, const char *text, size_t len)
{
    static char b64[CONSOLE_CHUNK / 3 * 4 + 8];

    for (size_t off = 0; off < len; off += CONSOLE_CHUNK) {
        size_t n = len - off < CONSOLE_CHUNK ? len - off : CONSOLE_CHUNK;
        struct wire_out o;

        wire_b64_encode(text + off, n, b64);
        wire_begin(&o, "cons");
        wire_add(&o, "data", b64);
        for (unsigned i = 0; i < MAX_CLIENTS; i++)
            if (b.clients[i].fd >= 0 && b.clients[i].console[0] &&
                !strcmp(b.clients[i].console, owner))
                to_client_msg(&b.clients[i], &o);
    }
}

static void on_console_text(void *ctx, const char *owner, const char *text, size_t len)
{
    (void)ctx;
    send_console(owner, text, len);
}

/* What console.log gained since the last look, to the clients following its domains. */
static void follow_console(void)
{
    char buf[4096];
    ssize_t got;

    while ((got = read(b.console_fd, buf, sizeof(buf))) > 0)
        label_split(&b.split, buf, (size_t)got, on_console_text, NULL);
}

static bool console_followed(void)
{
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (b.clients[i].fd >= 0 && b.clients[i].console[0])
            return true;
    return false;
}

/* ---- the clients' lines ---- */

static void __attribute__((noreturn)) shut_down(const char *why)
{
    char path[PATH_MAX];
    static const char *const files[] = { RUN_CONTROL_SOCKET, RUN_READY };

    note("shutting down: %s", why);
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (b.clients[i].fd >= 0 && b.clients[i].out_len)
            (void)!write(b.clients[i].fd, b.clients[i].out, b.clients[i].out_len);
    if (b.machine > 0)
        end_process_group(b.machine, 3000);
    inbox_remove_ram(b.dir);
    for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (run_file(b.dir, files[i], path, sizeof(path)))
            unlink(path);
    exit(0);
}

static void forward_request(struct client *c, const struct wire_msg *m, const char *id)
{
    struct pending *p = pending_of(0);
    struct wire_out o;

    if (!b.agent_ready) {
        client_error(c, id, -EAGAIN, "the agent has not started yet");
        return;
    }
    if (c->busy || !p) {
        client_error(c, id, -EBUSY, "one request at a time");
        return;
    }
    *p = (struct pending){ .id = ++b.next_id, .slot = (unsigned)(c - b.clients),
                           .generation = c->generation };
    snprintf(p->client_id, sizeof(p->client_id), "%s", id);
    wire_begin(&o, "req");
    wire_addf(&o, "id", "%llu", (unsigned long long)p->id);
    for (unsigned i = 0; i < m->nr; i++)
        if (strcmp(m->f[i].key, "id"))
            wire_add(&o, m->f[i].key, m->f[i].value);
    if (!to_agent(&o)) {
        p->id = 0;
        client_error(c, id, -EIO, "the machine's host channel is gone");
        return;
    }
    c->busy = true;
}

static void on_client_line(void *ctx, char *line)
{
    struct client *c = ctx;
    struct wire_msg m;
    const char *id, *op;

    if (!line || wire_parse(line, &m)) {
        client_error(c, NULL, 0, line ? "malformed message" : "message longer than 4096 bytes");
        return;
    }
    if (!strcmp(m.kind, "hello")) {
        struct wire_out o;

        wire_begin(&o, "hello");
        wire_addf(&o, "version", "%d", WIRE_VERSION);
        wire_add(&o, "broker", "wisp");
        to_client_msg(c, &o);
        return;
    }
    id = wire_get(&m, "id");
    op = wire_get(&m, "op");
    if (strcmp(m.kind, "req") || !id || !op || strlen(id) >= sizeof(b.pending[0].client_id)) {
        client_error(c, NULL, 0, "want: req id=ID op=OP ... (ID at most 63 bytes)");
        return;
    }
    if (!strcmp(op, "down")) {
        client_error(c, id, 0, "going down");
        shut_down("asked by a client");
    }
    if (!strcmp(op, "watch")) {
        c->watching = true;
        client_error(c, id, 0, "events follow");
        return;
    }
    if (!strcmp(op, "console")) {
        const char *name = wire_get(&m, "name");

        if (!name || !name[0] || strlen(name) >= sizeof(c->console)) {
            client_error(c, id, -EINVAL, "console: name=NAME of a domain");
            return;
        }
        snprintf(c->console, sizeof(c->console), "%s", name);
        client_error(c, id, 0, "its output follows as cons messages");
        return;
    }
    forward_request(c, &m, id);
}

/* Only the user who runs this broker: the directory is theirs alone, and the peer is checked too. */
static void accept_client(void)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    int fd = accept4(b.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (fd < 0)
        return;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != getuid()) {
        note("refused a client of uid %u", (unsigned)cred.uid);
        close(fd);
        return;
    }
    for (unsigned i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &b.clients[i];

        if (c->fd >= 0)
            continue;
        c->fd = fd;
        c->generation++;
        c->watching = c->busy = false;
        c->console[0] = '\0';
        c->out_len = 0;
        memset(&c->in, 0, sizeof(c->in));
        return;
    }
    note("refused a client: %d are connected", MAX_CLIENTS);
    close(fd);
}

static void pump_client(struct client *c, short revents)
{
    char buf[4096];
    ssize_t got;

    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        got = read(c->fd, buf, sizeof(buf));
        if (got > 0)
            wire_feed(&c->in, buf, (size_t)got, on_client_line, c);
        else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            close(c->fd);       /* its answer, when it comes, goes nowhere */
            c->fd = -1;
            return;
        }
    }
    if (c->fd >= 0 && c->out_len) {
        ssize_t put = write(c->fd, c->out, c->out_len);

        if (put > 0) {
            memmove(c->out, c->out + put, c->out_len - (size_t)put);
            c->out_len -= (size_t)put;
        } else if (put < 0 && errno != EAGAIN && errno != EINTR) {
            close(c->fd);
            c->fd = -1;
        }
    }
}

/* ---- setting up ---- */

static int listen_on(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0 || strlen(path) >= sizeof(addr.sun_path))
        return -1;
    strcpy(addr.sun_path, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || chmod(path, 0600) ||
        listen(fd, MAX_CLIENTS)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The machine's `wisp run` makes the channel's socket once it has started the emulator. */
static int connect_channel(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    long long deadline = monotonic_ms() + CHANNEL_WAIT_MS;

    strcpy(addr.sun_path, path);
    while (monotonic_ms() < deadline && !child_has_exited(b.machine)) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            return fd;
        if (fd >= 0)
            close(fd);
        usleep(50000);
    }
    return -1;
}

static void start_machine(char *const *run_argv)
{
    char console[PATH_MAX], log[PATH_MAX];
    struct spawn_request req = { .argv = run_argv };
    int out, err;

    if (!run_file(b.dir, RUN_CONSOLE_LOG, console, sizeof(console)) ||
        !run_file(b.dir, RUN_WISP_LOG, log, sizeof(log)))
        shut_down("run directory path too long");
    out = open(console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    err = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    req.stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    req.stdout_fd = out;
    req.stderr_fd = err;
    if (out < 0 || err < 0 || req.stdin_fd < 0 || spawn_child(&req, &b.machine, NULL))
        shut_down("cannot start the machine");
    close(out);
    close(err);
    close(req.stdin_fd);
}

void broker_main(const char *dir, char *const *run_argv)
{
    char path[PATH_MAX];

    b.dir = dir;
    b.listen_fd = b.agent_fd = -1;
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        b.clients[i].fd = -1;
    install_stop_handlers();
    start_machine(run_argv);
    note("machine started (pid %d)", (int)b.machine);
    if (!run_file(dir, RUN_CHANNEL_SOCKET, path, sizeof(path)) ||
        (b.agent_fd = connect_channel(path)) < 0)
        shut_down("the machine's host channel never opened");
    if (!run_file(dir, RUN_CONTROL_SOCKET, path, sizeof(path)) ||
        (b.listen_fd = listen_on(path)) < 0)
        shut_down("cannot listen on the control socket");
    /* Reads never wait (poll says when); a write waits at most AGENT_WRITE_S, so a machine
     * that stopped reading COM2 fails requests (-EIO) instead of stalling every client. */
    setsockopt(b.agent_fd, SOL_SOCKET, SO_SNDTIMEO,
               &(struct timeval){ .tv_sec = AGENT_WRITE_S }, sizeof(struct timeval));
    label_split_init(&b.split);
    b.console_fd = run_file(dir, RUN_CONSOLE_LOG, path, sizeof(path))
                       ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (b.console_fd >= 0)
        lseek(b.console_fd, 0, SEEK_END);     /* consoles show what comes from now on */
    for (;;) {
        struct pollfd fds[2 + MAX_CLIENTS];
        int slot[2 + MAX_CLIENTS], n = 0;

        if (stop_signal)
            shut_down("stopped by a signal");
        if (child_has_exited(b.machine))
            shut_down("the machine has ended");
        fds[n] = (struct pollfd){ .fd = b.agent_fd, .events = POLLIN };
        slot[n++] = -1;
        fds[n] = (struct pollfd){ .fd = b.listen_fd, .events = POLLIN };
        slot[n++] = -2;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (b.clients[i].fd < 0)
                continue;
            fds[n] = (struct pollfd){ .fd = b.clients[i].fd,
                                      .events = POLLIN | (b.clients[i].out_len ? POLLOUT : 0) };
            slot[n++] = i;
        }
        bool following = b.console_fd >= 0 && console_followed();

        if (following)
            follow_console();
        else if (b.console_fd >= 0 && lseek(b.console_fd, 0, SEEK_END) >= 0)
            label_split_init(&b.split);         /* nobody watches: skip it */
        if (poll(fds, (nfds_t)n, following ? CONSOLE_POLL_MS : POLL_MS) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (slot[i] == -1) {
                char buf[4096];
                ssize_t got = recv(b.agent_fd, buf, sizeof(buf), MSG_DONTWAIT);

                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
                    shut_down("the machine's host channel closed");
                if (got > 0)
                    wire_feed(&b.agent_in, buf, (size_t)got, on_agent_line, NULL);
            } else if (slot[i] == -2) {
                accept_client();
            } else if (b.clients[slot[i]].fd == fds[i].fd) {
                pump_client(&b.clients[slot[i]], fds[i].revents);
            }
        }
    }
}
