/* test_bootconfig.c (host test): the boot configuration text parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bootconfig.h"
#include "errno.h"

static struct boot_config cfg;
static char err[256];

/* Parses exactly len bytes from a heap copy with no NUL after it, so overreads trap. */
static int parse_n(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, text, len);
    memset(err, 'Z', sizeof(err));
    rc = bootconfig_parse(copy, len, &cfg, err, sizeof(err));
    free(copy);
    return rc;
}

static int parse(const char *text)
{
    return parse_n(text, strlen(text));
}

static void expect_ok(const char *text)
{
    int rc = parse(text);

    if (rc)
        fail_msg("unexpected error %d: %s", rc, err);
    assert_string_equal(err, "");
}

static bool config_is_zero(void)
{
    static const struct boot_config zero;

    return memcmp(&cfg, &zero, sizeof(cfg)) == 0;
}

static void expect_error(const char *text, int rc, const char *msg)
{
    assert_int_equal(parse(text), rc);
    assert_string_equal(err, msg);
    assert_true(config_is_zero());      /* no half-parsed result */
}

/* A table of configurations the parser must refuse, each with its errno and message. */
struct bad_config {
    const char *text;
    int rc;
    const char *msg;
};

static void expect_errors(const struct bad_config *bad, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_error(bad[i].text, bad[i].rc, bad[i].msg);
}

static const char example[] =
    "# Wisp boot configuration\n"
    "\n"
    "domain service\n"
    "    kernel   service.elf\n"
    "    memory   256M\n"
    "    vcpus    2\n"
    "    cmdline  console=hvc0  loglevel=4 # not a comment\n"
    "\n"
    "domain guest-1\n"
    "\tkernel vmlinuz\n"
    "\tinitrd initrd.cpio\n"
    "\tmemory 1G\n"
    "\tcmdline\n"
    "domain tiny.unikernel\n"
    "kernel hello.bin\n";

static void test_example(void **state)
{
    expect_ok(example);
    assert_int_equal(cfg.nr_domains, 3);

    assert_string_equal(cfg.domains[0].name, "service");
    assert_string_equal(cfg.domains[0].kernel, "service.elf");
    assert_string_equal(cfg.domains[0].initrd, "");
    assert_string_equal(cfg.domains[0].cmdline, "console=hvc0  loglevel=4 # not a comment");
    assert_int_equal(cfg.domains[0].memory_mib, 256);
    assert_int_equal(cfg.domains[0].vcpus, 2);

    assert_string_equal(cfg.domains[1].name, "guest-1");
    assert_string_equal(cfg.domains[1].kernel, "vmlinuz");
    assert_string_equal(cfg.domains[1].initrd, "initrd.cpio");
    assert_string_equal(cfg.domains[1].cmdline, "");
    assert_int_equal(cfg.domains[1].memory_mib, 1024);
    assert_int_equal(cfg.domains[1].vcpus, 1);

    assert_string_equal(cfg.domains[2].name, "tiny.unikernel");
    assert_string_equal(cfg.domains[2].kernel, "hello.bin");
    assert_int_equal(cfg.domains[2].memory_mib, 128);   /* defaults */
    assert_int_equal(cfg.domains[2].vcpus, 1);
}

static void test_line_endings_and_blanks(void **state)
{
    expect_ok("domain a\r\nkernel k\r\n  \t \r\n# c\r\ncmdline  x y \t\r\n");
    assert_string_equal(cfg.domains[0].kernel, "k");
    assert_string_equal(cfg.domains[0].cmdline, "x y");

    expect_ok("domain a\nkernel k");            /* no final newline */
    assert_string_equal(cfg.domains[0].kernel, "k");

    expect_ok("domain a\nkernel k\r");          /* CR at the very end */
    assert_string_equal(cfg.domains[0].kernel, "k");

    expect_ok("\n\n   # indented comment\ndomain   a   \n   kernel\tk\t\n\n");
    assert_string_equal(cfg.domains[0].name, "a");
}

static void test_not_nul_terminated(void **state)
{
    static const char text[] = "domain a\nkernel k\ncmdline abc";

    /* Only the first len bytes count: the cmdline is cut where len ends. */
    assert_int_equal(parse_n(text, sizeof(text) - 1 - 1), 0);
    assert_string_equal(cfg.domains[0].cmdline, "ab");
    assert_int_equal(parse_n(text, 17), 0);     /* "domain a\nkernel k" */
    assert_string_equal(cfg.domains[0].cmdline, "");
    assert_int_equal(parse_n(text, 8), -EINVAL); /* "domain a": no kernel yet */
}

static void test_memory_values(void **state)
{
    static const struct { const char *v; uint32_t mib; } good[] = {
        { "512", 512 }, { "512M", 512 }, { "2", 2 }, { "2G", 2048 }, { "65536", 65536 },
        { "64G", 65536 }, { "0002", 2 },
    };
    char text[128];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "domain a\nkernel k\nmemory %s\n", good[i].v);
        expect_ok(text);
        assert_int_equal(cfg.domains[0].memory_mib, good[i].mib);
    }
}

static void test_memory_errors(void **state)
{
    expect_error("domain a\nkernel k\nmemory 1\n", -ERANGE, "line 3: 'memory' must be 2..65536 MiB");
    expect_error("domain a\nkernel k\nmemory 0\n", -ERANGE, "line 3: 'memory' must be 2..65536 MiB");
    expect_error("domain a\nkernel k\nmemory 65537\n", -ERANGE, "line 3: 'memory' must be 2..65536 MiB");
    expect_error("domain a\nkernel k\nmemory 65G\n", -ERANGE, "line 3: 'memory' must be 2..65536 MiB");
    expect_error("domain a\nkernel k\nmemory 99999999999999999999\n", -ERANGE,
                 "line 3: number too large for 'memory': '99999999999999999999'");
    expect_error("domain a\nkernel k\nmemory 18014398509481984G\n", -ERANGE,
                 "line 3: number too large for 'memory': '18014398509481984G'");
    expect_error("domain a\nkernel k\nmemory abc\n", -EINVAL, "line 3: bad number for 'memory': 'abc'");
    expect_error("domain a\nkernel k\nmemory 12k\n", -EINVAL, "line 3: bad number for 'memory': '12k'");
    expect_error("domain a\nkernel k\nmemory 512m\n", -EINVAL, "line 3: bad number for 'memory': '512m'");
    expect_error("domain a\nkernel k\nmemory M\n", -EINVAL, "line 3: bad number for 'memory': 'M'");
    expect_error("domain a\nkernel k\nmemory -5\n", -EINVAL, "line 3: bad number for 'memory': '-5'");
    expect_error("domain a\nkernel k\nmemory 0x100\n", -EINVAL, "line 3: bad number for 'memory': '0x100'");
    expect_error("domain a\nkernel k\nmemory 512 M\n", -EINVAL,
                 "line 3: 'memory' takes one word, found more: 'M'");
    expect_error("domain a\nkernel k\nmemory\n", -EINVAL, "line 3: 'memory' needs a value");
}

static void test_vcpus(void **state)
{
    expect_ok("domain a\nkernel k\nvcpus 8\n");
    assert_int_equal(cfg.domains[0].vcpus, 8);
    expect_ok("domain a\nkernel k\nvcpus 1\n");
    assert_int_equal(cfg.domains[0].vcpus, 1);
    expect_error("domain a\nkernel k\nvcpus 0\n", -ERANGE, "line 3: 'vcpus' must be 1..8");
    expect_error("domain a\nkernel k\nvcpus 9\n", -ERANGE, "line 3: 'vcpus' must be 1..8");
    expect_error("domain a\nkernel k\nvcpus two\n", -EINVAL, "line 3: bad number for 'vcpus': 'two'");
    expect_error("domain a\nkernel k\nvcpus 4G\n", -EINVAL, "line 3: bad number for 'vcpus': '4G'");
    expect_error("domain a\nkernel k\nvcpus 18446744073709551616\n", -ERANGE,
                 "line 3: number too large for 'vcpus': '18446744073709551616'");
    expect_error("domain a\nkernel k\nvcpus  \n", -EINVAL, "line 3: 'vcpus' needs a value");
}

static void test_key_errors(void **state)
{
    expect_error("domain a\nkernel k\nramdisk r\n", -EINVAL, "line 3: unknown key 'ramdisk'");
    expect_error("domain a\nKernel k\n", -EINVAL, "line 2: unknown key 'Kernel'");
    expect_error("domain a\nkernel=k\n", -EINVAL, "line 2: unknown key 'kernel=k'");
    expect_error("# header\nkernel k\ndomain a\n", -EINVAL,
                 "line 2: 'kernel' outside a domain block (start one with 'domain NAME')");
    expect_error("domain a\nkernel k\nmemory 4\nkernel j\n", -EEXIST, "line 4: duplicate key 'kernel'");
    expect_error("domain a\nkernel k\ncmdline\ncmdline x\n", -EEXIST, "line 4: duplicate key 'cmdline'");
    expect_error("domain a\nkernel\n", -EINVAL, "line 2: 'kernel' needs a value");
    expect_error("domain a\nkernel k extra\n", -EINVAL,
                 "line 2: 'kernel' takes one word, found more: 'extra'");
    expect_error("domain a\nkernel k\ninitrd /boot/initrd.img\n", -EINVAL,
                 "line 3: module names have no '/' (a module is named by its file's basename): "
                 "'/boot/initrd.img'");
}

static void test_keys_reset_per_domain(void **state)
{
    expect_ok("domain a\nkernel k\nmemory 4\ndomain b\nkernel k\nmemory 8\n");
    assert_int_equal(cfg.nr_domains, 2);
    assert_int_equal(cfg.domains[0].memory_mib, 4);
    assert_int_equal(cfg.domains[1].memory_mib, 8);
    assert_string_equal(cfg.domains[1].initrd, "");
}

static void test_domain_names(void **state)
{
    expect_ok("domain aZ09_.-\nkernel k\n");
    expect_ok("domain 1234567890123456789012345678901\nkernel k\n");    /* 31 */
    assert_string_equal(cfg.domains[0].name, "1234567890123456789012345678901");

    expect_error("domain 12345678901234567890123456789012\nkernel k\n", -EINVAL,
                 "line 1: bad domain name '12345678901234567890123456789012' "
                 "(1-31 characters of A-Z a-z 0-9 _ . -)");
    expect_error("domain a/b\nkernel k\n", -EINVAL,
                 "line 1: bad domain name 'a/b' (1-31 characters of A-Z a-z 0-9 _ . -)");
    expect_error("domain caf\xc3\xa9\nkernel k\n", -EINVAL,
                 "line 1: bad domain name 'caf?" "?' (1-31 characters of A-Z a-z 0-9 _ . -)");
    expect_error("domain\nkernel k\n", -EINVAL, "line 1: 'domain' needs a name");
    expect_error("domain a b\nkernel k\n", -EINVAL, "line 1: 'domain' takes one name, found more: 'b'");
    expect_error("domain a\nkernel k\ndomain b\nkernel k\ndomain a\nkernel k\n", -EEXIST,
                 "line 5: duplicate domain 'a'");
}

static void test_missing_kernel(void **state)
{
    expect_error("domain a\nmemory 4\ndomain b\nkernel k\n", -EINVAL, "line 1: domain 'a' has no kernel");
    expect_error("domain a\nkernel k\n\ndomain b\ninitrd i\n# end\n", -EINVAL,
                 "line 4: domain 'b' has no kernel");
}

static void test_no_domain(void **state)
{
    expect_error("", -ENOENT, "line 1: no domain defined");
    expect_error("# only a comment\n\n\n", -ENOENT, "line 3: no domain defined");
    assert_int_equal(bootconfig_parse(NULL, 0, &cfg, err, sizeof(err)), -ENOENT);
    assert_int_equal(bootconfig_parse(NULL, 5, &cfg, err, sizeof(err)), -EINVAL);
}

static void test_too_many_domains(void **state)
{
    char text[1024] = "";
    unsigned i;

    for (i = 0; i < BOOTCFG_MAX_DOMAINS; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "domain d%u\nkernel k\n", i);
    expect_ok(text);
    assert_int_equal(cfg.nr_domains, BOOTCFG_MAX_DOMAINS);
    assert_string_equal(cfg.domains[BOOTCFG_MAX_DOMAINS - 1].name, "d7");

    strcat(text, "domain d8\nkernel k\n");
    expect_error(text, -E2BIG, "line 17: too many domains (max 8)");
}

static void test_value_lengths(void **state)
{
    char text[4096], msg[128];
    char value[BOOTCFG_CMDLINE_MAX + 1];

    memset(value, 'm', BOOTCFG_MODULE_MAX - 1);
    value[BOOTCFG_MODULE_MAX - 1] = '\0';
    snprintf(text, sizeof(text), "domain a\nkernel %s\n", value);
    expect_ok(text);
    assert_string_equal(cfg.domains[0].kernel, value);

    value[BOOTCFG_MODULE_MAX - 1] = 'm';
    value[BOOTCFG_MODULE_MAX] = '\0';
    snprintf(text, sizeof(text), "domain a\nkernel k\ninitrd %s\n", value);
    expect_error(text, -E2BIG, "line 3: module name too long (max 63 characters)");

    memset(value, 'c', BOOTCFG_CMDLINE_MAX - 1);
    value[BOOTCFG_CMDLINE_MAX - 1] = '\0';
    snprintf(text, sizeof(text), "domain a\nkernel k\ncmdline   %s   \n", value);
    expect_ok(text);
    assert_string_equal(cfg.domains[0].cmdline, value);

    value[BOOTCFG_CMDLINE_MAX - 1] = 'c';
    value[BOOTCFG_CMDLINE_MAX] = '\0';
    snprintf(text, sizeof(text), "domain a\nkernel k\ncmdline %s\n", value);
    snprintf(msg, sizeof(msg), "line 3: cmdline too long (max %d characters)", BOOTCFG_CMDLINE_MAX - 1);
    expect_error(text, -E2BIG, msg);
}

static void test_bad_bytes_and_long_lines(void **state)
{
    static const char with_nul[] = "domain a\nkernel k\ncmdline a\0b\n";
    char text[4200 + 2048];

    assert_int_equal(parse_n(with_nul, sizeof(with_nul) - 1), -EINVAL);
    assert_string_equal(err, "line 3: NUL byte in text");
    assert_true(config_is_zero());

    expect_error("domain a\nkernel k\ncmdline a\x1b[31m\n", -EINVAL, "line 3: control character in text");
    expect_error("domain a\rkernel k\n", -EINVAL, "line 1: control character in text");

    /* A comment of exactly 4096 bytes is fine; 4097 is not. */
    memset(text, '#', 4096);
    strcpy(text + 4096, "\ndomain a\nkernel k\n");
    expect_ok(text);
    memset(text, '#', 4097);
    strcpy(text + 4097, "\ndomain a\nkernel k\n");
    expect_error(text, -E2BIG, "line 1: line too long (max 4096 bytes)");
}

static void test_error_buffer_limits(void **state)
{
    char small[12];
    static const char bad[] = "domain a\nbogus\n";

    memset(small, 'Z', sizeof(small));
    assert_int_equal(bootconfig_parse(bad, sizeof(bad) - 1, &cfg, small, sizeof(small)), -EINVAL);
    assert_string_equal(small, "line 2: unk");  /* truncated, still terminated */

    small[0] = 'Z';
    assert_int_equal(bootconfig_parse(bad, sizeof(bad) - 1, &cfg, small, 1), -EINVAL);
    assert_int_equal(small[0], '\0');
    assert_int_equal(bootconfig_parse(bad, sizeof(bad) - 1, &cfg, NULL, 0), -EINVAL);
    assert_int_equal(bootconfig_parse(bad, sizeof(bad) - 1, &cfg, small, 0), -EINVAL);

    /* Long offending words are shortened in messages. */
    expect_error("domain a\nkernel k\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", -EINVAL,
                 "line 3: unknown key 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
}

static void test_role_keys(void **state)
{
    expect_ok("domain xs\nkernel k\nroles xenstore\n"
              "domain ctl\nkernel k\nroles control,backend\npaused\n"
              "domain all\nkernel k\nroles backend,control\n"
              "domain plain\nkernel k\nmax_grant_frames 1\nmax_maptrack_frames 0\n");
    assert_int_equal(cfg.domains[0].roles, WISP_ROLE_XENSTORE);
    assert_false(cfg.domains[0].paused);
    assert_int_equal(cfg.domains[1].roles, WISP_ROLE_CONTROL | WISP_ROLE_BACKEND);
    assert_true(cfg.domains[1].paused);
    assert_int_equal(cfg.domains[2].roles, WISP_ROLE_CONTROL | WISP_ROLE_BACKEND);
    assert_int_equal(cfg.domains[3].roles, 0);                  /* default: no role */
    assert_int_equal(cfg.domains[3].max_grant_frames, 1);
    assert_int_equal(cfg.domains[3].max_maptrack_frames, 0);
    assert_int_equal(cfg.domains[0].max_grant_frames, 64);      /* Xen's defaults */
    assert_int_equal(cfg.domains[0].max_maptrack_frames, 1024);

    expect_ok("domain a\nkernel k\nmax_grant_frames 1024\nmax_maptrack_frames 4096\n");
    assert_int_equal(cfg.domains[0].max_grant_frames, 1024);
    assert_int_equal(cfg.domains[0].max_maptrack_frames, 4096);
}

static void test_scheduling_keys(void **state)
{
    expect_ok("domain a\nkernel k\n"
              "domain b\nkernel k\nweight 512\ncap 50\ncpus 1\n"
              "domain c\nkernel k\nweight 65535\ncap 800\ncpus 0-2,5,63\n"
              "domain d\nkernel k\nweight 1\ncap 0\ncpus all\n");
    assert_int_equal(cfg.domains[0].weight, 256);               /* credit2's default */
    assert_int_equal(cfg.domains[0].cap, 0);                    /* no cap */
    assert_true(cfg.domains[0].cpus == ~0ull);                  /* anywhere */
    assert_int_equal(cfg.domains[1].weight, 512);
    assert_int_equal(cfg.domains[1].cap, 50);
    assert_true(cfg.domains[1].cpus == 0x2);
    assert_int_equal(cfg.domains[2].weight, 65535);
    assert_int_equal(cfg.domains[2].cap, 800);
    assert_true(cfg.domains[2].cpus == (0x27ull | 1ull << 63));
    assert_int_equal(cfg.domains[3].weight, 1);
    assert_true(cfg.domains[3].cpus == ~0ull);

    static const struct bad_config bad[] = {
        { "domain a\nkernel k\nweight 0\n", -ERANGE, "line 3: 'weight' must be 1..65535" },
        { "domain a\nkernel k\nweight 65536\n", -ERANGE, "line 3: 'weight' must be 1..65535" },
        { "domain a\nkernel k\ncap 801\n", -ERANGE, "line 3: 'cap' must be 0..800" },
        { "domain a\nkernel k\ncap -1\n", -EINVAL, "line 3: bad number for 'cap': '-1'" },
        { "domain a\nkernel k\ncpus 64\n", -EINVAL,
          "line 3: bad pCPU range '64' (cpus takes 'all' or a list like 0-3,6 of pCPUs 0 to 63)" },
        { "domain a\nkernel k\ncpus 3-1\n", -EINVAL,
          "line 3: bad pCPU range '3-1' (cpus takes 'all' or a list like 0-3,6 of pCPUs 0 to 63)" },
        { "domain a\nkernel k\ncpus 1,,2\n", -EINVAL,
          "line 3: bad pCPU number in '' (cpus takes 'all' or a list like 0-3,6 of pCPUs 0 to 63)" },
        { "domain a\nkernel k\ncpus ^1\n", -EINVAL,
          "line 3: bad pCPU number in '^1' (cpus takes 'all' or a list like 0-3,6 of pCPUs 0 to "
          "63)" },
        { "domain a\nkernel k\ncpus 1-\n", -EINVAL,
          "line 3: bad pCPU number in '1-' (cpus takes 'all' or a list like 0-3,6 of pCPUs 0 to "
          "63)" },
        { "domain a\nkernel k\ncpus 0\ncpus 1\n", -EEXIST, "line 4: duplicate key 'cpus'" },
        { "domain a\nkernel k\ncpus\n", -EINVAL, "line 3: 'cpus' needs a value" },
    };
    expect_errors(bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_role_errors(void **state)
{
    expect_error("domain a\nkernel k\nroles dom0\n", -EINVAL,
                 "line 3: unknown role 'dom0' (roles: xenstore, control, backend)");
    expect_error("domain a\nkernel k\nroles control,\n", -EINVAL,
                 "line 3: empty role in list ''");
    expect_error("domain a\nkernel k\nroles ,control\n", -EINVAL,
                 "line 3: empty role in list ''");
    expect_error("domain a\nkernel k\nroles control,control\n", -EINVAL,
                 "line 3: role given twice: 'control'");
    expect_error("domain a\nkernel k\nroles control, backend\n", -EINVAL,
                 "line 3: 'roles' takes one word, found more: 'backend'");
    expect_error("domain a\nkernel k\nroles\n", -EINVAL, "line 3: 'roles' needs a value");
    expect_error("domain a\nkernel k\nroles Control\n", -EINVAL,
                 "line 3: unknown role 'Control' (roles: xenstore, control, backend)");
    expect_error("domain a\nkernel k\nroles xenstore\ndomain b\nkernel k\n"
                 "roles control,xenstore\n", -EEXIST,
                 "line 6: a second xenstore domain (the first is named on line 3; "
                 "at most one domain may have the xenstore role)");
    expect_error("domain a\nkernel k\nroles xenstore\nroles control\n", -EEXIST,
                 "line 4: duplicate key 'roles'");
    expect_error("domain a\nkernel k\npaused yes\n", -EINVAL,
                 "line 3: 'paused' takes no value, found 'yes'");
    expect_error("domain a\nkernel k\npaused\npaused\n", -EEXIST,
                 "line 4: duplicate key 'paused'");
    expect_error("paused\n", -EINVAL,
                 "line 1: 'paused' outside a domain block (start one with 'domain NAME')");
    expect_error("domain a\nkernel k\nmax_grant_frames 0\n", -ERANGE,
                 "line 3: 'max_grant_frames' must be 1..1024");
    expect_error("domain a\nkernel k\nmax_grant_frames 1025\n", -ERANGE,
                 "line 3: 'max_grant_frames' must be 1..1024");
    expect_error("domain a\nkernel k\nmax_maptrack_frames 4097\n", -ERANGE,
                 "line 3: 'max_maptrack_frames' must be 0..4096");
    expect_error("domain a\nkernel k\nmax_maptrack_frames -1\n", -EINVAL,
                 "line 3: bad number for 'max_maptrack_frames': '-1'");
    expect_error("domain a\nkernel k\nmax_grant_frames 99999999999999999999\n", -ERANGE,
                 "line 3: number too large for 'max_grant_frames': '99999999999999999999'");
}

/* The service-domain preamble every device test needs: xenstore 1, backend 2. */
#define SERVICE "domain xs\nkernel x\nroles xenstore\ndomain svc\nkernel s\nroles control,backend\n"

static void test_disk_forms(void **state)
{
    const struct disk_config *d;

    (void)state;
    expect_ok(SERVICE "domain g\nkernel k\n"
              "disk format=raw, vdev=xvda, access=rw, target=disk0.img\n"
              "disk = [ 'target=d1.img,vdev=xvdb,access=ro', \"vdev=xvdp , target=d2.img, access=r\", ]\n"
              "disk=['target=d3.img,vdev=xvdq,access=w']\n"
              "disk vdev=xvdz,target=d4.img,,\n");
    assert_int_equal(cfg.domains[2].nr_disks, 5);
    assert_true(cfg.domains[2].paused);
    assert_false(cfg.domains[1].paused);
    d = cfg.domains[2].disks;
    assert_string_equal(d[0].target, "disk0.img");
    assert_string_equal(d[0].vdev, "xvda");
    assert_int_equal(d[0].devid, 51712);
    assert_false(d[0].readonly);
    assert_string_equal(d[1].target, "d1.img");
    assert_int_equal(d[1].devid, 51728);
    assert_true(d[1].readonly);
    assert_string_equal(d[2].vdev, "xvdp");
    assert_int_equal(d[2].devid, (202 << 8) | (15 << 4));
    assert_true(d[2].readonly);
    assert_int_equal(d[3].devid, (1 << 28) | (16 << 8));
    assert_false(d[3].readonly);
    assert_int_equal(d[4].devid, (1 << 28) | (25 << 8));
    /* An empty list adds nothing and does not pause. */
    expect_ok("domain g\nkernel k\ndisk = [ ]\nvif = []\n");
    assert_int_equal(cfg.domains[0].nr_disks + cfg.domains[0].nr_vifs, 0);
    assert_false(cfg.domains[0].paused);
}

static void test_vif_forms(void **state)
{
    const struct vif_config *v;
    static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0xAb, 0x0c, 0xfe };

    (void)state;
    expect_ok(SERVICE "domain g\nkernel k\nvif\nvif mac=00:16:3e:Ab:0c:fe\n"
              "vif = [ '', 'mac=02:00:00:00:00:01' ]\n"
              "domain h\nkernel k\nvif=['']\n");
    assert_int_equal(cfg.domains[2].nr_vifs, 4);
    assert_true(cfg.domains[2].paused && cfg.domains[3].paused);
    v = cfg.domains[2].vifs;
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(v[i].handle, i);
    assert_memory_equal(v[0].mac, ((uint8_t[]){ 0x00, 0x16, 0x3e, 0x00, 3, 0 }), 6);
    assert_memory_equal(v[1].mac, mac, 6);
    assert_memory_equal(v[2].mac, ((uint8_t[]){ 0x00, 0x16, 0x3e, 0x00, 3, 2 }), 6);
    assert_memory_equal(v[3].mac, ((uint8_t[]){ 0x02, 0, 0, 0, 0, 1 }), 6);
    assert_memory_equal(cfg.domains[3].vifs[0].mac, ((uint8_t[]){ 0x00, 0x16, 0x3e, 0x00, 4, 0 }),
                        6);
}

#define GUEST SERVICE "domain g\nkernel k\n"

static const struct bad_config bad_disks[] = {
    { GUEST "disk vdev=xvda\n", -EINVAL,
      "line 9: disk without target=MODULE: 'vdev=xvda'" },
    { GUEST "disk target=a.img\n", -EINVAL,
      "line 9: disk without vdev=xvdX: 'target=a.img'" },
    { GUEST "disk\n", -EINVAL, "line 9: disk without target=MODULE: ''" },
    { GUEST "disk a.img,xvda\n", -EINVAL, "line 9: disk term 'a.img' is not key=value" },
    { GUEST "disk target=a.img, =xvda\n", -EINVAL,
      "line 9: disk term 'xvda' needs a key and a value" },
    { GUEST "disk target=,vdev=xvda\n", -EINVAL,
      "line 9: disk term 'target' needs a key and a value" },
    { GUEST "disk target=a.img,vdev=xvda,devtype=cdrom\n", -EINVAL,
      "line 9: unknown disk key 'devtype' (target, vdev, access, format)" },
    { GUEST "disk target=a.img,vdev=xvda,vdev=xvdb\n", -EINVAL,
      "line 9: disk key given twice: 'vdev'" },
    { GUEST "disk target=a.img,vdev=sda\n", -EINVAL,
      "line 9: unsupported vdev 'sda' (xvda..xvdz)" },
    { GUEST "disk target=a.img,vdev=xvdaa\n", -EINVAL,
      "line 9: unsupported vdev 'xvdaa' (xvda..xvdz)" },
    { GUEST "disk target=a.img,vdev=xvda,access=rx\n", -EINVAL,
      "line 9: bad disk access 'rx' (rw, w, ro or r)" },
    { GUEST "disk target=a.img,vdev=xvda,format=qcow2\n", -EINVAL,
      "line 9: unsupported disk format 'qcow2' (only raw)" },
    { GUEST "disk target=/img/a,vdev=xvda\n", -EINVAL,
      "line 9: module names have no '/' (a module is named by its file's basename): "
      "'/img/a'" },
    { GUEST "disk target=a b,vdev=xvda\n", -EINVAL,
      "line 9: 'disk' takes one word, found more: 'b'" },
    { GUEST "disk target=a,vdev=xvda\ndisk target=b,vdev=xvda\n", -EEXIST,
      "line 10: vdev xvda twice in domain 'g'" },
    { GUEST "disk target=a,vdev=xvda\ndomain h\nkernel k\ndisk target=a,vdev=xvda\n",
      -EEXIST, "line 12: module 'a' is already the image of xvda in domain 'g' "
               "(one disk per module)" },
    { GUEST "disk = [ 'target=a,vdev=xvda', 'target=a,vdev=xvdb' ]\n", -EEXIST,
      "line 9: module 'a' is already the image of xvda in domain 'g' (one disk per "
      "module)" },
    { GUEST "disk = [ 'target=0,vdev=xvda', 'target=1,vdev=xvdb', 'target=2,vdev=xvdc',"
      "'target=3,vdev=xvdd', 'target=4,vdev=xvde', 'target=5,vdev=xvdf', "
      "'target=6,vdev=xvdg', 'target=7,vdev=xvdh' ]\ndisk target=8,vdev=xvdi\n",
      -E2BIG, "line 10: too many disks in domain 'g' (max 8)" },
};

static void test_disk_errors(void **state)
{
    (void)state;
    expect_errors(bad_disks, sizeof(bad_disks) / sizeof(bad_disks[0]));
}

static const struct bad_config bad_lists[] = {
    { GUEST "disk = 'target=a,vdev=xvda'\n", -EINVAL,
      "line 9: want a list [ 'SPEC', ... ] after '=', found ''target=a,vdev=xvda''" },
    { GUEST "disk = [ target=a ]\n", -EINVAL,
      "line 9: want a quoted spec in the list, found 'target=a'" },
    { GUEST "disk = [ 'target=a,vdev=xvda ]\n", -EINVAL,
      "line 9: unterminated quote: 'target=a,vdev=xvda'" },
    { GUEST "vif = [ '' '' ]\n", -EINVAL,
      "line 9: want ',' between list items, found ''''" },
    { GUEST "vif = [ , ]\n", -EINVAL,
      "line 9: want a quoted spec in the list, found ','" },
    { GUEST "disk = [\n", -EINVAL, "line 9: want a list [ 'SPEC', ... ] after '=', found '['" },
};

static void test_list_errors(void **state)
{
    (void)state;
    expect_errors(bad_lists, sizeof(bad_lists) / sizeof(bad_lists[0]));
}

static const struct bad_config bad_vifs[] = {
    { GUEST "vif bridge=br0\n", -EINVAL, "line 9: unknown vif key 'bridge' (only mac)" },
    { GUEST "vif 00:16:3e:00:00:01\n", -EINVAL,
      "line 9: vif term '00:16:3e:00:00:01' is not key=value" },
    { GUEST "vif mac=00:16:3e:00:00:01,mac=00:16:3e:00:00:02\n", -EINVAL,
      "line 9: vif key given twice: 'mac'" },
    { GUEST "vif mac=00:16:3e:00:00\n", -EINVAL,
      "line 9: bad MAC '00:16:3e:00:00' (want XX:XX:XX:XX:XX:XX)" },
    { GUEST "vif mac=00-16-3e-00-00-01\n", -EINVAL,
      "line 9: bad MAC '00-16-3e-00-00-01' (want XX:XX:XX:XX:XX:XX)" },
    { GUEST "vif mac=0g:16:3e:00:00:01\n", -EINVAL,
      "line 9: bad MAC '0g:16:3e:00:00:01' (want XX:XX:XX:XX:XX:XX)" },
    { GUEST "vif mac=01:00:5e:00:00:01\n", -EINVAL,
      "line 9: multicast MAC '01:00:5e:00:00:01' (the first octet must be even)" },
    { GUEST "vif\nvif\nvif\nvif\nvif = ['']\n", -E2BIG,
      "line 13: too many vifs in domain 'g' (max 4)" },
};

static void test_vif_errors(void **state)
{
    (void)state;
    expect_errors(bad_vifs, sizeof(bad_vifs) / sizeof(bad_vifs[0]));
}

static void test_device_service_domains(void **state)
{
    (void)state;
    expect_error("domain g\nkernel k\nvif\ndomain xs\nkernel x\nroles xenstore\n", -EINVAL,
                 "line 3: disks and vifs need a domain with role backend (the service domain)");
    expect_error("domain b\nkernel k\nroles backend\ndomain g\nkernel k\ndisk target=a,vdev=xvda\n",
                 -EINVAL, "line 6: disks and vifs need a domain with role xenstore");
    expect_error(SERVICE "domain b2\nkernel k\nroles backend\ndomain g\nkernel k\nvif\n", -EINVAL,
                 "line 12: disks and vifs need exactly one domain with role backend, found more");
    expect_error("domain xs\nkernel x\nvif\nroles xenstore\ndomain svc\nkernel s\nroles backend\n",
                 -EINVAL, "line 3: domain 'xs' is the xenstore domain: it cannot have disks or vifs");
    expect_error(SERVICE "disk target=a,vdev=xvda\nvif\n", -EINVAL,
                 "line 7: domain 'svc' is the backend domain: it cannot have vifs");
    expect_error("vif\n", -EINVAL, "line 1: 'vif' outside a domain block (start one with 'domain NAME')");
    /* Without devices, no service domain is needed; with them, two backends without devices
     * anywhere are fine too. */
    expect_ok("domain b1\nkernel k\nroles backend\ndomain b2\nkernel k\nroles backend\n");
}

/* The backend's own disk (the tool stack's inbox) is allowed and does not pause it; a guest's
 * disk pauses the guest, wherever its lines stand relative to the backend's. */
static void test_backend_own_disk(void **state)
{
    (void)state;
    expect_ok(SERVICE "disk target=inbox.img,vdev=xvda\ndomain g\nkernel k\n"
              "disk target=a,vdev=xvda\n");
    assert_int_equal(cfg.domains[1].nr_disks, 1);
    assert_false(cfg.domains[0].paused);
    assert_false(cfg.domains[1].paused);
    assert_true(cfg.domains[2].paused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_line_endings_and_blanks),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_memory_values),
        cmocka_unit_test(test_memory_errors),
        cmocka_unit_test(test_vcpus),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_keys_reset_per_domain),
        cmocka_unit_test(test_domain_names),
        cmocka_unit_test(test_missing_kernel),
        cmocka_unit_test(test_no_domain),
        cmocka_unit_test(test_too_many_domains),
        cmocka_unit_test(test_value_lengths),
        cmocka_unit_test(test_bad_bytes_and_long_lines),
        cmocka_unit_test(test_error_buffer_limits),
        cmocka_unit_test(test_role_keys),
        cmocka_unit_test(test_role_errors),
        cmocka_unit_test(test_scheduling_keys),
        cmocka_unit_test(test_disk_forms),
        cmocka_unit_test(test_vif_forms),
        cmocka_unit_test(test_disk_errors),
        cmocka_unit_test(test_list_errors),
        cmocka_unit_test(test_vif_errors),
        cmocka_unit_test(test_device_service_domains),
        cmocka_unit_test(test_backend_own_disk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
