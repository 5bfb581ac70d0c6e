/* heap.h (guest, host tests): a bounded first-fit allocator over one caller-given arena, for runtime programs that need malloc (xenstored). */
#ifndef WISP_PVH_GUEST_HEAP_H
#define WISP_PVH_GUEST_HEAP_H

#include "env.h"

/*
 * Free blocks sit on one list in address order, so freeing merges a block
 * with both neighbours in one walk and the arena cannot fragment into
 * adjacent free pieces. Every block (free or used) starts with a header;
 * payloads are HEAP_ALIGN-aligned. Not thread-safe: one owner.
 */
#define HEAP_ALIGN 16

struct heap_block;

struct heap {
    struct heap_block *free;  /* address-ordered */
    uint8_t *base;
    size_t size;
    size_t used;              /* bytes in allocated blocks, headers included */
};

/* Takes [base, base + size); base is rounded up to HEAP_ALIGN. */
void heap_init(struct heap *h, void *base, size_t size);
/* n bytes (n == 0 counts as 1), or NULL when no free block fits. */
void *heap_alloc(struct heap *h, size_t n);
/* p from heap_alloc on h, or NULL. */
void heap_free(struct heap *h, void *p);
/* Largest single allocation that would succeed now (for tests and diagnostics). */
size_t heap_largest_free(const struct heap *h);

#endif
