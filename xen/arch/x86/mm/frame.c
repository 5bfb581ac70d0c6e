/* frame.c (hypervisor): the physical frame allocator, a sorted list of free ranges. */
#include "env.h"
#include "bootinfo.h"
#include "mm.h"
#include "printk.h"

#define MAX_FREE_RANGES 256
#define LOW_MEMORY_END 0x100000ull      /* below 1 MiB: firmware and loader data */

struct range { uint64_t start, end; };

/* Sorted by start, non-overlapping, non-adjacent, page-aligned. */
static struct range free_ranges[MAX_FREE_RANGES];
static unsigned nr_free;

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

static void remove_at(unsigned i)
{
    memmove(&free_ranges[i], &free_ranges[i + 1], (nr_free - i - 1) * sizeof(free_ranges[0]));
    nr_free--;
}

static bool insert_at(unsigned i, uint64_t start, uint64_t end)
{
    if (nr_free == MAX_FREE_RANGES)
        return false;
    memmove(&free_ranges[i + 1], &free_ranges[i], (nr_free - i) * sizeof(free_ranges[0]));
    free_ranges[i] = (struct range){ start, end };
    nr_free++;
    return true;
}

/* Adds [start, end) to the free list, merging with neighbours. */
static void add_free(uint64_t start, uint64_t end)
{
    unsigned i = 0;

    if (start >= end)
        return;
    while (i < nr_free && free_ranges[i].start < start)
        i++;
    if (i > 0 && free_ranges[i - 1].end == start) {
        free_ranges[i - 1].end = end;
        if (i < nr_free && free_ranges[i].start == end) {
            free_ranges[i - 1].end = free_ranges[i].end;
            remove_at(i);
        }
        return;
    }
    if (i < nr_free && free_ranges[i].start == end) {
        free_ranges[i].start = start;
        return;
    }
    if (!insert_at(i, start, end))
        log_warn("frame allocator: free list full, losing %lu KiB", (end - start) >> 10);
}

/* Removes [start, end) from whatever free ranges it overlaps. */
static void reserve(uint64_t start, uint64_t end)
{
    start = align_down(start, PAGE_SIZE);
    end = align_up(end, PAGE_SIZE);
    for (unsigned i = 0; i < nr_free; i++) {
        struct range r = free_ranges[i];

        if (r.end <= start || r.start >= end)
            continue;
        remove_at(i);
        if (r.start < start && insert_at(i, r.start, start))
            i++;
        if (end < r.end)
            insert_at(i, end, r.end);
        i--;
    }
}

void frames_init(const struct boot_info *bi, const uint64_t (*in_use)[2], unsigned nr_in_use)
{
    for (unsigned i = 0; i < bi->nr_mem; i++) {
        const struct boot_mem_range *m = &bi->mem[i];
        uint64_t start = align_up(m->base, PAGE_SIZE);
        uint64_t end = align_down(m->base + m->size, PAGE_SIZE);

        if (m->type != BOOT_MEM_RAM)
            continue;
        if (start < LOW_MEMORY_END)
            start = LOW_MEMORY_END;
        if (end > HOST_MAPPED_LIMIT) {
            if (start < HOST_MAPPED_LIMIT)
                log_info("RAM above 4 GiB is not used yet");
            end = HOST_MAPPED_LIMIT;
        }
        add_free(start, end);
    }
    /* Non-RAM ranges can overlap RAM in buggy maps: the stricter wins. */
    for (unsigned i = 0; i < bi->nr_mem; i++)
        if (bi->mem[i].type != BOOT_MEM_RAM)
            reserve(bi->mem[i].base, bi->mem[i].base + bi->mem[i].size);
    for (unsigned i = 0; i < nr_in_use; i++)
        reserve(in_use[i][0], in_use[i][1]);
}

uint64_t frames_alloc(uint64_t bytes, uint64_t align)
{
    if (!bytes)
        return 0;
    bytes = align_up(bytes, PAGE_SIZE);
    if (align < PAGE_SIZE)
        align = PAGE_SIZE;
    for (unsigned i = 0; i < nr_free; i++) {
        uint64_t start = align_up(free_ranges[i].start, align);

        if (start < free_ranges[i].end && free_ranges[i].end - start >= bytes) {
            reserve(start, start + bytes);
            memset(phys_to_virt(start), 0, bytes);
            return start;
        }
    }
    return 0;
}

void frames_free(uint64_t pa, uint64_t bytes)
{
    add_free(pa, pa + align_up(bytes, PAGE_SIZE));
}

uint64_t frames_free_bytes(void)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < nr_free; i++)
        total += free_ranges[i].end - free_ranges[i].start;
    return total;
}

void *page_alloc(void)
{
    uint64_t pa = frames_alloc(PAGE_SIZE, PAGE_SIZE);
    return pa ? phys_to_virt(pa) : NULL;
}

void page_free(void *page)
{
    if (page)
        frames_free(virt_to_phys(page), PAGE_SIZE);
}

static void *pt_map(void *ctx, uint64_t pa) { return phys_to_virt(pa); }
static uint64_t pt_alloc(void *ctx) { return frames_alloc(PAGE_SIZE, PAGE_SIZE); }
static void pt_free(void *ctx, uint64_t pa) { frames_free(pa, PAGE_SIZE); }

const struct pt_mem host_pt_mem = { pt_map, pt_alloc, pt_free, NULL };
