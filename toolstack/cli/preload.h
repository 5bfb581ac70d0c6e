/* preload.h (host tool): `wisp up --preload FILE`: files in the service domain's initramfs, so `wisp create` need not send them (docs/toolstack.md). */
#ifndef WISP_CLI_PRELOAD_H
#define WISP_CLI_PRELOAD_H

#define PRELOAD_MAX_FILES 4             /* the agent's file cache holds four */
#define PRELOAD_MAX_BYTES (64u << 20)   /* all of them together */

/*
 * Writes OUT (replacing a file or link there, never writing through one): the
 * initramfs BASE, then a newc archive holding each of the N FILES as
 * /preload/SHA256-OF-ITS-BYTES. *mib gets the files' total size in MiB, rounded
 * up: the room the service domain needs for them. 0 or an exit status, after
 * saying why.
 */
int preload_write_initrd(const char *base, const char *const *files, unsigned n,
                         const char *out, unsigned *mib);

#endif
