/* host_channel.h (host tool): the machine's COM2, the host channel (docs/host-channel.md), relayed to a Unix socket. */
#ifndef WISP_CLI_HOST_CHANNEL_H
#define WISP_CLI_HOST_CHANNEL_H

#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define HOST_CHANNEL_BUF 4096

/*
 * COM2 is a pty: the emulator opens the slave by name (QEMU `-serial PATH`,
 * Bochs `com2: mode=term`), we keep the master. `wisp run --host-channel
 * PATH` relays it to one client at a time on the Unix socket PATH (mode
 * 0600, so only its owner connects); bytes the machine sends while nobody is
 * connected are dropped, as on an unplugged serial line.
 */
struct host_channel {
    int master, slave;              /* -1 when closed; the slave is held so the pty stays up */
    char slave_path[64];
    char socket_path[PATH_MAX];
    int listen_fd, client_fd;       /* -1: none */
    unsigned burst, gap_ms;         /* pacing into the machine (Bochs' FIFO drops); 0: none */
    long long next_write_ms, last_write_ms;
    char to_machine[HOST_CHANNEL_BUF], to_client[HOST_CHANNEL_BUF];
    size_t to_machine_len, to_client_len;
};

/* Sets every fd to -1; host_channel_close is then safe. */
void host_channel_init(struct host_channel *hc);

/* Opens the pty (slave_path names it for the emulator). 0 or -errno. */
int host_channel_open_pty(struct host_channel *hc, unsigned burst, unsigned gap_ms);

/* Listens on path (an existing socket there is replaced; any other file is an error). 0 or -errno. */
int host_channel_listen(struct host_channel *hc, const char *path);

/* Adds what to wait for to fds (room for four); returns how many; may shorten *timeout_ms. */
int host_channel_pollfds(const struct host_channel *hc, struct pollfd *fds, int *timeout_ms);

/* After poll: accepts a client, moves bytes both ways as far as each side takes them. */
void host_channel_pump(struct host_channel *hc);

/* Closes everything and removes the socket. */
void host_channel_close(struct host_channel *hc);

#endif
