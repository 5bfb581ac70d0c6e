/* test_acpi_cpus.c (host test): finding the machine's CPUs in firmware ACPI tables, good and bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "acpi.h"
#include "acpi_cpus.h"

/* A machine's low 2 MiB: BDA, EBDA, BIOS area, and tables at 1 MiB as firmware puts them. */
#define MEM_SIZE    (2u << 20)
#define TABLES      0x100000u
#define EBDA        0x9fc00u
#define BIOS_RSDP   0xf0010u
static uint8_t mem[MEM_SIZE];
static struct pvh_acpi_layout layout;

static const void *phys(uint64_t addr, uint64_t len, void *ctx)
{
    return addr <= MEM_SIZE && len <= MEM_SIZE - addr ? mem + addr : NULL;
}

/* Fixes the checksum byte (offset 9) of the table at addr after an edit. */
static void resum(uint64_t addr)
{
    uint32_t len;
    uint8_t s = 0;

    memcpy(&len, mem + addr + 4, 4);
    mem[addr + 9] = 0;
    for (uint32_t i = 0; i < len; i++)
        s += mem[addr + i];
    mem[addr + 9] = (uint8_t)-s;
}

/* Tables for nr CPUs (APIC IDs 0..nr-1) at TABLES, as our guest-table builder makes them. */
static void build(unsigned nr)
{
    struct pvh_acpi_config cfg = { .nr_vcpus = nr };
    const char *why = NULL;

    memset(mem, 0, sizeof(mem));
    assert_int_equal(pvh_build_acpi(&cfg, mem + TABLES, MEM_SIZE - TABLES, TABLES, &layout, &why), 0);
}

static int find(const uint8_t *rsdp, uint32_t rsdp_len, struct acpi_cpus *out, const char **err)
{
    *err = NULL;
    return acpi_find_cpus(phys, NULL, rsdp, rsdp_len, out, err);
}

static void assert_ids_from_zero(const struct acpi_cpus *c, unsigned nr)
{
    assert_int_equal(c->nr, nr);
    assert_int_equal(c->listed, nr);
    for (unsigned i = 0; i < nr; i++)
        assert_int_equal(c->apic_id[i], i);
}

static void test_loader_copy_of_the_rsdp(void **state)
{
    struct acpi_cpus c;
    const char *err;

    build(4);
    assert_int_equal(find(mem + layout.rsdp, 36, &c, &err), 0);
    assert_ids_from_zero(&c, 4);
}

static void test_rsdp_found_in_the_bios_area_and_the_ebda(void **state)
{
    struct acpi_cpus c;
    const char *err;

    build(2);
    memcpy(mem + BIOS_RSDP, mem + layout.rsdp, 36);
    assert_int_equal(find(NULL, 0, &c, &err), 0);
    assert_ids_from_zero(&c, 2);

    memset(mem + BIOS_RSDP, 0, 36);
    mem[0x40e] = (EBDA >> 4) & 0xff;
    mem[0x40f] = EBDA >> 12;
    memcpy(mem + EBDA + 0x30, mem + layout.rsdp, 36);
    assert_int_equal(find(NULL, 0, &c, &err), 0);
    assert_ids_from_zero(&c, 2);
}

static void test_a_bad_loader_copy_falls_back_to_the_search(void **state)
{
    struct acpi_cpus c;
    const char *err;
    uint8_t bad[36];

    build(3);
    memcpy(bad, mem + layout.rsdp, 36);
    bad[8] ^= 1;                                    /* checksum */
    memcpy(mem + BIOS_RSDP, mem + layout.rsdp, 36);
    assert_int_equal(find(bad, 36, &c, &err), 0);
    assert_ids_from_zero(&c, 3);
}

static void test_no_rsdp_anywhere(void **state)
{
    struct acpi_cpus c;
    const char *err;

    build(1);
    assert_int_equal(find(NULL, 0, &c, &err), -ENOENT);
    assert_non_null(strstr(err, "RSDP"));
    assert_int_equal(c.nr, 0);
}

static void test_a_broken_xsdt_falls_back_to_the_rsdt(void **state)
{
    struct acpi_cpus c;
    const char *err;

    build(2);
    mem[layout.xsdt + 9] ^= 0xff;                   /* XSDT checksum */
    assert_int_equal(find(mem + layout.rsdp, 36, &c, &err), 0);
    assert_ids_from_zero(&c, 2);
}

static void test_bad_madt_checksum_or_length(void **state)
{
    struct acpi_cpus c;
    const char *err;

    build(2);
    mem[layout.madt + 9] ^= 0xff;
    assert_int_equal(find(mem + layout.rsdp, 36, &c, &err), -ENOENT);
    assert_non_null(strstr(err, "MADT"));

    build(2);
    uint32_t huge = 0x7fffffff;
    memcpy(mem + layout.madt + 4, &huge, 4);
    assert_int_equal(find(mem + layout.rsdp, 36, &c, &err), -ENOENT);
}

static void test_entry_running_past_the_table(void **state)
{
    struct acpi_cpus c;
    const char *err;
    uint32_t len;

    build(2);
    memcpy(&len, mem + layout.madt + 4, 4);
    mem[layout.madt + len - 8 + 1] = 200;           /* the last entry claims 200 bytes */
    resum(layout.madt);
    assert_int_equal(find(mem + layout.rsdp, 36, &c, &err), -EINVAL);
    assert_non_null(strstr(err, "past"));

    mem[layout.madt + len - 8 + 1] = 0;             /* and one of length 0 cannot loop */
    resum(layout.madt);
    assert_int_equal(find(mem + layout.rsdp, 36, &c, &err), -EINVAL);
}

/* A hand-made ACPI 1.0 machine: RSDP v1 -> RSDT -> MADT with every kind of CPU entry. */
static void test_disabled_x2apic_and_duplicate_entries(void **state)
{
    static const uint8_t entries[] = {
        0, 8, 0, 0, 1, 0, 0, 0,                         /* LAPIC 0, enabled */
        0, 8, 1, 1, 0, 0, 0, 0,                         /* LAPIC 1, not present */
        0, 8, 2, 2, 2, 0, 0, 0,                         /* LAPIC 2, online-capable only */
        1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0,      /* an IOAPIC: not a CPU */
        9, 16, 0, 0, 0x2c, 1, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0,     /* x2APIC 300, enabled */
        9, 16, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0,        /* x2APIC 0 again */
    };
    const uint32_t rsdt = 0x1000, madt = 0x2000;
    uint32_t rsdt_len = 40, madt_len = 44 + sizeof(entries);
    struct acpi_cpus c;
    const char *err;
    uint8_t s = 0;

    memset(mem, 0, sizeof(mem));
    memcpy(mem + madt, "APIC", 4);
    memcpy(mem + madt + 4, &madt_len, 4);
    memcpy(mem + madt + 44, entries, sizeof(entries));
    resum(madt);
    memcpy(mem + TABLES + rsdt, "RSDT", 4);
    memcpy(mem + TABLES + rsdt + 4, &rsdt_len, 4);
    uint32_t madt_addr = TABLES + madt;
    memmove(mem + TABLES + madt, mem + madt, madt_len);
    memcpy(mem + TABLES + rsdt + 36, &madt_addr, 4);
    resum(TABLES + rsdt);

    uint8_t *r = mem + BIOS_RSDP;
    uint32_t rsdt_addr = TABLES + rsdt;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 16, &rsdt_addr, 4);
    for (int i = 0; i < 20; i++)
        s += r[i];
    r[8] = (uint8_t)-s;

    assert_int_equal(find(NULL, 0, &c, &err), 0);
    assert_int_equal(c.nr, 2);
    assert_int_equal(c.listed, 2);
    assert_int_equal(c.apic_id[0], 0);
    assert_int_equal(c.apic_id[1], 300);
}

static void test_more_cpus_than_kept(void **state)
{
    struct acpi_cpus c;
    const char *err;

    build(100);
    assert_int_equal(find(mem + layout.rsdp, 36, &c, &err), 0);
    assert_int_equal(c.nr, ACPI_CPUS_MAX);
    assert_int_equal(c.listed, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader_copy_of_the_rsdp),
        cmocka_unit_test(test_rsdp_found_in_the_bios_area_and_the_ebda),
        cmocka_unit_test(test_a_bad_loader_copy_falls_back_to_the_search),
        cmocka_unit_test(test_no_rsdp_anywhere),
        cmocka_unit_test(test_a_broken_xsdt_falls_back_to_the_rsdt),
        cmocka_unit_test(test_bad_madt_checksum_or_length),
        cmocka_unit_test(test_entry_running_past_the_table),
        cmocka_unit_test(test_disabled_x2apic_and_duplicate_entries),
        cmocka_unit_test(test_more_cpus_than_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
