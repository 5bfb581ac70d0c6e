/* sched.h (hypervisor): the run loop of this pCPU: who runs, who waits, and the timers that wake them. */
#ifndef WISP_SCHED_H
#define WISP_SCHED_H

#include "env.h"

struct vcpu;
struct domain;

/* Seconds of running time with interrupts off after which a vCPU's state is logged (0: never). */
extern uint64_t irqoff_warn_s;

/* Runs this pCPU's runnable vCPUs round-robin until the machine ends; never returns. */
void sched_run(void) __attribute__((noreturn));

/* Something may have made one of d's vCPUs runnable, or changed its timers:
 * d's pCPU ends its current run soon and looks again. */
void sched_kick(const struct domain *d);

/* Returns once no vCPU of d runs on another CPU (lets hv_lock go meanwhile: sched.c). */
void sched_wait_descheduled(struct domain *d);

/* Blocks v (it stops running at once) until its wait condition holds. */
void vcpu_block(struct vcpu *v, unsigned wait);

#endif
