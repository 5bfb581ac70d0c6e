/* terminal.h (host tool): raw mode for an interactive session's terminal, always restored. */
#ifndef WISP_CLI_TERMINAL_H
#define WISP_CLI_TERMINAL_H

#include "env.h"

/* Ctrl-] (ASCII GS), as in telnet: typed on the terminal, it ends the session. */
#define TERMINAL_ESCAPE_BYTE 0x1d

/*
 * Puts the terminal on fd in raw mode: no echo, no line editing, no signal
 * keys (Ctrl-C and Ctrl-Z are bytes for the guest), but output processing
 * stays on so a guest's "\n" still starts a new line. The old settings come
 * back with terminal_restore(), at exit, on a fatal signal, and while we are
 * stopped (SIGTSTP; raw again on SIGCONT). Returns 0 or -errno.
 */
int __must_check terminal_enter_raw(int fd);

/* Restores the settings terminal_enter_raw() found; safe to call more than once. */
void terminal_restore(void);

#endif
