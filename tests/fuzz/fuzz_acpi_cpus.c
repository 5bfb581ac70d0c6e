/* fuzz_acpi_cpus.c (host fuzzer): finding CPUs in firmware ACPI tables made of the input. */
#include "fuzz.h"
#include "../../xen/common/acpi_cpus.c"     /* one translation unit: see tests/fuzz/meson.build */

/*
 * Input: one byte giving the length (mod 37) of the loader's RSDP copy, which
 * is the next 36 bytes; the rest is physical memory seen at TABLES_BASE (where
 * the root pointers reach it) and again at the BIOS area (where the search
 * finds an RSDP). Every mapping is a heap copy of exactly what was asked for.
 */
#define TABLES_BASE 0x1000u
#define BIOS_BASE   0xe0000u

struct fake_mem {
    const uint8_t *bytes;
    size_t size;
    void *maps[8192];
    unsigned nr_maps;
};

static const void *window(struct fake_mem *m, uint64_t base, uint64_t addr, uint64_t len)
{
    if (addr < base || addr - base > m->size || len > m->size - (addr - base))
        return NULL;
    if (m->nr_maps == sizeof(m->maps) / sizeof(m->maps[0]))
        return NULL;
    return m->maps[m->nr_maps++] = fuzz_heap_copy(m->bytes + (addr - base), len);
}

static const void *fake_phys(uint64_t addr, uint64_t len, void *ctx)
{
    const void *p = window(ctx, TABLES_BASE, addr, len);

    return p ? p : window(ctx, BIOS_BASE, addr, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fake_mem m;
    struct acpi_cpus cpus;
    uint8_t rsdp[36];
    const char *err = NULL;

    if (size < 1 + sizeof(rsdp))
        return 0;
    memcpy(rsdp, data + 1, sizeof(rsdp));
    m.bytes = data + 1 + sizeof(rsdp);
    m.size = size - 1 - sizeof(rsdp);
    m.nr_maps = 0;
    int rc = acpi_find_cpus(fake_phys, &m, rsdp, data[0] % 37, &cpus, &err);
    if (rc == 0) {
        FUZZ_CHECK(cpus.nr > 0 && cpus.nr <= ACPI_CPUS_MAX && cpus.nr <= cpus.listed);
    } else {
        FUZZ_CHECK(rc < 0 && err != NULL);
    }
    while (m.nr_maps)
        free(m.maps[--m.nr_maps]);
    return 0;
}
