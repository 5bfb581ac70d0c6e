/* frame.c (hypervisor): the physical frame allocator: boot RAM into the frame map, zeroed allocations
 * (and, for a domain's RAM, frames as they are: its build zeroes them in bounded steps). */
#include "env.h"
#include "bootinfo.h"
#include "frame_map.h"
#include "mm.h"
#include "printk.h"

#define LOW_MEMORY_END 0x100000ull      /* below 1 MiB: firmware and loader data */
#define MAP_FRAMES (HOST_MAPPED_LIMIT >> PAGE_SHIFT)

/*
 * Every frame the hypervisor can reach (frame_map.c says why a bitmap).
 * Protected by: only pCPU 0 runs hypervisor code today; a lock goes here
 * when other pCPUs schedule guests.
 */
static uint64_t free_bits[FRAME_MAP_WORDS(MAP_FRAMES)];
static uint64_t owned_bits[FRAME_MAP_WORDS(MAP_FRAMES)];
static struct frame_map frames;
static uint64_t max_page;           /* highest RAM frame + 1, above 4 GiB too */

/* Removes every frame that [start, end) touches. */
static void reserve(uint64_t start, uint64_t end)
{
    start = round_down(start, PAGE_SIZE);
    end = round_up(end, PAGE_SIZE);
    if (start < end)
        frame_map_remove(&frames, start >> PAGE_SHIFT, (end - start) >> PAGE_SHIFT);
}

void frames_init(const struct boot_info *bi, const uint64_t (*in_use)[2], unsigned nr_in_use)
{
    frame_map_init(&frames, free_bits, owned_bits, MAP_FRAMES);
    for (unsigned i = 0; i < bi->nr_mem; i++) {
        const struct boot_mem_range *m = &bi->mem[i];
        uint64_t start = round_up(m->base, PAGE_SIZE);
        uint64_t end = round_down(m->base + m->size, PAGE_SIZE);

        if (m->type != BOOT_MEM_RAM)
            continue;
        if (end >> PAGE_SHIFT > max_page)
            max_page = end >> PAGE_SHIFT;
        if (start < LOW_MEMORY_END)
            start = LOW_MEMORY_END;
        if (end > HOST_MAPPED_LIMIT) {
            if (start < HOST_MAPPED_LIMIT)
                log_info("RAM above 4 GiB is not used yet");
            end = HOST_MAPPED_LIMIT;
        }
        if (start < end)
            frame_map_add(&frames, start >> PAGE_SHIFT, (end - start) >> PAGE_SHIFT);
    }
    /* Non-RAM ranges can overlap RAM in buggy maps: the stricter wins. */
    for (unsigned i = 0; i < bi->nr_mem; i++)
        if (bi->mem[i].type != BOOT_MEM_RAM)
            reserve(bi->mem[i].base, bi->mem[i].base + bi->mem[i].size);
    for (unsigned i = 0; i < nr_in_use; i++)
        reserve(in_use[i][0], in_use[i][1]);
}

uint64_t frames_take(uint64_t bytes, uint64_t align)
{
    uint64_t first;

    if (!bytes || bytes > HOST_MAPPED_LIMIT)
        return 0;
    if (!frame_map_alloc(&frames, round_up(bytes, PAGE_SIZE) >> PAGE_SHIFT, align >> PAGE_SHIFT,
                         &first))
        return 0;
    return first << PAGE_SHIFT;
}

uint64_t frames_alloc(uint64_t bytes, uint64_t align)
{
    uint64_t pa = frames_take(bytes, align);

    if (pa)
        memset(phys_to_virt(pa), 0, round_up(bytes, PAGE_SIZE));
    return pa;
}

/* A frame freed twice (or never allocated) is a hypervisor bug: say so, keep the map intact. */
void frames_free(uint64_t pa, uint64_t bytes)
{
    uint64_t bad = 0;
    uint64_t refused = frame_map_free(&frames, pa >> PAGE_SHIFT,
                                      round_up(bytes, PAGE_SIZE) >> PAGE_SHIFT, &bad);

    if (refused)
        log_error("frame allocator: %lu frame(s) not freed, first 0x%lx: already free or not RAM",
                  refused, bad << PAGE_SHIFT);
}

uint64_t frames_max_page(void)
{
    return max_page;
}

uint64_t frames_free_bytes(void)
{
    return frame_map_nr_free(&frames) << PAGE_SHIFT;
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
