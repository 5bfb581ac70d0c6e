/* frame_map.h (hypervisor, pure): which host frames are free, one bit per 4 KiB frame. */
#ifndef WISP_FRAME_MAP_H
#define WISP_FRAME_MAP_H

#include "env.h"

#define FRAME_MAP_WORD_BITS 64u

/* Words of bitmap needed to cover nr_frames frames. */
#define FRAME_MAP_WORDS(nr_frames) (((nr_frames) + FRAME_MAP_WORD_BITS - 1) / FRAME_MAP_WORD_BITS)

/*
 * Two bitmaps over frames [0, nr_frames):
 *   owned: the frame is RAM handed to the allocator (set up at boot, fixed after);
 *   free:  the frame is owned and not allocated now.
 * A free bit is only ever set on an owned frame, so a frame freed twice, or a
 * frame that was never RAM, is recognised and refused instead of corrupting
 * the map. The state is a pure function of the calls made, with no fixed-size
 * list that can fill up: no sequence of calls can lose a frame.
 */
struct frame_map {
    uint64_t *free_bits;
    uint64_t *owned_bits;
    uint64_t nr_frames;
    uint64_t nr_free;       /* set bits in free_bits */
    uint64_t hint;          /* no frame below this one is free */
};

/* Both arrays hold FRAME_MAP_WORDS(nr_frames) words; they are cleared: nothing is owned. */
void frame_map_init(struct frame_map *m, uint64_t *free_bits, uint64_t *owned_bits,
                    uint64_t nr_frames);
/* Boot only: frames [first, first+n) become owned and free (clamped to the map). */
void frame_map_add(struct frame_map *m, uint64_t first, uint64_t n);
/* Boot only: frames [first, first+n) are neither owned nor free (firmware, image, modules). */
void frame_map_remove(struct frame_map *m, uint64_t first, uint64_t n);
/*
 * Takes the lowest run of n free frames that starts at a multiple of align
 * (a power of two, in frames). false when there is none (or n is 0).
 */
bool __must_check frame_map_alloc(struct frame_map *m, uint64_t n, uint64_t align,
                                  uint64_t *first);
/*
 * Gives frames [first, first+n) back. Frames that are already free or not
 * owned are left alone: the number refused is returned and the first of them
 * is stored in *first_refused (when any).
 */
uint64_t frame_map_free(struct frame_map *m, uint64_t first, uint64_t n,
                        uint64_t *first_refused);
static inline uint64_t frame_map_nr_free(const struct frame_map *m) { return m->nr_free; }
bool frame_map_is_free(const struct frame_map *m, uint64_t frame);

#endif
