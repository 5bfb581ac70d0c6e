/* monitor.c (host tool): follows Wisp's serial output until it ends, times out or is stopped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootconfig.h"
#include "console.h"
#include "monitor.h"
#include "proc.h"
#include "serial.h"
#include "terminal.h"

#define POLL_INTERVAL_MS 50
/* Domains with a console stream of their own; more share the last one. */
#define MAX_CONSOLES     8
#define INPUT_BUFFER     4096

struct guest_console {
    bool used;
    unsigned domid;
    long long fed_ms;           /* when its last bytes came */
    struct console_stream stream;
    struct monitor *monitor;
    const char *label;          /* "[NAME] " starts each of its lines; NULL: no label */
    char name[32];              /* its label when not the configuration's: guestI, or the
                                 * name of a domain made at run time */
    unsigned guest;             /* guest1..guestN of a run without --config: 1..N; else 0 */
    bool service;               /* the xenstore or service domain: stderr, with --verbose */
    bool mid_line;              /* its last byte on stdout was not "\n" */
    bool cut;                   /* ... and another domain ended that line for it */
};

/* Interactive sessions: stdin on its way to COM1. */
struct console_input {
    bool active;
    bool from_terminal;         /* raw mode; Ctrl-] ends the session */
    bool eof;
    bool escaped;               /* Ctrl-] was typed */
    bool hung_up;               /* the terminal went away: nobody is there any more */
    char buf[INPUT_BUFFER];     /* read, not yet taken by the emulator */
    size_t len;
    long long next_write_ms;    /* paced input (Bochs): not before this */
};

struct monitor {
    const struct run_options *opts;
    struct serial_splitter splitter;
    struct serial_line current;     /* the serial line its pieces belong to */
    enum end_status end;
    long long end_seen_ms;
    bool any_output;            /* any byte on COM1 at all */
    bool serial_eof;
    bool stdout_mid_line;       /* the guest's last byte on stdout was not "\n" */
    struct guest_console *mid_line_console;    /* --config: whose line stdout is in, or NULL */
    struct guest_console consoles[MAX_CONSOLES];
    struct console_input input;
};

/* Hypervisor and other lines; the guests' output so far goes out first, to keep the order. */
static void write_line(FILE *out, const char *text, size_t len)
{
    fflush(stdout);
    fwrite(text, 1, len, out);
    fputc('\n', out);
    fflush(out);
}

/*
 * With several domains each line says whose it is; the stream hands over whole
 * lines or tails. On stdout another domain's partial line is ended first.
 */
static void write_labelled(struct guest_console *c, FILE *out, const char *data, size_t len)
{
    struct guest_console *other = out == stdout ? c->monitor->mid_line_console : NULL;

    if (other && other != c) {  /* another domain's partial line: end it, label the rest */
        putchar('\n');
        other->mid_line = false;
        other->cut = true;
    }
    if (c->cut && data[0] == '\n') {  /* the end of our line that was cut: written already */
        data++;
        len--;
    }
    c->cut = false;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t piece = nl ? (size_t)(nl - data) + 1 : len;

        if (!c->mid_line)
            fprintf(out, "[%s] ", c->label);
        fwrite(data, 1, piece, out);
        c->mid_line = data[piece - 1] != '\n';
        data += piece;
        len -= piece;
    }
    if (out == stdout)
        c->monitor->mid_line_console = c->mid_line ? c : NULL;
}

static void write_guest_output(void *ctx, const char *data, size_t len)
{
    struct guest_console *c = ctx;

    if (c->service) {   /* the machine's own domains: not the user's output */
        if (c->monitor->opts->verbose) {
            fflush(stdout);
            write_labelled(c, stderr, data, len);
            fflush(stderr);
        }
        return;
    }
    if (c->label)
        write_labelled(c, stdout, data, len);
    else
        fwrite(data, 1, len, stdout);
    c->monitor->stdout_mid_line = data[len - 1] != '\n';
}

/*
 * Who domain `domid` is (domains are built in configuration order, from d1).
 * --config: labelled with the name the file gives it. Otherwise guestI is
 * labelled when there are several guests, and the xenstore and service domains
 * in front of the guests (docs/cli.md) are marked as such.
 */
static void identify_domain(const struct monitor *m, struct guest_console *c)
{
    const struct run_options *opts = m->opts;
    const struct boot_config *cfg = opts->config;
    unsigned first = first_guest_domid(opts);

    if (cfg) {
        c->label = c->domid >= 1 && c->domid <= cfg->nr_domains
                   ? cfg->domains[c->domid - 1].name : "?";
        return;
    }
    if (c->domid >= first && c->domid < first + opts->guests) {
        c->guest = c->domid - first + 1;
        snprintf(c->name, sizeof(c->name), "guest%u", c->guest);
        c->label = opts->guests > 1 ? c->name : NULL;
    } else if (c->domid >= 1 && c->domid < first) {
        c->service = true;
        c->label = c->domid == 1 ? "xenstore" : "service";
    }
}

static struct guest_console *console_of(struct monitor *m, unsigned domid)
{
    struct guest_console *c;

    for (c = m->consoles; c < m->consoles + MAX_CONSOLES; c++)
        if (c->used && c->domid == domid)
            return c;
    for (c = m->consoles; c < m->consoles + MAX_CONSOLES - 1 && c->used; c++)
        ;
    if (!c->used) {
        c->used = true;
        c->domid = domid;
        c->monitor = m;
        identify_domain(m, c);
        console_init(&c->stream, m->opts->command && c->guest > 0, write_guest_output, c);
    }
    return c;
}

/*
 * "dN (NAME): created by ..." (xen/common/domain_build.c): a domain made at run time,
 * perhaps in the slot of a boot-time domain that has gone. Its lines are labelled
 * NAME from now on.
 */
static void note_created_domain(struct monitor *m, const char *text, size_t len)
{
    char line[160], name[32];
    unsigned domid;
    int end = 0;
    struct guest_console *c;

    if (len >= sizeof(line))
        return;
    memcpy(line, text, len);
    line[len] = '\0';
    if (sscanf(line, "d%u (%31[^)]): created by %n", &domid, name, &end) != 2 || end == 0)
        return;
    c = console_of(m, domid);
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->label = c->name;
    c->guest = 0;
    c->service = false;
}

static void feed_console(struct monitor *m, unsigned domid, const char *data, size_t len)
{
    struct guest_console *c = console_of(m, domid);

    console_feed(&c->stream, data, len);
    c->fed_ms = monotonic_ms();
}

/* Bytes held for a look ahead that nothing followed: out with them (CONSOLE_HOLD_MS). */
static void release_quiet_consoles(struct monitor *m)
{
    long long now = monotonic_ms();

    for (struct guest_console *c = m->consoles; c < m->consoles + MAX_CONSOLES; c++)
        if (c->used && console_holding(&c->stream) && now - c->fed_ms >= CONSOLE_HOLD_MS)
            console_release_held(&c->stream);
    fflush(stdout);
}

static void on_serial_line(void *ctx, const char *line, size_t len, bool first, bool complete)
{
    struct monitor *m = ctx;
    struct serial_line *cur = &m->current;

    if (m->end != END_NONE)     /* nothing after the end line counts */
        return;
    if (first) {
        serial_classify(line, len, cur);
    } else {    /* a further cut of a long line: no prefix of its own */
        cur->text = line;
        cur->len = len;
        while (cur->kind != LINE_GUEST && cur->len > 0 && line[cur->len - 1] == '\r')
            cur->len--;
    }
    switch (cur->kind) {
    case LINE_GUEST:
        feed_console(m, cur->domid, cur->text, cur->len);
        if (complete && !cur->partial)
            feed_console(m, cur->domid, "\n", 1);
        break;
    case LINE_HYPERVISOR:
        if (m->opts->verbose)
            write_line(stderr, first ? line : cur->text,
                       first ? (size_t)(cur->text - line) + cur->len : cur->len);
        if (first)
            note_created_domain(m, cur->text, cur->len);
        if (first && cur->end != END_NONE) {
            m->end = cur->end;
            m->end_seen_ms = monotonic_ms();
        }
        break;
    case LINE_OTHER:
        if (m->opts->verbose && cur->len > 0)
            write_line(stderr, cur->text, cur->len);
        break;
    }
}

/* Reads what COM1 has now. A pipe reports EOF; a file just has nothing more yet. */
static void pump_serial(struct monitor *m, struct emulator *emu)
{
    char buf[4096];
    ssize_t got;

    if (m->serial_eof || emu->serial_fd < 0)
        return;
    for (;;) {
        got = read(emu->serial_fd, buf, sizeof(buf));
        if (got > 0) {
            m->any_output = true;
            serial_feed(&m->splitter, buf, (size_t)got);
            fflush(stdout);
            continue;
        }
        if (got == 0 && !emu->serial_is_file)
            m->serial_eof = true;
        if (got < 0 && errno == EINTR)
            continue;
        return;
    }
}

/* Reads what stdin has (poll said it has something) and keeps it for COM1. */
static void read_input(struct console_input *in)
{
    ssize_t got = read(0, in->buf + in->len, sizeof(in->buf) - in->len);
    char *escape;

    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (got <= 0) {
        /* A pipe that ends just ends the input; a terminal that does (EIO) ends the session. */
        in->eof = true;
        in->hung_up = in->from_terminal;
        return;
    }
    escape = in->from_terminal ? memchr(in->buf + in->len, TERMINAL_ESCAPE_BYTE, (size_t)got)
                               : NULL;
    if (escape) {
        got = escape - (in->buf + in->len);
        in->escaped = true;
    }
    in->len += (size_t)got;
}

/* Hands the emulator as much of the kept input as it takes now (and its pacing allows). */
static void write_input(struct console_input *in, struct emulator *emu)
{
    size_t count = in->len;
    ssize_t put;

    if (in->len == 0 || monotonic_ms() < in->next_write_ms)
        return;
    if (emu->input_burst && count > emu->input_burst)
        count = emu->input_burst;
    put = emu->serial_in_fd >= 0 ? write(emu->serial_in_fd, in->buf, count) : -1;
    if (put > 0) {
        memmove(in->buf, in->buf + put, in->len - (size_t)put);
        in->len -= (size_t)put;
        if (emu->input_burst)
            in->next_write_ms = monotonic_ms() + emu->input_gap_ms;
    } else if (put < 0 && errno != EAGAIN && errno != EINTR) {
        in->len = 0;            /* the emulator is gone: nobody to take it */
    }
}

static void wait_for_input(struct monitor *m, struct emulator *emu, long long deadline_ms)
{
    struct console_input *in = &m->input;
    struct pollfd fds[9];
    long long left = deadline_ms - monotonic_ms();
    int n = 0, timeout = POLL_INTERVAL_MS, stdin_slot = -1;

    if (left < timeout)
        timeout = left > 0 ? (int)left : 0;
    if (!emu->serial_is_file && !m->serial_eof)
        fds[n++] = (struct pollfd){ .fd = emu->serial_fd, .events = POLLIN };
    n += emulator_display_pollfds(emu, fds + n);
    if (in->active && !in->eof && in->len < sizeof(in->buf)) {
        stdin_slot = n;
        fds[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
    }
    if (in->len > 0 && emu->serial_in_fd >= 0) {
        long long wait = in->next_write_ms - monotonic_ms();

        if (wait <= 0)
            fds[n++] = (struct pollfd){ .fd = emu->serial_in_fd, .events = POLLOUT };
        else if (wait < timeout)
            timeout = (int)wait;
    }
    n += host_channel_pollfds(&emu->host, fds + n, &timeout);
    if (poll(fds, (nfds_t)n, timeout) > 0 && stdin_slot >= 0 && fds[stdin_slot].revents)
        read_input(in);
    write_input(in, emu);
    host_channel_pump(&emu->host);
}

static void make_nonblocking(int fd)
{
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

enum outcome { RUNNING, ENDED, EXITED, TIMED_OUT, INTERRUPTED, ESCAPED, HUNG_UP };

static enum outcome follow(struct monitor *m, struct emulator *emu)
{
    long long deadline = m->opts->timeout_s ? monotonic_ms() + m->opts->timeout_s * 1000LL
                                            : LLONG_MAX;

    for (;;) {
        if (stop_signal)
            return INTERRUPTED;
        if (m->input.escaped)
            return ESCAPED;
        if (m->input.hung_up)
            return HUNG_UP;
        pump_serial(m, emu);
        release_quiet_consoles(m);
        emulator_drain_display(emu);
        if (child_has_exited(emu->pid)) {
            pump_serial(m, emu);
            serial_flush(&m->splitter);
            return m->end != END_NONE ? ENDED : EXITED;
        }
        if (m->end != END_NONE && monotonic_ms() >= m->end_seen_ms + END_GRACE_MS)
            return ENDED;
        if (monotonic_ms() >= deadline) {
            serial_flush(&m->splitter);
            return m->end != END_NONE ? ENDED : TIMED_OUT;
        }
        wait_for_input(m, emu, m->end != END_NONE ? m->end_seen_ms + END_GRACE_MS : deadline);
    }
}

static enum wisp_exit exit_for_end(enum end_status end)
{
    switch (end) {
    case END_POWEROFF: return WISP_EXIT_POWEROFF;
    case END_REBOOT:   return WISP_EXIT_GUEST_REBOOT;
    case END_CRASH:    return WISP_EXIT_GUEST_CRASH;
    case END_PANIC:
    case END_NONE:     break;
    }
    return WISP_EXIT_HV_PANIC;
}

/* isa-debug-exit statuses are odd: (code << 1) | 1 for Wisp's codes 0x10..0x13. */
static bool is_debug_exit_status(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) >= ((0x10 << 1) | 1) &&
           WEXITSTATUS(status) <= ((0x13 << 1) | 1) && (WEXITSTATUS(status) & 1);
}

static void describe_status(int status, char *out, size_t size)
{
    if (WIFEXITED(status))
        snprintf(out, size, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, size, "signal %d", WTERMSIG(status));
    else
        snprintf(out, size, "wait status %#x", status);
}

static enum wisp_exit judge_early_exit(const struct monitor *m, const struct emulator *emu,
                                       int status)
{
    char how[64];
    const char *name = emulator_name(emu->kind);

    describe_status(status, how, sizeof(how));
    if (!m->any_output && !is_debug_exit_status(status) &&
        !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(stderr, "wisp: %s failed (%s) before any serial output\n", name, how);
        show_log_tail(emu->log_path, 10);
        return WISP_EXIT_INFRA;
    }
    fprintf(stderr, "wisp: %s stopped (%s) before Wisp printed an end line\n", name, how);
    show_log_tail(emu->log_path, 10);
    return WISP_EXIT_HV_PANIC;
}

/*
 * Ends every console stream. Fills markers[I] with guestI's exit marker (-1:
 * none); what a guest printed after its marker (power-off messages) goes to
 * stderr when it may matter: with --verbose, or when the run did not end in a
 * clean power-off.
 */
static void finish_consoles(struct monitor *m, int markers[MAX_GUESTS + 1])
{
    for (unsigned i = 0; i <= MAX_GUESTS; i++)
        markers[i] = -1;

    for (struct guest_console *c = m->consoles; c < m->consoles + MAX_CONSOLES; c++) {
        char *tail;
        size_t tail_len;
        int last;

        if (!c->used)
            continue;
        last = console_finish(&c->stream, &tail, &tail_len);
        if (c->guest)
            markers[c->guest] = last;
        if (tail_len > 0 && (m->opts->verbose || m->end != END_POWEROFF)) {
            fwrite(tail, 1, tail_len, stderr);
            if (tail[tail_len - 1] != '\n')
                fputc('\n', stderr);
        }
        free(tail);
    }
    fflush(stdout);
}

/* The xenstore and service domains tell what went wrong with the devices. */
static void hint_service_log(const struct run_options *opts)
{
    if (run_has_devices(opts) && !opts->verbose)
        fputs("wisp: --verbose shows the consoles of the xenstore and service domains\n",
              stderr);
}

/*
 * `run -- COMMAND`: the first non-zero status in guest order, else 0. A guest
 * that reported none counts as WISP_EXIT_NO_STATUS.
 */
static int command_status(const struct run_options *opts, const int markers[MAX_GUESTS + 1])
{
    int status = 0;

    for (unsigned i = 1; i <= opts->guests; i++) {
        int own = markers[i];

        if (own < 0) {
            if (opts->guests > 1)
                fprintf(stderr, "wisp: guest%u: ", i);
            else
                fputs("wisp: ", stderr);
            fprintf(stderr, "the guest powered off without reporting the command's exit "
                    "status (no %sN%s line)\n", MARKER_OPEN, MARKER_CLOSE);
            hint_service_log(opts);
            own = WISP_EXIT_NO_STATUS;
        }
        if (own != 0 && status == 0) {
            status = own;
            if (opts->guests > 1)
                fprintf(stderr, "wisp: guest%u's command ended with status %d, the first "
                        "that is not 0\n", i, own);
        }
    }
    return status;
}

/* Raw mode for a terminal on stdin; the rest of the session runs with it. */
static void start_input(struct monitor *m, const struct emulator *emu)
{
    struct console_input *in = &m->input;

    in->active = m->opts->interactive;
    if (!in->active || !isatty(0))
        return;
    if (terminal_enter_raw(0) == 0) {
        in->from_terminal = true;
        if (isatty(2))
            fprintf(stderr, "wisp: your keys go to the guest's console (%s); "
                    "Ctrl-] ends the session\n", emulator_name(emu->kind));
    }
}

/*
 * Our own closing remarks start on a line of their own. Labelled output is
 * made of whole lines: its last one is ended too.
 */
static void end_guest_line(struct monitor *m)
{
    if (m->stdout_mid_line && (isatty(1) || m->mid_line_console))
        fputc('\n', stdout);
    fflush(stdout);
    m->stdout_mid_line = false;
}

int monitor_run(struct emulator *emu, const struct run_options *opts)
{
    struct monitor m = { .opts = opts };
    enum outcome outcome;
    int status, markers[MAX_GUESTS + 1];

    serial_splitter_init(&m.splitter, on_serial_line, &m);
    make_nonblocking(emu->serial_fd);
    start_input(&m, emu);
    outcome = follow(&m, emu);
    terminal_restore();
    status = emulator_stop(emu, outcome == EXITED || outcome == ENDED ? 200 : 1000);
    finish_consoles(&m, markers);
    end_guest_line(&m);

    switch (outcome) {
    case INTERRUPTED:
        fprintf(stderr, "wisp: stopped by signal %d; %s killed\n", (int)stop_signal,
                emulator_name(emu->kind));
        return WISP_EXIT_INTERRUPTED;
    case ESCAPED:
        fprintf(stderr, "wisp: session ended with Ctrl-]; %s killed\n",
                emulator_name(emu->kind));
        return WISP_EXIT_INTERRUPTED;
    case HUNG_UP:
        fprintf(stderr, "wisp: the terminal closed; %s killed\n", emulator_name(emu->kind));
        return WISP_EXIT_INTERRUPTED;
    case TIMED_OUT:
        fprintf(stderr, "wisp: timed out after %u s; %s killed\n", opts->timeout_s,
                emulator_name(emu->kind));
        hint_service_log(opts);
        return WISP_EXIT_TIMEOUT;
    case EXITED:
        return judge_early_exit(&m, emu, status);
    case ENDED:
    case RUNNING:
        break;
    }
    if (m.end != END_POWEROFF) {
        fprintf(stderr, "wisp: %s\n", m.end == END_PANIC ? "the hypervisor panicked"
                                     : m.end == END_CRASH ? "the guest crashed"
                                                          : "the guest asked to reboot");
        return exit_for_end(m.end);
    }
    if (!opts->command)
        return WISP_EXIT_POWEROFF;
    return command_status(opts, markers);
}
