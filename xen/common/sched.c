/* sched.c (hypervisor): one run loop per pCPU, round-robin over runnable vCPUs. */
#include "env.h"
#include "domain.h"
#include "exit.h"
#include "fpu.h"
#include "printk.h"
#include "sched.h"
#include "x86.h"

/* The runnable vCPU after `prev` in (domain, vCPU) order, wrapping around; NULL if none. */
static struct vcpu *pick_next(struct vcpu *prev)
{
    struct vcpu *first = NULL;
    bool passed = prev == NULL;

    for (struct domain *d = domain_next(NULL); d; d = domain_next(d)) {
        if (!d->running)
            continue;
        for (unsigned i = 0; i < d->nr_vcpus; i++) {
            struct vcpu *v = &d->vcpus[i];

            if (v->state != VCPU_RUNNABLE) {
                passed |= v == prev;
                continue;
            }
            if (passed && v != prev)
                return v;
            if (!first)
                first = v;
            passed |= v == prev;
        }
    }
    return first;
}

/* Runs v until it blocks, yields or its domain ends. */
static void run_vcpu(struct vcpu *v)
{
    struct vm_exit exit;

    fpu_switch_to(v);
    while (v->state == VCPU_RUNNABLE && v->dom->running) {
        hvm->run(v, &exit);
        if (handle_exit(v, &exit) != EXIT_ACTION_RESUME)
            break;
    }
}

void sched_run(void)
{
    struct vcpu *v = NULL;

    for (;;) {
        v = pick_next(v);
        if (v) {
            run_vcpu(v);
            continue;
        }
        /* Nothing can run and, without event sources yet, nothing can wake a vCPU. */
        log_warn("every vCPU is blocked and nothing can wake them: the machine idles");
        halt_forever();
    }
}
