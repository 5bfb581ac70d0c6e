/* time.h (hypervisor): system time, the clock guests see through pvclock. */
#ifndef WISP_TIME_H
#define WISP_TIME_H

#include "env.h"

#define NS_PER_SEC 1000000000ull

/*
 * System time is nanoseconds since boot, derived from the TSC with the same
 * scale guests get in vcpu_time_info, so their pvclock reads and our timers agree:
 *   ns = ((tsc - tsc_base) << shift or >> -shift) * mul >> 32
 */
struct time_scale {
    uint32_t mul;
    int8_t shift;
};

/* Measures the TSC against the PIT and reads the CMOS clock. */
void time_init(void);

uint64_t now_ns(void);
/* The TSC value at system time `ns` (for timer deadlines). */
uint64_t ns_to_tsc(uint64_t ns);
uint64_t time_tsc_base(void);
uint64_t time_tsc_khz(void);
struct time_scale time_scale(void);
/* Wall-clock time (seconds, nanoseconds since 1970) at system time 0. */
void time_boot_wallclock(uint64_t *sec, uint32_t *nsec);

/* Pure helpers (unit-tested): the scale that turns ticks at `hz` into ns, and its use. */
struct time_scale time_scale_for(uint64_t hz);
uint64_t time_scale_apply(struct time_scale s, uint64_t ticks);

#endif
