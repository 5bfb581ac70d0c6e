/* vtimer.c (pure: hypervisor and host tests): overflow-safe arithmetic of vCPU timers (see vtimer.h). */
#include "env.h"
#include "vtimer.h"

uint64_t vtimer_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

bool vtimer_periodic_ok(uint64_t period_ns)
{
    return period_ns >= VTIMER_PERIODIC_MIN_NS && period_ns <= VTIMER_PERIODIC_MAX_NS;
}

uint64_t vtimer_periodic_next(uint64_t deadline, uint64_t period, uint64_t now)
{
    uint64_t periods;

    if (!period)
        return 0;
    if (now < deadline)
        return deadline;        /* not due yet: keeps its deadline */
    /* (now - deadline) / period + 1 periods take it past now; the product cannot wrap. */
    periods = (now - deadline) / period;
    return vtimer_add(vtimer_add(deadline, periods * period), period);
}

uint64_t vtimer_set_timer_op_deadline(uint64_t timeout, uint64_t now)
{
    if (!timeout)
        return 0;
    if ((int64_t)timeout < 0 ||
        (timeout > now && ((timeout - now) >> VTIMER_SET_TIMER_OP_FAR_SHIFT)))
        return vtimer_add(now, VTIMER_SET_TIMER_OP_FALLBACK_NS);
    return timeout;
}

uint64_t vtimer_run_deadline(uint64_t event, uint64_t entered, uint64_t min_run)
{
    uint64_t earliest = vtimer_add(entered, min_run);

    if (!event)
        return 0;
    return event > earliest ? event : earliest;
}

uint32_t vtimer_preemption_ticks(uint64_t deadline_tsc, uint64_t now_tsc, unsigned shift)
{
    uint64_t left = deadline_tsc > now_tsc ? deadline_tsc - now_tsc : 0;
    uint64_t ticks;

    shift &= 63;
    ticks = (left >> shift) + ((left & ((1ull << shift) - 1)) ? 1 : 0);
    if (!ticks)
        return 1;
    return ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
}
