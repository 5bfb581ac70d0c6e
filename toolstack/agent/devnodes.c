/* devnodes.c (service-domain tool, host tests): the xenstore nodes libxl writes for a vbd or a vif, as data; pure (no I/O). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devnodes.h"

/* libxl__xen_script_dir_path(): XEN_SCRIPT_DIR of a default Xen install. */
#define XEN_SCRIPT_DIR "/etc/xen/scripts"
/* LIBXL_DEVICE_NIC_MTU_DEFAULT (libxl_nic.c). */
#define NIC_MTU_DEFAULT 1500
/* XenbusStateInitialising (xen/include/public/io/xenbus.h): both ends start there. */
#define XENBUS_INITIALISING "1"

/* Xen's vbd numbering (docs/misc/vbd-interface.txt): the xvd major and the extended form. */
#define XVD_MAJOR          202
#define XVD_SHORT_LIMIT    16
#define VBD_EXTENDED_FLAG  (1u << 28)

int devnodes_xvd_index(const char *vdev)
{
    if (strncmp(vdev, "xvd", 3) != 0 || vdev[3] < 'a' || vdev[3] > 'z' || vdev[4] != '\0')
        return -XEN_EINVAL;
    return vdev[3] - 'a';
}

uint32_t devnodes_vbd_id(unsigned int xvd_index)
{
    if (xvd_index < XVD_SHORT_LIMIT)
        return (XVD_MAJOR << 8) | (xvd_index << 4);
    return VBD_EXTENDED_FLAG | (xvd_index << 8);
}

const char *devnodes_kind_name(uint8_t kind)
{
    return kind == WISP_DEV_DISK ? "vbd" : kind == WISP_DEV_VIF ? "vif" : "?";
}

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* Module names go into a value and into JSON: printable ASCII, no quote or backslash. */
static bool plain_text(const char *s)
{
    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    }
    return true;
}

static bool disk_ok(const struct wisp_ctl_device *d)
{
    int index = devnodes_xvd_index(d->vdev);

    return terminated(d->vdev, sizeof(d->vdev)) && terminated(d->target, sizeof(d->target)) &&
           index >= 0 && d->devid == devnodes_vbd_id((unsigned int)index) &&
           d->target[0] != '\0' && plain_text(d->target) && d->readonly <= 1;
}

static bool vif_ok(const struct wisp_ctl_device *d)
{
    /* Bit 0 of the first byte is the group bit: a vif's address must be unicast. */
    return d->devid == d->handle && (d->mac[0] & 1) == 0;
}

int devnodes_check(const struct wisp_ctl_device *d)
{
    if (d->frontend == d->backend || d->frontend >= DOMID_FIRST_RESERVED ||
        d->backend >= DOMID_FIRST_RESERVED)
        return -XEN_EINVAL;
    if (d->kind == WISP_DEV_DISK)
        return disk_ok(d) ? 0 : -XEN_EINVAL;
    if (d->kind == WISP_DEV_VIF)
        return vif_ok(d) ? 0 : -XEN_EINVAL;
    return -XEN_EINVAL;
}

/* libxl__device_frontend_path: <dompath>/device/<kind>/<devid>. */
void devnodes_frontend_path(const struct wisp_ctl_device *d, char *buf, size_t cap)
{
    snprintf(buf, cap, "/local/domain/%u/device/%s/%u", d->frontend, devnodes_kind_name(d->kind),
             d->devid);
}

/* libxl__device_backend_path: <backend dompath>/backend/<kind>/<frontend domid>/<devid>. */
void devnodes_backend_path(const struct wisp_ctl_device *d, char *buf, size_t cap)
{
    snprintf(buf, cap, "/local/domain/%u/backend/%s/%u/%u", d->backend,
             devnodes_kind_name(d->kind), d->frontend, d->devid);
}

void devnodes_backend_dir_of(uint16_t backend, uint16_t frontend, uint8_t kind, char *buf,
                             size_t cap)
{
    snprintf(buf, cap, "/local/domain/%u/backend/%s/%u", backend, devnodes_kind_name(kind),
             frontend);
}

void devnodes_frontend_dir_of(uint16_t frontend, char *buf, size_t cap)
{
    snprintf(buf, cap, "/local/domain/%u/device", frontend);
}

void devnodes_vif_ifname(const struct wisp_ctl_device *d, char *buf, size_t cap)
{
    snprintf(buf, cap, "vif%u.%u", d->frontend, d->handle);
}

int devnodes_vif_ip(const struct wisp_ctl_device *d, char *buf, size_t cap)
{
    if (d->handle > 255 || d->frontend > 255)
        return -XEN_EINVAL;
    snprintf(buf, cap, "10.77.%u.%u", d->handle, d->frontend);
    return 0;
}

/* LIBXL_MAC_FMT: lower-case hex, colons. */
static void format_mac(const uint8_t mac[6], char *buf, size_t cap)
{
    snprintf(buf, cap, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

/* Where the nodes of one directory go, and the permissions they get. */
struct dir_writer {
    struct devnode_list *out;
    const char *dir;
    enum devnode_phase phase;
    uint16_t owner, reader;
    int err;                    /* first failure, sticky */
};

static struct devnode *add(struct dir_writer *w, const char *key)
{
    if (w->err)
        return NULL;
    if (w->out->n >= DEVNODES_MAX) {
        w->err = -XEN_E2BIG;
        return NULL;
    }
    struct devnode *n = &w->out->node[w->out->n++];
    memset(n, 0, sizeof(*n));
    if (key)
        snprintf(n->path, sizeof(n->path), "%s/%s", w->dir, key);
    else
        snprintf(n->path, sizeof(n->path), "%s", w->dir);
    n->phase = w->phase;
    n->owner = w->owner;
    n->reader = w->reader;
    n->value_known = true;
    return n;
}

static void put(struct dir_writer *w, const char *key, const char *value)
{
    struct devnode *n = add(w, key);

    if (n)
        snprintf(n->value, sizeof(n->value), "%s", value);
}

static void put_number(struct dir_writer *w, const char *key, unsigned long value)
{
    char text[24];

    snprintf(text, sizeof(text), "%lu", value);
    put(w, key, text);
}

static void put_changing(struct dir_writer *w, const char *key, const char *value)
{
    struct devnode *n = add(w, key);

    if (n) {
        snprintf(n->value, sizeof(n->value), "%s", value);
        n->changes = true;
    }
}

static void put_dir(struct dir_writer *w)
{
    struct devnode *n = add(w, NULL);

    if (n)
        n->dir = true;
}

/*
 * The two directories and their cross-links, as libxl__device_generic_add
 * (libxl_device.c) makes them: the frontend directory {n<F>, r<B>} (the guest
 * owns it, the backend reads it), the backend directory {n<B>, r<F>}. Keys
 * written below a directory carry the directory's permissions (libxl writes
 * the frontend keys with them explicitly, the backend's inherit them).
 */
static void open_frontend(struct dir_writer *w, const struct wisp_ctl_device *d,
                          struct devnode_list *out, char *fpath, char *bpath)
{
    *w = (struct dir_writer){ .out = out, .dir = fpath, .phase = DEVNODE_SETUP,
                              .owner = d->frontend, .reader = d->backend };
    put_dir(w);
    put(w, "backend", bpath);
    /* libxl__device_add_async's generic frontend keys (device_disk_add writes the same). */
    put_number(w, "backend-id", d->backend);
    put_changing(w, "state", XENBUS_INITIALISING);
}

static void open_backend(struct dir_writer *w, const struct wisp_ctl_device *d,
                         struct devnode_list *out, char *fpath, char *bpath)
{
    *w = (struct dir_writer){ .out = out, .dir = bpath, .phase = DEVNODE_SETUP,
                              .owner = d->backend, .reader = d->frontend };
    put_dir(w);
    put(w, "frontend", fpath);
}

/* The generic backend keys (libxl__device_add_async; device_disk_add writes them after params and script). */
static void backend_generic(struct dir_writer *w, const struct wisp_ctl_device *d)
{
    put_number(w, "frontend-id", d->frontend);
    put(w, "online", "1");
}

/*
 * libxl_disk.c:device_disk_add for a LIBXL_DISK_BACKEND_PHY disk with
 * libxl__device_disk_setdefault's defaults: not removable, not a cdrom,
 * trusted, discard on for a writable disk, specification "xen". params is the
 * target as the user named it (libxl writes pdev_path as given); here the
 * boot module's name.
 */
static int vbd_setup(const struct wisp_ctl_device *d, struct devnode_list *out, char *fpath,
                     char *bpath)
{
    struct dir_writer w;
    int err;

    open_frontend(&w, d, out, fpath, bpath);
    put_number(&w, "virtual-device", d->devid);
    put(&w, "device-type", "disk");
    put(&w, "trusted", "1");
    err = w.err;

    open_backend(&w, d, out, fpath, bpath);
    put(&w, "params", d->target);
    put(&w, "script", XEN_SCRIPT_DIR "/block");
    backend_generic(&w, d);
    put(&w, "removable", "0");
    put(&w, "bootable", "1");
    put_changing(&w, "state", XENBUS_INITIALISING);
    put(&w, "dev", d->vdev);
    put(&w, "type", "phy");
    put(&w, "mode", d->readonly ? "r" : "w");
    put(&w, "device-type", "disk");
    put(&w, "discard-enable", d->readonly ? "0" : "1");
    put(&w, "specification", "xen");
    return err ? err : w.err;
}

/*
 * libxl_nic.c:libxl__set_xenstore_nic after libxl__device_add_async's generic
 * keys, with libxl__device_nic_setdefault's defaults for a PVH guest: type
 * "vif", mtu 1500, trusted, script vif-bridge; the bridge is ours (libxl's
 * default is xenbr0). mtu goes in the read-only frontend set, which belongs
 * to the backend ({n<B>, r<F>}). hotplug-status "" makes netback wait for
 * the agent's "connected" before it connects.
 */
static int vif_setup(const struct wisp_ctl_device *d, struct devnode_list *out, char *fpath,
                     char *bpath)
{
    struct dir_writer w;
    char mac[18];
    int err;

    format_mac(d->mac, mac, sizeof(mac));
    open_frontend(&w, d, out, fpath, bpath);
    put_number(&w, "handle", d->handle);
    put(&w, "mac", mac);
    put(&w, "trusted", "1");
    w.owner = d->backend;       /* ro_fents: libxl__device_generic_add's ro_frontend_perms */
    w.reader = d->frontend;
    put_number(&w, "mtu", NIC_MTU_DEFAULT);
    err = w.err;

    open_backend(&w, d, out, fpath, bpath);
    backend_generic(&w, d);
    put_changing(&w, "state", XENBUS_INITIALISING);
    put(&w, "script", XEN_SCRIPT_DIR "/vif-bridge");
    put(&w, "mac", mac);
    put(&w, "bridge", DEVNODES_BRIDGE);
    put_number(&w, "handle", d->handle);
    put(&w, "type", "vif");
    put_changing(&w, "hotplug-status", "");
    return err ? err : w.err;
}

int devnodes_setup(const struct wisp_ctl_device *d, struct devnode_list *out)
{
    char fpath[DEVNODE_PATH_MAX], bpath[DEVNODE_PATH_MAX];

    if (devnodes_check(d))
        return -XEN_EINVAL;
    devnodes_frontend_path(d, fpath, sizeof(fpath));
    devnodes_backend_path(d, bpath, sizeof(bpath));
    return d->kind == WISP_DEV_DISK ? vbd_setup(d, out, fpath, bpath)
                                    : vif_setup(d, out, fpath, bpath);
}

static void open_hotplug(struct dir_writer *w, const struct wisp_ctl_device *d,
                         struct devnode_list *out, char *bpath)
{
    devnodes_backend_path(d, bpath, DEVNODE_PATH_MAX);
    *w = (struct dir_writer){ .out = out, .dir = bpath, .phase = DEVNODE_HOTPLUG,
                              .owner = d->backend, .reader = d->frontend };
}

/*
 * tools/hotplug/Linux/block-common.sh:write_dev: physical-device is
 * `stat -L -c %t:%T` (major and minor in hex), then physical-device-path, then
 * success (xen-hotplug-common.sh) writes hotplug-status "connected". blkback
 * waits only for physical-device (xenbus.c:backend_changed).
 */
int devnodes_vbd_hotplug(const struct wisp_ctl_device *d, unsigned int major,
                         unsigned int minor, const char *dev_path, struct devnode_list *out)
{
    char bpath[DEVNODE_PATH_MAX], mm[24];
    struct dir_writer w;

    if (devnodes_check(d) || d->kind != WISP_DEV_DISK)
        return -XEN_EINVAL;
    open_hotplug(&w, d, out, bpath);
    snprintf(mm, sizeof(mm), "%x:%x", major, minor);
    put(&w, "physical-device", dev_path ? mm : "");
    put(&w, "physical-device-path", dev_path ? dev_path : "");
    if (!dev_path && !w.err) {
        out->node[out->n - 1].value_known = false;
        out->node[out->n - 2].value_known = false;
    }
    put(&w, "hotplug-status", "connected");
    return w.err;
}

/* tools/hotplug/Linux/vif-bridge: the vif joins the bridge, is set up, then success. */
int devnodes_vif_hotplug(const struct wisp_ctl_device *d, struct devnode_list *out)
{
    char bpath[DEVNODE_PATH_MAX];
    struct dir_writer w;

    if (devnodes_check(d) || d->kind != WISP_DEV_VIF)
        return -XEN_EINVAL;
    open_hotplug(&w, d, out, bpath);
    put(&w, "hotplug-status", "connected");
    return w.err;
}

/* Appends to buf at *at; false (and *at past cap) once it no longer fits. */
static bool append(char *buf, size_t cap, size_t *at, const char *text)
{
    size_t len = strlen(text);

    if (*at >= cap || cap - *at <= len) {
        *at = cap;
        return false;
    }
    memcpy(buf + *at, text, len + 1);
    *at += len;
    return true;
}

int devnodes_dhcp_conf(const struct wisp_ctl_device *devs, unsigned int n, char *buf, size_t cap)
{
    /* The whole /16 is the pool; every vif has a static lease in it (10.77.HANDLE.DOMID). */
    static const char head[] =
        "# written by wisp-agent: one static lease per vif, 10.77.<vif handle>.<domid>\n"
        "interface " DEVNODES_BRIDGE "\n"
        "start 10.77.0.1\n"
        "end 10.77.255.253\n"
        "option subnet 255.255.0.0\n"
        "option lease 864000\n"
        "lease_file /run/udhcpd.leases\n"
        "pidfile /run/udhcpd.pid\n";
    size_t at = 0;
    bool ok = append(buf, cap, &at, head);

    for (unsigned int i = 0; ok && i < n; i++) {
        char mac[18], ip[16], line[64];

        if (devs[i].kind != WISP_DEV_VIF || devnodes_check(&devs[i]) ||
            devnodes_vif_ip(&devs[i], ip, sizeof(ip)))
            continue;
        format_mac(devs[i].mac, mac, sizeof(mac));
        snprintf(line, sizeof(line), "static_lease %s %s\n", mac, ip);
        ok = append(buf, cap, &at, line);
    }
    return ok ? (int)at : -XEN_E2BIG;
}

/* A decimal number up to max, ended by sep ('\0' or ':'); moves *s past the separator. */
static bool take_number(const char **s, unsigned long max, char sep, unsigned long *v)
{
    char *end;

    if (**s < '0' || **s > '9')
        return false;
    *v = strtoul(*s, &end, 10);
    if (*v > max || *end != sep)
        return false;
    *s = sep ? end + 1 : end;
    return true;
}

static bool take_word(const char **s, char *buf, size_t cap, char sep)
{
    const char *end = strchr(*s, sep);
    size_t len = end ? (size_t)(end - *s) : strlen(*s);

    if (len == 0 || len >= cap || (sep && !end))
        return false;
    memcpy(buf, *s, len);
    buf[len] = '\0';
    *s += len + (end ? 1 : 0);
    return true;
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        char *end;
        if (!((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'f') ||
              (s[0] >= 'A' && s[0] <= 'F')))
            return false;
        unsigned long byte = strtoul(s, &end, 16);
        if (end - s != 2 || byte > 0xff || *end != (i < 5 ? ':' : '\0'))
            return false;
        mac[i] = (uint8_t)byte;
        s = end + (i < 5);
    }
    return true;
}

static bool parse_disk(const char *s, struct wisp_ctl_device *d)
{
    char mode[4];
    int index;

    if (!take_word(&s, d->vdev, sizeof(d->vdev), ':') || !take_word(&s, mode, sizeof(mode), ':') ||
        !take_word(&s, d->target, sizeof(d->target), '\0'))
        return false;
    index = devnodes_xvd_index(d->vdev);
    if (index < 0 || (strcmp(mode, "rw") != 0 && strcmp(mode, "ro") != 0))
        return false;
    d->kind = WISP_DEV_DISK;
    d->readonly = strcmp(mode, "ro") == 0;
    d->devid = devnodes_vbd_id((unsigned int)index);
    return true;
}

static bool parse_vif(const char *s, struct wisp_ctl_device *d)
{
    unsigned long handle;
    bool has_mac = strchr(s, ':') != NULL;

    if (!take_number(&s, 255, has_mac ? ':' : '\0', &handle))
        return false;
    d->kind = WISP_DEV_VIF;
    d->handle = (uint16_t)handle;
    d->devid = (uint32_t)handle;
    if (has_mac)
        return parse_mac(s, d->mac);
    /* The contract's default: 00:16:3e:00:<domid>:<handle>, Xen's OUI. */
    const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x00, (uint8_t)d->frontend, (uint8_t)handle };
    memcpy(d->mac, mac, sizeof(mac));
    return true;
}

int devnodes_parse_spec(const char *spec, struct wisp_ctl_device *d)
{
    unsigned long frontend, backend;
    const char *s;
    bool disk = strncmp(spec, "disk:", 5) == 0;

    memset(d, 0, sizeof(*d));
    if (!disk && strncmp(spec, "vif:", 4) != 0)
        return -XEN_EINVAL;
    s = spec + (disk ? 5 : 4);
    if (!take_number(&s, DOMID_FIRST_RESERVED - 1, ':', &frontend) ||
        !take_number(&s, DOMID_FIRST_RESERVED - 1, ':', &backend))
        return -XEN_EINVAL;
    d->frontend = (uint16_t)frontend;
    d->backend = (uint16_t)backend;
    if (!(disk ? parse_disk(s, d) : parse_vif(s, d)))
        return -XEN_EINVAL;
    return devnodes_check(d);
}
