/* console_route.h (pure: hypervisor and host tests): which of a domain's two console paths the user sees. */
#ifndef WISP_CONSOLE_ROUTE_H
#define WISP_CONSOLE_ROUTE_H

#include "env.h"

/*
 * A PVH guest has two ways to print: CONSOLEIO_write (the hypervisor's own
 * log on Xen, seen with guest_loglvl) and its PV console ring (what `xl
 * console` shows). XTF and Mini-OS write every message through both, the
 * hypercall first; our own test guests use only the hypercall, Linux only
 * the ring. The rule (docs/cli.md, "Guest console output"):
 *
 *  1. Until a domain puts its first byte into its console ring, its
 *     CONSOLEIO_write text is shown, as console output.
 *  2. From then on the ring is the domain's console: CONSOLEIO_write text
 *     goes to the hypervisor log at debug level only (one sanitised line
 *     per guest line), as on Xen.
 *  3. The ring's first bytes that repeat the last CONSOLEIO_write call made
 *     before the switch (at most CONSOLE_ROUTE_ECHO_MAX bytes) are not shown
 *     again: they are that call's copy. The first byte that differs ends the
 *     match, and the swallowed part is shown after all.
 */
#define CONSOLE_ROUTE_ECHO_MAX 256      /* a longer call is not matched against */
#define CONSOLE_ROUTE_LOG_MAX  128      /* one debug log line; longer guest lines are split */

/*
 * Per-domain state. Wisp runs every vCPU on the boot pCPU, so hypercalls and
 * ring drains never run at the same time: no lock.
 */
struct console_route {
    bool ring_used;                     /* the guest has written to its ring */
    bool echo_valid;                    /* the current call fits in echo[] */
    uint16_t echo_len, echo_pos;        /* echo[0, len) recorded, [0, pos) matched */
    uint16_t log_len;
    char echo[CONSOLE_ROUTE_ECHO_MAX];
    char log[CONSOLE_ROUTE_LOG_MAX + 1];
};

/* Where the text goes. */
struct console_sink {
    void *ctx;
    void (*show)(void *ctx, const char *buf, size_t len);  /* the user's view of the guest */
    void (*log)(void *ctx, const char *line);               /* one NUL-terminated debug line */
    bool log_enabled;                   /* false: the debug line would be dropped anyway */
};

/* A CONSOLEIO_write call (or its continuation) of count bytes begins. */
void console_route_io_begin(struct console_route *r, uint64_t count);
/* Bytes of that call, in order, already copied from the guest. */
void console_route_io(struct console_route *r, const struct console_sink *s,
                      const char *buf, size_t len);
/* Bytes the guest put in its console ring, in order. */
void console_route_ring(struct console_route *r, const struct console_sink *s,
                        const char *buf, size_t len);

#endif
