/* sched.h (hypervisor): the run loop of this pCPU: who runs, who waits, and the timers that wake them. */
#ifndef WISP_SCHED_H
#define WISP_SCHED_H

#include "env.h"

struct vcpu;
struct domain;
struct vcpu_context;

/* Seconds of running time with interrupts off after which a vCPU's state is logged (0: never). */
extern uint64_t irqoff_warn_s;

/* Runs this pCPU's runnable vCPUs round-robin until the machine ends; never returns. */
void sched_run(void) __attribute__((noreturn));

/* Something may have made one of d's vCPUs runnable, or changed its timers:
 * the pCPUs of d's vCPUs end their current runs soon and look again. */
void sched_kick(const struct domain *d);
/* The same for v alone: its pCPU looks again. */
void vcpu_kick(const struct vcpu *v);

/* Sets d's weight and cap (control hypercall; the caller checked the ranges):
 * in effect from its vCPUs' next runs, which come soon. Under hv_lock. */
void sched_set_share(struct domain *d, uint32_t weight, uint32_t cap);

/* d's p2m changed: returns once no vCPU of d can use a stale translation (sched.c). */
void p2m_changed(struct domain *d);

/* Gives t a start state: now if t is homed on this pCPU, else its home loads it
 * before t next runs. false: this pCPU cannot hold it (t is left as it was). */
bool __must_check vcpu_set_start(struct vcpu *t, const struct vcpu_context *c, const char *what);

/* Returns once no vCPU of d runs on another CPU (lets hv_lock go meanwhile: sched.c). */
void sched_wait_descheduled(struct domain *d);

/* Blocks v (it stops running at once) until its wait condition holds. */
void vcpu_block(struct vcpu *v, unsigned wait);

#endif
