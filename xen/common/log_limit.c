/* log_limit.c (hypervisor, pure): the per-domain token bucket behind guest-caused log lines. */
#include "log_limit.h"

static void refill(struct log_limit *l, uint64_t now_ns)
{
    if (!l->started) {
        l->started = true;
        l->tokens = LOG_LIMIT_BURST;
        l->refilled_ns = now_ns;
        return;
    }
    if (now_ns <= l->refilled_ns)       /* time never runs backwards here; be safe if it did */
        return;
    uint64_t earned = (now_ns - l->refilled_ns) / LOG_LIMIT_REFILL_NS;

    if (earned >= LOG_LIMIT_BURST - l->tokens) {
        l->tokens = LOG_LIMIT_BURST;
        l->refilled_ns = now_ns;
    } else {
        l->tokens += (unsigned)earned;
        l->refilled_ns += earned * LOG_LIMIT_REFILL_NS;
    }
}

bool log_limit_allow(struct log_limit *l, uint64_t now_ns, unsigned long *was_suppressed)
{
    refill(l, now_ns);
    if (!l->tokens) {
        l->suppressed++;
        return false;
    }
    l->tokens--;
    *was_suppressed = log_limit_take_suppressed(l);
    return true;
}

unsigned long log_limit_take_suppressed(struct log_limit *l)
{
    unsigned long n = l->suppressed;

    l->suppressed = 0;
    return n;
}
