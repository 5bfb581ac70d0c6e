/* xenev.h (guest): shared_info, event-channel ports, waiting and pvclock time for runtime programs that use rings (xenstored, the xenstore client). */
#ifndef WISP_PVH_GUEST_XENEV_H
#define WISP_PVH_GUEST_XENEV_H

#include "guest.h"
#include "xen/event_channel.h"

/*
 * The model: interrupts stay off and no callback vector is set; the program
 * sleeps in SCHEDOP_block or SCHEDOP_poll, which return once a port is
 * pending, and then takes pending bits from shared_info itself. vCPU 0 only.
 */

/* Maps shared_info onto a page of the image (XENMEM_add_to_physmap). 0 or -XEN_E*. */
long xenev_init(void);
/* pvclock system time in ns (Xen's system time: what SCHEDOP_poll's timeout counts in). */
uint64_t xenev_now(void);

/* HVMOP_get_param of our own domain; 0 or -XEN_E*. */
long hvm_param_get(uint32_t index, uint64_t *value);

/* ---- EVTCHNOP_* shorthands: 0 or -XEN_E*; new ports come back through *port ---- */
long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port);
long evtchn_bind_virq(uint32_t virq, evtchn_port_t *port);
long evtchn_close(evtchn_port_t port);
long evtchn_send(evtchn_port_t port);

/* Clears port's pending bit; true if it was set. */
bool evtchn_take(evtchn_port_t port);
/*
 * Sleeps (SCHEDOP_block) until some port is pending, unless one already
 * is. Clears vCPU 0's upcall flag and selector first, so an event that
 * arrives after the caller's last look wakes the next call at once.
 */
void evtchn_wait_any(void);
/* SCHEDOP_poll on one port until it is pending or xenev_now() >= deadline_ns (0: no deadline). */
long evtchn_poll(evtchn_port_t port, uint64_t deadline_ns);

#endif
