/* client.h (host tool): the commands that talk to a running Wisp through the broker `wisp up` left (docs/control-protocol.md). */
#ifndef WISP_CLI_CLIENT_H
#define WISP_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "wire.h"

typedef void (*client_item_fn)(void *ctx, const struct wire_msg *item);

/* Connects to the broker's control socket: 0, or an exit status after saying why. */
int client_connect(int *fd);
/* The same without a word: 0 or -1. */
int client_connect_quietly(int *fd);

/*
 * Sends req, hands each `item` to on_item, and parses the `reply` into reply
 * (its strings kept in reply_buf). 0, or an exit status after saying why.
 */
int client_request(struct wire_out *req, client_item_fn on_item, void *ctx, struct wire_msg *reply,
                   char *reply_buf, size_t reply_size);

/* One connection for several requests (`wisp create` sends a file a chunk at a time). */
struct client_conn;
int client_open(struct client_conn **c);
int client_exchange(struct client_conn *c, struct wire_out *req, client_item_fn on_item,
                    void *ctx, struct wire_msg *reply, char *reply_buf, size_t reply_size);
void client_close(struct client_conn *c);
/* Its socket, for a caller that also polls something else (wisp console). */
int client_fd(const struct client_conn *c);

/* NAME or ID of a listed domain: its id and name; 0, or an exit status after saying why. */
int client_domain(const char *which, unsigned *domid, char *name, size_t size);

/* 0 when the reply says status 0; else says why on stderr ("wisp: WHAT: ...") and returns 1. */
int client_judge(const char *what, const struct wire_msg *reply);

/* Whether cmd is one of list, pause, unpause, destroy, shutdown, reboot, sched. */
bool client_knows(const char *cmd);

/* Runs it (argv[0] is cmd); the process's exit status. */
int client_command(const char *cmd, int argc, char **argv);

#endif
