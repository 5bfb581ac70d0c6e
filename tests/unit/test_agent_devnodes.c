/* test_agent_devnodes.c (host test): wisp-agent's table of libxl's vbd and vif xenstore nodes (toolstack/agent/devnodes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "devnodes.h"

/*
 * The expected tables, written from libxl's sources by hand (not from
 * devnodes.c): libxl_device.c:libxl__device_generic_add (directories, perms,
 * cross-links), libxl__device_add_async (generic keys), libxl_disk.c:
 * device_disk_add, libxl_nic.c:libxl__set_xenstore_nic. F = frontend (3),
 * B = backend (2). MOVING: a value the drivers change later (compare perms only).
 */
struct row {
    const char *path;
    const char *value;
    int owner, reader;
    bool dir, changes;
};

#define KEY(path, value, owner, reader)    { path, value, owner, reader, false, false }
#define MOVING(path, value, owner, reader) { path, value, owner, reader, false, true }
#define DIR(path, owner, reader)           { path, "", owner, reader, true, false }

#define FE "/local/domain/3/device/vbd/51712"
#define BE "/local/domain/2/backend/vbd/3/51712"
static const struct row vbd_rw[] = {
    DIR(FE, 3, 2),
    KEY(FE "/backend", BE, 3, 2),
    KEY(FE "/backend-id", "2", 3, 2),
    MOVING(FE "/state", "1", 3, 2),
    KEY(FE "/virtual-device", "51712", 3, 2),
    KEY(FE "/device-type", "disk", 3, 2),
    KEY(FE "/trusted", "1", 3, 2),
    DIR(BE, 2, 3),
    KEY(BE "/frontend", FE, 2, 3),
    KEY(BE "/params", "disk0.img", 2, 3),
    KEY(BE "/script", "/etc/xen/scripts/block", 2, 3),
    KEY(BE "/frontend-id", "3", 2, 3),
    KEY(BE "/online", "1", 2, 3),
    KEY(BE "/removable", "0", 2, 3),
    KEY(BE "/bootable", "1", 2, 3),
    MOVING(BE "/state", "1", 2, 3),
    KEY(BE "/dev", "xvda", 2, 3),
    KEY(BE "/type", "phy", 2, 3),
    KEY(BE "/mode", "w", 2, 3),
    KEY(BE "/device-type", "disk", 2, 3),
    KEY(BE "/discard-enable", "1", 2, 3),
    KEY(BE "/specification", "xen", 2, 3),
};
#undef FE
#undef BE

#define FE "/local/domain/4/device/vif/1"
#define BE "/local/domain/2/backend/vif/4/1"
static const struct row vif[] = {
    DIR(FE, 4, 2),
    KEY(FE "/backend", BE, 4, 2),
    KEY(FE "/backend-id", "2", 4, 2),
    MOVING(FE "/state", "1", 4, 2),
    KEY(FE "/handle", "1", 4, 2),
    KEY(FE "/mac", "00:16:3e:0a:bc:ff", 4, 2),
    KEY(FE "/trusted", "1", 4, 2),
    KEY(FE "/mtu", "1500", 2, 4),          /* ro_fents: the backend owns it */
    DIR(BE, 2, 4),
    KEY(BE "/frontend", FE, 2, 4),
    KEY(BE "/frontend-id", "4", 2, 4),
    KEY(BE "/online", "1", 2, 4),
    MOVING(BE "/state", "1", 2, 4),
    KEY(BE "/script", "/etc/xen/scripts/vif-bridge", 2, 4),
    KEY(BE "/mac", "00:16:3e:0a:bc:ff", 2, 4),
    KEY(BE "/bridge", "br0", 2, 4),
    KEY(BE "/handle", "1", 2, 4),
    KEY(BE "/type", "vif", 2, 4),
    MOVING(BE "/hotplug-status", "", 2, 4),
};
#undef FE
#undef BE

static struct wisp_ctl_device disk(uint16_t fe, const char *vdev, uint32_t devid, bool ro)
{
    struct wisp_ctl_device d = { .frontend = fe, .backend = 2, .kind = WISP_DEV_DISK,
                                 .readonly = ro, .devid = devid };

    strcpy(d.vdev, vdev);
    strcpy(d.target, "disk0.img");
    return d;
}

static struct wisp_ctl_device nic(uint16_t fe, uint16_t handle)
{
    struct wisp_ctl_device d = { .frontend = fe, .backend = 2, .kind = WISP_DEV_VIF,
                                 .handle = handle, .devid = handle,
                                 .mac = { 0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xff } };
    return d;
}

static void assert_rows(const struct devnode_list *l, unsigned int from, const struct row *rows,
                        unsigned int n)
{
    assert_true(l->n >= from + n);
    for (unsigned int i = 0; i < n; i++) {
        const struct devnode *got = &l->node[from + i];
        assert_string_equal(got->path, rows[i].path);
        assert_string_equal(got->value, rows[i].value);
        assert_int_equal(got->owner, rows[i].owner);
        assert_int_equal(got->reader, rows[i].reader);
        assert_int_equal(got->dir, rows[i].dir);
        assert_int_equal(got->changes, rows[i].changes);
        assert_true(got->value_known);
        assert_int_equal(got->phase, DEVNODE_SETUP);
    }
}

static void vbd_is_libxls_table(void **state)
{
    static struct devnode_list l;
    struct wisp_ctl_device d = disk(3, "xvda", 51712, false);

    l.n = 0;
    assert_int_equal(devnodes_setup(&d, &l), 0);
    assert_int_equal(l.n, sizeof(vbd_rw) / sizeof(vbd_rw[0]));
    assert_rows(&l, 0, vbd_rw, l.n);
}

static void readonly_vbd_has_mode_r_and_no_discard(void **state)
{
    static struct devnode_list l;
    struct wisp_ctl_device d = disk(3, "xvdb", 51728, true);

    l.n = 0;
    assert_int_equal(devnodes_setup(&d, &l), 0);
    bool mode = false, discard = false;
    for (unsigned int i = 0; i < l.n; i++) {
        if (strcmp(l.node[i].path, "/local/domain/2/backend/vbd/3/51728/mode") == 0)
            mode = strcmp(l.node[i].value, "r") == 0;
        if (strcmp(l.node[i].path, "/local/domain/2/backend/vbd/3/51728/discard-enable") == 0)
            discard = strcmp(l.node[i].value, "0") == 0;
    }
    assert_true(mode);
    assert_true(discard);
}

static void vif_is_libxls_table(void **state)
{
    static struct devnode_list l;
    struct wisp_ctl_device d = nic(4, 1);

    l.n = 0;
    assert_int_equal(devnodes_setup(&d, &l), 0);
    assert_int_equal(l.n, sizeof(vif) / sizeof(vif[0]));
    assert_rows(&l, 0, vif, l.n);
}

static void two_devices_append(void **state)
{
    static struct devnode_list l;
    struct wisp_ctl_device a = disk(3, "xvda", 51712, false), b = nic(4, 1);

    l.n = 0;
    assert_int_equal(devnodes_setup(&a, &l), 0);
    assert_int_equal(devnodes_setup(&b, &l), -XEN_E2BIG);   /* 22 + 19 > DEVNODES_MAX */
    l.n = 0;
    assert_int_equal(devnodes_setup(&b, &l), 0);
    assert_rows(&l, 0, vif, sizeof(vif) / sizeof(vif[0]));
}

static void vbd_hotplug_is_the_block_script(void **state)
{
    static struct devnode_list l;
    struct wisp_ctl_device d = disk(3, "xvda", 51712, false);

    l.n = 0;
    assert_int_equal(devnodes_vbd_hotplug(&d, 259, 10, "/dev/pmem0", &l), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.node[0].path, "/local/domain/2/backend/vbd/3/51712/physical-device");
    assert_string_equal(l.node[0].value, "103:a");   /* stat -c %t:%T: hex, no padding */
    assert_string_equal(l.node[1].path,
                        "/local/domain/2/backend/vbd/3/51712/physical-device-path");
    assert_string_equal(l.node[1].value, "/dev/pmem0");
    assert_string_equal(l.node[2].path, "/local/domain/2/backend/vbd/3/51712/hotplug-status");
    assert_string_equal(l.node[2].value, "connected");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(l.node[i].owner, 2);
        assert_int_equal(l.node[i].reader, 3);
        assert_int_equal(l.node[i].phase, DEVNODE_HOTPLUG);
        assert_true(l.node[i].value_known);
    }

    l.n = 0;
    assert_int_equal(devnodes_vbd_hotplug(&d, 0, 0, NULL, &l), 0);
    assert_false(l.node[0].value_known);
    assert_false(l.node[1].value_known);
    assert_true(l.node[2].value_known);

    struct wisp_ctl_device v = nic(4, 0);
    assert_int_equal(devnodes_vbd_hotplug(&v, 1, 1, "/dev/x", &l), -XEN_EINVAL);
}

static void vif_hotplug_is_connected(void **state)
{
    static struct devnode_list l;
    struct wisp_ctl_device v = nic(4, 1);

    l.n = 0;
    assert_int_equal(devnodes_vif_hotplug(&v, &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.node[0].path, "/local/domain/2/backend/vif/4/1/hotplug-status");
    assert_string_equal(l.node[0].value, "connected");
    struct wisp_ctl_device d = disk(3, "xvda", 51712, false);
    assert_int_equal(devnodes_vif_hotplug(&d, &l), -XEN_EINVAL);
}

static void vbd_ids_follow_xen(void **state)
{
    assert_int_equal(devnodes_xvd_index("xvda"), 0);
    assert_int_equal(devnodes_xvd_index("xvdz"), 25);
    assert_int_equal(devnodes_vbd_id(0), 51712);
    assert_int_equal(devnodes_vbd_id(1), 51728);
    assert_int_equal(devnodes_vbd_id(15), (202 << 8) | (15 << 4));
    assert_int_equal(devnodes_vbd_id(16), (1 << 28) | (16 << 8));
    const char *bad[] = { "", "xvd", "xvdA", "xvdaa", "hda", "sda", "xvd1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(devnodes_xvd_index(bad[i]), -XEN_EINVAL);
}

/* What the hypervisor hands over is checked before anything is written. */
static void hostile_devices_are_refused(void **state)
{
    static struct devnode_list l;
    struct wisp_ctl_device d;

    d = disk(3, "xvda", 51728, false);          /* devid of xvdb */
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = disk(3, "xvda", 51712, false);
    memset(d.vdev, 'x', sizeof(d.vdev));        /* no NUL */
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = disk(3, "xvda", 51712, false);
    memset(d.target, 'a', sizeof(d.target));    /* no NUL */
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = disk(3, "xvda", 51712, false);
    strcpy(d.target, "a\"b");
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = disk(3, "xvda", 51712, false);
    d.target[0] = '\0';
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = disk(3, "xvda", 51712, false);
    d.readonly = 7;
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = disk(2, "xvda", 51712, false);          /* frontend == backend */
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = disk(0x7ff0, "xvda", 51712, false);     /* DOMID_FIRST_RESERVED */
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = nic(4, 1);
    d.devid = 2;
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = nic(4, 1);
    d.mac[0] = 0x01;                            /* multicast */
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    d = nic(4, 1);
    d.kind = 9;
    assert_int_equal(devnodes_check(&d), -XEN_EINVAL);
    l.n = 0;
    assert_int_equal(devnodes_setup(&d, &l), -XEN_EINVAL);
    assert_int_equal(l.n, 0);
}

static void paths_and_names(void **state)
{
    char buf[DEVNODE_PATH_MAX];
    struct wisp_ctl_device v = nic(4, 1);

    devnodes_backend_dir_of(2, 4, WISP_DEV_VIF, buf, sizeof(buf));
    assert_string_equal(buf, "/local/domain/2/backend/vif/4");
    devnodes_backend_dir_of(2, 3, WISP_DEV_DISK, buf, sizeof(buf));
    assert_string_equal(buf, "/local/domain/2/backend/vbd/3");
    devnodes_frontend_dir_of(3, buf, sizeof(buf));
    assert_string_equal(buf, "/local/domain/3/device");
    devnodes_vif_ifname(&v, buf, sizeof(buf));
    assert_string_equal(buf, "vif4.1");
    assert_int_equal(devnodes_vif_ip(&v, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "10.77.1.4");
    v.frontend = 256;
    assert_int_equal(devnodes_vif_ip(&v, buf, sizeof(buf)), -XEN_EINVAL);
}

static void dhcp_conf_has_a_lease_per_vif(void **state)
{
    struct wisp_ctl_device devs[3] = { nic(3, 0), disk(3, "xvda", 51712, false), nic(4, 0) };
    char buf[1024];

    devs[2].mac[5] = 0x01;
    int len = devnodes_dhcp_conf(devs, 3, buf, sizeof(buf));
    assert_true(len > 0);
    assert_int_equal((size_t)len, strlen(buf));
    assert_non_null(strstr(buf, "interface br0\n"));
    assert_non_null(strstr(buf, "option subnet 255.255.0.0\n"));
    assert_non_null(strstr(buf, "static_lease 00:16:3e:0a:bc:ff 10.77.0.3\n"));
    assert_non_null(strstr(buf, "static_lease 00:16:3e:0a:bc:01 10.77.0.4\n"));
    assert_null(strstr(buf, "xvda"));
    assert_int_equal(devnodes_dhcp_conf(devs, 3, buf, 40), -XEN_E2BIG);
    assert_int_equal(devnodes_dhcp_conf(devs, 3, buf, (size_t)len), -XEN_E2BIG);   /* no room for NUL */
    assert_int_equal(devnodes_dhcp_conf(devs, 3, buf, (size_t)len + 1), len);
}

static void specs_parse_like_the_hypervisor(void **state)
{
    struct wisp_ctl_device d;

    assert_int_equal(devnodes_parse_spec("disk:3:2:xvdb:ro:data.img", &d), 0);
    assert_int_equal(d.kind, WISP_DEV_DISK);
    assert_int_equal(d.frontend, 3);
    assert_int_equal(d.backend, 2);
    assert_int_equal(d.devid, 51728);
    assert_int_equal(d.readonly, 1);
    assert_string_equal(d.vdev, "xvdb");
    assert_string_equal(d.target, "data.img");

    assert_int_equal(devnodes_parse_spec("vif:5:2:1", &d), 0);
    assert_int_equal(d.kind, WISP_DEV_VIF);
    assert_int_equal(d.handle, 1);
    assert_int_equal(d.devid, 1);
    const uint8_t want[6] = { 0x00, 0x16, 0x3e, 0x00, 0x05, 0x01 };
    assert_memory_equal(d.mac, want, 6);

    assert_int_equal(devnodes_parse_spec("vif:5:2:0:02:AB:cd:00:00:09", &d), 0);
    const uint8_t given[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x09 };
    assert_memory_equal(d.mac, given, 6);

    const char *bad[] = {
        "", "disk", "disk:3:2:xvda:rw", "disk:3:2:xvda:rx:a", "disk:3:2:sda:rw:a",
        "disk:3:3:xvda:rw:a", "disk:3:2:xvda:rw:", "disk:99999:2:xvda:rw:a", "vif:3:2:",
        "vif:3:2:1:01:00:00:00:00:00", "vif:3:2:1:00:00:00:00:00", "vif:3:2:1:00:00:00:00:00:0g",
        "vif:3:2:256", "net:3:2:0", "disk:-1:2:xvda:rw:a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (devnodes_parse_spec(bad[i], &d) != -XEN_EINVAL)
            fail_msg("accepted '%s'", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vbd_is_libxls_table),
        cmocka_unit_test(readonly_vbd_has_mode_r_and_no_discard),
        cmocka_unit_test(vif_is_libxls_table),
        cmocka_unit_test(two_devices_append),
        cmocka_unit_test(vbd_hotplug_is_the_block_script),
        cmocka_unit_test(vif_hotplug_is_connected),
        cmocka_unit_test(vbd_ids_follow_xen),
        cmocka_unit_test(hostile_devices_are_refused),
        cmocka_unit_test(paths_and_names),
        cmocka_unit_test(dhcp_conf_has_a_lease_per_vif),
        cmocka_unit_test(specs_parse_like_the_hypervisor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
