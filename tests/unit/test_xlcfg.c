/* test_xlcfg.c (host test): the xl.cfg keys `wisp create` reads (toolstack/protocol/xlcfg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "xlcfg.h"

static void a_full_config(void **state)
{
    static const char text[] =
        "# a guest\n"
        "type = \"pvh\"\n"
        "name = \"web-1\"\n"
        "kernel = '/boot/vmlinux'   # comment\n"
        "ramdisk = \"initrd.img\";\n"
        "cmdline = \"console=hvc0\"\n"
        "extra = \"quiet\"\n"
        "memory = 256\n"
        "maxmem = 256\n"
        "vcpus = 2\n"
        "cpus = \"0,2-3\"\n"
        "weight = 512\n"
        "cap = 50\n"
        "on_poweroff = \"destroy\"\n"
        "on_reboot = \"destroy\"\n"
        "on_crash = 'preserve'\n"
        "\n";
    struct xl_config c;
    char err[128];

    assert_int_equal(xlcfg_parse(text, &c, err, sizeof(err)), 0);
    assert_string_equal(c.name, "web-1");
    assert_string_equal(c.kernel, "/boot/vmlinux");
    assert_string_equal(c.ramdisk, "initrd.img");
    assert_string_equal(c.cmdline, "console=hvc0 quiet");
    assert_int_equal(c.memory_mib, 256);
    assert_int_equal(c.vcpus, 2);
    assert_int_equal(c.cpus, 0xd);
    assert_int_equal(c.weight, 512);
    assert_int_equal(c.cap, 50);
    assert_int_equal(c.on_poweroff, XL_DESTROY);
    assert_int_equal(c.on_reboot, XL_DESTROY);
    assert_int_equal(c.on_crash, XL_PRESERVE);
}

static void defaults(void **state)
{
    struct xl_config c;
    char err[128];

    assert_int_equal(xlcfg_parse("name=\"a\"\nkernel=\"k\"", &c, err, sizeof(err)), 0);
    assert_int_equal(c.memory_mib, 128);
    assert_int_equal(c.vcpus, 1);
    assert_int_equal(c.cpus, 0);
    assert_string_equal(c.cmdline, "");
    /* xl's: a reboot restarts, a poweroff or a crash destroys */
    assert_int_equal(c.on_poweroff, XL_DESTROY);
    assert_int_equal(c.on_reboot, XL_RESTART);
    assert_int_equal(c.on_crash, XL_DESTROY);
    assert_int_equal(xlcfg_parse("name=\"a\"\nkernel=\"k\"\non_crash='restart'\n", &c, err,
                                 sizeof(err)), 0);
    assert_int_equal(c.on_crash, XL_RESTART);
}

static void errors_name_the_line_and_the_problem(void **state)
{
    static const struct { const char *text, *want; } cases[] = {
        { "name=\"a\"\nkernel=\"k\"\nfoo = 1\n", "line 3: unknown key 'foo'" },
        { "name=\"a b\"\nkernel=\"k\"\n", "line 1: name: 'a b' must be 1 to 31 of A-Z a-z 0-9 _ . -" },
        { "name=\"a\"\nkernel=\"k\"\nmemory = lots\n", "line 3: memory: 'lots' is not a number from 2 to 65536" },
        { "name=\"a\"\nkernel=\"k\"\nvcpus = 9\n", "line 3: vcpus: '9' is not a number from 1 to 8" },
        { "name=\"a\"\nkernel=\"k\"\nmemory = 99999999999999999999\n", "line 3: memory: '99999999999999999999' is not a number from 2 to 65536" },
        { "name=\"a\nkernel=\"k\"\n", "line 1: unterminated string" },
        { "name=\"a\"\n", "no kernel = \"...\"" },
        { "kernel=\"k\"\n", "no name = \"...\"" },
        { "name=\"a\"\nkernel=\"k\"\ntype=\"hvm\"\n", "line 3: type = \"hvm\": Wisp runs only PVH guests" },
        { "name=\"a\"\nkernel=\"k\"\non_crash=\"rename-restart\"\n", "line 3: on_crash = \"rename-restart\" is not supported yet (destroy, restart or preserve)" },
        { "name=\"a\"\nkernel=\"k\"\non_crash=\"explode\"\n", "line 3: on_crash: 'explode' is not an action" },
        { "name=\"a\"\nkernel=\"k\"\ncpus=\"3-1\"\n", "line 3: cpus: '3-1' is not a CPU list of 0 to 31" },
        { "name=\"a\"\nkernel=\"k\"\nmemory=64\nmaxmem=128\n", "maxmem (128) differs from memory (64): no ballooning yet" },
        { "name=\"a\"\nkernel=\"k\"\nvif=['mac=01:16:3e:00:00:01']\n", "line 3: vif: mac '01:16:3e:00:00:01' is not a unicast XX:XX:XX:XX:XX:XX" },
        { "name=\"a\"\nkernel=\"k\"\nvif=['ip=10.0.0.2']\n", "line 3: vif: 'ip' is not supported (mac, bridge)" },
        { "name=\"a\"\nkernel=\"k\"\nvif=['bridge=xenbr0']\n", "line 3: vif: bridge 'xenbr0': the service domain has only br0" },
        { "name=\"a\"\nkernel=\"k\"\nvif=['','','','','']\n", "line 3: vif: at most 4 vifs" },
        { "name=\"a\"\nkernel=\"k\"\ndisk=['vdev=xvda, access=rw']\n", "line 3: disk: a disk needs a target and a vdev" },
        { "name=\"a\"\nkernel=\"k\"\ndisk=['d.img,qcow2,xvda,rw']\n", "line 3: disk: format 'qcow2': only raw" },
        { "name=\"a\"\nkernel=\"k\"\ndisk=['target=d.img,vdev=hda']\n", "line 3: disk: vdev 'hda': xvda to xvdz" },
        { "name=\"a\"\nkernel=\"k\"\ndisk=['target=d.img,vdev=xvda,access=x']\n", "line 3: disk: access 'x': r, ro, w or rw" },
        { "name=\"a\"\nkernel=\"k\"\ndisk=['phy:/dev/sdb,xvda,w']\n", "line 3: disk: 'phy:/dev/sdb': only raw image files" },
        { "name=\"a\"\nkernel=\"k\"\ndisk=['a.img,xvda,w','b.img,xvda,w']\n", "line 3: disk: vdev xvda twice" },
        { "name=\"a\"\nkernel=\"k\"\ndisk=['a.img,raw,xvda,rw,extra']\n", "line 3: disk: too many settings in 'extra'" },
        { "name=\"a\"\nkernel=\"k\"\ndisk=['target=a.img,vdev=xvda,backendtype=qdisk']\n", "line 3: disk: 'backendtype' is not supported (target, format, vdev, access)" },
        { "name=\"a\"\nkernel=\"k\"\nname [x]\n", "line 3: want key = value after 'name'" },
        { "name=[\"a\"]\nkernel=\"k\"\n", "line 1: name: a list where one value belongs" },
        { "name=\"a\" x\nkernel=\"k\"\n", "line 1: unexpected 'x'" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xl_config c;
        char err[256];

        assert_int_equal(xlcfg_parse(cases[i].text, &c, err, sizeof(err)), -1);
        assert_string_equal(err, cases[i].want);
    }
}

static void disks_and_vifs(void **state)
{
    static const char text[] =
        "name = \"g\"\nkernel = \"k\"\n"
        "disk = [ 'format=raw, vdev=xvda, access=rw, target=/images/root.img',\n"
        "         'file:/images/data.img,xvdb,r', '/images/c.img,raw,xvdc,w' ]\n"
        "vif = [ '', 'mac=00:16:3E:0a:0b:0c, bridge=br0' ]\n";
    struct xl_config c;
    char err[128];

    assert_int_equal(xlcfg_parse(text, &c, err, sizeof(err)), 0);
    assert_int_equal(c.nr_disks, 3);
    assert_string_equal(c.disks[0].target, "/images/root.img");
    assert_string_equal(c.disks[0].vdev, "xvda");
    assert_false(c.disks[0].readonly);
    assert_string_equal(c.disks[1].target, "/images/data.img");
    assert_string_equal(c.disks[1].vdev, "xvdb");
    assert_true(c.disks[1].readonly);
    assert_string_equal(c.disks[2].target, "/images/c.img");
    assert_string_equal(c.disks[2].vdev, "xvdc");
    assert_false(c.disks[2].readonly);
    assert_int_equal(c.nr_vifs, 2);
    assert_string_equal(c.vifs[0].mac, "");
    assert_string_equal(c.vifs[1].mac, "00:16:3E:0a:0b:0c");
}

static void a_long_value_is_refused_not_cut(void **state)
{
    static char text[4096];
    struct xl_config c;
    char err[128];

    strcpy(text, "name=\"a\"\nkernel=\"");
    memset(text + strlen(text), 'k', 300);
    strcat(text, "\"\n");
    assert_int_equal(xlcfg_parse(text, &c, err, sizeof(err)), -1);
    assert_string_equal(err, "line 2: kernel: longer than 255 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_full_config),
        cmocka_unit_test(defaults),
        cmocka_unit_test(errors_name_the_line_and_the_problem),
        cmocka_unit_test(disks_and_vifs),
        cmocka_unit_test(a_long_value_is_refused_not_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
