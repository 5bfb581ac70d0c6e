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
