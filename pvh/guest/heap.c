/* heap.c (guest, host tests): a bounded first-fit allocator over one caller-given arena, for runtime programs that need malloc (xenstored). */
#include "heap.h"

struct heap_block {
    size_t size;               /* whole block, header included; a multiple of HEAP_ALIGN */
    struct heap_block *next;   /* next free block by address (free blocks only) */
};

_Static_assert(sizeof(struct heap_block) <= HEAP_ALIGN, "header fits one alignment unit");
#define HDR_SIZE HEAP_ALIGN      /* header rounded so payloads stay aligned */
#define MIN_BLOCK (HDR_SIZE + HEAP_ALIGN)

static size_t round_up(size_t n)
{
    return (n + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
}

void heap_init(struct heap *h, void *base, size_t size)
{
    uintptr_t start = ((uintptr_t)base + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1);
    size_t lost = start - (uintptr_t)base;

    h->base = (uint8_t *)start;
    h->size = size > lost ? (size - lost) & ~(size_t)(HEAP_ALIGN - 1) : 0;
    h->used = 0;
    h->free = NULL;
    if (h->size >= MIN_BLOCK) {
        h->free = (struct heap_block *)h->base;
        h->free->size = h->size;
        h->free->next = NULL;
    }
}

void *heap_alloc(struct heap *h, size_t n)
{
    size_t need;

    if (n > h->size)
        return NULL;            /* also keeps round_up from overflowing */
    need = HDR_SIZE + round_up(n ? n : 1);
    for (struct heap_block **link = &h->free; *link; link = &(*link)->next) {
        struct heap_block *b = *link;

        if (b->size < need)
            continue;
        if (b->size - need >= MIN_BLOCK) {      /* split: the tail stays free */
            struct heap_block *rest = (struct heap_block *)((uint8_t *)b + need);

            rest->size = b->size - need;
            rest->next = b->next;
            b->size = need;
            *link = rest;
        } else {
            *link = b->next;
        }
        h->used += b->size;
        return (uint8_t *)b + HDR_SIZE;
    }
    return NULL;
}

static bool adjacent(const struct heap_block *a, const struct heap_block *b)
{
    return (const uint8_t *)a + a->size == (const uint8_t *)b;
}

void heap_free(struct heap *h, void *p)
{
    struct heap_block *b, *prev = NULL, *next;

    if (!p)
        return;
    b = (struct heap_block *)((uint8_t *)p - HDR_SIZE);
    h->used -= b->size;
    for (next = h->free; next && next < b; next = next->next)
        prev = next;
    b->next = next;
    if (next && adjacent(b, next)) {
        b->size += next->size;
        b->next = next->next;
    }
    if (prev && adjacent(prev, b)) {
        prev->size += b->size;
        prev->next = b->next;
    } else if (prev) {
        prev->next = b;
    } else {
        h->free = b;
    }
}

size_t heap_largest_free(const struct heap *h)
{
    size_t best = 0;

    for (const struct heap_block *b = h->free; b; b = b->next)
        if (b->size - HDR_SIZE > best)
            best = b->size - HDR_SIZE;
    return best;
}
