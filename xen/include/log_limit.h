/* log_limit.h (hypervisor, pure): a token bucket that bounds the log lines one domain can cause. */
#ifndef WISP_LOG_LIMIT_H
#define WISP_LOG_LIMIT_H

#include "env.h"

/*
 * Xen's printk_ratelimit default: a burst of 10 lines, then 10 more per 5 s
 * (xen/drivers/char/console.c, printk_ratelimit_ms and _burst). As a bucket:
 * 10 tokens, one back every 500 ms.
 */
#define LOG_LIMIT_BURST       10u
#define LOG_LIMIT_REFILL_NS   500000000ull

/* One domain's bucket; zero-initialised is a full bucket. Guarded like the domain's other
 * fields (the pCPU running its vCPU). */
struct log_limit {
    bool started;
    unsigned tokens;
    uint64_t refilled_ns;       /* time the last whole token was added */
    unsigned long suppressed;   /* lines dropped since the last one printed */
};

/*
 * May a line print at now_ns? On true, *was_suppressed is the number of lines
 * dropped before this one (the caller says so first) and the count restarts.
 */
bool log_limit_allow(struct log_limit *l, uint64_t now_ns, unsigned long *was_suppressed);
/* Lines dropped and not yet reported (reported and cleared), for the domain's end. */
unsigned long log_limit_take_suppressed(struct log_limit *l);

#endif
