/* host_channel.c (host tool): the machine's COM2, the host channel (docs/host-channel.md), relayed to a Unix socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "host_channel.h"

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void host_channel_init(struct host_channel *hc)
{
    memset(hc, 0, sizeof(*hc));
    hc->master = hc->slave = hc->listen_fd = hc->client_fd = -1;
}

int host_channel_open_pty(struct host_channel *hc, unsigned burst, unsigned gap_ms)
{
    struct termios raw;

    hc->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (hc->master < 0 || grantpt(hc->master) || unlockpt(hc->master) ||
        ptsname_r(hc->master, hc->slave_path, sizeof(hc->slave_path)) ||
        (hc->slave = open(hc->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
        int err = -errno;

        close_fd(&hc->master);
        return err;
    }
    /* Raw: no line discipline may echo, edit or translate the protocol's bytes. */
    if (tcgetattr(hc->slave, &raw) == 0) {
        cfmakeraw(&raw);
        tcsetattr(hc->slave, TCSANOW, &raw);
    }
    hc->burst = burst;
    hc->gap_ms = gap_ms;
    return 0;
}

int host_channel_listen(struct host_channel *hc, const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct stat st;
    mode_t old_mask;
    int fd, err = 0;

    if (strlen(path) >= sizeof(addr.sun_path))
        return -ENAMETOOLONG;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return -EEXIST;
        unlink(path);           /* a socket left by an earlier run */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    strcpy(addr.sun_path, path);
    old_mask = umask(0177);     /* created 0600: its owner is the only one who may connect */
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 1))
        err = -errno;
    umask(old_mask);
    if (err) {
        close(fd);
        return err;
    }
    hc->listen_fd = fd;
    snprintf(hc->socket_path, sizeof(hc->socket_path), "%s", path);
    return 0;
}

int host_channel_pollfds(const struct host_channel *hc, struct pollfd *fds, int *timeout_ms)
{
    int n = 0;

    if (hc->master < 0)
        return 0;
    bool room = hc->client_fd < 0 || hc->to_client_len < sizeof(hc->to_client);

    fds[n++] = (struct pollfd){ .fd = hc->master, .events = (room ? POLLIN : 0) |
                                                           (hc->to_machine_len ? POLLOUT : 0) };
    if (hc->listen_fd >= 0 && hc->client_fd < 0)
        fds[n++] = (struct pollfd){ .fd = hc->listen_fd, .events = POLLIN };
    if (hc->client_fd >= 0)
        fds[n++] = (struct pollfd){
            .fd = hc->client_fd,
            .events = (hc->to_machine_len < sizeof(hc->to_machine) ? POLLIN : 0) |
                      (hc->to_client_len ? POLLOUT : 0) };
    if (hc->to_machine_len && hc->gap_ms) {
        long long wait = hc->next_write_ms - now_ms();

        if (wait > 0 && wait < *timeout_ms)
            *timeout_ms = (int)wait;
    }
    return n;
}

static void accept_client(struct host_channel *hc)
{
    if (hc->listen_fd < 0 || hc->client_fd >= 0)
        return;
    hc->client_fd = accept4(hc->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

static void drop_client(struct host_channel *hc)
{
    close_fd(&hc->client_fd);
    hc->to_client_len = 0;
}

/*
 * Machine -> client, as far as the client keeps up: a full buffer leaves the rest
 * in the pty, so the machine's port stays busy and its writer waits. With no
 * client the bytes are dropped.
 */
static void from_machine(struct host_channel *hc)
{
    char scratch[HOST_CHANNEL_BUF];
    ssize_t got;

    for (;;) {
        bool keep = hc->client_fd >= 0;
        size_t room = keep ? sizeof(hc->to_client) - hc->to_client_len : sizeof(scratch);

        if (!room)
            return;
        got = read(hc->master, keep ? hc->to_client + hc->to_client_len : scratch, room);
        if (got <= 0)
            return;
        if (keep)
            hc->to_client_len += (size_t)got;
    }
}

static void to_client(struct host_channel *hc)
{
    ssize_t put;

    if (hc->client_fd < 0 || !hc->to_client_len)
        return;
    put = write(hc->client_fd, hc->to_client, hc->to_client_len);
    if (put > 0) {
        memmove(hc->to_client, hc->to_client + put, hc->to_client_len - (size_t)put);
        hc->to_client_len -= (size_t)put;
    } else if (put < 0 && errno != EAGAIN && errno != EINTR) {
        drop_client(hc);
    }
}

static void from_client(struct host_channel *hc)
{
    ssize_t got;

    if (hc->client_fd < 0 || hc->to_machine_len == sizeof(hc->to_machine))
        return;
    got = read(hc->client_fd, hc->to_machine + hc->to_machine_len,
               sizeof(hc->to_machine) - hc->to_machine_len);
    if (got > 0)
        hc->to_machine_len += (size_t)got;
    else if (got == 0 || (errno != EAGAIN && errno != EINTR))
        drop_client(hc);        /* what it sent before leaving still goes in */
}

/*
 * Paced (Bochs): after a quiet spell Wisp looks at COM2 only every 20 ms of the
 * machine's time, which under load passes slower than ours (an overrun was seen
 * while a Linux guest booted), so the first burst is followed by a longer gap:
 * by the next one Wisp has seen bytes and looks every 1 ms (docs/host-channel.md).
 */
#define SLOW_START_IDLE_MS 150
#define SLOW_START_GAP_MS  250

static void to_machine(struct host_channel *hc)
{
    size_t count = hc->to_machine_len;
    long long now = now_ms();
    ssize_t put;

    if (!count || (hc->gap_ms && now < hc->next_write_ms))
        return;
    if (hc->burst && count > hc->burst)
        count = hc->burst;
    put = write(hc->master, hc->to_machine, count);
    if (put > 0) {
        memmove(hc->to_machine, hc->to_machine + put, hc->to_machine_len - (size_t)put);
        hc->to_machine_len -= (size_t)put;
        if (hc->gap_ms) {
            bool after_quiet = now - hc->last_write_ms > SLOW_START_IDLE_MS;

            hc->next_write_ms = now + (after_quiet ? SLOW_START_GAP_MS : hc->gap_ms);
            hc->last_write_ms = now;
        }
    }
}

void host_channel_pump(struct host_channel *hc)
{
    if (hc->master < 0)
        return;
    accept_client(hc);
    from_machine(hc);
    to_client(hc);
    from_machine(hc);           /* what the client just took made room */
    from_client(hc);
    to_machine(hc);
}

void host_channel_close(struct host_channel *hc)
{
    drop_client(hc);
    close_fd(&hc->listen_fd);
    close_fd(&hc->master);
    close_fd(&hc->slave);
    if (hc->socket_path[0])
        unlink(hc->socket_path);
    hc->socket_path[0] = '\0';
}
