/* terminal.c (host tool): raw mode for an interactive session's terminal, always restored. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "terminal.h"

/* Set before the handlers are installed and never changed while they are. */
static int raw_fd = -1;
static struct termios saved, raw;
static volatile sig_atomic_t is_raw;

static void apply(const struct termios *settings)
{
    /* tcsetattr is async-signal-safe (POSIX.1-2008, 2.4.3): the handlers use this. */
    while (tcsetattr(raw_fd, TCSADRAIN, settings) < 0 && errno == EINTR)
        ;
}

void terminal_restore(void)
{
    if (raw_fd >= 0 && is_raw) {
        apply(&saved);
        is_raw = 0;
    }
}

/* Stopped by SIGTSTP (kill -TSTP: Ctrl-Z is the guest's): leave the terminal sane meanwhile. */
static void on_stop(int sig)
{
    int saved_errno = errno;
    sigset_t set;

    terminal_restore();
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);                 /* we stop here until SIGCONT */
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(sig, on_stop);
    apply(&raw);
    is_raw = 1;
    errno = saved_errno;
}

/* A crash must not leave the user's shell in raw mode. */
static void on_fatal(int sig)
{
    terminal_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTSTP, &sa, NULL);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        sigaction(fatal[i], &sa, NULL);
}

int terminal_enter_raw(int fd)
{
    if (tcgetattr(fd, &saved) < 0)
        return -errno;
    raw = saved;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR;   /* keep "\n" -> "\r\n" on output */
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    raw_fd = fd;
    install_handlers();
    atexit(terminal_restore);
    apply(&raw);
    is_raw = 1;
    return 0;
}
