/* inbox.h (host tool): the inbox: files handed to the service domain through the machine's shared RAM instead of COM2 (docs/toolstack.md). */
#ifndef WISP_CLI_INBOX_H
#define WISP_CLI_INBOX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * `wisp up` under QEMU: dir/inbox.img (a header with a fresh nonce, then room
 * for a chunk) and dir/ram, a link to a new file in /dev/shm that `wisp run
 * --ram-file` backs the machine's RAM with. 0, or an exit status after saying why.
 */
int inbox_prepare(const char *dir);

/* The machine has ended: its RAM file and the link to it go. */
void inbox_remove_ram(const char *dir);

/*
 * A client's hold on the inbox of the running Wisp, found in the machine's RAM
 * by the hypervisor's log line for the module and checked by its header; held
 * exclusively (flock) until inbox_close, so two creates take turns.
 */
struct inbox;

/* NULL when this Wisp has no inbox (Bochs, or it cannot be found: then says why). */
struct inbox *inbox_open(void);

/* n bytes (at most INBOX_DATA_BYTES, inbox_layout.h) into the data area, for the next `take`. */
void inbox_write(struct inbox *ib, const void *data, size_t n);

void inbox_close(struct inbox *ib);

#endif
