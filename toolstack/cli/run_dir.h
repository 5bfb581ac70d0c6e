/* run_dir.h (host tool): where a running Wisp keeps its sockets, logs and shared files (docs/toolstack.md). */
#ifndef WISP_CLI_RUN_DIR_H
#define WISP_CLI_RUN_DIR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* What a running Wisp keeps in its run directory (run_dir_path). */
#define RUN_CONTROL_SOCKET  "control.sock"  /* clients: wisp list, pause, ... */
#define RUN_CHANNEL_SOCKET  "channel.sock"  /* the machine's COM2, relayed by `wisp run` */
#define RUN_CONSOLE_LOG     "console.log"   /* every domain's console lines, labelled */
#define RUN_WISP_LOG        "wisp.log"      /* the machine's `wisp run` stderr (hypervisor lines) */
#define RUN_BROKER_LOG      "broker.log"
#define RUN_CONFIG          "up.cfg"
#define RUN_READY           "ready"         /* exists once the agent has said hello */
#define RUN_RAM             "ram"           /* QEMU: a link to the machine's RAM file in /dev/shm */
#define RUN_DIGESTS         "digests"       /* the CLI's digest cache (file_digest.c) */

/*
 * $WISP_RUN_DIR, else $XDG_RUNTIME_DIR/wisp, else /tmp/wisp-UID; created mode
 * 0700 and refused unless it is ours and closed to everyone else. 0 or -errno.
 */
int run_dir_path(char *out, size_t size, bool create);

/* dir/name into out; false if it does not fit (a Unix socket path: 108 bytes at most). */
bool run_file(const char *dir, const char *name, char *out, size_t size);

#endif
