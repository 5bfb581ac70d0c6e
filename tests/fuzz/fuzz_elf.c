/* fuzz_elf.c (host fuzzer): the PVH ELF parser and loader on arbitrary files. */
#include "fuzz.h"
#include "../../pvh/elf.c"                  /* one translation unit: see tests/fuzz/meson.build */

struct load_check {
    const struct pvh_image *img;
    uint64_t bytes;
};

/* A loaded range must lie inside one parsed segment. */
static bool in_segment(const struct pvh_image *img, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < img->nr_segments; i++) {
        const struct pvh_segment *s = &img->seg[i];

        if (gpa >= s->paddr && len <= s->memsz && gpa - s->paddr <= s->memsz - len)
            return true;
    }
    return false;
}

static int check_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    struct load_check *c = ctx;
    volatile uint8_t sink = 0;

    FUZZ_CHECK(in_segment(c->img, gpa, len));
    for (size_t i = 0; i < len; i++)    /* touch every byte: ASan checks src is inside the file */
        sink ^= ((const uint8_t *)src)[i];
    (void)sink;
    c->bytes += len;
    return 0;
}

static int check_zero(void *ctx, uint64_t gpa, uint64_t len)
{
    struct load_check *c = ctx;

    FUZZ_CHECK(in_segment(c->img, gpa, len));
    c->bytes += len;
    return 0;
}

static void check_image(const struct pvh_image *img, size_t size)
{
    FUZZ_CHECK(img->nr_segments >= 1 && img->nr_segments <= PVH_MAX_SEGMENTS);
    FUZZ_CHECK(img->entry < PVH_PADDR_LIMIT);
    FUZZ_CHECK(img->lo < img->hi && img->hi <= PVH_PADDR_LIMIT);
    for (unsigned i = 0; i < img->nr_segments; i++) {
        const struct pvh_segment *s = &img->seg[i];

        FUZZ_CHECK(s->memsz > 0 && s->filesz <= s->memsz);
        FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset);
        FUZZ_CHECK(s->paddr >= img->lo && s->memsz <= img->hi - s->paddr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvh_image img;
    const char *why = NULL;
    void *file = fuzz_heap_copy(data, size);
    struct load_check c = { .img = &img };
    const struct pvh_writer w = { .ctx = &c, .write = check_write, .zero = check_zero };
    uint64_t total = 0;

    if (pvh_elf_parse(file, size, &img, &why) == 0) {
        check_image(&img, size);
        FUZZ_CHECK(pvh_elf_load(file, size, &img, &w) == 0);
        for (unsigned i = 0; i < img.nr_segments; i++)
            total += img.seg[i].memsz;
        FUZZ_CHECK(c.bytes == total);
    } else {
        FUZZ_CHECK(why != NULL);
    }
    free(file);
    return 0;
}
