/* monitor.c (host tool): follows Wisp's serial output until it ends, times out or is stopped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"
#include "proc.h"
#include "serial.h"

#define POLL_INTERVAL_MS 50

struct monitor {
    const struct run_options *opts;
    struct serial_splitter splitter;
    enum end_status end;
    long long end_seen_ms;
    bool any_output;            /* any byte on COM1 at all */
    bool serial_eof;
};

static void write_line(FILE *out, const char *text, size_t len)
{
    fwrite(text, 1, len, out);
    fputc('\n', out);
    fflush(out);
}

static void on_serial_line(void *ctx, const char *line, size_t len)
{
    struct monitor *m = ctx;
    struct serial_line parsed;

    if (m->end != END_NONE)     /* nothing after the end line counts */
        return;
    serial_classify(line, len, &parsed);
    switch (parsed.kind) {
    case LINE_GUEST:
        write_line(stdout, parsed.text, parsed.len);
        break;
    case LINE_HYPERVISOR:
        if (m->opts->verbose)
            write_line(stderr, line, (size_t)(parsed.text - line) + parsed.len);
        if (parsed.end != END_NONE) {
            m->end = parsed.end;
            m->end_seen_ms = monotonic_ms();
        }
        break;
    case LINE_OTHER:
        if (m->opts->verbose && parsed.len > 0)
            write_line(stderr, parsed.text, parsed.len);
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
            continue;
        }
        if (got == 0 && !emu->serial_is_file)
            m->serial_eof = true;
        if (got < 0 && errno == EINTR)
            continue;
        return;
    }
}

/* Bochs' text display must be read, or Bochs blocks on a full pty. */
static void drain_terminal(struct emulator *emu)
{
    char buf[4096];
    ssize_t got;

    while (emu->terminal_fd >= 0) {
        got = read(emu->terminal_fd, buf, sizeof(buf));
        if (got > 0) {
            if (emu->terminal_log_fd >= 0 && write(emu->terminal_log_fd, buf, (size_t)got) < 0)
                emu->terminal_log_fd = -1;
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        close(emu->terminal_fd);    /* EIO: the terminal's last user is gone */
        emu->terminal_fd = -1;
    }
}

static void wait_for_input(struct monitor *m, struct emulator *emu, long long deadline_ms)
{
    struct pollfd fds[2];
    long long left = deadline_ms - monotonic_ms();
    int n = 0, timeout = POLL_INTERVAL_MS;

    if (left < timeout)
        timeout = left > 0 ? (int)left : 0;
    if (!emu->serial_is_file && !m->serial_eof)
        fds[n++] = (struct pollfd){ .fd = emu->serial_fd, .events = POLLIN };
    if (emu->terminal_fd >= 0)
        fds[n++] = (struct pollfd){ .fd = emu->terminal_fd, .events = POLLIN };
    poll(fds, (nfds_t)n, timeout);
}

static void make_nonblocking(int fd)
{
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

enum outcome { RUNNING, ENDED, EXITED, TIMED_OUT, INTERRUPTED };

static enum outcome follow(struct monitor *m, struct emulator *emu)
{
    long long deadline = m->opts->timeout_s ? monotonic_ms() + m->opts->timeout_s * 1000LL
                                            : LLONG_MAX;

    for (;;) {
        if (stop_signal)
            return INTERRUPTED;
        pump_serial(m, emu);
        drain_terminal(emu);
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

enum wisp_exit monitor_run(struct emulator *emu, const struct run_options *opts)
{
    struct monitor m = { .opts = opts };
    enum outcome outcome;
    int status;

    serial_splitter_init(&m.splitter, on_serial_line, &m);
    make_nonblocking(emu->serial_fd);
    outcome = follow(&m, emu);
    status = emulator_stop(emu, outcome == EXITED || outcome == ENDED ? 200 : 1000);

    switch (outcome) {
    case INTERRUPTED:
        fprintf(stderr, "wisp: stopped by signal %d; %s killed\n", (int)stop_signal,
                emulator_name(emu->kind));
        return WISP_EXIT_INTERRUPTED;
    case TIMED_OUT:
        fprintf(stderr, "wisp: timed out after %u s; %s killed\n", opts->timeout_s,
                emulator_name(emu->kind));
        return WISP_EXIT_TIMEOUT;
    case EXITED:
        return judge_early_exit(&m, emu, status);
    case ENDED:
    case RUNNING:
        break;
    }
    if (m.end != END_POWEROFF)
        fprintf(stderr, "wisp: %s\n", m.end == END_PANIC ? "the hypervisor panicked"
                                     : m.end == END_CRASH ? "the guest crashed"
                                                          : "the guest asked to reboot");
    return exit_for_end(m.end);
}
