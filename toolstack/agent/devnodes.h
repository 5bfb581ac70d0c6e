/* devnodes.h (service-domain tool, host tests): the xenstore nodes libxl writes for a vbd or a vif, as data; pure (no I/O). */
#ifndef WISP_AGENT_DEVNODES_H
#define WISP_AGENT_DEVNODES_H

#include "env.h"
#include "xen/errno.h"
#include "wisp/control.h"

#define DEVNODE_PATH_MAX  96
#define DEVNODE_VALUE_MAX 96
#define DEVNODES_MAX      32   /* a vbd has 25 nodes with its hotplug ones, a vif 20 */

/* The bridge every vif joins (the service initramfs creates it). */
#define DEVNODES_BRIDGE "br0"

/* Where the agent starts: one phase writes what libxl writes, the other what its hotplug scripts write. */
enum devnode_phase {
    DEVNODE_SETUP,     /* libxl__device_generic_add, in one transaction */
    DEVNODE_HOTPLUG,   /* Xen's block / vif-bridge scripts, once the device is ready */
};

/*
 * One node. Its permission list is {n<owner>, r<reader>}: the owner may do
 * anything, the reader may read, every other domain nothing.
 */
struct devnode {
    char path[DEVNODE_PATH_MAX];
    char value[DEVNODE_VALUE_MAX];
    bool value_known;       /* false: decided at run time (physical-device in --print-nodes) */
    bool dir;               /* a device directory: removed, made again, then given its perms */
    bool changes;           /* a value the drivers move on (state): compare perms only */
    enum devnode_phase phase;
    uint16_t owner;
    uint16_t reader;
};

struct devnode_list {
    unsigned int n;
    struct devnode node[DEVNODES_MAX];
};

/*
 * The xvd index of a vdev name ("xvda" 0 .. "xvdz" 25), or -XEN_EINVAL.
 * Its vbd id: index < 16 → (202 << 8) | (index << 4), else (1 << 28) | (index << 8)
 * (Xen's docs/misc/vbd-interface, libxl__device_disk_dev_number).
 */
int devnodes_xvd_index(const char *vdev);
uint32_t devnodes_vbd_id(unsigned int xvd_index);

/*
 * Checks a device from the hypervisor's list before anything is written:
 * known kind, NUL-terminated strings, a disk's devid matching its vdev, a
 * vif's devid equal to its handle, a unicast MAC, frontend != backend.
 * 0 or -XEN_EINVAL.
 */
int __must_check devnodes_check(const struct wisp_ctl_device *d);

/* The device's directories: /local/domain/F/device/KIND/DEVID and /local/domain/B/backend/KIND/F/DEVID. */
void devnodes_frontend_path(const struct wisp_ctl_device *d, char *buf, size_t cap);
void devnodes_backend_path(const struct wisp_ctl_device *d, char *buf, size_t cap);
/* What a dead frontend leaves behind in the backend: /local/domain/B/backend/KIND/F. */
void devnodes_backend_dir_of(uint16_t backend, uint16_t frontend, uint8_t kind, char *buf,
                             size_t cap);
/* The frontend's own device directory: /local/domain/F/device. */
void devnodes_frontend_dir_of(uint16_t frontend, char *buf, size_t cap);

/* "vbd" or "vif". */
const char *devnodes_kind_name(uint8_t kind);

/*
 * Appends the nodes libxl writes for the device, in libxl's order: the
 * frontend directory and its keys, then the backend's. -XEN_EINVAL for a
 * device devnodes_check refuses, -XEN_E2BIG when out is full.
 */
int __must_check devnodes_setup(const struct wisp_ctl_device *d, struct devnode_list *out);

/*
 * Appends what the block script writes once the backing device is known:
 * physical-device "MAJ:MIN" in hex, physical-device-path, hotplug-status
 * "connected". A NULL dev_path leaves the first two unknown (values decided
 * at run time). -XEN_EINVAL for a vif, -XEN_E2BIG when full.
 */
int __must_check devnodes_vbd_hotplug(const struct wisp_ctl_device *d, unsigned int major,
                                      unsigned int minor, const char *dev_path,
                                      struct devnode_list *out);

/* Appends what vif-bridge writes once the vif is on the bridge: hotplug-status "connected". */
int __must_check devnodes_vif_hotplug(const struct wisp_ctl_device *d, struct devnode_list *out);

/* netback's interface name for a vif: vif<frontend>.<handle> (xenvif_alloc). */
void devnodes_vif_ifname(const struct wisp_ctl_device *d, char *buf, size_t cap);

/* The address udhcpd leases to a vif: 10.77.<handle>.<frontend>; -XEN_EINVAL past 255. */
int devnodes_vif_ip(const struct wisp_ctl_device *d, char *buf, size_t cap);

/*
 * udhcpd.conf for the bridge with one static lease per vif among devs[0..n).
 * Returns its length, -XEN_E2BIG when it does not fit in cap (NUL included).
 */
int __must_check devnodes_dhcp_conf(const struct wisp_ctl_device *devs, unsigned int n,
                                    char *buf, size_t cap);

/*
 * Parses a device as --print-nodes takes it:
 *   disk:FRONTEND:BACKEND:VDEV:rw|ro:TARGET
 *   vif:FRONTEND:BACKEND:HANDLE[:MAC]     (default MAC 00:16:3e:00:FRONTEND:HANDLE, hex)
 * Fills *d as the hypervisor would. 0 or -XEN_EINVAL.
 */
int __must_check devnodes_parse_spec(const char *spec, struct wisp_ctl_device *d);

#endif
