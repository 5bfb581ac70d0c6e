/* percpu.h (hypervisor): state that belongs to one physical CPU, reached through GS. */
#ifndef WISP_PERCPU_H
#define WISP_PERCPU_H

#include "env.h"

struct vcpu;
struct domain;

#define MAX_PCPUS 8         /* CPUs Wisp starts; the rest of a bigger machine stays idle */

/* Each field is touched only by its own CPU (no lock), unless its comment says otherwise. */
struct percpu {
    struct percpu *self;        /* offset 0: what this_cpu() loads through GS */
    unsigned cpu_id;            /* 0 = the boot CPU, then in start-up order */
    struct vcpu *fpu_owner;     /* whose FPU state is loaded in this CPU */
    struct vcpu *dr_owner;      /* whose DR0-DR3 and DR6 are in this CPU (hvm.c) */
    /* The host timer (apic.c). */
    bool timer_fired;           /* set by its interrupt handler */
    uint64_t armed_tsc;         /* the armed deadline, 0 if none */
    /* Cross-CPU (sched.c, smpboot.c): written by other CPUs with atomics. */
    bool kicked;                /* a vCPU homed here may have new work: look again */
    bool stop;                  /* the machine is ending: park */
    /* Read by other CPUs with atomics: */
    struct domain *in_guest;    /* the domain whose vCPU this CPU runs now, NULL in Wisp */
    struct domain *running;     /* ... in its guest or in an exit not yet handled (sched.c) */
    bool parked;                /* stopped for good (smp_stop_others) */
};

/* Points GS at this CPU's area: first thing on each CPU (VMX copies GS base into the VMCS). */
void percpu_init(unsigned cpu_id);
/* Another CPU's area (for its cross-CPU fields). */
struct percpu *percpu_of(unsigned cpu_id);

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;

    __asm__("mov %%gs:0, %0" : "=r"(p));
    return p;
}

static inline unsigned this_cpu_id(void)
{
    return this_cpu()->cpu_id;
}

#endif
