/* ctl.h (service-domain tool): Wisp's control hypercall (55) from Linux userspace, through /dev/xen/privcmd. */
#ifndef WISP_AGENT_CTL_H
#define WISP_AGENT_CTL_H

#include "devnodes.h"

/* vCPUs whose times domain_stats reads at most (Wisp domains have at most 8). */
#define WISP_MAX_VCPUS_LISTED 64

/* Every call returns 0 or a negative errno (Xen's numbers are Linux's for these). */
int ctl_open(const char *privcmd);

/* Fills devs[0..max) with the boot configuration's devices, in its order; *n says how many. */
int ctl_device_list(int fd, struct wisp_ctl_device *devs, unsigned int max, unsigned int *n);

int ctl_unpause(int fd, uint16_t domid);

/*
 * Whether domain domid is still there: 1 running, paused, shut down or
 * building; 0 dying or gone (its devices should go, as in Xen: a shut-down
 * domain keeps them until it is destroyed, which a restart relies on);
 * negative on a failed call.
 */
int ctl_domain_alive(int fd, uint16_t domid);

/* 1 if domain domid is gone (its id free for another), 0 if it is there, negative on a failed call. */
int ctl_domain_gone(int fd, uint16_t domid);

/* Fills infos[0..max) with the domains whose id is first or above, in id order; *n says how many. */
int ctl_domain_list(int fd, uint16_t first, struct wisp_domain_info *infos, unsigned int max,
                    unsigned int *n);

/* The hypervisor's free 4 KiB frames (domain_list's free_frames), into *frames. */
int ctl_free_frames(int fd, uint32_t *frames);

/* Ends domain domid at once (docs/control.md: it is then dying, then freed). */
int ctl_destroy(int fd, uint16_t domid);

int ctl_pause(int fd, uint16_t domid);

/* Any control command: its non-negative answer, or a negative errno (pvh_build_domain's way in). */
long ctl_call(int fd, unsigned int cmd, void *arg);

/* A domain's CPU share (weight 1..WISP_SCHED_MAX_WEIGHT, cap in percent of a CPU, 0: none). */
int ctl_sched_get(int fd, uint16_t domid, uint32_t *weight, uint32_t *cap);
int ctl_sched_set(int fd, uint16_t domid, uint32_t weight, uint32_t cap);

/* What domid has used so far (WISP_CTL_domain_stats): what `list` and `top` show. */
struct domain_usage {
    uint64_t running_ns;        /* all its vCPUs together */
    uint64_t exits;             /* VM exits, every reason */
    uint64_t events;            /* event channel notifications it received */
};
int ctl_domain_usage(int fd, uint16_t domid, struct domain_usage *u);

/* Bytes into domid's console input: how many its ring took (0: full), or a negative errno. */
long ctl_console_input(int fd, uint16_t domid, const void *buf, uint32_t bytes);

/* The host channel: bytes moved (0: none waiting / the port is busy), or a negative errno. */
long ctl_host_read(int fd, void *buf, uint32_t bytes);
long ctl_host_write(int fd, const void *buf, uint32_t bytes);

#endif
