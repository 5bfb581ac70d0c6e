/* fuzz.h (host fuzzers): reading typed values from a libFuzzer input, and the invariant check. */
#ifndef WISP_FUZZ_H
#define WISP_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fuzz input as a stream; reads past its end give zeros, so every input is usable. */
struct fuzz_in {
    const uint8_t *data;
    size_t size, pos;
};

static inline size_t fuzz_left(const struct fuzz_in *in)
{
    return in->size - in->pos;
}

static inline void fuzz_bytes(struct fuzz_in *in, void *dst, size_t n)
{
    size_t take = n < fuzz_left(in) ? n : fuzz_left(in);

    memcpy(dst, in->data + in->pos, take);
    memset((uint8_t *)dst + take, 0, n - take);
    in->pos += take;
}

#define FUZZ_TAKE(name, type)                                       \
    static inline type name(struct fuzz_in *in)                     \
    {                                                               \
        type v;                                                     \
        fuzz_bytes(in, &v, sizeof(v));                              \
        return v;                                                   \
    }
FUZZ_TAKE(fuzz_u8, uint8_t)
FUZZ_TAKE(fuzz_u16, uint16_t)
FUZZ_TAKE(fuzz_u32, uint32_t)
FUZZ_TAKE(fuzz_u64, uint64_t)
#undef FUZZ_TAKE

/*
 * A value that is often an edge: one selector byte picks 0, -1, 2^31, 2^32,
 * 2^63, a small number or the raw 64 bits, because edge values are where
 * width and sign bugs live and random 64-bit values rarely hit them.
 */
static inline uint64_t fuzz_edge64(struct fuzz_in *in)
{
    static const uint64_t edges[] = {
        0, 1, UINT64_MAX, 1ull << 31, 1ull << 32, 1ull << 63, (1ull << 32) - 1,
        (1ull << 31) - 1, (1ull << 63) - 1, 0xFFF, 0x1000,
    };
    uint8_t sel = fuzz_u8(in);

    if (sel < 128)
        return fuzz_u64(in);
    if (sel < 192)
        return fuzz_u8(in);
    return edges[sel % (sizeof(edges) / sizeof(edges[0]))];
}

/* The n input bytes as a heap string of exactly n + 1 bytes (its NUL last): ASan sees any overread. */
static inline char *fuzz_heap_string(const void *src, size_t n)
{
    char *s = malloc(n + 1);

    if (!s)
        abort();
    memcpy(s, src, n);
    s[n] = '\0';
    return s;
}

/* A copy of exactly n bytes on the heap, so AddressSanitizer traps any read past it. */
static inline void *fuzz_heap_copy(const void *src, size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        abort();
    memcpy(p, src, n);
    return p;
}

/* An invariant of the module failed: abort, which libFuzzer reports as a crash with the input. */
#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                            \
        }                                                                       \
    } while (0)

#endif
