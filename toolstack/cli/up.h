/* up.h (host tool): `wisp up` and `wisp down` (docs/toolstack.md). */
#ifndef WISP_CLI_UP_H
#define WISP_CLI_UP_H

/* Each takes argv[0] = its own name; returns the process's exit status. */
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);

#endif
