/* sched.h (hypervisor): the run loop of this pCPU. */
#ifndef WISP_SCHED_H
#define WISP_SCHED_H

/* Runs runnable vCPUs round-robin until the machine ends; never returns. */
void sched_run(void) __attribute__((noreturn));

#endif
