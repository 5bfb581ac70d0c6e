/* frame_map.c (hypervisor, pure): the frame allocator's state, one free bit and one owned bit per 4 KiB frame. */
#include "env.h"
#include "frame_map.h"

/*
 * Why bitmaps and not a list of free ranges: a list needs room for one entry
 * per hole, and a guest decides how many holes there are (each p2m split and
 * merge allocates and frees a table page). A fixed list overflowed and lost
 * frames; a growing one would need memory to describe freed memory. A bitmap
 * over all frames the hypervisor can map (the identity-mapped first 4 GiB:
 * 2^20 frames, 128 KiB per bitmap) has a place for every frame from boot on,
 * so freeing can never fail. The owned bitmap makes a double or stray free
 * detectable. Allocation is first fit from the lowest free frame, scanning a
 * word (64 frames) at a time.
 */

static uint64_t word_of(uint64_t frame) { return frame / FRAME_MAP_WORD_BITS; }
static uint64_t bit_of(uint64_t frame) { return 1ull << (frame % FRAME_MAP_WORD_BITS); }

static bool test(const uint64_t *bits, uint64_t frame)
{
    return bits[word_of(frame)] & bit_of(frame);
}

static void set(uint64_t *bits, uint64_t frame) { bits[word_of(frame)] |= bit_of(frame); }
static void clear(uint64_t *bits, uint64_t frame) { bits[word_of(frame)] &= ~bit_of(frame); }

void frame_map_init(struct frame_map *m, uint64_t *free_bits, uint64_t *owned_bits,
                    uint64_t nr_frames)
{
    m->free_bits = free_bits;
    m->owned_bits = owned_bits;
    m->nr_frames = nr_frames;
    m->nr_free = 0;
    m->hint = 0;
    memset(free_bits, 0, FRAME_MAP_WORDS(nr_frames) * sizeof(uint64_t));
    memset(owned_bits, 0, FRAME_MAP_WORDS(nr_frames) * sizeof(uint64_t));
}

/* [first, first+n) clamped to the map; false when nothing is left. */
static bool clamp(const struct frame_map *m, uint64_t *first, uint64_t *n)
{
    if (*first >= m->nr_frames)
        return false;
    if (*n > m->nr_frames - *first)
        *n = m->nr_frames - *first;
    return *n != 0;
}

void frame_map_add(struct frame_map *m, uint64_t first, uint64_t n)
{
    if (!clamp(m, &first, &n))
        return;
    for (uint64_t f = first; f < first + n; f++) {
        if (test(m->owned_bits, f))
            continue;
        set(m->owned_bits, f);
        set(m->free_bits, f);
        m->nr_free++;
    }
    if (first < m->hint)
        m->hint = first;
}

void frame_map_remove(struct frame_map *m, uint64_t first, uint64_t n)
{
    if (!clamp(m, &first, &n))
        return;
    for (uint64_t f = first; f < first + n; f++) {
        if (test(m->free_bits, f))
            m->nr_free--;
        clear(m->free_bits, f);
        clear(m->owned_bits, f);
    }
}

bool frame_map_is_free(const struct frame_map *m, uint64_t frame)
{
    return frame < m->nr_frames && test(m->free_bits, frame);
}

/* The first free frame at or after `from`, or nr_frames when there is none. */
static uint64_t next_free(const struct frame_map *m, uint64_t from)
{
    if (from >= m->nr_frames)
        return m->nr_frames;
    uint64_t w = word_of(from);
    uint64_t bits = m->free_bits[w] & ~(bit_of(from) - 1);     /* frames >= from in this word */

    for (;;) {
        if (bits) {
            uint64_t f = w * FRAME_MAP_WORD_BITS + (uint64_t)__builtin_ctzll(bits);
            return f < m->nr_frames ? f : m->nr_frames;
        }
        if (++w >= FRAME_MAP_WORDS(m->nr_frames))
            return m->nr_frames;
        bits = m->free_bits[w];
    }
}

/*
 * true when [start, start+n) is all free; otherwise *used is the first frame
 * in it that is not. Whole words are compared at once.
 */
static bool run_is_free(const struct frame_map *m, uint64_t start, uint64_t n, uint64_t *used)
{
    uint64_t f = start, end = start + n;

    while (f < end) {
        uint64_t in_word = FRAME_MAP_WORD_BITS - f % FRAME_MAP_WORD_BITS;
        uint64_t take = end - f < in_word ? end - f : in_word;
        uint64_t mask = (take == FRAME_MAP_WORD_BITS ? ~0ull : (1ull << take) - 1)
                        << (f % FRAME_MAP_WORD_BITS);
        uint64_t missing = ~m->free_bits[word_of(f)] & mask;

        if (missing) {
            *used = word_of(f) * FRAME_MAP_WORD_BITS + (uint64_t)__builtin_ctzll(missing);
            return false;
        }
        f += take;
    }
    return true;
}

bool frame_map_alloc(struct frame_map *m, uint64_t n, uint64_t align, uint64_t *first)
{
    uint64_t used;

    if (n == 0 || n > m->nr_frames || align == 0 || (align & (align - 1)))
        return false;
    m->hint = next_free(m, m->hint);        /* nothing below the hint is free */
    for (uint64_t start = round_up(m->hint, align);
         start < m->nr_frames && n <= m->nr_frames - start;
         start = round_up(next_free(m, used + 1), align)) {
        if (!run_is_free(m, start, n, &used))
            continue;
        for (uint64_t f = start; f < start + n; f++)
            clear(m->free_bits, f);
        m->nr_free -= n;
        *first = start;
        return true;
    }
    return false;
}

uint64_t frame_map_free(struct frame_map *m, uint64_t first, uint64_t n, uint64_t *first_refused)
{
    uint64_t in_map = first < m->nr_frames ? m->nr_frames - first : 0;
    uint64_t refused = 0;

    if (in_map > n)
        in_map = n;
    for (uint64_t f = first; f < first + in_map; f++) {
        if (!test(m->owned_bits, f) || test(m->free_bits, f)) {
            if (!refused++)
                *first_refused = f;
            continue;
        }
        set(m->free_bits, f);
        m->nr_free++;
        if (f < m->hint)
            m->hint = f;
    }
    if (in_map < n) {               /* past the end of the map: never RAM we own */
        if (!refused)
            *first_refused = first + in_map;
        refused += n - in_map;
    }
    return refused;
}
