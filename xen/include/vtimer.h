/* vtimer.h (hypervisor, pure): the arithmetic of vCPU timers: period bounds, re-arming, deadlines (vtimer.c). */
#ifndef WISP_VTIMER_H
#define WISP_VTIMER_H

#include "env.h"

/*
 * Every vCPU timer is an absolute system time in ns; 0 means "not armed".
 * These functions never wrap: a sum that would pass 2^64 saturates at
 * UINT64_MAX (about 584 years after boot, i.e. never), and a periodic timer
 * re-armed after it fired always lands strictly after `now`, so the
 * scheduler can never find the same timer due again without time passing.
 */

/*
 * VCPUOP_set_periodic_timer accepts periods in [1 ms, STIME_DELTA_MAX],
 * the bounds Xen checks in do_vcpu_op (xen/common/domain.c:
 * "set.period_ns < MILLISECS(1)" and "set.period_ns > STIME_DELTA_MAX",
 * both -EINVAL); STIME_DELTA_MAX is 2^62 - 1 ((uint64_t)~0 >> 2, xen/include/xen/time.h:
 * "chosen so (NOW() + delta) won't overflow without an uptime of 200 years").
 */
#define VTIMER_PERIODIC_MIN_NS 1000000ull
#define VTIMER_PERIODIC_MAX_NS 0x3fffffffffffffffull

/*
 * set_timer_op (Xen's do_set_timer_op, xen/common/sched/core.c): a timeout
 * that is negative as an s_time_t, or more than 2^50 ns (about 13 days)
 * ahead, is taken as a wrapped value from the guest and fires 100 ms from
 * now instead.
 */
#define VTIMER_SET_TIMER_OP_FAR_SHIFT 50
#define VTIMER_SET_TIMER_OP_FALLBACK_NS 100000000ull

/* a + b, or UINT64_MAX if that does not fit. */
uint64_t vtimer_add(uint64_t a, uint64_t b);

/* Whether VCPUOP_set_periodic_timer takes `period_ns` (else -EINVAL). */
bool vtimer_periodic_ok(uint64_t period_ns);

/*
 * A periodic timer due at `deadline` fired at `now`: the next deadline,
 * deadline + k * period for the smallest k >= 1 that is after `now`
 * (missed periods are coalesced into the one event just raised), or
 * UINT64_MAX if that is past 2^64. period 0 gives 0 (stopped).
 */
uint64_t vtimer_periodic_next(uint64_t deadline, uint64_t period, uint64_t now);

/* The singleshot deadline for set_timer_op(timeout) at `now`: 0 stops the timer. */
uint64_t vtimer_set_timer_op_deadline(uint64_t timeout, uint64_t now);

/*
 * When to take a vCPU that was entered at `entered` out of the guest, for
 * the earliest pending event `event` (0: none): at the event, but never
 * before it has run `min_run` ns. A due timer thus delays the vCPU by at
 * most one pass of the scheduler, and however many timers a guest arms,
 * the vCPU on the pCPU makes progress between two of them.
 */
uint64_t vtimer_run_deadline(uint64_t event, uint64_t entered, uint64_t min_run);

/*
 * The VMX-preemption timer value that ends a guest run at TSC `deadline`:
 * the timer counts down by 1 each time TSC bit `shift` changes (Intel SDM
 * vol 3, 26.5.1; the shift is IA32_VMX_MISC bits 4:0). Rounded up, so the
 * exit comes at or after the deadline, never before; at least 1 (0 would
 * exit before the first guest instruction); at most the 32-bit field.
 */
uint32_t vtimer_preemption_ticks(uint64_t deadline_tsc, uint64_t now_tsc, unsigned shift);

#endif
