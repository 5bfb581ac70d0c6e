/* fuzz_multiboot.c (host fuzzer): the Multiboot v1 and v2 info parsers over a fake physical memory made of the input. */
#include "fuzz.h"
#include "../../xen/arch/x86/boot/multiboot.c"  /* one translation unit: see tests/fuzz/meson.build */

/*
 * Input: one byte choosing v1 (even) or v2 (odd), then the bytes of physical
 * memory from MEM_BASE on; the info structure is at MEM_BASE. Pointers inside
 * it (v1 strings, modules, memory map) reach the rest of the input.
 */
#define MEM_BASE 0x1000u

struct fake_mem {
    const uint8_t *bytes;
    size_t size;
    void *maps[4096];
    unsigned nr_maps;
};

/* Every mapping is a fresh heap copy of exactly [addr, addr+len): reads past it trap. */
static const void *fake_phys(uint64_t addr, uint64_t len, void *ctx)
{
    struct fake_mem *m = ctx;

    if (addr < MEM_BASE || addr - MEM_BASE > m->size || len > m->size - (addr - MEM_BASE))
        return NULL;
    if (m->nr_maps == sizeof(m->maps) / sizeof(m->maps[0]))
        return NULL;    /* the parser asked for more mappings than any real info needs */
    return m->maps[m->nr_maps++] = fuzz_heap_copy(m->bytes + (addr - MEM_BASE), len);
}

static bool bounded(const char *s, size_t max)
{
    return memchr(s, '\0', max) != NULL;
}

static void check_info(const struct boot_info *bi)
{
    FUZZ_CHECK(bounded(bi->loader, sizeof(bi->loader)));
    FUZZ_CHECK(bounded(bi->cmdline, sizeof(bi->cmdline)));
    FUZZ_CHECK(bi->nr_mem <= BOOT_MAX_MEM_RANGES);
    FUZZ_CHECK(bi->nr_modules <= BOOT_MAX_MODULES);
    for (unsigned i = 0; i < bi->nr_modules; i++) {
        const struct boot_module *mod = &bi->modules[i];

        FUZZ_CHECK(bounded(mod->cmdline, sizeof(mod->cmdline)));
        FUZZ_CHECK(bounded(mod->name, sizeof(mod->name)));
        FUZZ_CHECK(mod->start <= mod->end);
        if (mod->name[0])               /* a module with no name cannot be looked up */
            FUZZ_CHECK(boot_find_module(bi, mod->name) != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fake_mem m;
    static struct boot_info bi;
    const char *err = NULL;
    int rc;

    if (size < 1)
        return 0;
    m.bytes = data + 1;
    m.size = size - 1;
    m.nr_maps = 0;
    memset(&bi, 0xA5, sizeof(bi));
    if (data[0] & 1)
        rc = mb2_parse(MEM_BASE, fake_phys, &m, &bi, &err);
    else
        rc = mb1_parse(MEM_BASE, fake_phys, &m, &bi, &err);
    if (rc == 0)
        check_info(&bi);
    else
        FUZZ_CHECK(rc < 0 && err != NULL);
    while (m.nr_maps)
        free(m.maps[--m.nr_maps]);
    return 0;
}
