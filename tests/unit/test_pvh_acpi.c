/* test_pvh_acpi.c (host test): pvh/acpi.c tables parsed back with offsets taken from the ACPI 6.5 spec, not from acpi.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "acpi.h"

#define GUARD       0xA5
#define BUF_MAX     4096
#define GPA_LOW     0x9F000ull          /* where the hypervisor puts them */
#define GPA_HIGH    0x123450000ull      /* above 4 GiB: no RSDT */

/* Header fields (ACPI 6.5, 5.2.6). */
#define HDR_LEN         4
#define HDR_REV         8
#define HDR_OEM_ID      10
#define HDR_OEM_TABLE   16
#define HDR_SIZE        36

/* The buffer with guard bytes on both sides; tables at buf + GUARD_LEN. */
#define GUARD_LEN   64
static uint8_t arena[GUARD_LEN + BUF_MAX + GUARD_LEN];

struct parsed {
    uint64_t gpa;               /* of the buffer start */
    size_t size;                /* bytes the guest may read */
    const uint8_t *base;
};

static uint8_t *buf(void) { return arena + GUARD_LEN; }

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint16_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

static int setup(void **state)
{
    memset(arena, GUARD, sizeof(arena));
    return 0;
}

/* The table at gpa: bounds-checked against the buffer, signature and checksum verified. */
static const uint8_t *table_at(const struct parsed *p, uint64_t gpa, const char *sig)
{
    const uint8_t *t;
    uint32_t len;

    assert_true(gpa >= p->gpa && gpa - p->gpa <= p->size - HDR_SIZE);
    t = p->base + (gpa - p->gpa);
    assert_memory_equal(t, sig, 4);
    len = rd32(t + HDR_LEN);
    assert_true(len >= HDR_SIZE && len <= p->size - (gpa - p->gpa));
    assert_int_equal(sum(t, len), 0);
    assert_memory_equal(t + HDR_OEM_ID, "WISP  ", 6);
    return t;
}

static void check_rsdp(const uint8_t *r, uint64_t *xsdt, uint32_t *rsdt)
{
    assert_memory_equal(r, "RSD PTR ", 8);
    assert_int_equal(sum(r, 20), 0);            /* 5.2.5.3: ACPI 1.0 checksum */
    assert_int_equal(r[15], 2);                 /* revision */
    assert_int_equal(rd32(r + 20), 36);         /* length */
    assert_int_equal(sum(r, 36), 0);            /* extended checksum */
    assert_int_equal(r[33] | r[34] | r[35], 0); /* reserved */
    *rsdt = rd32(r + 16);
    *xsdt = rd64(r + 24);
}

static void check_madt(const struct parsed *p, uint64_t gpa, unsigned n, uint32_t lapic)
{
    const uint8_t *m = table_at(p, gpa, "APIC");
    uint32_t len = rd32(m + HDR_LEN);
    unsigned found = 0;

    assert_int_equal(rd32(m + 36), lapic);
    assert_int_equal(rd32(m + 40), 0);          /* PCAT_COMPAT clear */
    /* Walk the entries as an OS would: type, length, and stop at the end. */
    for (uint32_t off = 44; off < len;) {
        const uint8_t *e = m + off;

        assert_true(len - off >= 2 && e[1] >= 2 && e[1] <= len - off);
        assert_int_equal(e[0], 0);              /* Processor Local APIC only: no IOAPIC */
        assert_int_equal(e[1], 8);
        assert_int_equal(e[2], found);          /* ACPI processor UID = vCPU id */
        assert_int_equal(e[3], found);          /* APIC ID = vCPU id */
        assert_int_equal(rd32(e + 4), 1);       /* Enabled, nothing else */
        found++;
        off += e[1];
    }
    assert_int_equal(found, n);
    assert_int_equal(len, 44 + 8 * n);
}

/* Every byte the spec says nothing about in our FADT must be zero. */
static void check_fadt(const struct parsed *p, uint64_t gpa, uint64_t *dsdt)
{
    const uint8_t *f = table_at(p, gpa, "FACP");

    assert_int_equal(rd32(f + HDR_LEN), 276);
    assert_int_equal(f[HDR_REV], 6);
    assert_int_equal(rd32(f + 112), 1u << 20);          /* flags: HW_REDUCED_ACPI only */
    assert_int_equal(rd16(f + 109), (1 << 2) | (1 << 5)); /* NO_VGA | NO_CMOS_RTC */
    assert_int_equal(rd16(f + 109) & (1 << 1), 0);       /* no 8042 */
    assert_int_equal(rd32(f + 40), 0);                  /* 32-bit DSDT: X_DSDT used */
    *dsdt = rd64(f + 140);
    for (size_t i = HDR_SIZE; i < 276; i++) {
        bool known = (i >= 109 && i < 111) || (i >= 112 && i < 116) || (i >= 140 && i < 148);

        if (!known && f[i])
            fail_msg("FADT byte %zu is 0x%x, expected 0", i, f[i]);
    }
}

/* Parse everything back from the RSDP and compare with what *l reports. */
static void check_all(uint64_t gpa, const struct pvh_acpi_layout *l, unsigned n, uint32_t lapic)
{
    struct parsed p = { gpa, l->size, buf() };
    uint64_t xsdt, dsdt, fadt = 0, madt = 0;
    uint32_t rsdt;
    const uint8_t *x;

    assert_int_equal(l->size, pvh_acpi_size(n));
    assert_int_equal(l->rsdp, gpa);
    check_rsdp(buf() + (l->rsdp - gpa), &xsdt, &rsdt);
    assert_int_equal(xsdt, l->xsdt);
    assert_int_equal(rsdt, l->rsdt);

    x = table_at(&p, xsdt, "XSDT");
    assert_int_equal(rd32(x + HDR_LEN), HDR_SIZE + 2 * 8);
    for (unsigned i = 0; i < 2; i++) {
        uint64_t e = rd64(x + HDR_SIZE + 8 * i);

        table_at(&p, e, i == 0 ? "FACP" : "APIC");
        if (i == 0)
            fadt = e;
        else
            madt = e;
    }
    assert_int_equal(fadt, l->fadt);
    assert_int_equal(madt, l->madt);

    if (rsdt) {
        const uint8_t *r = table_at(&p, rsdt, "RSDT");

        assert_int_equal(rd32(r + HDR_LEN), HDR_SIZE + 2 * 4);
        assert_int_equal(rd32(r + HDR_SIZE), fadt);
        assert_int_equal(rd32(r + HDR_SIZE + 4), madt);
    }

    check_fadt(&p, fadt, &dsdt);
    assert_int_equal(dsdt, l->dsdt);
    assert_int_equal(rd32(table_at(&p, dsdt, "DSDT") + HDR_LEN), HDR_SIZE);
    check_madt(&p, madt, n, lapic);

    /* Nothing written past the reported size. */
    for (size_t i = l->size; i < BUF_MAX; i++)
        assert_int_equal(buf()[i], GUARD);
    for (size_t i = 0; i < GUARD_LEN; i++)
        assert_int_equal(arena[i], GUARD);
}

static void build_and_check(unsigned n, uint64_t gpa, uint32_t lapic_cfg, uint32_t lapic_want)
{
    struct pvh_acpi_config cfg = { .nr_vcpus = n, .lapic_addr = lapic_cfg };
    struct pvh_acpi_layout l;
    const char *why = NULL;

    memset(arena, GUARD, sizeof(arena));
    assert_int_equal(pvh_build_acpi(&cfg, buf(), BUF_MAX, gpa, &l, &why), 0);
    check_all(gpa, &l, n, lapic_want);
}

static void test_one_vcpu(void **state)
{
    build_and_check(1, GPA_LOW, 0, PVH_ACPI_LAPIC_DEFAULT);
}

static void test_various_counts(void **state)
{
    for (unsigned n = 1; n <= PVH_ACPI_MAX_VCPUS; n += (n < 10 ? 1 : 37))
        build_and_check(n, GPA_LOW, 0, PVH_ACPI_LAPIC_DEFAULT);
    build_and_check(PVH_ACPI_MAX_VCPUS, GPA_LOW, 0, PVH_ACPI_LAPIC_DEFAULT);
}

/* The largest table set fits in the one page the hypervisor gives it. */
static void test_max_fits_one_page(void **state)
{
    assert_true(pvh_acpi_size(PVH_ACPI_MAX_VCPUS) <= 4096);
    assert_true(pvh_acpi_size(1) < pvh_acpi_size(2));
    assert_int_equal(pvh_acpi_size(0), 0);
    assert_int_equal(pvh_acpi_size(PVH_ACPI_MAX_VCPUS + 1), 0);
}

static void test_lapic_address_config(void **state)
{
    build_and_check(4, GPA_LOW, 0xFEC80000u, 0xFEC80000u);
}

/* Tables above 4 GiB: no RSDT (its pointers are 32-bit), the XSDT still works. */
static void test_above_4g_no_rsdt(void **state)
{
    struct pvh_acpi_config cfg = { .nr_vcpus = 2 };
    struct pvh_acpi_layout l;

    memset(arena, GUARD, sizeof(arena));
    assert_int_equal(pvh_build_acpi(&cfg, buf(), BUF_MAX, GPA_HIGH, &l, NULL), 0);
    assert_int_equal(l.rsdt, 0);
    check_all(GPA_HIGH, &l, 2, PVH_ACPI_LAPIC_DEFAULT);
}

/* Tables ending exactly at 4 GiB still get an RSDT. */
static void test_ending_at_4g_has_rsdt(void **state)
{
    struct pvh_acpi_config cfg = { .nr_vcpus = 3 };
    struct pvh_acpi_layout l;
    uint64_t gpa = ((1ull << 32) - pvh_acpi_size(3)) & ~15ull;

    memset(arena, GUARD, sizeof(arena));
    assert_int_equal(pvh_build_acpi(&cfg, buf(), BUF_MAX, gpa, &l, NULL), 0);
    assert_int_not_equal(l.rsdt, 0);
    check_all(gpa, &l, 3, PVH_ACPI_LAPIC_DEFAULT);
}

static void test_legacy_copy_matches(void **state)
{
    struct pvh_acpi_config cfg = { .nr_vcpus = 5 };
    struct pvh_acpi_layout l;
    uint8_t copy[PVH_ACPI_RSDP_SIZE + 1];
    uint64_t xsdt;
    uint32_t rsdt;

    memset(arena, GUARD, sizeof(arena));
    memset(copy, GUARD, sizeof(copy));
    assert_int_equal(pvh_build_acpi(&cfg, buf(), BUF_MAX, GPA_LOW, &l, NULL), 0);
    pvh_acpi_write_rsdp(&l, copy);
    assert_memory_equal(copy, buf() + (l.rsdp - GPA_LOW), PVH_ACPI_RSDP_SIZE);
    assert_int_equal(copy[PVH_ACPI_RSDP_SIZE], GUARD);
    check_rsdp(copy, &xsdt, &rsdt);
    assert_int_equal(xsdt, l.xsdt);
}

static void test_legacy_address_rule(void **state)
{
    assert_true(pvh_acpi_legacy_rsdp_ok(0xE0000));
    assert_true(pvh_acpi_legacy_rsdp_ok(0xFFFD0));          /* 36 bytes end below 1 MiB */
    assert_false(pvh_acpi_legacy_rsdp_ok(0xFFFE0));         /* would cross 1 MiB */
    assert_false(pvh_acpi_legacy_rsdp_ok(0xDFFF0));
    assert_false(pvh_acpi_legacy_rsdp_ok(0xE0008));         /* not on 16 bytes */
    assert_false(pvh_acpi_legacy_rsdp_ok(0x100000));
    assert_false(pvh_acpi_legacy_rsdp_ok(0));
}

/* A checksum of 0 can hide a broken sealing: corrupt one byte and the sum must catch it. */
static void test_checksums_detect_corruption(void **state)
{
    struct pvh_acpi_config cfg = { .nr_vcpus = 2 };
    struct pvh_acpi_layout l;
    const uint8_t *m;

    memset(arena, GUARD, sizeof(arena));
    assert_int_equal(pvh_build_acpi(&cfg, buf(), BUF_MAX, GPA_LOW, &l, NULL), 0);
    m = buf() + (l.madt - GPA_LOW);
    assert_int_equal(sum(m, rd32(m + HDR_LEN)), 0);
    buf()[l.madt - GPA_LOW + 44 + 3] ^= 1;                  /* APIC ID of vCPU 0 */
    assert_int_not_equal(sum(m, rd32(m + HDR_LEN)), 0);
}

/* Too small by one byte or by everything: -ENOMEM and not one byte touched. */
static void test_buffer_too_small(void **state)
{
    struct pvh_acpi_config cfg = { .nr_vcpus = 8 };
    struct pvh_acpi_layout l = { .rsdp = 0x1234 };
    size_t need = pvh_acpi_size(8);
    const size_t sizes[] = { 0, 1, 35, 36, need / 2, need - 1 };

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const char *why = NULL;

        memset(arena, GUARD, sizeof(arena));
        assert_int_equal(pvh_build_acpi(&cfg, buf(), sizes[s], GPA_LOW, &l, &why), -ENOMEM);
        assert_non_null(why);
        for (size_t i = 0; i < sizeof(arena); i++)
            assert_int_equal(arena[i], GUARD);
        assert_int_equal(l.rsdp, 0x1234);                   /* *out untouched */
    }
    /* Exactly the size needed is enough. */
    memset(arena, GUARD, sizeof(arena));
    assert_int_equal(pvh_build_acpi(&cfg, buf(), need, GPA_LOW, &l, NULL), 0);
    check_all(GPA_LOW, &l, 8, PVH_ACPI_LAPIC_DEFAULT);
}

static void expect_einval(unsigned n, void *b, uint64_t gpa, bool with_out)
{
    struct pvh_acpi_config cfg = { .nr_vcpus = n };
    struct pvh_acpi_layout l;
    const char *why = NULL;

    memset(arena, GUARD, sizeof(arena));
    assert_int_equal(pvh_build_acpi(&cfg, b, BUF_MAX, gpa, with_out ? &l : NULL, &why), -EINVAL);
    assert_non_null(why);
    for (size_t i = 0; i < sizeof(arena); i++)
        assert_int_equal(arena[i], GUARD);
}

static void test_bad_vcpu_counts(void **state)
{
    expect_einval(0, buf(), GPA_LOW, true);
    expect_einval(PVH_ACPI_MAX_VCPUS + 1, buf(), GPA_LOW, true);
    expect_einval(~0u, buf(), GPA_LOW, true);
}

static void test_bad_addresses_and_args(void **state)
{
    struct pvh_acpi_layout l;

    expect_einval(1, buf(), GPA_LOW + 8, true);             /* not 16-byte aligned */
    expect_einval(1, buf(), ~0ull & ~15ull, true);          /* would wrap */
    expect_einval(1, buf(), (1ull << 52) - 16, true);       /* beyond any MAXPHYADDR */
    expect_einval(1, NULL, GPA_LOW, true);
    expect_einval(1, buf(), GPA_LOW, false);
    assert_int_equal(pvh_build_acpi(NULL, buf(), BUF_MAX, GPA_LOW, &l, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_one_vcpu, setup),
        cmocka_unit_test_setup(test_various_counts, setup),
        cmocka_unit_test_setup(test_max_fits_one_page, setup),
        cmocka_unit_test_setup(test_lapic_address_config, setup),
        cmocka_unit_test_setup(test_above_4g_no_rsdt, setup),
        cmocka_unit_test_setup(test_ending_at_4g_has_rsdt, setup),
        cmocka_unit_test_setup(test_legacy_copy_matches, setup),
        cmocka_unit_test_setup(test_legacy_address_rule, setup),
        cmocka_unit_test_setup(test_checksums_detect_corruption, setup),
        cmocka_unit_test_setup(test_buffer_too_small, setup),
        cmocka_unit_test_setup(test_bad_vcpu_counts, setup),
        cmocka_unit_test_setup(test_bad_addresses_and_args, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
