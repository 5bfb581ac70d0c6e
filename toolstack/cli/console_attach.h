/* console_attach.h (host tool): `wisp console NAME|ID` (docs/toolstack.md). */
#ifndef WISP_CLI_CONSOLE_ATTACH_H
#define WISP_CLI_CONSOLE_ATTACH_H

/* argv[0] is "console"; the process's exit status. */
int cmd_console(int argc, char **argv);

#endif
