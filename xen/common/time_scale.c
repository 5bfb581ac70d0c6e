/* time_scale.c (pure: hypervisor and host tests): the fixed-point TSC-to-nanoseconds scale of pvclock. */
#include "env.h"
#include "time.h"

struct time_scale time_scale_for(uint64_t hz)
{
    struct time_scale s = { 0, 0 };
    uint64_t h = hz ? hz : 1;

    /* Bring h into (1e9, 2e9] so that 1e9 / h, as a 32-bit fraction, fits. */
    while (h > 2 * NS_PER_SEC) {
        h >>= 1;
        s.shift--;
    }
    while (h <= NS_PER_SEC) {
        h <<= 1;
        s.shift++;
    }
    s.mul = (uint32_t)((NS_PER_SEC << 32) / h);
    return s;
}

uint64_t time_scale_apply(struct time_scale s, uint64_t ticks)
{
    uint64_t t = s.shift >= 0 ? ticks << s.shift : ticks >> -s.shift;

    return (uint64_t)(((unsigned __int128)t * s.mul) >> 32);
}

size_t clock_sample_narrowest(const struct clock_sample *s, size_t n)
{
    size_t best = 0;

    for (size_t i = 1; i < n; i++)
        if (s[i].tsc_after - s[i].tsc_before < s[best].tsc_after - s[best].tsc_before)
            best = i;
    return best;
}

static uint64_t bracket_middle(struct clock_sample s) { return s.tsc_before + (s.tsc_after - s.tsc_before) / 2; }

uint64_t clock_sample_tsc_hz(struct clock_sample first, struct clock_sample last, uint64_t ref_hz,
                             uint64_t *error_ppm)
{
    uint64_t from = bracket_middle(first), to = bracket_middle(last);
    uint64_t width = (first.tsc_after - first.tsc_before) + (last.tsc_after - last.tsc_before);
    uint64_t tsc = to - from, counted = first.count - last.count;

    if (last.count >= first.count || to <= from)
        return 0;
    /* Each middle is off by at most half its bracket. 64-bit only (no 128-bit division here). */
    *error_ppm = width * (1000000 / 2) / tsc;
    return tsc / counted * ref_hz + tsc % counted * ref_hz / counted;
}
