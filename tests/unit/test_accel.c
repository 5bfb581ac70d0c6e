/* test_accel.c (host test): KVM or TCG, read from fake /dev, /proc and /sys trees. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "accel.h"

/* A fake host root per test, removed afterwards. */
static char root[64];

#define AMD_CPUINFO \
    "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n" \
    "flags\t\t: fpu vme de pse svm extapic npt nrip_save\n\n" \
    "processor\t: 1\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu svm\n"
#define INTEL_CPUINFO \
    "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx ept vpid\n"

static void put(const char *path, const char *text)
{
    char full[256], dir[256];
    FILE *f;

    snprintf(full, sizeof(full), "%s%s", root, path);
    for (char *slash = strchr(full + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - full), full);
        mkdir(dir, 0755);
    }
    f = fopen(full, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Everything a nested AMD host has; tests take parts away. */
static void amd_host(void)
{
    put("/dev/kvm", "");
    put("/proc/cpuinfo", AMD_CPUINFO);
    put("/sys/module/kvm_amd/parameters/nested", "1\n");
    put("/sys/module/kvm_amd/parameters/npt", "1\n");
}

static void intel_host(void)
{
    put("/dev/kvm", "");
    put("/proc/cpuinfo", INTEL_CPUINFO);
    put("/sys/module/kvm_intel/parameters/nested", "Y\n");
    put("/sys/module/kvm_intel/parameters/ept", "Y\n");
    put("/sys/module/kvm_intel/parameters/unrestricted_guest", "Y\n");
}

static void gone(const char *path)
{
    char full[256];

    snprintf(full, sizeof(full), "%s%s", root, path);
    assert_int_equal(unlink(full), 0);
}

static struct accel_decision decide(enum accel_choice choice)
{
    struct host_virt host;
    struct accel_decision out;

    host_virt_read(root, &host);
    accel_decide(choice, &host, &out);
    return out;
}

static int make_root(void **state)
{
    snprintf(root, sizeof(root), "/tmp/wisp-accel.XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int remove_root(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

static void test_nested_amd_gets_kvm(void **state)
{
    struct accel_decision d;

    amd_host();
    d = decide(ACCEL_AUTO);
    assert_true(d.kvm);
    assert_false(d.error);
    assert_string_equal(d.why, "KVM: the host's AMD SVM with nested paging "
                               "(--accel tcg to emulate instead)");
    d = decide(ACCEL_KVM);
    assert_true(d.kvm);
    assert_string_equal(d.why, "KVM: the host's AMD SVM with nested paging");
}

static void test_nested_intel_gets_kvm(void **state)
{
    struct host_virt host;

    intel_host();
    host_virt_read(root, &host);
    assert_int_equal(host.vendor, HOST_VENDOR_INTEL);
    assert_true(host.cpu_flag);
    assert_true(decide(ACCEL_AUTO).kvm);
}

static void test_tcg_never_looks(void **state)
{
    struct accel_decision d;

    amd_host();
    d = decide(ACCEL_TCG);
    assert_false(d.kvm);
    assert_false(d.error);
}

/* Each missing piece: auto falls back to TCG and says why; kvm is an error saying the same. */
static void check_missing(const char *why)
{
    struct accel_decision d = decide(ACCEL_AUTO);
    char want[256];

    assert_false(d.kvm);
    assert_false(d.error);
    snprintf(want, sizeof(want), "TCG: %s", why);
    assert_string_equal(d.why, want);
    d = decide(ACCEL_KVM);
    assert_false(d.kvm);
    assert_true(d.error);
    snprintf(want, sizeof(want), "--accel kvm: %s", why);
    assert_string_equal(d.why, want);
}

static void test_no_dev_kvm(void **state)
{
    amd_host();
    gone("/dev/kvm");
    check_missing("there is no /dev/kvm");
}

/* Any other reason /dev/kvm cannot be opened is named (root may open any file, so a
 * /dev that is not a directory stands in for a device without permission). */
static void test_dev_kvm_unusable(void **state)
{
    amd_host();
    gone("/dev/kvm");
    {
        char dev[256];

        snprintf(dev, sizeof(dev), "%s/dev", root);
        assert_int_equal(rmdir(dev), 0);
    }
    put("/dev", "");
    check_missing("/dev/kvm cannot be opened read-write (Not a directory)");
}

static void test_nested_off(void **state)
{
    amd_host();
    put("/sys/module/kvm_amd/parameters/nested", "0\n");
    check_missing("kvm_amd's nested is off (/sys/module/kvm_amd/parameters/nested)");
}

static void test_module_not_loaded(void **state)
{
    intel_host();
    gone("/sys/module/kvm_intel/parameters/nested");
    check_missing("kvm_intel's nested is not there (/sys/module/kvm_intel/parameters/nested)");
}

static void test_no_nested_paging(void **state)
{
    amd_host();
    put("/sys/module/kvm_amd/parameters/npt", "0\n");
    check_missing("kvm_amd's npt is off (/sys/module/kvm_amd/parameters/npt)");
    intel_host();
    put("/sys/module/kvm_intel/parameters/ept", "N\n");
    check_missing("kvm_intel's ept is off (/sys/module/kvm_intel/parameters/ept)");
}

static void test_intel_without_unrestricted_guest(void **state)
{
    intel_host();
    put("/sys/module/kvm_intel/parameters/unrestricted_guest", "N\n");
    check_missing("kvm_intel's unrestricted_guest is off "
                  "(/sys/module/kvm_intel/parameters/unrestricted_guest)");
}

/* This sandbox's own case: a KVM device but a CPU that offers no SVM or VMX. */
static void test_cpu_without_the_flag(void **state)
{
    amd_host();
    put("/proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm_lock hypervisor\n");
    check_missing("the host CPU does not offer svm (/proc/cpuinfo flags)");
    intel_host();
    put("/proc/cpuinfo", "vendor_id\t: GenuineIntel\nflags\t\t: fpu vmxx\n");
    check_missing("the host CPU does not offer vmx (/proc/cpuinfo flags)");
}

static void test_other_vendors_and_broken_cpuinfo(void **state)
{
    amd_host();
    put("/proc/cpuinfo", "vendor_id\t: CentaurHauls\nflags\t\t: vmx svm\n");
    check_missing("the host CPU is neither AMD nor Intel (/proc/cpuinfo vendor_id)");
    put("/proc/cpuinfo", "vendor_id");
    check_missing("the host CPU is neither AMD nor Intel (/proc/cpuinfo vendor_id)");
    put("/proc/cpuinfo", "");
    check_missing("the host CPU is neither AMD nor Intel (/proc/cpuinfo vendor_id)");
    gone("/proc/cpuinfo");
    check_missing("the host CPU is neither AMD nor Intel (/proc/cpuinfo vendor_id)");
    put("/proc/cpuinfo", "vendor_idx\t: AuthenticAMD\nflags\t: svm\n");
    check_missing("the host CPU is neither AMD nor Intel (/proc/cpuinfo vendor_id)");
}

static void test_hygon_counts_as_amd(void **state)
{
    amd_host();
    put("/proc/cpuinfo", "vendor_id : HygonGenuine\nflags : svm\n");
    assert_true(decide(ACCEL_AUTO).kvm);
}

static void test_parse(void **state)
{
    enum accel_choice c = ACCEL_TCG;

    assert_true(accel_parse("auto", &c));
    assert_int_equal(c, ACCEL_AUTO);
    assert_true(accel_parse("kvm", &c));
    assert_int_equal(c, ACCEL_KVM);
    assert_true(accel_parse("tcg", &c));
    assert_int_equal(c, ACCEL_TCG);
    assert_false(accel_parse("KVM", &c));
    assert_false(accel_parse("", &c));
    assert_false(accel_parse("kvm2", &c));
}

#define FAKE_HOST_TEST(fn) cmocka_unit_test_setup_teardown(fn, make_root, remove_root)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FAKE_HOST_TEST(test_nested_amd_gets_kvm),
        FAKE_HOST_TEST(test_nested_intel_gets_kvm),
        FAKE_HOST_TEST(test_tcg_never_looks),
        FAKE_HOST_TEST(test_no_dev_kvm),
        FAKE_HOST_TEST(test_dev_kvm_unusable),
        FAKE_HOST_TEST(test_nested_off),
        FAKE_HOST_TEST(test_module_not_loaded),
        FAKE_HOST_TEST(test_no_nested_paging),
        FAKE_HOST_TEST(test_intel_without_unrestricted_guest),
        FAKE_HOST_TEST(test_cpu_without_the_flag),
        FAKE_HOST_TEST(test_other_vendors_and_broken_cpuinfo),
        FAKE_HOST_TEST(test_hygon_counts_as_amd),
        cmocka_unit_test(test_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
