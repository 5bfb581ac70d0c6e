/* command.h (host tool): turns `wisp run -- COMMAND...` into the guest's wisp.cmd= option. */
#ifndef WISP_CLI_COMMAND_H
#define WISP_CLI_COMMAND_H

#include <stddef.h>

/* The guest command line of `run -- COMMAND`, after "console=hvc0 " (docs/cli.md). */
#define COMMAND_CMDLINE_HEAD "quiet loglevel=3 wisp.cmd="
/* The Linux demo's (no COMMAND): the same kernel message level, no command. */
#define DEMO_CMDLINE_HEAD "quiet loglevel=3"

/*
 * Quotes each word for a POSIX shell (inside single quotes; a ' becomes '\'')
 * and joins them with spaces into out, NUL-terminated when it fits.
 * Returns the length the whole text needs, without the NUL (like snprintf).
 */
size_t shell_quote_join(char *const *words, int count, char *out, size_t size);

/* Base64 (RFC 4648, section 4: standard alphabet, '=' padding) of in; same return. */
size_t base64_encode(const void *in, size_t len, char *out, size_t size);

/*
 * COMMAND_CMDLINE_HEAD "<base64 of the quoted COMMAND>[ extra]" in a malloc'd string,
 * or NULL if out of memory.
 */
char *command_cmdline(char *const *words, int count, const char *extra);

#endif
