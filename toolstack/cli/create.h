/* create.h (host tool): `wisp create FILE` (docs/toolstack.md). */
#ifndef WISP_CLI_CREATE_H
#define WISP_CLI_CREATE_H

#include <stddef.h>

#define CREATE_FILE_MAX (64u << 20)     /* a kernel or ramdisk, as the agent takes */

/* argv[0] is "create"; the process's exit status. */
int cmd_create(int argc, char **argv);

#endif
