/* devices.h (service-domain tool): wisp-agent's disks and vifs: xenstore nodes, hotplug and teardown, for boot-time guests and for domains made at run time (docs/agent.md). */
#ifndef WISP_AGENT_DEVICES_H
#define WISP_AGENT_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "devnodes.h"
#include "host.h"
#include "store.h"
#include "wisp/control.h"

#define MAX_DEVICES         64  /* served at once, boot-time and run-time together */
#define MAX_RUNTIME_DEVICES 8   /* of one domain made at run time */

/* What the device code works with, set once at start. */
struct devices_env {
    struct store *store;
    int privcmd;
    struct host_paths paths;
    int pmem_wait_ms, netdev_wait_ms;   /* how long a pmem disk, a vif's interface may take */
};

void devices_init(const struct devices_env *env);

/* Reads the boot configuration's devices (WISP_CTL_device_list); false if the call failed. */
bool devices_read_boot(void);

/* Their nodes (a transaction per guest), hotplug, udhcpd, then every such guest unpaused. */
void devices_start_boot(void);

/* Tears down the devices of every guest that has gone (boot-time or run-time). */
void devices_check(void);

/*
 * FRONTEND is destroyed to be restarted: its run-time disks' image copies are
 * kept (not deleted) when its devices go, for the domain built in its place
 * (runtime_device.carried_from), so what it wrote survives its reboot.
 */
void devices_carry_disks(uint16_t frontend);

/* FRONTEND has gone: its devices go now, without waiting for devices_check. */
void devices_remove(uint16_t frontend);

/* The restart of FRONTEND failed: the copies kept for it are deleted. */
void devices_drop_carried(uint16_t frontend);

/*
 * A device of a domain made at run time: d's kind, vdev, devid, handle,
 * readonly or mac filled in (frontend, backend and a disk's target name are
 * set here); a disk's
 * image is copied to a file of its own and served from a loop device.
 */
struct runtime_device {
    struct wisp_ctl_device d;
    const void *image;
    size_t image_bytes;
    uint16_t carried_from;  /* a disk of a restart: the old domain's kept copy (devices_carry_disks), if
                               still there, else image (NULL: not cached, -ENOENT); DOMID_INVALID: image */
};

/*
 * Sets up the N devices of FRONTEND (paused, not yet run) as a boot-time
 * guest's are: nodes in one transaction, then hotplug and DHCP. 0, or a
 * negative errno with *why and nothing of them left behind.
 */
int devices_add(uint16_t frontend, const struct runtime_device *devs, unsigned int n,
                const char **why);

#endif
