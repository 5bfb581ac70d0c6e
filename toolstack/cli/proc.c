/* proc.c (host tool): starting child processes in their own group and always ending them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

void install_stop_handlers(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;     /* no SA_RESTART: poll/waitpid see EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

long long monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_pty_master(int *master, char *slave_name, size_t slave_len)
{
    /* A terminal the size of a PC text screen, for Bochs' curses display. */
    struct winsize size = { .ws_row = 25, .ws_col = 80 };
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (grantpt(fd) || unlockpt(fd) || ptsname_r(fd, slave_name, slave_len)) {
        int err = -errno;

        close(fd);
        return err;
    }
    ioctl(fd, TIOCSWINSZ, &size);
    *master = fd;
    return 0;
}

/* In the child: never returns. Reports exec failure's errno through report_fd. */
static void exec_child(const struct spawn_request *req, const char *slave_name,
                       pid_t parent, int report_fd)
{
    int err;

    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)    /* the parent died before prctl */
        _exit(127);
    /* Signal dispositions set to ignore survive exec: give the child defaults. */
    signal(SIGPIPE, SIG_DFL);
    if (slave_name) {
        int slave = open(slave_name, O_RDWR);   /* becomes the controlling terminal */

        if (slave < 0)
            goto fail;
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        if (slave > 2)
            close(slave);
        if (req->term)
            setenv("TERM", req->term, 1);
    } else {
        dup2(req->stdin_fd, 0);
        dup2(req->stdout_fd, 1);
        dup2(req->stderr_fd, 2);
    }
    execvp(req->argv[0], req->argv);
fail:
    err = errno;
    if (write(report_fd, &err, sizeof(err)) < 0)
        _exit(127);
    _exit(127);
}

int spawn_child(const struct spawn_request *req, pid_t *pid, int *pty_master)
{
    char slave_name[128];
    int report[2], err = 0, master = -1;
    pid_t parent = getpid(), child;
    ssize_t got;

    if (req->use_pty) {
        err = open_pty_master(&master, slave_name, sizeof(slave_name));
        if (err)
            return err;
    }
    if (pipe2(report, O_CLOEXEC)) {
        err = -errno;
        goto fail;
    }
    child = fork();
    if (child < 0) {
        err = -errno;
        close(report[0]);
        close(report[1]);
        goto fail;
    }
    if (child == 0)
        exec_child(req, req->use_pty ? slave_name : NULL, parent, report[1]);

    close(report[1]);
    do
        got = read(report[0], &err, sizeof(err));
    while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == sizeof(err)) {   /* exec failed; the child has exited */
        waitpid(child, NULL, 0);
        err = -err;
        goto fail;
    }
    if (master >= 0)
        fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    *pid = child;
    if (pty_master)
        *pty_master = master;
    return 0;
fail:
    if (master >= 0)
        close(master);
    return err;
}

bool child_has_exited(pid_t pid)
{
    siginfo_t info;

    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
        return errno == ECHILD;
    return info.si_pid == pid;
}

int end_process_group(pid_t pid, unsigned grace_ms)
{
    long long deadline = monotonic_ms() + grace_ms;
    int status = 0;

    if (!child_has_exited(pid)) {
        kill(-pid, SIGTERM);
        while (!child_has_exited(pid) && monotonic_ms() < deadline)
            poll(NULL, 0, 20);
    }
    /*
     * The leader is still unreaped here, so its group id cannot have been
     * reused: SIGKILL whatever is left of the group, then reap.
     */
    kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

int wait_tool(pid_t pid)
{
    int status;

    while (!child_has_exited(pid)) {
        if (stop_signal) {
            end_process_group(pid, 200);
            return -EINTR;
        }
        poll(NULL, 0, 20);
    }
    status = end_process_group(pid, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_tool(char *const *argv, const char *log_path)
{
    struct spawn_request req = { .argv = argv };
    int log_fd, null_fd, err;
    pid_t pid;

    log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0)
        return -errno;
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    req.stdin_fd = null_fd;
    req.stdout_fd = log_fd;
    req.stderr_fd = log_fd;
    err = spawn_child(&req, &pid, NULL);
    close(log_fd);
    close(null_fd);
    if (err)
        return err;
    return wait_tool(pid);
}

void show_log_tail(const char *path, unsigned max_lines)
{
    char *lines[64] = { 0 };
    char *line = NULL;
    size_t cap = 0;
    unsigned count = 0;
    FILE *log;

    if (max_lines > 64)
        max_lines = 64;
    log = fopen(path, "r");
    if (!log)
        return;
    while (getline(&line, &cap, log) >= 0) {
        free(lines[count % max_lines]);
        lines[count % max_lines] = strdup(line);
        count++;
    }
    fclose(log);
    free(line);
    if (count == 0)
        return;
    fprintf(stderr, "wisp: last lines of %s:\n", path);
    for (unsigned i = count > max_lines ? count - max_lines : 0; i < count; i++) {
        const char *text = lines[i % max_lines];

        fprintf(stderr, "  %s%s", text ? text : "",
                text && text[0] && text[strlen(text) - 1] == '\n' ? "" : "\n");
    }
    for (unsigned i = 0; i < max_lines; i++)
        free(lines[i]);
}
