/* wisp-xs.c (guest userspace tool, static Linux binary in the guest initramfs): a small xenstore client over /dev/xen/xenbus. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xs_wire.h"

#define USAGE \
    "usage: wisp-xs [-t SECONDS] COMMAND [ARG...]\n" \
    "  read PATH           print the value of PATH\n" \
    "  write PATH VALUE    set PATH to VALUE\n" \
    "  ls PATH             print PATH's children, one a line\n" \
    "  mkdir PATH          create PATH with an empty value\n" \
    "  rm PATH             remove PATH and everything below it\n" \
    "  perms PATH          print PATH's permissions, one a line\n" \
    "  watch PATH [COUNT]  print the path of each watch event under PATH until COUNT\n" \
    "                      (default 1) came; the watch fires once when it is set\n" \
    "  domid               print this domain's id (its domid key)\n" \
    "  domain-path [DOMID] print a domain's home path (default this domain's)\n" \
    "A PATH without a leading / is relative to this domain's home.\n" \
    "-t: give up waiting for the store after SECONDS (default 10).\n" \
    "Exit status: 0 done, 1 the store refused (its error name on stderr), 2 usage,\n" \
    "3 no store (no device, a broken reply, or the time ran out).\n"

enum exit_status {
    EXIT_DONE = 0,
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_NO_STORE = 3,
};

/* The token our watches carry; events with another one are not ours. */
#define WATCH_TOKEN "wisp-xs"

/* One open connection: the device and the bytes received but not yet framed. */
struct conn {
    int fd;
    int timeout_ms;
    uint32_t next_req_id;
    uint8_t in[2 * XS_MSG_MAX];
    size_t in_len;
    unsigned int events;        /* watch events with our token seen so far */
};

/* A received message, its payload NUL-terminated for printing. */
struct message {
    struct xsd_sockmsg hdr;
    char payload[XENSTORE_PAYLOAD_MAX + 1];
};

/* What the messages say we were doing: the command and its path. */
static char doing[128] = "wisp-xs";

/*
 * The message goes out in one write: a console shared with other domains
 * breaks a line wherever one write ends and another domain's begins.
 */
static void __attribute__((noreturn, format(printf, 2, 3))) die(int status, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n = snprintf(line, sizeof(line), "wisp-xs: %s: ", doing);

    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    (void)!write(STDERR_FILENO, line, (size_t)n);
    exit(status);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void open_store(struct conn *c, int timeout_ms)
{
    static const char *const devices[] = { "/dev/xen/xenbus", "/proc/xen/xenbus" };
    const char *forced = getenv("WISP_XS_DEVICE");

    c->fd = -1;
    c->timeout_ms = timeout_ms;
    c->next_req_id = 1;
    c->in_len = 0;
    c->events = 0;
    if (forced)
        c->fd = open(forced, O_RDWR | O_CLOEXEC);
    for (size_t i = 0; !forced && c->fd < 0 && i < sizeof(devices) / sizeof(devices[0]); i++)
        c->fd = open(devices[i], O_RDWR | O_CLOEXEC);
    if (c->fd < 0)
        die(EXIT_NO_STORE, "cannot open %s: %s", forced ? forced : devices[0], strerror(errno));
}

/* Waits until the next whole message is in c->in, reading the device until deadline. */
static void receive(struct conn *c, struct message *m, int64_t deadline)
{
    int len;

    while ((len = xs_message_length(c->in, c->in_len)) == 0) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int64_t left = deadline - now_ms();

        if (left <= 0)
            die(EXIT_NO_STORE, "no answer from the store in %d s", c->timeout_ms / 1000);
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
            die(EXIT_NO_STORE, "poll: %s", strerror(errno));
        if (!(p.revents & POLLIN))
            continue;
        ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (n <= 0)
            die(EXIT_NO_STORE, "reading the store: %s", n ? strerror(errno) : "end of file");
        c->in_len += (size_t)n;
    }
    if (len < 0)
        die(EXIT_NO_STORE, "the store sent a payload over %d bytes", XENSTORE_PAYLOAD_MAX);
    memcpy(&m->hdr, c->in, sizeof(m->hdr));
    memcpy(m->payload, c->in + sizeof(m->hdr), m->hdr.len);
    m->payload[m->hdr.len] = '\0';
    c->in_len -= (size_t)len;
    memmove(c->in, c->in + len, c->in_len);
}

/* A watch event: printed (its path) when the token is ours. */
static void take_event(struct conn *c, const struct message *m)
{
    const char *path, *token;
    size_t path_len, token_len;

    if (!xs_watch_event(m->payload, m->hdr.len, &path, &path_len, &token, &token_len))
        die(EXIT_NO_STORE, "the store sent a watch event without path and token");
    if (token_len != strlen(WATCH_TOKEN) || memcmp(token, WATCH_TOKEN, token_len) != 0)
        return;
    printf("%.*s\n", (int)path_len, path);
    fflush(stdout);
    c->events++;
}

/*
 * Sends one request and waits for its reply (watch events that arrive first
 * are taken on the way). A refusal ends the program with the store's error
 * name; so does any transport problem.
 */
static void request(struct conn *c, uint32_t type, const char *const *words, unsigned int n,
                    struct message *reply)
{
    static uint8_t out[XS_MSG_MAX];
    uint32_t req_id = c->next_req_id++;
    int len = xs_build_request(out, sizeof(out), type, req_id, words, n);

    if (len < 0)
        die(EXIT_USAGE, "%s", len == -XEN_E2BIG ? "request too long for the store"
                                                : "a path must be 1..3072 characters");
    /* The device takes a message only whole, so it is one write. */
    ssize_t put = write(c->fd, out, (size_t)len);
    if (put != len)
        die(EXIT_NO_STORE, "writing the store: %s", put < 0 ? strerror(errno) : "short write");

    int64_t deadline = now_ms() + c->timeout_ms;
    for (;;) {
        receive(c, reply, deadline);
        if (reply->hdr.type == XS_WATCH_EVENT) {
            take_event(c, reply);
            continue;
        }
        if (reply->hdr.req_id != req_id)
            die(EXIT_NO_STORE, "reply to request %u while waiting for %u", reply->hdr.req_id,
                req_id);
        break;
    }
    int err = xs_reply_error(&reply->hdr, reply->payload, type);
    if (err == XS_REPLY_UNEXPECTED)
        die(EXIT_NO_STORE, "reply of type %u to a request of type %u", reply->hdr.type, type);
    if (err) {
        const char *name = xs_error_name(err);
        die(EXIT_REFUSED, "%s", name ? name : "EINVAL");
    }
}

/* Prints a payload of NUL-separated strings, one a line. */
static void print_strings(const struct message *m)
{
    uint32_t pos = 0;
    const char *s;
    size_t len;

    while (xs_next_string(m->payload, m->hdr.len, &pos, &s, &len))
        printf("%.*s\n", (int)len, s);
}

static unsigned long parse_number(const char *s, unsigned long max, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);

    if (s[0] < '0' || s[0] > '9' || *end || errno || v > max)
        die(EXIT_USAGE, "bad %s '%s'", what, s);
    return v;
}

static void watch(struct conn *c, const char *path, unsigned long want)
{
    static struct message m;
    const char *words[] = { path, WATCH_TOKEN };

    request(c, XS_WATCH, words, 2, &m);
    int64_t deadline = now_ms() + c->timeout_ms;
    while (c->events < want) {
        receive(c, &m, deadline);
        if (m.hdr.type != XS_WATCH_EVENT)
            die(EXIT_NO_STORE, "unexpected message of type %u while watching", m.hdr.type);
        take_event(c, &m);
    }
}

/* This domain's id: the toolstack writes it into the domain's home as "domid". */
static const char *own_domid(struct conn *c, struct message *m)
{
    const char *words[] = { "domid" };

    request(c, XS_READ, words, 1, m);
    return m->payload;
}

struct command {
    const char *name;
    uint32_t type;              /* the request, 0 for the ones with their own code */
    int min_args, max_args;
};

static const struct command commands[] = {
    { "read", XS_READ, 1, 1 },
    { "write", XS_WRITE, 2, 2 },
    { "ls", XS_DIRECTORY, 1, 1 },
    { "mkdir", XS_MKDIR, 1, 1 },
    { "rm", XS_RM, 1, 1 },
    { "perms", XS_GET_PERMS, 1, 1 },
    { "watch", XS_WATCH, 1, 2 },
    { "domid", XS_READ, 0, 0 },
    { "domain-path", XS_GET_DOMAIN_PATH, 0, 1 },
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

/* Refuses bad arguments before the store is opened: exit status 2 whatever the store. */
static unsigned long check_args(const struct command *cmd, char **args, int nargs)
{
    if (nargs > 0 && (args[0][0] == '\0' || strlen(args[0]) > XENSTORE_ABS_PATH_MAX) &&
        strcmp(cmd->name, "domain-path") != 0)
        die(EXIT_USAGE, "a path must be 1..%d characters", XENSTORE_ABS_PATH_MAX);
    if (strcmp(cmd->name, "domain-path") == 0 && nargs > 0)
        (void)parse_number(args[0], UINT16_MAX, "domid");
    if (strcmp(cmd->name, "watch") == 0 && nargs > 1)
        return parse_number(args[1], 1000000, "count");
    return 1;
}

static void run(const struct command *cmd, struct conn *c, char **args, unsigned long count)
{
    static struct message m, id;

    if (strcmp(cmd->name, "watch") == 0) {
        watch(c, args[0], count);
    } else if (strcmp(cmd->name, "domid") == 0) {
        printf("%s\n", own_domid(c, &m));
    } else if (strcmp(cmd->name, "domain-path") == 0) {
        const char *words[] = { args[0] ? args[0] : own_domid(c, &id) };
        request(c, cmd->type, words, 1, &m);
        printf("%s\n", m.payload);
    } else {
        const char *words[] = { args[0], args[1] };
        request(c, cmd->type, words, (unsigned int)cmd->max_args, &m);
        if (cmd->type == XS_READ)
            printf("%s\n", m.payload);
        else if (cmd->type == XS_DIRECTORY || cmd->type == XS_GET_PERMS)
            print_strings(&m);
    }
}

int main(int argc, char **argv)
{
    int timeout_s = 10;
    int i = 1;
    static struct conn c;

    if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
        timeout_s = (int)parse_number(argv[i + 1], 3600, "timeout");
        timeout_s = timeout_s ? timeout_s : 1;
        i += 2;
    }
    if (i >= argc) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    const struct command *cmd = find_command(argv[i]);
    int nargs = argc - i - 1;
    if (!cmd || nargs < cmd->min_args || nargs > cmd->max_args) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    snprintf(doing, sizeof(doing), "%s%s%s", cmd->name, nargs ? " " : "", nargs ? argv[i + 1] : "");
    unsigned long count = check_args(cmd, argv + i + 1, nargs);
    open_store(&c, timeout_s * 1000);
    run(cmd, &c, argv + i + 1, count);
    return EXIT_DONE;
}
