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

/*
 * Calibration: a reading of a down-counting reference clock, bracketed by TSC
 * reads. A narrow bracket was not interrupted (by an SMI, or by the host
 * descheduling an emulator's vCPU), so it pins the reading to a TSC value.
 */
struct clock_sample {
    uint64_t tsc_before, tsc_after;
    uint32_t count;
};

/* Index of the narrowest bracket among n > 0 samples. */
size_t clock_sample_narrowest(const struct clock_sample *s, size_t n);
/* The TSC rate between `first` and a later `last` of a reference counting down
 * at ref_hz; *error_ppm bounds its error from the two brackets. 0 if unusable. */
uint64_t clock_sample_tsc_hz(struct clock_sample first, struct clock_sample last, uint64_t ref_hz,
                             uint64_t *error_ppm);

#endif
