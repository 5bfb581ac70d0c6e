/* fuzz_xlcfg.c (host fuzzer): `wisp create`'s xl.cfg reader (toolstack/protocol/xlcfg.c) on arbitrary text. */
#include "fuzz.h"
#include "../../toolstack/protocol/xlcfg.c"  /* one translation unit: see tests/fuzz/meson.build */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_heap_string(data, size), err[160];   /* a NUL inside ends it early */
    struct xl_config c;

    if (xlcfg_parse(text, &c, err, sizeof(err)) == 0) {
        FUZZ_CHECK(c.name[0] && memchr(c.name, '\0', sizeof(c.name)));
        FUZZ_CHECK(c.kernel[0] && memchr(c.kernel, '\0', sizeof(c.kernel)));
        FUZZ_CHECK(memchr(c.ramdisk, '\0', sizeof(c.ramdisk)) && memchr(c.cmdline, '\0', sizeof(c.cmdline)));
        FUZZ_CHECK(c.memory_mib >= 2 && c.memory_mib <= 65536 && c.vcpus >= 1 && c.vcpus <= 8);
        FUZZ_CHECK(c.weight <= 65535 && c.cap <= 800);
    } else {
        FUZZ_CHECK(err[0] && memchr(err, '\0', sizeof(err)));
    }
    free(text);
    return 0;
}
