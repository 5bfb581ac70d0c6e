/* broker.h (host tool): `wisp up`'s background process: the machine, the agent on its host channel, and the clients (docs/toolstack.md). */
#ifndef WISP_CLI_BROKER_H
#define WISP_CLI_BROKER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Where a running Wisp keeps its sockets and logs (run_dir_path). */
#define RUN_CONTROL_SOCKET  "control.sock"  /* clients: wisp list, pause, ... */
#define RUN_CHANNEL_SOCKET  "channel.sock"  /* the machine's COM2, relayed by `wisp run` */
#define RUN_CONSOLE_LOG     "console.log"   /* every domain's console lines, labelled */
#define RUN_WISP_LOG        "wisp.log"      /* the machine's `wisp run` stderr (hypervisor lines) */
#define RUN_BROKER_LOG      "broker.log"
#define RUN_CONFIG          "up.cfg"
#define RUN_READY           "ready"         /* exists once the agent has said hello */

/*
 * $WISP_RUN_DIR, else $XDG_RUNTIME_DIR/wisp, else /tmp/wisp-UID; created mode
 * 0700 and refused unless it is ours and closed to everyone else. 0 or -errno.
 */
int run_dir_path(char *out, size_t size, bool create);

/* dir/name into out; false if it does not fit (a Unix socket path: 108 bytes at most). */
bool run_file(const char *dir, const char *name, char *out, size_t size);

/*
 * The broker, in the process `wisp up` forked (its own session): starts
 * `run_argv` (the machine, dying with us), connects to its host channel,
 * waits for the agent, then serves clients until `down` or the machine's end.
 * Never returns.
 */
void broker_main(const char *dir, char *const *run_argv) __attribute__((noreturn));

#endif
