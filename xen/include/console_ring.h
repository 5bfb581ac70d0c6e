/* console_ring.h (hypervisor): the PV console backend the hypervisor itself serves (console_ring.c). */
#ifndef WISP_CONSOLE_RING_H
#define WISP_CONSOLE_RING_H

#include "env.h"

struct domain;

/* Guest-physical page of the ring: outside RAM, listed reserved in the memmap (Xen's
 * "special pages" sit just below 4 GiB too). */
#define CONSOLE_RING_GPA 0xfefff000ull

/* Gives d a console ring page and event channel, published in its HVM params. */
int __must_check console_ring_setup(struct domain *d);
void console_ring_teardown(struct domain *d);
/* Drains what the guest left in its ring (it is ending). */
void console_ring_flush(struct domain *d);
/* Moves serial input to the guest console that has input focus, and drains
 * output rings left unfinished; called from the scheduler loop. */
void console_ring_poll_input(void);

/* Bytes for d's console input (WISP_CTL_console_input): as many as its ring has room for. */
size_t console_ring_input(struct domain *d, const char *buf, size_t len);

#endif
