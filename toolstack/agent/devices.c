/* devices.c (service-domain tool): wisp-agent's disks and vifs: xenstore nodes, hotplug and teardown, for the boot configuration's guests (the hypervisor's device list) and for domains made at run time (docs/agent.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "devices.h"
#include "inbox.h"
#include "log.h"

#define TX_ATTEMPTS 8

/* What the agent knows of one device; its whole state lives here (single-threaded). */
struct device {
    struct wisp_ctl_device d;
    bool valid;          /* devnodes_check passed */
    bool written;        /* its nodes are in the store */
    bool check_failed;   /* a failed liveness check was logged (once, not every pass) */
    bool runtime;        /* a run-time domain's (wisp create), released when it has gone */
    int loop_fd;         /* run-time disk: its loop device, held open while served; else -1 */
    char image_path[128];/* run-time disk: the image copy the loop device reads and writes */
    bool carry;          /* run-time disk: its image copy is kept for the domain restarted in its place */
};

/* Kept in locked memory: the hypervisor writes the device list by virtual address. */
static struct wisp_ctl_device listed[MAX_DEVICES];
/* Boot devices first, in the hypervisor's order; run-time ones after, in freed slots too. */
static struct device devices[MAX_DEVICES];
static unsigned int nr_devices;
static struct devices_env env;

void devices_init(const struct devices_env *e)
{
    env = *e;
}

static void describe(const struct wisp_ctl_device *d, char *buf, size_t cap)
{
    if (d->kind == WISP_DEV_DISK)
        snprintf(buf, cap, "d%u %s (%s, %s)", d->frontend, d->vdev, d->target,
                 d->readonly ? "ro" : "rw");
    else
        snprintf(buf, cap, "d%u vif%u.%u (%02x:%02x:%02x:%02x:%02x:%02x)", d->frontend,
                 d->frontend, d->handle, d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4],
                 d->mac[5]);
}

bool devices_read_boot(void)
{
    unsigned int n = 0;
    int err = ctl_device_list(env.privcmd, listed, MAX_DEVICES, &n);

    if (err) {
        say("WISP_CTL_device_list failed: %s", strerror(-err));
        return false;
    }
    if (n == MAX_DEVICES)
        say("only the first %d devices are served", MAX_DEVICES);
    nr_devices = 0;
    for (unsigned int i = 0; i < n; i++) {
        struct device *dev = &devices[nr_devices];
        char what[96];

        if (listed[i].kind == WISP_DEV_DISK && listed[i].frontend == listed[i].backend) {
            inbox_offer(&listed[i], &env.paths, env.pmem_wait_ms);    /* our own: no vbd */
            continue;
        }
        *dev = (struct device){ .d = listed[i], .valid = devnodes_check(&listed[i]) == 0,
                                .loop_fd = -1 };
        nr_devices++;
        if (dev->valid) {
            describe(&dev->d, what, sizeof(what));
            say("device %u: %s", i, what);
        } else {
            say("device %u: malformed (kind %u, frontend %u, backend %u, devid %u), skipped", i,
                listed[i].kind, listed[i].frontend, listed[i].backend, listed[i].devid);
        }
    }
    say("%u device%s", nr_devices, nr_devices == 1 ? "" : "s");
    return true;
}

/* Ignores ENOENT: removing what is not there is done. */
static int remove_node(uint32_t tx, const char *path)
{
    int err = store_rm(env.store, tx, path);

    return err == -XEN_ENOENT ? 0 : err;
}

/*
 * libxl__device_generic_add's sequence: a directory is removed, made again
 * and given its permissions; a key is written and given the permissions the
 * table says (libxl sets them on frontend keys and lets backend keys inherit
 * the same list; setting them always keeps the store equal to the table).
 */
static int write_nodes(uint32_t tx, const struct devnode_list *l)
{
    for (unsigned int i = 0; i < l->n; i++) {
        const struct devnode *n = &l->node[i];
        int err;

        if (n->dir) {
            err = remove_node(tx, n->path);
            if (!err)
                err = store_mkdir(env.store, tx, n->path);
        } else {
            err = store_write(env.store, tx, n->path, n->value);
        }
        if (!err)
            err = store_set_perms(env.store, tx, n->path, n->owner, n->reader);
        if (err) {
            say("writing %s: %s", n->path, store_strerror(err));
            return err;
        }
    }
    return 0;
}

/* Writes the nodes of every valid device of one frontend in transaction tx. */
static int write_frontend(uint32_t tx, uint16_t frontend, unsigned int *count)
{
    static struct devnode_list l;

    *count = 0;
    for (unsigned int i = 0; i < nr_devices; i++) {
        struct device *dev = &devices[i];
        int err;

        if (dev->d.frontend != frontend || !dev->valid)
            continue;
        l.n = 0;
        err = devnodes_setup(&dev->d, &l);
        if (!err)
            err = write_nodes(tx, &l);
        if (err)
            return err;
        (*count)++;
    }
    return 0;
}

static bool has_valid_device(uint16_t frontend)
{
    for (unsigned int i = 0; i < nr_devices; i++) {
        if (devices[i].d.frontend == frontend && devices[i].valid)
            return true;
    }
    return false;
}

/* One transaction per frontend, retried while a conflicting change wins (libxl does the same). */
static void setup_frontend(uint16_t frontend)
{
    if (!has_valid_device(frontend))
        return;
    for (int attempt = 1; attempt <= TX_ATTEMPTS; attempt++) {
        uint32_t tx;
        unsigned int count;
        int err = store_tx_start(env.store, &tx);

        if (err) {
            say("d%u: cannot start a transaction: %s", frontend, store_strerror(err));
            return;
        }
        err = write_frontend(tx, frontend, &count);
        if (err) {
            (void)store_tx_end(env.store, tx, false);
            say("d%u: device nodes not written (%s)", frontend, store_strerror(err));
            return;
        }
        err = store_tx_end(env.store, tx, true);
        if (err == -XEN_EAGAIN)
            continue;
        if (err) {
            say("d%u: committing its device nodes: %s", frontend, store_strerror(err));
            return;
        }
        for (unsigned int i = 0; i < nr_devices; i++) {
            if (devices[i].d.frontend == frontend && devices[i].valid)
                devices[i].written = true;
        }
        say("d%u: wrote the nodes of %u device%s in one transaction", frontend, count,
            count == 1 ? "" : "s");
        return;
    }
    say("d%u: transaction kept conflicting, %d attempts", frontend, TX_ATTEMPTS);
}

/* Hotplug writes go one at a time, as the scripts' xenstore-write calls do. */
static int write_hotplug(const struct devnode_list *l)
{
    for (unsigned int i = 0; i < l->n; i++) {
        int err = store_write(env.store, STORE_NO_TX, l->node[i].path, l->node[i].value);
        if (err) {
            say("writing %s: %s", l->node[i].path, store_strerror(err));
            return err;
        }
    }
    return 0;
}

/* The block script's part: the block device backing the disk becomes physical-device. */
static void connect_disk(const struct wisp_ctl_device *d, const struct pmem_disk *bdev)
{
    static struct devnode_list l;
    char dev_path[48];

    snprintf(dev_path, sizeof(dev_path), "/dev/%s", bdev->name);
    l.n = 0;
    if (devnodes_vbd_hotplug(d, bdev->major, bdev->minor, dev_path, &l) || write_hotplug(&l))
        return;
    say("d%u %s: %s (%u:%u, %llu bytes) is physical-device %x:%x, %s, hotplug-status connected",
        d->frontend, d->vdev, dev_path, bdev->major, bdev->minor, (unsigned long long)bdev->bytes,
        bdev->major, bdev->minor, d->readonly ? "read-only" : "read-write");
}

/* A boot-time disk: its image is the pmem device that starts where the hypervisor mapped it. */
static void hotplug_pmem_disk(const struct wisp_ctl_device *d)
{
    struct pmem_disk pmem;

    if (host_find_pmem(&env.paths, d->pmem_gpa, env.pmem_wait_ms, &pmem)) {
        say("d%u %s: no /dev/pmem* starts at %#llx after %d s; disk not connected", d->frontend,
            d->vdev, (unsigned long long)d->pmem_gpa, env.pmem_wait_ms / 1000);
        return;
    }
    if (pmem.bytes && pmem.bytes < d->image_bytes)
        say("d%u %s: %s holds %llu bytes, less than the image's %llu", d->frontend, d->vdev,
            pmem.name, (unsigned long long)pmem.bytes, (unsigned long long)d->image_bytes);
    connect_disk(d, &pmem);
}

/* vif-bridge's part: netback's interface joins the bridge, goes up, then hotplug-status connected. */
static void hotplug_vif(const struct wisp_ctl_device *d)
{
    static struct devnode_list l;
    char ifname[24];
    int err;

    devnodes_vif_ifname(d, ifname, sizeof(ifname));
    if (host_wait_netdev(&env.paths, ifname, env.netdev_wait_ms)) {
        say("%s did not appear in %d s; vif not connected", ifname, env.netdev_wait_ms / 1000);
        return;
    }
    err = host_bridge_add(DEVNODES_BRIDGE, ifname);
    if (err) {
        say("%s: adding it to %s: %s; vif not connected", ifname, DEVNODES_BRIDGE,
            strerror(-err));
        return;
    }
    l.n = 0;
    if (devnodes_vif_hotplug(d, &l) || write_hotplug(&l))
        return;
    say("%s is on %s and up, hotplug-status connected", ifname, DEVNODES_BRIDGE);
}

/* udhcpd with a static lease for every vif served (started again when vifs come or go). */
static void start_dhcp(void)
{
    static char conf[8192];
    static struct wisp_ctl_device vifs[MAX_DEVICES];
    unsigned int n = 0;
    int len, err;

    for (unsigned int i = 0; i < nr_devices; i++)
        if (devices[i].valid && devices[i].d.kind == WISP_DEV_VIF)
            vifs[n++] = devices[i].d;
    if (n == 0)
        return;
    len = devnodes_dhcp_conf(vifs, n, conf, sizeof(conf));
    if (len < 0) {
        say("udhcpd.conf does not fit in %zu bytes; no DHCP", sizeof(conf));
        return;
    }
    err = host_start_udhcpd(&env.paths, conf, (size_t)len);
    if (err) {
        say("starting udhcpd: %s; no DHCP", strerror(-err));
        return;
    }
    say("udhcpd started on %s with %u static leases (%s/udhcpd.conf)", DEVNODES_BRIDGE, n,
        env.paths.run);
}

/* Whether domid appears before index i as a frontend (so each is handled once, in list order). */
static bool seen_before(unsigned int i)
{
    for (unsigned int j = 0; j < i; j++) {
        if (devices[j].d.frontend == devices[i].d.frontend)
            return true;
    }
    return false;
}

static void unpause_frontends(void)
{
    for (unsigned int i = 0; i < nr_devices; i++) {
        /* A malformed device still names the guest waiting for it, which runs without it. */
        if (seen_before(i) || devices[i].d.frontend >= DOMID_FIRST_RESERVED)
            continue;
        int err = ctl_unpause(env.privcmd, devices[i].d.frontend);
        if (err)
            say("d%u: unpause failed: %s", devices[i].d.frontend, strerror(-err));
        else
            say("d%u: unpaused", devices[i].d.frontend);
    }
}

/* ---- tearing down ---- */

/*
 * A dead guest's devices go as libxl's forced removal makes them go
 * (libxl__device_destroy): the backend directories are removed, which makes
 * Linux's backends unregister, close their rings and unmap the guest's
 * grants; then the frontend directory (xenstored has usually removed the
 * whole /local/domain/F already).
 */
static int remove_frontend(uint32_t tx, uint16_t frontend, uint16_t backend)
{
    static const uint8_t kinds[] = { WISP_DEV_DISK, WISP_DEV_VIF };
    char path[DEVNODE_PATH_MAX];
    int err = 0;

    for (unsigned int k = 0; !err && k < sizeof(kinds); k++) {
        devnodes_backend_dir_of(backend, frontend, kinds[k], path, sizeof(path));
        err = remove_node(tx, path);
    }
    if (!err) {
        devnodes_frontend_dir_of(frontend, path, sizeof(path));
        err = remove_node(tx, path);
    }
    return err;
}

static void remove_devices_of(uint16_t frontend)
{
    uint16_t backend = 0;
    unsigned int count = 0;

    for (unsigned int i = 0; i < nr_devices; i++) {
        if (devices[i].d.frontend == frontend && devices[i].written) {
            backend = devices[i].d.backend;
            devices[i].written = false;
            count++;
        }
    }
    if (count == 0)
        return;
    for (int attempt = 1; attempt <= TX_ATTEMPTS; attempt++) {
        uint32_t tx = 0;
        int err = store_tx_start(env.store, &tx);

        if (!err)
            err = remove_frontend(tx, frontend, backend);
        if (!err)
            err = store_tx_end(env.store, tx, true);
        else if (tx)
            (void)store_tx_end(env.store, tx, false);
        if (err == -XEN_EAGAIN)
            continue;
        if (err)
            say("d%u is gone; removing its devices: %s", frontend, store_strerror(err));
        else
            say("d%u is gone: removed its %u device%s (/local/domain/%u/backend/{vbd,vif}/%u)",
                frontend, count, count == 1 ? "" : "s", backend, frontend);
        return;
    }
    say("d%u is gone; its removal kept conflicting, %d attempts", frontend, TX_ATTEMPTS);
}

/* Where a restarted domain's disk waits for its successor: by the old id and the vdev. */
static void kept_path(char *buf, size_t len, uint16_t frontend, const char *vdev)
{
    snprintf(buf, len, "%s/disks/kept-d%u-%s.img", env.paths.run, frontend, vdev);
}

/* A run-time device's backing goes once its backend has let go: the loop device (set to
 * clear itself when its last user closes it) and the image copy, unless a restart keeps it. */
static void release_runtime(struct device *dev)
{
    if (dev->loop_fd >= 0)
        close(dev->loop_fd);
    if (dev->image_path[0]) {
        char kept[160];

        kept_path(kept, sizeof(kept), dev->d.frontend, dev->d.vdev);
        if (!dev->carry || rename(dev->image_path, kept))
            unlink(dev->image_path);
    }
    *dev = (struct device){ .loop_fd = -1, .d.frontend = DOMID_INVALID };
}

static void teardown(uint16_t frontend)
{
    remove_devices_of(frontend);
    for (unsigned int i = 0; i < nr_devices; i++)
        if (devices[i].runtime && devices[i].d.frontend == frontend)
            release_runtime(&devices[i]);
}

void devices_carry_disks(uint16_t frontend)
{
    for (unsigned int i = 0; i < nr_devices; i++)
        if (devices[i].runtime && devices[i].d.frontend == frontend &&
            devices[i].d.kind == WISP_DEV_DISK)
            devices[i].carry = true;
}

void devices_remove(uint16_t frontend)
{
    teardown(frontend);
}

void devices_drop_carried(uint16_t frontend)
{
    char dir[96], prefix[24], path[sizeof(dir) + sizeof(((struct dirent *)0)->d_name) + 1];
    struct dirent *e;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/disks", env.paths.run);
    snprintf(prefix, sizeof(prefix), "kept-d%u-", frontend);
    if (!(d = opendir(dir)))
        return;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

/* Tears down the devices of every guest that has gone. */
void devices_check(void)
{
    for (unsigned int i = 0; i < nr_devices; i++) {
        if (!devices[i].written)
            continue;
        int alive = ctl_domain_alive(env.privcmd, devices[i].d.frontend);
        if (alive < 0) {
            if (!devices[i].check_failed)
                say("d%u: WISP_CTL_domain_list failed: %s", devices[i].d.frontend,
                    strerror(-alive));
            devices[i].check_failed = true;
            continue;
        }
        if (!alive)
            teardown(devices[i].d.frontend);
    }
}

void devices_start_boot(void)
{
    for (unsigned int i = 0; i < nr_devices; i++)
        if (!seen_before(i))
            setup_frontend(devices[i].d.frontend);
    for (unsigned int i = 0; i < nr_devices; i++)
        if (devices[i].written && devices[i].d.kind == WISP_DEV_DISK)
            hotplug_pmem_disk(&devices[i].d);
    for (unsigned int i = 0; i < nr_devices; i++)
        if (devices[i].written && devices[i].d.kind == WISP_DEV_VIF)
            hotplug_vif(&devices[i].d);
    start_dhcp();
    unpause_frontends();
}

/* ---- devices of domains made at run time ---- */

static struct device *free_slot(void)
{
    for (unsigned int i = 0; i < nr_devices; i++)
        if (devices[i].runtime == false && devices[i].d.frontend == DOMID_INVALID)
            return &devices[i];
    return nr_devices < MAX_DEVICES ? &devices[nr_devices++] : NULL;
}

/* The disk's bytes as a file of its own, on a loop device; 0 or a negative errno. */
static int back_disk(struct device *dev, const struct runtime_device *rd, struct pmem_disk *bdev)
{
    char dir[80];
    int err;

    snprintf(dir, sizeof(dir), "%s/disks", env.paths.run);
    mkdir(env.paths.run, 0755);
    mkdir(dir, 0700);
    snprintf(dev->image_path, sizeof(dev->image_path), "%s/d%u-%s.img", dir, dev->d.frontend,
             dev->d.vdev);
    if (rd->carried_from != DOMID_INVALID) {
        char kept[160];

        kept_path(kept, sizeof(kept), rd->carried_from, dev->d.vdev);
        if (!rename(kept, dev->image_path))
            return host_loop_attach(dev->image_path, dev->d.readonly, bdev, &dev->loop_fd);
        if (!rd->image) {
            say("d%u %s: the disk of d%u it restarts is gone, and its image is not cached",
                dev->d.frontend, dev->d.vdev, rd->carried_from);
            return -ENOENT;
        }
        say("d%u %s: the disk of d%u it restarts is gone; a fresh copy of its image instead",
            dev->d.frontend, dev->d.vdev, rd->carried_from);
    }
    err = host_write_file(dev->image_path, rd->image, rd->image_bytes);
    if (!err)
        err = host_loop_attach(dev->image_path, dev->d.readonly, bdev, &dev->loop_fd);
    return err;
}

/* This domain's id, which backs every device it serves. */
static int own_domid(uint16_t *domid)
{
    char text[16], *end;
    unsigned long id;
    int err = store_read(env.store, STORE_NO_TX, "domid", text, sizeof(text));

    if (err)
        return err;
    id = strtoul(text, &end, 10);
    if (end == text || *end || id >= DOMID_FIRST_RESERVED)
        return -EINVAL;
    *domid = (uint16_t)id;
    return 0;
}

int devices_add(uint16_t frontend, const struct runtime_device *rds, unsigned int n,
                const char **why)
{
    struct pmem_disk bdev[MAX_RUNTIME_DEVICES];
    struct device *added[MAX_RUNTIME_DEVICES];
    unsigned int vifs = 0;
    uint16_t backend;
    int err = 0;

    *why = "too many devices";
    if (n > MAX_RUNTIME_DEVICES)
        return -E2BIG;
    teardown(frontend);         /* an earlier domain's with this id, not yet seen gone */
    *why = "the agent's own domain id is not in xenstore";
    if (n && (err = own_domid(&backend)))
        return err < 0 ? err : -EIO;
    for (unsigned int i = 0; i < n; i++) {
        struct device *dev = free_slot();

        if (!dev) {
            err = -ENOSPC;
            *why = "the agent serves no more devices";
            break;
        }
        added[i] = dev;
        *dev = (struct device){ .d = rds[i].d, .runtime = true, .loop_fd = -1 };
        dev->d.frontend = frontend;
        dev->d.backend = backend;
        if (dev->d.kind == WISP_DEV_DISK)
            snprintf(dev->d.target, sizeof(dev->d.target), "d%u-%s.img", frontend, dev->d.vdev);
        dev->valid = devnodes_check(&dev->d) == 0;
        if (!dev->valid) {
            err = -EINVAL;
            *why = "a malformed disk or vif";
            break;
        }
        if (dev->d.kind == WISP_DEV_DISK && (err = back_disk(dev, &rds[i], &bdev[i]))) {
            *why = "a disk's image could not be put on a loop device";
            break;
        }
    }
    if (!err) {
        setup_frontend(frontend);
        for (unsigned int i = 0; i < n && !err; i++)
            if (!added[i]->written)
                err = -EIO, *why = "its device nodes were not written";
    }
    if (err) {
        teardown(frontend);     /* whatever of them was made */
        return err;
    }
    for (unsigned int i = 0; i < n; i++)
        if (added[i]->d.kind == WISP_DEV_DISK)
            connect_disk(&added[i]->d, &bdev[i]);
    for (unsigned int i = 0; i < n; i++)
        if (added[i]->d.kind == WISP_DEV_VIF) {
            hotplug_vif(&added[i]->d);
            vifs++;
        }
    if (vifs)
        start_dhcp();
    return 0;
}
