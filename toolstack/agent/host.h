/* host.h (service-domain tool): what wisp-agent does in the service domain's Linux: pmem disks, the bridge, udhcpd. */
#ifndef WISP_AGENT_HOST_H
#define WISP_AGENT_HOST_H

#include "env.h"

/* Where the agent looks; each can be moved by the environment for tests (docs/agent.md). */
struct host_paths {
    const char *sysfs;   /* WISP_AGENT_SYSFS, default /sys */
    const char *run;     /* WISP_AGENT_RUN, default /run */
};

/* A block device found for a disk. */
struct pmem_disk {
    char name[32];           /* pmem0 */
    unsigned int major, minor;
    uint64_t bytes;
};

/*
 * Finds the /sys/block/pmem* whose namespace (or region) starts at
 * guest-physical gpa, waiting up to timeout_ms for the driver to create it.
 * 0, or -ENOENT when none did.
 */
int host_find_pmem(const struct host_paths *p, uint64_t gpa, int timeout_ms,
                   struct pmem_disk *out);

/* Waits up to timeout_ms for network interface ifname; 0 or -ENODEV. */
int host_wait_netdev(const struct host_paths *p, const char *ifname, int timeout_ms);

/* Puts ifname on bridge (SIOCBRADDIF) and sets it up (SIOCSIFFLAGS); 0 or -errno. */
int host_bridge_add(const char *bridge, const char *ifname);

/*
 * Writes <run>/udhcpd.conf and starts `udhcpd -f` on it in the background (the
 * one started before, if any, is stopped first); 0 or -errno.
 */
int host_start_udhcpd(const struct host_paths *p, const char *conf, size_t len);

/* path made (mode 0600) or emptied, then data written to it whole; 0 or -errno. */
int host_write_file(const char *path, const void *data, size_t len);

/*
 * image on a free loop device (read-only if asked), cleared by the kernel once
 * the last user closes it: *loop_fd is held open until the disk is let go.
 * out gets its name (loopN), numbers and size. 0 or -errno.
 */
int host_loop_attach(const char *image, bool readonly, struct pmem_disk *out, int *loop_fd);

#endif
