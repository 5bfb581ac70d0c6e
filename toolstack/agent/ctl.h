/* ctl.h (service-domain tool): Wisp's control hypercall (55) from Linux userspace, through /dev/xen/privcmd. */
#ifndef WISP_AGENT_CTL_H
#define WISP_AGENT_CTL_H

#include "devnodes.h"

/* Every call returns 0 or a negative errno (Xen's numbers are Linux's for these). */
int ctl_open(const char *privcmd);

/* Fills devs[0..max) with the boot configuration's devices, in its order; *n says how many. */
int ctl_device_list(int fd, struct wisp_ctl_device *devs, unsigned int max, unsigned int *n);

int ctl_unpause(int fd, uint16_t domid);

/*
 * Whether domain domid still runs: 1 running or paused, 0 gone, shut down or
 * dying (its devices should go), negative on a failed call.
 */
int ctl_domain_alive(int fd, uint16_t domid);

/* Fills infos[0..max) with the domains whose id is first or above, in id order; *n says how many. */
int ctl_domain_list(int fd, uint16_t first, struct wisp_domain_info *infos, unsigned int max,
                    unsigned int *n);

/* Ends domain domid at once (docs/control.md: it is then dying, then freed). */
int ctl_destroy(int fd, uint16_t domid);

#endif
