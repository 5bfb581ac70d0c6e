/* create.h (host tool): `wisp create FILE` (docs/toolstack.md). */
#ifndef WISP_CLI_CREATE_H
#define WISP_CLI_CREATE_H

#include <stddef.h>

#define CREATE_FILE_MAX (64u << 20)     /* a kernel or ramdisk, as the agent takes */

/* The whole of path (what: "kernel", ...), at most CREATE_FILE_MAX bytes; NULL after saying why. */
void *create_read_file(const char *what, const char *path, size_t *size);

/* argv[0] is "create"; the process's exit status. */
int cmd_create(int argc, char **argv);

#endif
