/* mm.h (hypervisor): host physical memory. All RAM below 4 GiB is identity-mapped,
 * so a host-physical address below 4 GiB is also a valid pointer. */
#ifndef WISP_MM_H
#define WISP_MM_H

#include "env.h"
#include "p2m.h"

#define HOST_MAPPED_LIMIT (4ull << 30)

static inline void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }
static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }

struct boot_info;
/* Frees the loader's RAM ranges above 1 MiB except the [start, end) pairs in in_use. */
void frames_init(const struct boot_info *bi, const uint64_t (*in_use)[2], unsigned nr_in_use);
/* Contiguous, zeroed frames; 0 when no block of that size and alignment is free.
 * align is a power of two, PAGE_SIZE or more (frame_map_alloc refuses less). */
uint64_t __must_check frames_alloc(uint64_t bytes, uint64_t align);
/* The same, not zeroed: a domain's RAM, zeroed by domain_scrub_step (bounded work a call). */
uint64_t __must_check frames_take(uint64_t bytes, uint64_t align);
void frames_free(uint64_t pa, uint64_t bytes);
/* One zeroed 4 KiB page as a pointer, or NULL. */
void *page_alloc(void);
void page_free(void *page);
uint64_t frames_free_bytes(void);
/* The highest host RAM frame number + 1, as Xen's max_page (XENMEM_maximum_ram_page). */
uint64_t frames_max_page(void);

/* p2m table memory backed by the frame allocator. */
extern const struct pt_mem host_pt_mem;

#endif
