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

#endif
